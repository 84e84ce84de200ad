//! Corrections on a real encrypted store: dates that cannot be true are refused, an activity's
//! details are amended with a reason and the history keeps what was there, a closed case is
//! reopened with a reason.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use wardside_domain::*;
use wardside_store::clock::Clock;
use wardside_store::*;

const FAST: KdfParams = KdfParams {
    m_kib: 256,
    t: 1,
    p: 1,
};

fn d(s: &str) -> chrono::NaiveDate {
    s.parse().unwrap()
}

fn at(s: &str) -> chrono::NaiveDateTime {
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").unwrap()
}

/// A store whose "today" is 10 March 2026, with a client and an open case.
fn store_with_case(dir: &Path) -> (Store, ClientId, CaseId) {
    let path = dir.join("data").join("wardside.db");
    let mut store = Store::create_with(
        &path,
        &Passphrase::new("plum kettle harbour"),
        "Ceri Advocate",
        FAST,
        Tuning::default(),
    )
    .unwrap();
    store.set_clock(Clock::parse("2026-03-10T12:00:00Z").unwrap());
    let (client, case) = store
        .write(|w| {
            let client = w.add_client(&Client::named("Dafydd Rhys"))?;
            let case = w.open_case(&Case::opened(client, d("2026-03-01")))?;
            Ok((client, case))
        })
        .unwrap();
    (store, client, case)
}

fn interview(case: CaseId, when: &str) -> Activity {
    Activity {
        case_id: case,
        at: at(when),
        duration_minutes: Some(30),
        kind: ActivityKind::PrivateInterview { wishes: None },
        withheld: None,
    }
}

#[test]
fn an_interview_dated_tomorrow_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _, case) = store_with_case(dir.path());
    let err = store
        .write(|w| w.add_activity(&interview(case, "2026-03-11T09:00"), "Met on the ward"))
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Invalid(ValidationError::InFuture { field: "the date" })
        ),
        "{err}"
    );
    assert!(store.case_view(case).unwrap().timeline.is_empty());
    // Today is fine; a concern's response can be due next week (a plan, not a fact).
    let concern = Activity {
        kind: ActivityKind::Concern {
            raised_with: "Ward manager".into(),
            response_due: Some(d("2026-03-17")),
            response: None,
        },
        ..interview(case, "2026-03-10T09:00")
    };
    store
        .write(|w| w.add_activity(&concern, "Raised the leave cancellation"))
        .unwrap();
}

#[test]
fn closing_on_a_future_date_and_future_safeguarding_events_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, client, case) = store_with_case(dir.path());
    let err = store
        .write(|w| {
            w.close_case(
                case,
                CaseClosure {
                    on: d("2026-03-12"),
                    reason: ClosureReason::IssuesResolved,
                    note: None,
                },
            )
        })
        .unwrap_err();
    assert!(err.to_string().contains("today or in the past"), "{err}");
    assert!(store.case_view(case).unwrap().case.record.closed.is_none());
    let err = store
        .write(|w| {
            w.record_consent(&Consent {
                client_id: client,
                scope: ConsentScope::RecordsAccess,
                state: ConsentState::Given,
                on: d("2026-04-01"),
                how: None,
                witness: None,
                note: None,
            })
        })
        .unwrap_err();
    assert!(err.to_string().contains("today or in the past"), "{err}");
}

#[test]
fn amending_an_activity_keeps_what_was_there_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _, case) = store_with_case(dir.path());
    let id = store
        .write(|w| w.add_activity(&interview(case, "2026-03-09T14:00"), "Talked about leave"))
        .unwrap();
    let mut after = ActivityDetails::of(&interview(case, "2026-03-08T14:00"));
    after.kind = ActivityKind::WardRound {
        points_raised: vec!["Escorted leave".into()],
        response: Some("RC to review".into()),
    };
    // No reason: refused, nothing changed.
    let err = store.amend_activity(id, &after, "  ").unwrap_err();
    assert!(
        matches!(err, StoreError::Invalid(ValidationError::Required { .. })),
        "{err}"
    );
    // Into the future: refused.
    let mut future = after.clone();
    future.at = at("2026-03-11T09:00");
    assert!(store.amend_activity(id, &future, "wrong day").is_err());
    // Nothing different: refused.
    let same = ActivityDetails::of(&interview(case, "2026-03-09T14:00"));
    assert!(store.amend_activity(id, &same, "no change").is_err());
    let a = store.activity_amendments(id).unwrap();
    assert!(a.is_empty(), "refused amendments leave no trace");

    store
        .amend_activity(id, &after, "It was the ward round, the day before")
        .unwrap();
    let view = store.case_view(case).unwrap();
    let entry = &view.timeline[0];
    assert_eq!(entry.activity.at, at("2026-03-08T14:00"));
    assert_eq!(
        entry.activity.kind.code(),
        activity::ActivityKindCode::WardRound
    );
    let history = store.activity_amendments(id).unwrap();
    assert_eq!(history.len(), 1);
    let h = &history[0].record;
    assert_eq!(h.reason, "It was the ward round, the day before");
    assert_eq!(h.by, "Ceri Advocate");
    let Amended::Activity {
        before, after: now, ..
    } = &h.amended
    else {
        panic!("an activity amendment");
    };
    assert_eq!(before.at, at("2026-03-09T14:00"));
    assert_eq!(before.changes(now), vec!["date", "kind"]);
    // The note is untouched.
    assert_eq!(store.note_history(id).unwrap().len(), 1);
}

#[test]
fn a_closed_case_reopens_with_a_reason_and_keeps_its_closing_in_history() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, client, case) = store_with_case(dir.path());
    let closure = CaseClosure {
        on: d("2026-03-09"),
        reason: ClosureReason::IssuesResolved,
        note: None,
    };
    store
        .write(|w| w.close_case(case, closure.clone()))
        .unwrap();
    assert!(store.reopen_case(case, " ").is_err(), "a reason is needed");
    store
        .reopen_case(case, "The person asked for help with a new tribunal")
        .unwrap();
    assert!(store.case_view(case).unwrap().case.record.closed.is_none());
    let history = store.case_amendments(case).unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].record.amended, Amended::CaseReopened { closure });
    // An open case cannot be reopened, and a second open case is refused.
    assert!(matches!(
        store.reopen_case(case, "again").unwrap_err(),
        StoreError::Refused(_)
    ));
    let audit = store.audit_for_case(case).unwrap();
    assert!(audit.iter().any(|a| a.entity == "amendment"), "{audit:?}");
    let _ = client;
}

#[test]
fn a_form_draft_outlives_a_lock_and_goes_when_discarded() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _, case) = store_with_case(dir.path());
    let key = format!("safeguarding:{case}");
    let form = serde_json::json!({ "reason": "Said she would hurt her brother", "told": "" });
    store.save_form_draft(&key, Some(case), &form).unwrap();
    store
        .save_form_draft("new-client", None, &serde_json::json!({ "name": "Ana" }))
        .unwrap();
    // A form name is a label, never content.
    assert!(matches!(
        store
            .save_form_draft("Ana Lopez's form", None, &form)
            .unwrap_err(),
        StoreError::Refused(_)
    ));
    // A draft for a case that does not exist would never be seen again.
    assert!(
        store
            .save_form_draft("issue:x", Some(CaseId(uuid::Uuid::new_v4())), &form)
            .is_err()
    );
    let path = dir.path().join("data").join("wardside.db");
    store.lock().unwrap();
    let mut store = Store::unlock_with(
        &path,
        &Passphrase::new("plum kettle harbour"),
        Tuning::default(),
    )
    .unwrap();
    let draft = store.form_draft(&key).unwrap().unwrap();
    assert_eq!(draft.form, form);
    assert_eq!(draft.case_id, Some(case));
    assert_eq!(store.form_draft_keys().unwrap().len(), 2);
    store.discard_form_draft(&key).unwrap();
    assert!(store.form_draft(&key).unwrap().is_none());
    assert_eq!(
        store.form_draft_keys().unwrap(),
        vec!["new-client".to_owned()]
    );
}

#[test]
fn a_person_already_known_gets_a_new_referral_and_case_once_the_last_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, client, case) = store_with_case(dir.path());
    let rules = wardside_store::config::load_rules(None).unwrap();
    let referral = intake::IntakeReferral {
        received_on: d("2026-03-10"),
        source: ReferralSource::WardStaff,
        referrer: None,
        inpatient: None,
        responsible_authority: None,
        out_of_area: None,
    };
    let new_case = intake::IntakeCase {
        opened_on: d("2026-03-10"),
        instruction: Instruction::Instructed,
        responsible_authority: None,
    };
    // The first case is still open: refused, nothing written.
    assert!(matches!(
        store
            .refer_again(client, &referral, &new_case, &rules, rules.jurisdiction())
            .unwrap_err(),
        StoreError::Refused(_)
    ));
    store
        .write(|w| {
            w.close_case(
                case,
                CaseClosure {
                    on: d("2026-03-09"),
                    reason: ClosureReason::IssuesResolved,
                    note: None,
                },
            )
        })
        .unwrap();
    let made = store
        .refer_again(client, &referral, &new_case, &rules, rules.jurisdiction())
        .unwrap();
    assert_eq!(made.client_id, client);
    let opened = made.case_id.unwrap();
    assert_ne!(opened, case);
    let view = store.case_view(opened).unwrap();
    assert_eq!(view.case.record.referral_id, made.referral_id);
    assert!(view.case.record.closed.is_none());
    // The earlier case is untouched.
    assert!(store.case_view(case).unwrap().case.record.closed.is_some());
}

#[test]
fn drafts_waiting_after_a_crash_say_whose_they_are_and_where() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, client, case) = store_with_case(dir.path());
    store
        .save_draft(case, &serde_json::json!({"kind": "other"}), "half a note")
        .unwrap();
    store
        .save_form_draft(
            &format!("safeguarding:{case}"),
            Some(case),
            &serde_json::json!({}),
        )
        .unwrap();
    store
        .save_form_draft(&format!("consent:{client}"), None, &serde_json::json!({}))
        .unwrap();
    store
        .save_form_draft("new-client", None, &serde_json::json!({"name": "x"}))
        .unwrap();
    let mut waiting = store.waiting_drafts().unwrap();
    waiting.sort_by(|a, b| a.form.cmp(&b.form));
    let seen: Vec<(&str, Option<CaseId>, Option<&str>)> = waiting
        .iter()
        .map(|w| (w.form.as_str(), w.case_id, w.name.as_deref()))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("activity", Some(case), Some("Dafydd Rhys")),
            ("consent", Some(case), Some("Dafydd Rhys")),
            ("new-client", None, None),
            ("safeguarding", Some(case), Some("Dafydd Rhys")),
        ]
    );
}

/// Issue 15: in Wales an informal patient qualifies for an IMHA only as an in-patient
/// (MHA 1983 s. 130J(2)(a)). The new-person form says whether they are one, and the referral
/// records the answer with its source, on the real encrypted store.
#[test]
fn a_welsh_informal_out_patient_is_recorded_as_not_eligible_and_an_in_patient_as_eligible() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _, _) = store_with_case(dir.path());
    let rules = wardside_store::config::load_rules(None).unwrap();
    let mut recorded = Vec::new();
    for (name, inpatient) in [("Gwen Out", Some(false)), ("Gwen In", Some(true))] {
        let intake: intake::Intake = serde_json::from_value(serde_json::json!({
            "client": Client::named(name),
            "status": "informal",
            "status_since": "2026-03-01",
            "referral": {"received_on": "2026-03-10", "source": "ward-staff", "inpatient": inpatient},
            "case": {"opened_on": "2026-03-10", "instruction": {"mode": "instructed"}},
        }))
        .unwrap();
        let made = store
            .intake(&intake, &rules, wardside_domain::rules::Jurisdiction::Wales)
            .unwrap();
        let referral: Referral = store.get(made.referral_id.unwrap().0).unwrap();
        // The case's own answer, recomputed every time it is shown, agrees with the referral.
        let view = store.case_view(made.case_id.unwrap()).unwrap();
        let now = view
            .guidance(
                &rules,
                d("2026-03-10"),
                wardside_domain::rules::Jurisdiction::Wales,
            )
            .unwrap()
            .eligibility;
        assert_eq!(Some(now.eligible), referral.eligible, "{name}");
        recorded.push(referral);
    }
    assert_eq!(recorded[0].eligible, Some(false));
    assert!(
        recorded[0]
            .eligibility_source
            .as_deref()
            .unwrap()
            .contains("130J(2)")
    );
    assert_eq!(recorded[1].eligible, Some(true));
}
