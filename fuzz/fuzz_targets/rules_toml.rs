//! The rules TOML: an organisation's file (any text, or the documented example edited), and
//! edited copies of the shipped rules and bank-holiday files. Loading returns the rules or a
//! reason; rules that load are asked eligibility, tribunal windows, renewals and reminders for
//! several statuses, none of which may panic or hang (libFuzzer's -timeout and -rss_limit_mb
//! catch a loop).
#![no_main]

use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use wardside_domain::legal::Applicant;
use wardside_domain::rules::{EligibilityQuery, Jurisdiction, Rules, Treatment};
use wardside_domain::{ClientId, LegalEvent, LegalEventKind, StatusCode};
use wardside_fuzz::apply_edits;

const SHIPPED_RULES: &str = include_str!("../../crates/domain/rules/mha-rules.toml");
const SHIPPED_BANK_HOLIDAYS: &str = include_str!("../../crates/domain/rules/bank-holidays.toml");
const EXAMPLE_ORG_FILE: &str = "jurisdiction = \"england\"\n\n[commencement]\n\"mha2025-section-3-periods\" = 2027-04-01\n\"mha2025-nominated-person\" = \"2027-10-01\"\n\"mha2025-imha-informal-patients\" = 2026-12-01\n\n[[bank_holiday]]\non = 2030-06-03\nname = \"One-off\"\n";

fn shipped() -> &'static Rules {
    static R: OnceLock<Rules> = OnceLock::new();
    R.get_or_init(|| Rules::shipped().unwrap())
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn ask(rules: &Rules, pick: u8) {
    let statuses = [
        StatusCode::S2,
        StatusCode::S3,
        StatusCode::S37,
        StatusCode::S37_41,
        StatusCode::S17A,
        StatusCode::S7,
        StatusCode::S4,
        StatusCode::Informal,
    ];
    let status = statuses[usize::from(pick) % statuses.len()];
    let j = if pick & 0x80 == 0 {
        Jurisdiction::England
    } else {
        Jurisdiction::Wales
    };
    let mut dates = vec![d("2026-11-25"), d("2028-03-01")];
    for p in rules.provisions() {
        if let Some(c) = p.commences {
            dates.extend([c.pred_opt(), Some(c), c.succ_opt()].into_iter().flatten());
        }
    }
    let client_id = ClientId(uuid::Uuid::nil());
    for on in dates {
        let started = on - chrono::Days::new(40);
        let history = [
            LegalEvent {
                client_id,
                on: started,
                kind: LegalEventKind::StatusStarted { status },
                note: None,
            },
            LegalEvent {
                client_id,
                on: started + chrono::Days::new(3),
                kind: LegalEventKind::TribunalApplication {
                    applicant: Applicant::Patient,
                },
                note: None,
            },
            LegalEvent {
                client_id,
                on: started + chrono::Days::new(5),
                kind: LegalEventKind::BarringReport,
                note: None,
            },
        ];
        for considering in [None, Some(Treatment::S58a)] {
            let _ = rules.eligibility(&EligibilityQuery {
                status,
                on,
                age: Some(17),
                considering,
                jurisdiction: j,
            });
        }
        let _ = rules.tribunal_windows(status, started, j);
        let _ = rules.renewals(status, started, Some(40), j);
        let _ = rules.reminders(&history, on, Some(40), j);
    }
}

fuzz_target!(|data: &[u8]| {
    let [mode, pick, rest @ ..] = data else {
        return;
    };
    let edited =
        |sample: &str| String::from_utf8_lossy(&apply_edits(sample.as_bytes(), rest)).into_owned();
    let raw = || String::from_utf8_lossy(rest).into_owned();
    let loaded = match mode % 6 {
        0 => shipped().clone().with_organisation_file(&raw()),
        1 => shipped()
            .clone()
            .with_organisation_file(&edited(EXAMPLE_ORG_FILE)),
        2 | 3 => Rules::from_texts(&edited(SHIPPED_RULES), SHIPPED_BANK_HOLIDAYS).map(|r| {
            r.clone()
                .with_organisation_file(EXAMPLE_ORG_FILE)
                .unwrap_or(r)
        }),
        4 => Rules::from_texts(SHIPPED_RULES, &edited(SHIPPED_BANK_HOLIDAYS)),
        _ => Rules::from_texts(&raw(), SHIPPED_BANK_HOLIDAYS),
    };
    match loaded {
        Ok(rules) => ask(&rules, *pick),
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
