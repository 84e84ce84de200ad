//! A realistic synthetic caseload for demos, screenshots and benchmarks. Pure and deterministic:
//! the same seed and `as_of` day give the same people, sections, wards and notes. Nobody here is
//! real; names mix the UK's languages and scripts so every screen and PDF meets them.
//!
//! Each person also has what a commissioner's return counts, over the two years before `as_of`:
//! a referral before every case (its source, whether placed out of area), the responsible
//! authority, for some an earlier case closed with a reason, a referral that opened no case,
//! non-instructed advocacy, issues with outcomes, and equality monitoring (or none, never asked).

use crate::activity::{ActivityKind, ContactMethod, RecordsBasis, RightsTopic};
use crate::case::{
    CaseClosure, ClosureReason, Instruction, IssueCategory, IssueOutcome, NonInstructedApproach,
    OutcomeKind, ReferralSource,
};
use crate::client::{Client, EqualityMonitoring, EthnicCategory};
use crate::legal::{ConsentScope, ConsentState, StatusCode};
use crate::nhs::NhsNumber;
use crate::rules::Jurisdiction;
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

/// How a request for help arrived. Eligibility is not decided here: the store asks the rules
/// engine, as intake does, from the status on the day, the jurisdiction and the person's age.
#[derive(Debug, Clone)]
pub struct DemoReferral {
    pub received_on: NaiveDate,
    pub source: ReferralSource,
    pub method: String,
    pub referrer: Option<String>,
    /// The legal status on the day received (none recorded: an informal patient).
    pub status: Option<StatusCode>,
    pub jurisdiction: Jurisdiction,
    pub inpatient: Option<bool>,
    pub responsible_authority: String,
    pub out_of_area: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct DemoIssue {
    pub category: IssueCategory,
    pub summary: String,
    pub opened_on: NaiveDate,
    pub outcome: Option<IssueOutcome>,
}

/// One case and the referral that opened it.
#[derive(Debug, Clone)]
pub struct DemoCase {
    pub referral: DemoReferral,
    pub opened_on: NaiveDate,
    pub instruction: Instruction,
    pub responsible_authority: String,
    pub issues: Vec<DemoIssue>,
    /// In time order, between the opening and the closing (or `as_of`).
    pub activities: Vec<DemoActivity>,
    /// Every issue has an outcome on or before it.
    pub closed: Option<CaseClosure>,
}

#[derive(Debug, Clone)]
pub struct DemoClient {
    pub client: Client,
    pub status: StatusCode,
    pub status_since: NaiveDate,
    pub consent: (ConsentScope, ConsentState, NaiveDate),
    /// Oldest first: an earlier case (closed) for some, then the case open now.
    pub cases: Vec<DemoCase>,
    /// A referral that opened no case: the person was not a qualifying patient that day.
    pub declined: Option<DemoReferral>,
}

impl DemoClient {
    /// The case open on `as_of`.
    pub fn current(&self) -> &DemoCase {
        // `client` always makes the current case, last.
        &self.cases[self.cases.len() - 1]
    }

    /// Every activity, case by case, in time order.
    pub fn activities(&self) -> impl Iterator<Item = &DemoActivity> {
        self.cases.iter().flat_map(|c| &c.activities)
    }
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

/// A hospital, its wards, where it is, and the authority responsible for its detained patients
/// (the local social services authority in England, the health board in Wales).
struct Hospital {
    name: &'static str,
    wards: &'static [&'static str],
    jurisdiction: Jurisdiction,
    authority: &'static str,
}

const HOSPITALS: &[Hospital] = &[
    Hospital {
        name: "Riverside Mental Health Unit",
        wards: &["Cedar", "Willow", "Rowan", "Hazel"],
        jurisdiction: Jurisdiction::England,
        authority: "Leeds City Council",
    },
    Hospital {
        name: "St Cadoc's Hospital",
        wards: &["Derwen", "Onnen", "Celyn"],
        jurisdiction: Jurisdiction::Wales,
        authority: "Aneurin Bevan University Health Board",
    },
    Hospital {
        name: "Northgate Hospital",
        wards: &["Ash", "Birch", "Maple", "Elm PICU"],
        jurisdiction: Jurisdiction::England,
        authority: "Manchester City Council",
    },
    Hospital {
        name: "Ysbyty Gwynedd Hergest Unit",
        wards: &["Aneurin", "Cynan"],
        jurisdiction: Jurisdiction::Wales,
        authority: "Betsi Cadwaladr University Health Board",
    },
    Hospital {
        name: "Hillside Secure Unit",
        wards: &["Thames", "Severn", "Trent", "Tyne"],
        jurisdiction: Jurisdiction::England,
        authority: "Kent County Council",
    },
];

/// Where people in the community live (a CTO, guardianship or conditional discharge is the
/// business of the authority for where they live, not of the hospital's).
const COMMUNITY_AUTHORITIES: &[(Jurisdiction, &str)] = &[
    (Jurisdiction::England, "Leeds City Council"),
    (Jurisdiction::England, "Manchester City Council"),
    (Jurisdiction::England, "Kent County Council"),
    (
        Jurisdiction::Wales,
        "Cardiff and Vale University Health Board",
    ),
    (Jurisdiction::Wales, "Aneurin Bevan University Health Board"),
    (
        Jurisdiction::Wales,
        "Betsi Cadwaladr University Health Board",
    ),
];

/// How far back the history goes: referrals, cases and their work fall in these last days.
const HISTORY_DAYS: i64 = 730;

/// England and Wales 2021 census proportions, roughly, with "asked and chose not to say".
const ETHNIC: &[(EthnicCategory, u32)] = &[
    (EthnicCategory::WhiteBritish, 600),
    (EthnicCategory::WhiteIrish, 10),
    (EthnicCategory::WhiteOther, 60),
    (EthnicCategory::MixedWhiteBlackCaribbean, 15),
    (EthnicCategory::MixedWhiteBlackAfrican, 8),
    (EthnicCategory::MixedWhiteAsian, 10),
    (EthnicCategory::MixedOther, 10),
    (EthnicCategory::AsianIndian, 30),
    (EthnicCategory::AsianPakistani, 30),
    (EthnicCategory::AsianBangladeshi, 12),
    (EthnicCategory::AsianOther, 15),
    (EthnicCategory::BlackCaribbean, 25),
    (EthnicCategory::BlackAfrican, 40),
    (EthnicCategory::BlackOther, 10),
    (EthnicCategory::Chinese, 8),
    (EthnicCategory::OtherEthnicGroup, 20),
    (EthnicCategory::NotStated, 50),
];

const GENDERS: &[(&str, u32)] = &[
    ("Male", 45),
    ("Female", 35),
    ("Man", 6),
    ("Woman", 5),
    ("Non-binary", 2),
    ("Prefer not to say", 3),
];

const RELIGIONS: &[(&str, u32)] = &[
    ("No religion", 35),
    ("Christian", 35),
    ("Muslim", 10),
    ("Hindu", 2),
    ("Sikh", 2),
    ("Jewish", 1),
    ("Buddhist", 1),
    ("Prefer not to say", 5),
];

const ORIENTATIONS: &[(&str, u32)] = &[
    ("Heterosexual", 80),
    ("Gay", 3),
    ("Lesbian", 2),
    ("Bisexual", 3),
    ("Prefer not to say", 8),
];

const SOURCES: &[(ReferralSource, u32)] = &[
    (ReferralSource::WardStaff, 30),
    (ReferralSource::SelfReferral, 15),
    (ReferralSource::MhaOffice, 14),
    (ReferralSource::ProactiveVisit, 10),
    (ReferralSource::ResponsibleClinician, 8),
    (ReferralSource::Amhp, 6),
    (ReferralSource::NearestRelative, 5),
    (ReferralSource::FamilyOrCarer, 5),
    (ReferralSource::Solicitor, 4),
    (ReferralSource::OtherAdvocacy, 2),
    (ReferralSource::Other, 1),
];

const CLOSURES: &[(ClosureReason, u32)] = &[
    (ClosureReason::IssuesResolved, 35),
    (ClosureReason::Discharged, 25),
    (ClosureReason::PersonEndedSupport, 10),
    (ClosureReason::Transferred, 8),
    (ClosureReason::LostContact, 6),
    (ClosureReason::NoLongerEligible, 6),
    (ClosureReason::Died, 1),
];

const OUTCOMES: &[(OutcomeKind, u32)] = &[
    (OutcomeKind::ViewPut, 30),
    (OutcomeKind::UnderstandsRights, 20),
    (OutcomeKind::ApplicationMade, 12),
    (OutcomeKind::DecisionChanged, 10),
    (OutcomeKind::Signposted, 10),
    (OutcomeKind::NotAchieved, 8),
    (OutcomeKind::Withdrawn, 5),
    (OutcomeKind::ComplaintUpheld, 2),
    (OutcomeKind::Other, 3),
];

const NON_INSTRUCTED: &[&str] = &[
    "Lacks capacity to instruct: advanced dementia",
    "Unable to communicate their wishes at present",
    "Too unwell to engage; wishes not yet known",
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

/// Equality monitoring as a service records it: one person in five never asked (everything
/// "not known", 99), the rest answering some questions in their own words.
fn equality(rng: &mut ChaCha8Rng) -> EqualityMonitoring {
    if rng.random_bool(0.2) {
        return EqualityMonitoring::default();
    }
    let mut e = EqualityMonitoring {
        ethnic_category: *pick_weighted(rng, ETHNIC),
        ..EqualityMonitoring::default()
    };
    e.gender = rng
        .random_bool(0.95)
        .then(|| pick_weighted(rng, GENDERS).to_string());
    e.religion = rng
        .random_bool(0.75)
        .then(|| pick_weighted(rng, RELIGIONS).to_string());
    e.sexual_orientation = rng
        .random_bool(0.7)
        .then(|| pick_weighted(rng, ORIENTATIONS).to_string());
    e.disability = rng.random_bool(0.85).then(|| rng.random_bool(0.3));
    e
}

/// `count` activities over `span` days from `from`, the first (a private interview) soon after
/// the referral: most within two working days, a few later.
fn activities(
    rng: &mut ChaCha8Rng,
    cfg: &DemoConfig,
    (person, ward): (&str, &str),
    from: NaiveDate,
    span: i64,
    count: usize,
) -> Vec<DemoActivity> {
    let span = span.max(1);
    let mut days: Vec<i64> = (0..count).map(|_| rng.random_range(0..span)).collect();
    days.sort_unstable();
    if let Some(first) = days.first_mut() {
        let soon = match rng.random_range(0..10) {
            0..=6 => rng.random_range(0..3),
            7..=8 => rng.random_range(3..6),
            _ => rng.random_range(6..15),
        };
        *first = (*first).min(soon);
    }
    let mut out: Vec<DemoActivity> = days
        .into_iter()
        .enumerate()
        .map(|(i, day)| {
            let time =
                NaiveTime::from_hms_opt(rng.random_range(9..17), *pick(rng, &[0, 15, 30, 45]), 0)
                    .unwrap_or(NaiveTime::MIN);
            DemoActivity {
                at: (from + Duration::days(day)).and_time(time),
                duration_minutes: *pick(rng, &[15, 30, 45, 60, 90]),
                kind: activity_kind(rng, i == 0),
                text: note(rng, cfg, person, ward),
            }
        })
        .collect();
    out.sort_by_key(|a| a.at);
    out
}

/// One to three issues raised in the first weeks of a case open from `opened` to `last`; on a
/// closed case every one has an outcome by then, on an open case about half have one.
fn issues(
    rng: &mut ChaCha8Rng,
    opened: NaiveDate,
    last: NaiveDate,
    closed: bool,
) -> Vec<DemoIssue> {
    let days = |a: NaiveDate, b: NaiveDate| (b - a).num_days().max(0);
    (0..rng.random_range(1..4))
        .map(|_| {
            let (category, texts) = pick(rng, ISSUES);
            let summary = pick(rng, texts).to_string();
            let opened_on =
                opened + Duration::days(rng.random_range(0..=days(opened, last).min(21)));
            let outcome = (closed || rng.random_bool(0.45)).then(|| {
                let kind = *pick_weighted(rng, OUTCOMES);
                IssueOutcome {
                    kind,
                    on: opened_on
                        + Duration::days(rng.random_range(0..=days(opened_on, last).min(90))),
                    note: (kind == OutcomeKind::Other).then(|| {
                        "Agreed with the person that this is now for their solicitor".into()
                    }),
                }
            });
            DemoIssue {
                category: *category,
                summary,
                opened_on,
                outcome,
            }
        })
        .collect()
}

fn instruction(rng: &mut ChaCha8Rng) -> Instruction {
    if rng.random_bool(0.08) {
        Instruction::NonInstructed {
            approach: *pick(rng, NonInstructedApproach::ALL),
            reason: pick(rng, NON_INSTRUCTED).to_string(),
        }
    } else {
        Instruction::Instructed
    }
}

/// The authorities for people living in the community in the hospital's country.
fn community_authority(rng: &mut ChaCha8Rng, jurisdiction: Jurisdiction) -> &'static str {
    let here: Vec<&'static str> = COMMUNITY_AUTHORITIES
        .iter()
        .filter(|(j, _)| *j == jurisdiction)
        .map(|(_, a)| *a)
        .collect();
    here[rng.random_range(0..here.len())]
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
    let hospital = pick(&mut rng, HOSPITALS);
    let ward = *pick(&mut rng, hospital.wards);
    let mut client = Client::named(name);
    client.hospital = Some(hospital.name.to_string());
    client.ward = Some(ward.to_string());
    client.dob = Some(cfg.as_of - Duration::days(rng.random_range(17 * 365..85 * 365)));
    if rng.random_bool(0.8) {
        client.nhs_number = Some(nhs_number(&mut rng));
    }
    client.equality = equality(&mut rng);
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
    let earliest = cfg.as_of - Duration::days(HISTORY_DAYS);
    let mut case_opened =
        status_since + Duration::days(rng.random_range(0..5)).min(cfg.as_of - status_since);
    if case_opened < earliest {
        // Detained for years: referred at some time during it, within the history.
        case_opened = cfg.as_of - Duration::days(rng.random_range(1..HISTORY_DAYS));
    }
    // Received a few days before the case opened, and not before the status began.
    let received = case_opened
        - Duration::days(
            rng.random_range(0..4)
                .min((case_opened - status_since).num_days()),
        );

    // People in the community are the business of the authority where they live.
    let authority = match status {
        StatusCode::S17A | StatusCode::S7 | StatusCode::ConditionalDischarge => {
            community_authority(&mut rng, hospital.jurisdiction)
        }
        _ => hospital.authority,
    };
    let out_of_area_share = if hospital.name.contains("Secure") {
        0.4
    } else {
        0.08
    };
    let referral = |rng: &mut ChaCha8Rng,
                    received_on: NaiveDate,
                    authority: &str,
                    sources: &[(ReferralSource, u32)]| {
        let status = (received_on >= status_since).then_some(status);
        DemoReferral {
            received_on,
            source: *pick_weighted(rng, sources),
            method: pick(rng, &["phone", "email", "in person", "form"]).to_string(),
            referrer: rng.random_bool(0.5).then(|| {
                pick(
                    rng,
                    &[
                        "Nurse in charge",
                        "Ward manager",
                        "MHA administrator",
                        "Sister",
                    ],
                )
                .to_string()
            }),
            status,
            jurisdiction: hospital.jurisdiction,
            // Informal patients: mostly on a ward (in Wales that makes them qualify).
            inpatient: status.is_none().then(|| rng.random_bool(0.7)),
            responsible_authority: authority.to_string(),
            out_of_area: rng
                .random_bool(0.85)
                .then(|| rng.random_bool(out_of_area_share)),
        }
    };

    let count = rng.random_range(cfg.activities.0..=cfg.activities.1.max(cfg.activities.0));
    let person = (given.as_str(), ward);
    let mut cases = Vec::new();
    let mut first_received = received;
    let mut current_count = count;
    // An earlier case for about a third, closed at least a fortnight before this referral,
    // with a quarter of the person's activities.
    let room = (received - earliest).num_days() - 45;
    if count >= 4 && room > 0 && rng.random_bool(0.35) {
        let e_received = earliest + Duration::days(rng.random_range(0..room));
        let e_opened = e_received + Duration::days(rng.random_range(0..4));
        let e_authority = if rng.random_bool(0.15) {
            community_authority(&mut rng, hospital.jurisdiction)
        } else {
            authority
        };
        let e_referral = referral(&mut rng, e_received, e_authority, SOURCES);
        // Referred while informal: often not a qualifying patient, signposted and closed.
        let (reason, note, days_open) = if e_referral.status.is_none() && rng.random_bool(0.5) {
            (
                ClosureReason::Other,
                Some(
                    "Not a qualifying patient when referred: signposted to the community advocacy service"
                        .to_string(),
                ),
                rng.random_range(1..10),
            )
        } else {
            (
                *pick_weighted(&mut rng, CLOSURES),
                None,
                rng.random_range(14..150),
            )
        };
        let closed_on = (e_opened + Duration::days(days_open)).min(received - Duration::days(14));
        let e_count = count / 4;
        current_count = count - e_count;
        cases.push(DemoCase {
            referral: e_referral,
            opened_on: e_opened,
            instruction: instruction(&mut rng),
            responsible_authority: e_authority.to_string(),
            issues: issues(&mut rng, e_opened, closed_on, true),
            activities: activities(
                &mut rng,
                cfg,
                person,
                e_opened,
                (closed_on - e_opened).num_days() + 1,
                e_count,
            ),
            closed: Some(CaseClosure {
                on: closed_on,
                reason,
                note,
            }),
        });
        first_received = e_received;
    }
    let current_referral = referral(&mut rng, received, authority, SOURCES);
    cases.push(DemoCase {
        referral: current_referral,
        opened_on: case_opened,
        instruction: instruction(&mut rng),
        responsible_authority: authority.to_string(),
        issues: issues(&mut rng, case_opened, cfg.as_of, false),
        activities: activities(
            &mut rng,
            cfg,
            person,
            case_opened,
            (cfg.as_of - case_opened).num_days(),
            current_count,
        ),
        closed: None,
    });

    // A few were referred earlier while informal and living at home: not qualifying patients,
    // so the referral opened no case.
    let declined_room = (first_received.min(status_since) - earliest).num_days() - 7;
    let declined = (declined_room > 0 && rng.random_bool(0.04)).then(|| {
        let on = earliest + Duration::days(rng.random_range(0..declined_room));
        DemoReferral {
            inpatient: Some(false),
            ..referral(
                &mut rng,
                on,
                authority,
                &[
                    (ReferralSource::FamilyOrCarer, 3),
                    (ReferralSource::SelfReferral, 3),
                    (ReferralSource::Other, 1),
                ],
            )
        }
    });

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
        consent,
        cases,
        declined,
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

    fn first_note(c: &DemoClient) -> String {
        c.client.name.clone() + &c.current().activities[0].text
    }

    #[test]
    fn same_seed_same_caseload_other_seed_other_caseload() {
        let a: Vec<String> = caseload(&cfg()).map(|c| first_note(&c)).collect();
        let b: Vec<String> = caseload(&cfg()).map(|c| first_note(&c)).collect();
        assert_eq!(a, b);
        let other = DemoConfig { seed: 8, ..cfg() };
        let c: Vec<String> = caseload(&other).map(|c| first_note(&c)).collect();
        assert_ne!(a, c);
    }

    #[test]
    fn generated_records_pass_validation_and_are_in_order() {
        let as_of = cfg().as_of;
        for c in caseload(&cfg()) {
            c.client.validate().unwrap();
            c.client.equality.validate().unwrap();
            let current = c.current();
            assert!(c.status_since <= current.referral.received_on);
            assert!(
                current.referral.received_on <= current.opened_on && current.opened_on <= as_of
            );
            assert!(current.closed.is_none());
            let mut before: Option<NaiveDate> = None;
            for case in &c.cases {
                let r = &case.referral;
                assert!(r.received_on <= case.opened_on);
                assert!(case.opened_on >= as_of - Duration::days(HISTORY_DAYS));
                assert_eq!(r.responsible_authority, case.responsible_authority);
                // Each case closed before the next referral came in.
                assert!(before.is_none_or(|closed| closed < r.received_on));
                let last = case.closed.as_ref().map_or(as_of, |x| x.on);
                let mut record = crate::Case::opened(crate::ClientId::new_random(), case.opened_on);
                record.instruction = case.instruction.clone();
                record.responsible_authority = Some(case.responsible_authority.clone());
                record.closed = case.closed.clone();
                record.validate().unwrap();
                record.check_dates(as_of).unwrap();
                for i in &case.issues {
                    let issue = crate::Issue {
                        case_id: crate::CaseId::new_random(),
                        category: i.category,
                        summary: i.summary.clone(),
                        opened_on: i.opened_on,
                        outcome: i.outcome.clone(),
                    };
                    issue.validate().unwrap();
                    assert!(i.opened_on >= case.opened_on && i.opened_on <= last);
                    assert!(i.outcome.as_ref().is_none_or(|o| o.on <= last));
                    assert!(
                        case.closed.is_none() || i.outcome.is_some(),
                        "closed with an issue open"
                    );
                }
                assert!(case.activities.windows(2).all(|w| w[0].at <= w[1].at));
                for a in &case.activities {
                    assert!(a.at.date() >= case.opened_on && a.at.date() <= last);
                    crate::activity::check_note_text(&a.text).unwrap();
                    assert!(!a.text.contains("{p}") && !a.text.contains("{ward}"));
                }
                before = case.closed.as_ref().map(|x| x.on);
            }
            if let Some(d) = &c.declined {
                assert!(d.received_on < c.cases[0].referral.received_on);
                assert_eq!((d.status, d.inpatient), (None, Some(false)));
            }
        }
    }

    #[test]
    fn a_caseload_has_what_a_return_counts() {
        let cfg = DemoConfig::new(2000, 7, "2026-11-25".parse().unwrap());
        let people: Vec<DemoClient> = caseload(&cfg).collect();
        let cases = || people.iter().flat_map(|p| &p.cases);
        let authorities: std::collections::BTreeSet<&str> =
            cases().map(|c| c.responsible_authority.as_str()).collect();
        assert_eq!(authorities.len(), COMMUNITY_AUTHORITIES.len());
        assert!(cases().filter(|c| c.closed.is_some()).count() > 400);
        assert!(people.iter().filter(|p| p.declined.is_some()).count() > 20);
        assert!(cases().any(|c| matches!(c.instruction, Instruction::NonInstructed { .. })));
        assert!(cases().any(|c| c.referral.status.is_none()));
        assert!(cases().any(|c| c.referral.out_of_area == Some(true)));
        let sources: std::collections::BTreeSet<_> = cases().map(|c| c.referral.source).collect();
        assert!(sources.len() >= 8);
        let kinds: std::collections::BTreeSet<_> = cases()
            .flat_map(|c| &c.activities)
            .map(|a| a.kind.code())
            .collect();
        assert_eq!(kinds.len(), crate::activity::ActivityKindCode::ALL.len());
        let ethnic: std::collections::BTreeSet<_> = people
            .iter()
            .map(|p| p.client.equality.ethnic_category)
            .collect();
        assert!(
            ethnic.contains(&EthnicCategory::NotStated)
                && ethnic.contains(&EthnicCategory::NotKnown)
        );
        assert!(people.iter().any(|p| p.client.equality.gender.is_some()));
        assert!(
            people
                .iter()
                .any(|p| p.client.equality.disability == Some(true))
        );
        // Everyone's work is within the last two years.
        let earliest = cfg.as_of - Duration::days(HISTORY_DAYS);
        assert!(cases().all(|c| c.referral.received_on >= earliest - Duration::days(3)));
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
