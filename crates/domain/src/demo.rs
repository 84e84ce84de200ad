//! A realistic synthetic caseload for demos, screenshots and benchmarks. Pure and deterministic:
//! the same seed and `as_of` day give the same people, sections, wards and notes. Nobody here is
//! real; names mix the UK's languages and scripts so every screen and PDF meets them.

use crate::activity::{ActivityKind, ContactMethod, RecordsBasis, RightsTopic};
use crate::case::IssueCategory;
use crate::client::{Client, EthnicCategory};
use crate::legal::{ConsentScope, ConsentState, StatusCode};
use crate::nhs::NhsNumber;
use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[derive(Debug, Clone)]
pub struct DemoConfig {
    pub clients: usize,
    pub seed: u64,
    /// The "today" of the caseload: cases open and activities happen before it.
    pub as_of: NaiveDate,
    /// Activities per client, inclusive range.
    pub activities: (usize, usize),
    /// Paragraphs per note, inclusive range (a paragraph is ~400 bytes).
    pub paragraphs: (usize, usize),
}

impl DemoConfig {
    pub fn new(clients: usize, seed: u64, as_of: NaiveDate) -> Self {
        DemoConfig {
            clients,
            seed,
            as_of,
            activities: (2, 12),
            paragraphs: (1, 4),
        }
    }
}

#[derive(Debug, Clone)]
pub struct DemoActivity {
    pub at: NaiveDateTime,
    pub duration_minutes: u32,
    pub kind: ActivityKind,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct DemoClient {
    pub client: Client,
    pub status: StatusCode,
    pub status_since: NaiveDate,
    pub case_opened: NaiveDate,
    pub issues: Vec<(IssueCategory, String)>,
    pub consent: (ConsentScope, ConsentState, NaiveDate),
    /// In time order.
    pub activities: Vec<DemoActivity>,
}

const GIVEN: &[&str] = &[
    "Siân",
    "Dafydd",
    "Rhiannon",
    "Gethin",
    "Ffion",
    "Iolo",
    "Aoife",
    "Ciarán",
    "Niamh",
    "Seán",
    "Łukasz",
    "Zofia",
    "Małgorzata",
    "Wojciech",
    "Agnieszka",
    "Oluwaseun",
    "Chidi",
    "Ngozi",
    "Kwame",
    "Abena",
    "Mohammed",
    "Fatima",
    "Aisha",
    "Imran",
    "Nasreen",
    "Tariq",
    "Priya",
    "Arjun",
    "Harpreet",
    "Gurpreet",
    "Wei",
    "Mei",
    "Jun",
    "Li Na",
    "Thi Lan",
    "Minh",
    "Mehmet",
    "Elif",
    "Zoë",
    "Chloé",
    "José",
    "Inês",
    "Björn",
    "Ana",
    "Jack",
    "Olivia",
    "Harry",
    "Emily",
    "George",
    "Amelia",
    "Callum",
    "Eilidh",
    "Kirsty",
    "Rory",
    "Michael",
    "Sarah",
    "David",
    "Margaret",
    "Tomás",
    "Renée",
    "Dominik",
    "Ewa",
    "Yusuf",
    "Maryam",
    "Kofi",
    "Chantelle",
    "Leroy",
    "Marcia",
    "Delroy",
];

const FAMILY: &[&str] = &[
    "Llewelyn",
    "ap Gwilym",
    "Pritchard",
    "Ní Bhriain",
    "Ó Súilleabháin",
    "Wiśniewska",
    "Wójcik",
    "Kowalczyk",
    "Krzyżanowski",
    "Adébáyọ̀",
    "Okonkwo",
    "Mensah",
    "Boateng",
    "Khan",
    "Begum",
    "Hussain",
    "Rahman",
    "Ahmed",
    "Patel",
    "Sharma",
    "Singh",
    "Kaur",
    "Zhang",
    "Chen",
    "Wang",
    "Nguyễn",
    "Trần",
    "Öztürk",
    "Yılmaz",
    "Brontë",
    "Smith",
    "Jones",
    "Williams",
    "Taylor",
    "Brown",
    "Davies",
    "Evans",
    "Thomas",
    "Roberts",
    "Walker",
    "Wright",
    "MacLeod",
    "O'Neill",
    "Fitzgerald",
    "Campbell",
    "Hughes",
    "Edwards",
    "Clarke",
    "Johnson",
    "Robinson",
    "Da Silva",
    "Fernández",
    "Müller",
    "Novák",
    "Ivanova",
    "Papadopoulos",
    "Ali",
    "Iqbal",
    "Chowdhury",
    "Francis",
];

/// A few names in their own scripts, so non-Latin text is always present somewhere.
const NATIVE_SCRIPT: &[&str] = &[
    "عائشة خان",
    "محمد اقبال",
    "张伟",
    "李娜",
    "Đặng Thị Hoa",
    "Σοφία Παπαδοπούλου",
];

const HOSPITALS: &[(&str, &[&str])] = &[
    (
        "Riverside Mental Health Unit",
        &["Cedar", "Willow", "Rowan", "Hazel"],
    ),
    ("St Cadoc's Hospital", &["Derwen", "Onnen", "Celyn"]),
    ("Northgate Hospital", &["Ash", "Birch", "Maple", "Elm PICU"]),
    ("Ysbyty Gwynedd Hergest Unit", &["Aneurin", "Cynan"]),
    (
        "Hillside Secure Unit",
        &["Thames", "Severn", "Trent", "Tyne"],
    ),
];

const STATUSES: &[(StatusCode, u32)] = &[
    (StatusCode::S2, 20),
    (StatusCode::S3, 35),
    (StatusCode::S17A, 8),
    (StatusCode::S37, 6),
    (StatusCode::S37_41, 6),
    (StatusCode::S47_49, 3),
    (StatusCode::S48_49, 2),
    (StatusCode::S7, 2),
    (StatusCode::S35, 2),
    (StatusCode::S36, 1),
    (StatusCode::S38, 2),
    (StatusCode::S45A, 1),
    (StatusCode::ConditionalDischarge, 3),
    (StatusCode::Informal, 2),
];

const ISSUES: &[(IssueCategory, &[&str])] = &[
    (
        IssueCategory::Tribunal,
        &[
            "Wants to apply to the tribunal",
            "Preparing for the tribunal hearing",
        ],
    ),
    (
        IssueCategory::Leave,
        &[
            "Wants section 17 leave to visit family",
            "Leave was cancelled without explanation",
        ],
    ),
    (
        IssueCategory::Medication,
        &[
            "Unhappy with the side effects of medication",
            "Wants a second opinion on treatment",
        ],
    ),
    (
        IssueCategory::Rights,
        &["Wants to understand the section and what it means"],
    ),
    (
        IssueCategory::Discharge,
        &["Wants to know the plan for discharge and after-care"],
    ),
    (
        IssueCategory::RestrictivePractice,
        &[
            "Concerned about blanket restrictions on the ward",
            "Upset about being restrained",
        ],
    ),
    (
        IssueCategory::Contact,
        &["Wants more phone contact with children"],
    ),
    (
        IssueCategory::Complaint,
        &["Wants to complain about how a search was carried out"],
    ),
    (
        IssueCategory::Culture,
        &[
            "Halal meals not always available",
            "Wants access to the chaplaincy",
        ],
    ),
    (
        IssueCategory::Records,
        &["Wants to see what is written in the notes"],
    ),
];

const OPENERS: &[&str] = &[
    "Met {p} in the quiet room on {ward} ward; staff agreed we would not be disturbed.",
    "{p} asked to see me after the morning meeting and we spoke privately in the garden.",
    "Visited {ward} ward by arrangement with the nurse in charge; {p} was waiting in the lounge.",
    "Phoned the ward to confirm the time of the ward round and then met {p} beforehand.",
    "{p} had asked the MHA office to contact advocacy, and I met them on {ward} ward.",
];

const BODY: &[&str] = &[
    "I explained again that I am independent of the hospital and that what we discuss stays between us unless someone is at risk of harm.",
    "{p} said they feel the medication makes them slow and tired in the mornings, and that nobody has explained why the dose was increased.",
    "We went through the section papers together; {p} understood that the tribunal can discharge the section and wants to apply.",
    "{p} wants me to raise at the ward round that leave to the shops was stopped after the incident last week without a review date.",
    "I asked whether {p} would like me to contact a solicitor from the panel list; they chose a firm and I passed on the details with consent.",
    "{p} told me the phone on the ward is often broken and they have not been able to speak to their sister for nine days.",
    "We talked about the CPA meeting next week and wrote down the three points {p} wants to make in their own words.",
    "{p} is worried about their flat and the rent while in hospital; I signposted to the welfare rights adviser and the ward social worker.",
    "The responsible clinician was not available; I left a message with the ward administrator asking for a call back before Friday.",
    "{p} became tearful when talking about the restraint and said nobody had asked how they were afterwards.",
    "I read the rights leaflet with {p} in plain language; they asked me to explain what a hospital managers' hearing is.",
    "{p} asked that their mother is not told about their medication; I noted this and will check what the nearest relative receives.",
    "We agreed I would request to see the seclusion records, with {p}'s written consent, to check the reviews were done on time.",
    "{p} said the food does not meet their religious needs and the alternative meal often runs out before the end of the queue.",
    "I explained the difference between the tribunal and the managers' hearing and the time limits for applying in each period.",
    "{p} was clear they do not want ECT and asked me to make sure the second opinion doctor hears that directly.",
    "Staff told me {p} had been settled this week; {p} said they feel ready for escorted leave and would like this discussed.",
    "{p} wanted help writing a letter to the ward manager about belongings that went missing during the move from the PICU.",
];

const CLOSERS: &[&str] = &[
    "Agreed actions: I will raise the points above and visit again on Thursday to feed back.",
    "{p} was happy with the plan and asked me to visit after the ward round.",
    "Next step: chase the response to the concern by the due date and update {p}.",
    "No further action needed on this point; {p} knows how to contact advocacy directly.",
    "I will confirm the tribunal date with the MHA office and let {p} know in writing.",
];

fn pick_weighted<'a, T>(rng: &mut ChaCha8Rng, items: &'a [(T, u32)]) -> &'a T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut roll = rng.random_range(0..total);
    for (item, w) in items {
        if roll < *w {
            return item;
        }
        roll -= w;
    }
    &items[items.len() - 1].0
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    // The lists above are non-empty constants.
    items.choose(rng).unwrap_or(&items[0])
}

fn nhs_number(rng: &mut ChaCha8Rng) -> NhsNumber {
    loop {
        let mut nine = [0u8; 9];
        nine.iter_mut().for_each(|d| *d = rng.random_range(0..10));
        nine[0] = rng.random_range(4..8);
        if let Some(check) = NhsNumber::check_digit(&nine) {
            let s: String = nine
                .iter()
                .chain(std::iter::once(&check))
                .map(|d| char::from(b'0' + d))
                .collect();
            if let Ok(n) = s.parse() {
                return n;
            }
        }
    }
}

fn paragraph(rng: &mut ChaCha8Rng, first: bool) -> String {
    let mut sentences = Vec::new();
    if first {
        sentences.push(*pick(rng, OPENERS));
    }
    for _ in 0..rng.random_range(2..4) {
        sentences.push(*pick(rng, BODY));
    }
    sentences.join(" ")
}

fn note(rng: &mut ChaCha8Rng, cfg: &DemoConfig, person: &str, ward: &str) -> String {
    let n = rng.random_range(cfg.paragraphs.0..=cfg.paragraphs.1.max(cfg.paragraphs.0));
    let mut paras: Vec<String> = (0..n).map(|i| paragraph(rng, i == 0)).collect();
    paras.push(pick(rng, CLOSERS).to_string());
    paras
        .join("\n\n")
        .replace("{p}", person)
        .replace("{ward}", ward)
}

fn activity_kind(rng: &mut ChaCha8Rng, first: bool) -> ActivityKind {
    if first {
        return ActivityKind::PrivateInterview {
            wishes: Some("To understand what is happening and have a say in it".into()),
        };
    }
    match rng.random_range(0..20) {
        0..=6 => ActivityKind::PrivateInterview { wishes: None },
        7..=8 => ActivityKind::WardRound {
            points_raised: vec![
                "Review of leave".into(),
                "Side effects of medication".into(),
            ],
            response: Some(
                "Leave to be reviewed at next ward round; medication review booked".into(),
            ),
        },
        9 => ActivityKind::CpaReview {
            points_raised: vec!["Wants to be discharged home, not to supported housing".into()],
            response: None,
        },
        10 => ActivityKind::ProfessionalInterview {
            professional: "Responsible clinician".into(),
        },
        11 => ActivityKind::Tribunal {
            hearing_on: None,
            outcome: None,
        },
        12 => ActivityKind::ManagersHearing {
            hearing_on: None,
            outcome: None,
        },
        13 => ActivityKind::Concern {
            raised_with: "Ward manager".into(),
            response_due: None,
            response: None,
        },
        14 => ActivityKind::RecordsRequest {
            record_holder: "Ward manager".into(),
            basis: RecordsBasis::PatientConsent,
            records_requested: Some("Seclusion records for the last month".into()),
            seen_on: None,
            what_was_seen: None,
            withhold_from_patient: false,
        },
        15 => ActivityKind::RightsInformation {
            topics: [RightsTopic::QualifyingProvisions, RightsTopic::Rights]
                .into_iter()
                .collect(),
        },
        16..=18 => ActivityKind::Contact {
            method: *pick(
                rng,
                &[
                    ContactMethod::Phone,
                    ContactMethod::Email,
                    ContactMethod::Letter,
                ],
            ),
            with_whom: Some("MHA office".into()),
        },
        _ => ActivityKind::Other,
    }
}

/// The i-th client depends only on (seed, i): generation is lazy and order-independent.
pub fn client(cfg: &DemoConfig, index: usize) -> DemoClient {
    let mut rng =
        ChaCha8Rng::seed_from_u64(cfg.seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let name = if index % 97 == 13 {
        pick(&mut rng, NATIVE_SCRIPT).to_string()
    } else {
        format!("{} {}", pick(&mut rng, GIVEN), pick(&mut rng, FAMILY))
    };
    let given = name.split_whitespace().next().unwrap_or("They").to_string();
    let (hospital, wards) = pick(&mut rng, HOSPITALS);
    let ward = *pick(&mut rng, wards);
    let mut client = Client::named(name);
    client.hospital = Some(hospital.to_string());
    client.ward = Some(ward.to_string());
    client.dob = Some(cfg.as_of - Duration::days(rng.random_range(17 * 365..85 * 365)));
    if rng.random_bool(0.8) {
        client.nhs_number = Some(nhs_number(&mut rng));
    }
    client.equality.ethnic_category = *pick(&mut rng, EthnicCategory::ALL);
    if rng.random_bool(0.15) {
        client.first_language = Some(
            pick(
                &mut rng,
                &[
                    "Welsh",
                    "Polish",
                    "Urdu",
                    "Punjabi",
                    "Bengali",
                    "Cantonese",
                    "Arabic",
                    "Somali",
                ],
            )
            .to_string(),
        );
        client.interpreter_needed = rng.random_bool(0.5);
    }

    let status = *pick_weighted(&mut rng, STATUSES);
    // How long ago the status began, within what the Act allows: a s. 2 lasts 28 days, a
    // remand 12 weeks, an interim order a year; restricted patients stay for years.
    let longest_days = match status {
        StatusCode::S2 => 28,
        StatusCode::S35 | StatusCode::S36 => 84,
        StatusCode::S38 => 365,
        StatusCode::S37_41
        | StatusCode::S45A
        | StatusCode::S47_49
        | StatusCode::ConditionalDischarge => 1500,
        _ => 400,
    };
    let status_since = cfg.as_of - Duration::days(rng.random_range(1..longest_days));
    let case_opened =
        status_since + Duration::days(rng.random_range(0..5)).min(cfg.as_of - status_since);

    let issues = (0..rng.random_range(1..4))
        .map(|_| {
            let (cat, texts) = pick(&mut rng, ISSUES);
            (*cat, pick(&mut rng, texts).to_string())
        })
        .collect();

    let count = rng.random_range(cfg.activities.0..=cfg.activities.1.max(cfg.activities.0));
    let span = (cfg.as_of - case_opened).num_days().max(1);
    let mut days: Vec<i64> = (0..count).map(|_| rng.random_range(0..span)).collect();
    days.sort_unstable();
    let mut activities: Vec<DemoActivity> = days
        .into_iter()
        .enumerate()
        .map(|(i, day)| {
            let time = NaiveTime::from_hms_opt(
                rng.random_range(9..17),
                *pick(&mut rng, &[0, 15, 30, 45]),
                0,
            )
            .unwrap_or(NaiveTime::MIN);
            DemoActivity {
                at: (case_opened + Duration::days(day)).and_time(time),
                duration_minutes: *pick(&mut rng, &[15, 30, 45, 60, 90]),
                kind: activity_kind(&mut rng, i == 0),
                text: note(&mut rng, cfg, &given, ward),
            }
        })
        .collect();
    activities.sort_by_key(|a| a.at);

    let consent = (
        ConsentScope::RecordsAccess,
        *pick(
            &mut rng,
            &[
                ConsentState::Given,
                ConsentState::Given,
                ConsentState::Refused,
            ],
        ),
        case_opened,
    );
    DemoClient {
        client,
        status,
        status_since,
        case_opened,
        issues,
        consent,
        activities,
    }
}

pub fn caseload(cfg: &DemoConfig) -> impl Iterator<Item = DemoClient> + '_ {
    (0..cfg.clients).map(move |i| client(cfg, i))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Validate;

    fn cfg() -> DemoConfig {
        DemoConfig::new(200, 7, "2026-11-25".parse().unwrap())
    }

    #[test]
    fn same_seed_same_caseload_other_seed_other_caseload() {
        let a: Vec<String> = caseload(&cfg())
            .map(|c| c.client.name + &c.activities[0].text)
            .collect();
        let b: Vec<String> = caseload(&cfg())
            .map(|c| c.client.name + &c.activities[0].text)
            .collect();
        assert_eq!(a, b);
        let other = DemoConfig { seed: 8, ..cfg() };
        let c: Vec<String> = caseload(&other)
            .map(|c| c.client.name + &c.activities[0].text)
            .collect();
        assert_ne!(a, c);
    }

    #[test]
    fn generated_records_pass_validation_and_are_in_order() {
        for c in caseload(&cfg()) {
            c.client.validate().unwrap();
            assert!(c.status_since <= c.case_opened && c.case_opened <= cfg().as_of);
            assert!(c.activities.windows(2).all(|w| w[0].at <= w[1].at));
            for a in &c.activities {
                crate::activity::check_note_text(&a.text).unwrap();
                assert!(!a.text.contains("{p}") && !a.text.contains("{ward}"));
            }
        }
    }

    #[test]
    fn names_include_non_ascii_and_non_latin_scripts() {
        let names: Vec<String> = caseload(&cfg()).map(|c| c.client.name).collect();
        assert!(names.iter().any(|n| !n.is_ascii()));
        assert!(
            names
                .iter()
                .any(|n| n.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)
                    || ('\u{4E00}'..='\u{9FFF}').contains(&c)
                    || ('\u{0370}'..='\u{03FF}').contains(&c)
                    || c == 'Đ'))
        );
    }
}
