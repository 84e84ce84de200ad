use thiserror::Error;

/// Why a record was refused. Messages name the field and say what to do; they never echo a
/// name, a note or an NHS number, so they are safe to show, log or report.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ValidationError {
    #[error("{context}: {field} is required")]
    Required {
        context: &'static str,
        field: &'static str,
    },

    #[error("unknown {what} '{value}'; use one of: {allowed}")]
    UnknownCode {
        what: &'static str,
        value: String,
        allowed: String,
    },

    #[error("NHS number is not valid: {reason}. Check the 10 digits against the patient's records")]
    InvalidNhsNumber { reason: &'static str },

    #[error("{later} ({later_value}) is before {earlier} ({earlier_value}); check the dates")]
    DatesOutOfOrder {
        earlier: &'static str,
        earlier_value: String,
        later: &'static str,
        later_value: String,
    },

    #[error("{field} must be today or in the past: it records something that has happened")]
    InFuture { field: &'static str },

    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
}

impl ValidationError {
    pub(crate) fn unknown(what: &'static str, value: &str, allowed: &[&str]) -> Self {
        // Codes are short identifiers; cap what we echo so a pasted note never comes back.
        let value: String = value.chars().take(40).collect();
        ValidationError::UnknownCode {
            what,
            value,
            allowed: allowed.join(", "),
        }
    }
}

/// Which field of a form each error is about, as the record's own field name: the app moves
/// focus to that field and shows the message beside it (GOV.UK error summary pattern). Every
/// field phrase the domain's checks use is listed (a test reads the sources to make sure).
pub const FIELD_KEYS: &[(&str, &str)] = &[
    ("name", "name"),
    ("the advocate's name", "name"),
    ("the person's wishes", "wishes"),
    ("who was interviewed (name or role)", "professional"),
    ("each point raised", "points"),
    ("response", "response"),
    ("outcome", "outcome"),
    ("who the concern was raised with", "raised_with"),
    ("the response due date", "response_due"),
    ("the record holder", "record_holder"),
    ("records requested", "records_requested"),
    ("what was seen", "what_was_seen"),
    ("the date records were seen", "seen_on"),
    (
        "confirmation that no attorney, deputy or Court of Protection decision conflicts (s130B(4))",
        "no_conflicting_decision_checked",
    ),
    ("at least one topic covered", "topics"),
    ("who the contact was with", "with_whom"),
    ("duration", "duration"),
    ("note text", "text"),
    ("the reason for the amendment", "reason"),
    ("the reason for the change", "reason"),
    ("the reason for deleting the entry", "reason"),
    ("the reason (the risk of harm)", "reason"),
    ("who was told", "who_was_told"),
    (
        "why it was not discussed with the person first",
        "why_not_discussed",
    ),
    ("why it was not discussed first", "why_not_discussed"),
    ("the manager informed", "manager"),
    ("reference", "reference"),
    ("summary", "summary"),
    ("outcome note", "outcome_note"),
    ("a note describing it", "outcome_note"),
    ("closing note", "note"),
    ("the closing date", "closed_on"),
    ("why the person cannot instruct", "instruction_reason"),
    ("responsible authority", "responsible_authority"),
    ("the date", "at"),
    ("date of birth", "dob"),
    ("the date the case opened", "opened_on"),
    ("the date the issue was raised", "opened_on"),
    ("the outcome date", "outcome_on"),
    ("the date of the decision", "on"),
    ("the date of the event", "on"),
    ("the date the referral was received", "received_on"),
    ("hospital", "hospital"),
    ("ward", "ward"),
    ("first language", "first_language"),
    ("referrer", "referrer"),
    ("relationship", "relationship"),
    ("contact details", "contact"),
    ("how consent was obtained", "how"),
    ("witness", "witness"),
    ("a note saying what it covers", "note"),
    ("gender", "gender"),
    ("religion or belief", "religion"),
    ("sexual orientation", "sexual_orientation"),
    ("marriage or civil partnership", "marital_status"),
    ("the reason it is ineligible", "eligibility_reason"),
    ("eligibility reason", "eligibility_reason"),
    ("eligibility source", "eligibility_source"),
    ("qualification", "qualification"),
    ("method", "method"),
    ("due date", "due"),
    ("snooze", "snoozed_until"),
    ("task", "title"),
    ("what is to be done", "title"),
    ("who made the change", "by"),
    ("the reason for snoozing", "snooze_reason"),
    ("hospital number", "hospital_number"),
    ("note", "note"),
    ("detained again under", "status"),
    // About the whole form rather than one box: shown in the summary only.
    ("case", "form"),
    ("the activity", "form"),
];

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

impl ValidationError {
    /// The record field this error is about (see [`FIELD_KEYS`]), if it is about one field.
    pub fn field_key(&self) -> Option<&'static str> {
        let phrase = match self {
            ValidationError::Required { field, .. }
            | ValidationError::InFuture { field }
            | ValidationError::Invalid { field, .. } => *field,
            ValidationError::DatesOutOfOrder { later, .. } => *later,
            ValidationError::InvalidNhsNumber { .. } => return Some("nhs_number"),
            ValidationError::UnknownCode { .. } => return None,
        };
        FIELD_KEYS
            .iter()
            .find(|(p, _)| *p == phrase)
            .map(|(_, key)| *key)
    }

    /// The words a person sees beside the field and in the error summary, in the GOV.UK
    /// Design System's patterns ("Enter …", "… must be …"). No record content, like every
    /// message here.
    pub fn for_person(&self) -> String {
        match self {
            ValidationError::Required { field, .. } => {
                if let Some(rest) = field.strip_prefix("confirmation that ") {
                    format!("Confirm that {rest}")
                } else if field.starts_with("at least") {
                    format!("Select {field}")
                } else {
                    format!("Enter {field}")
                }
            }
            ValidationError::InFuture { field } => {
                format!("{} must be today or in the past", capitalised(field))
            }
            ValidationError::DatesOutOfOrder { earlier, later, .. } => {
                format!(
                    "{} must be the same as or after {earlier}",
                    capitalised(later)
                )
            }
            ValidationError::InvalidNhsNumber { .. } => {
                "NHS number must be 10 digits and pass the check digit".into()
            }
            ValidationError::UnknownCode { what, .. } => format!("Choose a {what} from the list"),
            ValidationError::Invalid { field, reason } if reason.starts_with("must ") => {
                format!("{} {reason}", capitalised(field))
            }
            ValidationError::Invalid { field, reason } => {
                format!("{}: {reason}", capitalised(field))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field phrase a check in the domain passes (to `require_text`, `optional_text`,
    /// `happened`, `in_order` or an error literal) has a form field, so the app can put the
    /// message beside the right box.
    #[test]
    fn every_field_the_domain_checks_maps_to_a_form_field() {
        let sources = [
            include_str!("activity.rs"),
            include_str!("amendment.rs"),
            include_str!("case.rs"),
            include_str!("client.rs"),
            include_str!("legal.rs"),
            include_str!("people.rs"),
            include_str!("safeguarding.rs"),
            include_str!("tasks.rs"),
        ];
        let call = regex::Regex::new(
            r#"(?s)(?:require_text|optional_text|happened)\(\s*[^,]+,\s*[^,]*?"([^"]+)"|field: "([^"]+)""#,
        )
        .expect("a valid pattern");
        let mut missing = Vec::new();
        let mut seen = 0;
        for src in sources {
            // The checks, not the tests below them.
            let src = src.split("#[cfg(test)]").next().unwrap_or(src);
            for c in call.captures_iter(src) {
                let phrase = c.get(1).or(c.get(2)).map(|m| m.as_str()).unwrap_or("");
                seen += 1;
                if !FIELD_KEYS.iter().any(|(p, _)| *p == phrase) {
                    missing.push(phrase.to_owned());
                }
            }
        }
        assert!(seen > 40, "the pattern finds the checks ({seen})");
        assert_eq!(missing, Vec::<String>::new());
    }

    #[test]
    fn each_kind_of_error_reads_as_an_instruction_with_its_field() {
        let cases = [
            (
                ValidationError::Required {
                    context: "activity",
                    field: "note text",
                },
                "Enter note text",
                Some("text"),
            ),
            (
                ValidationError::InFuture { field: "the date" },
                "The date must be today or in the past",
                Some("at"),
            ),
            (
                ValidationError::InvalidNhsNumber {
                    reason: "the check digit does not match",
                },
                "NHS number must be 10 digits and pass the check digit",
                Some("nhs_number"),
            ),
            (
                ValidationError::DatesOutOfOrder {
                    earlier: "the date the concern was raised",
                    earlier_value: "2026-03-02".into(),
                    later: "the response due date",
                    later_value: "2026-03-01".into(),
                },
                "The response due date must be the same as or after the date the concern was raised",
                Some("response_due"),
            ),
            (
                ValidationError::Required {
                    context: "rights information",
                    field: "at least one topic covered",
                },
                "Select at least one topic covered",
                Some("topics"),
            ),
            (
                ValidationError::Invalid {
                    field: "duration",
                    reason: "must be at least one minute, or left out".into(),
                },
                "Duration must be at least one minute, or left out",
                Some("duration"),
            ),
        ];
        for (e, words, key) in cases {
            assert_eq!(e.for_person(), words);
            assert_eq!(e.field_key(), key, "{words}");
        }
    }
}
