//! Words for paper. A printed page is read days or months after it was made, so nothing on it
//! says "in 2 days" or "tomorrow": every time is a date. And the person's own copy is for the
//! person, not a lawyer: no section-and-paragraph references ("s. 66(1)(a)", "(s130B(2))"), no
//! case citations; those stay in the service's file and the hearing summary.

use crate::model::date;
use wardside_domain::rules::{Reminder, ReminderKind};
use wardside_domain::*;

/// The ways the rules engine says a reminder's distance from today ("in 3 days", "tomorrow",
/// "in 1 day").
fn relative(days: i64) -> Vec<String> {
    match days {
        0 => vec!["today".into()],
        1 => vec!["tomorrow".into(), "in 1 day".into()],
        -1 => vec!["1 day ago".into()],
        n if n < 0 => vec![format!("{} days ago", -n)],
        n => vec![format!("in {n} days")],
    }
}

/// A reminder's text with its relative time replaced by the date it stands for, for the
/// service's file: "closes in 3 days (4 Dec 2026)" becomes "closes on 4 Dec 2026", "renewal
/// due by 4 Dec 2026 (in 3 days)" loses the bracket, "due today" becomes "due on 4 December
/// 2026". A text in a wording this does not know keeps its meaning from the table's date
/// column: it is replaced by what kind of reminder it is.
pub fn reminder_on_paper(r: &Reminder) -> String {
    let mut text = r.text.clone();
    for rel in relative(r.days_left) {
        let lead = format!("{rel} (");
        if let Some(at) = text.find(&lead) {
            let inner = at + lead.len();
            if let Some(close) = text[inner..].find(')') {
                let shown = text[inner..inner + close].to_string();
                text.replace_range(at..inner + close + 1, &format!("on {shown}"));
            }
        }
        text = text.replace(&format!(" ({rel})"), "");
    }
    if r.days_left == 0 {
        text = text.replace("due today", &format!("due on {}", date(r.due)));
    }
    if has_relative_time(&text) {
        return service_kind(r.kind).to_string();
    }
    text
}

fn service_kind(kind: ReminderKind) -> &'static str {
    match kind {
        ReminderKind::TribunalWindowCloses => "Tribunal application window closes",
        ReminderKind::TribunalWindowOpens => "Next tribunal application window opens",
        ReminderKind::Expiry => "Legal status ends and cannot be renewed",
        ReminderKind::RenewalDue => "Renewal due",
        ReminderKind::ReferenceDue => "Reference to the tribunal due",
        ReminderKind::StatusLapsed => {
            "The recorded legal status cannot still be in force: record the current one"
        }
    }
}

/// Whether `text` says a time relative to when it was written ("in 2 days", "3 days ago",
/// "today", "tomorrow", "2 days left"), which goes stale on paper.
pub fn has_relative_time(text: &str) -> bool {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let number = |w: &str| w.chars().all(|c| c.is_ascii_digit()) || w == "a" || w == "one";
    let unit = |w: &str| {
        matches!(
            w,
            "day" | "days" | "week" | "weeks" | "month" | "months" | "hour" | "hours"
        )
    };
    words
        .iter()
        .any(|w| matches!(*w, "today" | "tomorrow" | "yesterday"))
        || words.windows(3).any(|w| {
            (w[0] == "in" && number(w[1]) && unit(w[2]))
                || (number(w[0]) && unit(w[1]) && matches!(w[2], "ago" | "left" | "remaining"))
        })
}

/// What a reminder means for the person, in their words; the date is beside it.
pub fn reminder_for_person(r: &Reminder) -> String {
    match r.kind {
        ReminderKind::TribunalWindowCloses if r.text.starts_with("The nearest relative") => {
            "Last day your nearest relative can apply to the tribunal.".into()
        }
        ReminderKind::TribunalWindowCloses if r.text.starts_with("The nominated person") => {
            "Last day your nominated person can apply to the tribunal.".into()
        }
        // The relative a county court order replaced (s. 29): their window, not the person's.
        ReminderKind::TribunalWindowCloses if r.text.starts_with("The displaced") => {
            "Last day, for now, the relative the court replaced can apply to the tribunal.".into()
        }
        ReminderKind::TribunalWindowCloses => {
            "Last day you can apply to the tribunal to ask to be discharged, for now. Your \
             advocate or a solicitor can help you apply."
                .into()
        }
        ReminderKind::TribunalWindowOpens => {
            "From this day you can apply to the tribunal to ask to be discharged.".into()
        }
        ReminderKind::Expiry => {
            "Your section ends on this day. It cannot be renewed: the team must decide what \
             happens next before then."
                .into()
        }
        ReminderKind::RenewalDue => {
            "Your section ends on this day unless your responsible clinician renews it. You \
             can ask for a hospital managers’ hearing if it is renewed."
                .into()
        }
        ReminderKind::ReferenceDue => {
            "By this day your case must be sent to the tribunal for a check, even if you have \
             not applied yourself."
                .into()
        }
        ReminderKind::StatusLapsed => {
            "Our record of your legal status may be out of date from this day. Please tell \
             your advocate if it has changed."
                .into()
        }
    }
}

/// A legal-history entry in the person's words.
pub fn legal_event_for_person(e: &LegalEvent) -> String {
    let what = match &e.kind {
        LegalEventKind::StatusStarted { status } => {
            format!("Your legal status became {}", status.label())
        }
        LegalEventKind::Renewed => "Your section was renewed or extended".into(),
        LegalEventKind::TribunalApplication { applicant } => match applicant {
            legal::Applicant::Patient => "You applied to the tribunal".into(),
            legal::Applicant::NearestRelative => {
                "Your nearest relative applied to the tribunal".into()
            }
            legal::Applicant::NominatedPerson => {
                "Your nominated person applied to the tribunal".into()
            }
        },
        LegalEventKind::ApplicationWithdrawn => {
            "The application to the tribunal was withdrawn".into()
        }
        LegalEventKind::TribunalHearing { outcome } => with_outcome("Tribunal hearing", outcome),
        LegalEventKind::ManagersHearing { outcome } => {
            with_outcome("Hospital managers’ hearing", outcome)
        }
        LegalEventKind::Reference => {
            "Your case was sent to the tribunal for a check (you did not have to apply)".into()
        }
        LegalEventKind::Recalled => "You were recalled to hospital".into(),
        LegalEventKind::BarringReport => {
            "Your nearest relative was told that your responsible clinician stopped them \
             discharging you"
                .into()
        }
        LegalEventKind::CtoRevoked { status } => format!(
            "Your community treatment order was cancelled and you were kept in hospital again under {}",
            status.label()
        ),
        LegalEventKind::NearestRelativeDisplaced => {
            "A court order replaced your nearest relative".into()
        }
        LegalEventKind::Ended => "Your section ended".into(),
    };
    match &e.note {
        Some(n) => format!("{what}. {n}"),
        None => what,
    }
}

fn with_outcome(what: &str, outcome: &Option<String>) -> String {
    match outcome {
        Some(o) => format!("{what}: {o}"),
        None => what.into(),
    }
}

/// A rights topic as something the person was told about.
pub fn rights_topic_for_person(t: RightsTopic) -> String {
    match t {
        RightsTopic::QualifyingProvisions => "Why you can have an IMHA".into(),
        RightsTopic::ConditionsRestrictions => {
            "The conditions or restrictions you are under".into()
        }
        RightsTopic::Treatment => "Your medical treatment".into(),
        RightsTopic::TreatmentReasons => "The reasons for your treatment".into(),
        RightsTopic::TreatmentAuthority => "What allows the team to give you treatment".into(),
        RightsTopic::TreatmentSafeguards => "The checks the law puts on your treatment".into(),
        RightsTopic::Rights => "Your rights, and those of people close to you".into(),
        #[allow(unreachable_patterns)]
        other => without_references(other.label()),
    }
}

/// An issue's subject in the person's words.
pub fn issue_category_for_person(c: IssueCategory) -> String {
    match c {
        IssueCategory::Medication => "Medication, or agreeing to treatment".into(),
        IssueCategory::Discharge => "Leaving hospital, and help afterwards".into(),
        IssueCategory::Leave => "Leave from the ward or hospital".into(),
        other => without_references(other.label()),
    }
}

/// A consent's subject in the person's words.
pub fn consent_scope_for_person(s: ConsentScope) -> String {
    without_references(s.label())
}

/// A label with its references to the Act taken out: "Access to records (s130B(3)(c))" →
/// "Access to records", "planning and s117 after-care" → "planning and after-care".
pub fn without_references(label: &str) -> String {
    let mut out = String::new();
    let mut rest = label;
    while let Some(open) = rest.find(" (") {
        let (before, group) = rest.split_at(open);
        out.push_str(before);
        let mut depth = 0;
        let mut end = None;
        for (i, c) in group.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(i);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(end) = end else {
            out.push_str(group);
            rest = "";
            break;
        };
        let inner = &group[2..end];
        if !inner.split([',', ' ', ';']).any(is_reference) {
            out.push_str(&group[..=end]);
        }
        rest = &group[end + 1..];
    }
    out.push_str(rest);
    out.split(' ')
        .filter(|w| !is_reference(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// "s117", "s. 66(1)", "s130B(2)", "SOAD": a reference only a lawyer reads.
fn is_reference(word: &str) -> bool {
    let w = word.trim_start_matches(|c: char| !c.is_alphanumeric());
    if w == "SOAD" {
        return true;
    }
    let Some(rest) = w.strip_prefix("ss").or_else(|| w.strip_prefix('s')) else {
        return false;
    };
    rest.trim_start_matches(['.', ' '])
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit())
}

/// Whether `text` cites the Act by section and paragraph or a court case: what the person's
/// copy never prints (checked by the tests).
#[cfg(test)]
fn has_legal_reference(text: &str) -> bool {
    const CITATIONS: &[&str] = &[
        "EWCA",
        "EWHC",
        "UKSC",
        "UKUT",
        "UKHL",
        "MHLO",
        " v SSH",
        " v Secretary",
        "[20",
        "[19",
        "Sch. ",
        "SI 20",
        "MHA 1983",
        "Mental Health Act 2025 s",
    ];
    CITATIONS.iter().any(|c| text.contains(c))
        || text
            .split_whitespace()
            .any(|w| is_reference(w) || w == "s." || w == "ss.")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use wardside_domain::rules::{Jurisdiction, Rules};

    #[test]
    fn references_come_out_of_labels_and_plain_words_stay() {
        assert_eq!(
            without_references("Access to health and social care records (s130B(3)(c))"),
            "Access to health and social care records"
        );
        assert_eq!(
            without_references("Discharge planning and s117 after-care"),
            "Discharge planning and after-care"
        );
        assert_eq!(
            without_references("Medication or consent to treatment (s58, SOAD)"),
            "Medication or consent to treatment"
        );
        assert_eq!(
            without_references("Restrictive practice (seclusion, restraint)"),
            "Restrictive practice (seclusion, restraint)"
        );
        assert_eq!(without_references("Section 17 leave"), "Section 17 leave");
    }

    #[test]
    fn every_label_the_persons_copy_prints_is_free_of_references() {
        for t in RightsTopic::ALL {
            let s = rights_topic_for_person(*t);
            assert!(!has_legal_reference(&s), "{s}");
        }
        for c in IssueCategory::ALL {
            let s = issue_category_for_person(*c);
            assert!(!has_legal_reference(&s), "{s}");
        }
        for c in ConsentScope::ALL {
            let s = consent_scope_for_person(*c);
            assert!(!has_legal_reference(&s), "{s}");
        }
        // The check itself catches what the service's labels say.
        assert!(has_legal_reference(RightsTopic::Rights.label()));
        assert!(has_legal_reference("MHA 1983 s. 66(1)(a), (2)(a)"));
        assert!(has_legal_reference(
            "R (Modaresi) v SSH [2011] EWCA Civ 1359"
        ));
        assert!(!has_legal_reference("Section 3 (admission for treatment)"));
    }

    #[test]
    fn relative_times_are_recognised() {
        for stale in [
            "closes in 2 days",
            "3 days ago",
            "due tomorrow",
            "closes today",
            "2 days left",
            "in 1 day",
        ] {
            assert!(has_relative_time(stale), "{stale}");
        }
        for fine in [
            "by 14 January 2027",
            "28 days beginning with the day of admission",
            "in 2027",
        ] {
            assert!(!has_relative_time(fine), "{fine}");
        }
    }

    /// Every reminder the rules can give, for every status, on each of the days around its
    /// dates: on paper, none says a time relative to the day it was printed.
    #[test]
    fn no_reminder_on_paper_says_a_relative_time() {
        let rules = Rules::shipped().unwrap();
        let client = ClientId::new_random();
        let since = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
        let mut seen = 0;
        for status in StatusCode::ALL {
            let mut history = vec![LegalEvent {
                client_id: client,
                on: since,
                kind: LegalEventKind::StatusStarted { status: *status },
                note: None,
            }];
            // Every event that starts a deadline: a barring report, an order displacing the
            // nearest relative, a recall, and (for a CTO) its revocation.
            let mut events = vec![
                (20, LegalEventKind::BarringReport),
                (30, LegalEventKind::NearestRelativeDisplaced),
                (40, LegalEventKind::Recalled),
            ];
            if *status == StatusCode::S17A {
                events.push((
                    50,
                    LegalEventKind::CtoRevoked {
                        status: StatusCode::S3,
                    },
                ));
            }
            for (day, kind) in events {
                history.push(LegalEvent {
                    client_id: client,
                    on: since + chrono::Days::new(day),
                    kind,
                    note: None,
                });
            }
            for offset in (0..800).step_by(1) {
                let today = since + chrono::Days::new(offset);
                for r in rules.reminders(&history, today, Some(40), Jurisdiction::England) {
                    seen += 1;
                    let paper = reminder_on_paper(&r);
                    assert!(!has_relative_time(&paper), "{} → {paper}", r.text);
                    // Rewritten, not replaced by the fallback: the wording is known.
                    assert_ne!(paper, service_kind(r.kind), "{}", r.text);
                    let person = reminder_for_person(&r);
                    if r.text.starts_with("The displaced") {
                        assert!(!person.contains("you can apply"), "{person}");
                    }
                    assert!(!has_relative_time(&person), "{person}");
                    assert!(!has_legal_reference(&person), "{person}");
                }
            }
        }
        assert!(seen > 1000, "{seen} reminders checked");
    }
}
