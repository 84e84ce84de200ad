//! Safeguarding concerns and breaches of confidentiality: rare, reasoned, manager-visible.

use crate::legal::coded_enum;
use crate::{CaseId, Validate, ValidationError, optional_text, require_text};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

coded_enum! {
    SafeguardingKind, "safeguarding event kind" {
        SafeguardingConcern => "safeguarding-concern", "Safeguarding concern raised";
        ConfidentialityBreach => "confidentiality-breach", "Confidentiality broken because of risk of harm";
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SafeguardingEvent {
    pub case_id: CaseId,
    pub kind: SafeguardingKind,
    pub at: NaiveDateTime,
    /// The risk of harm that justified it.
    pub reason: String,
    /// Who was told (agency, role, name).
    pub who_was_told: String,
    /// Confidentiality is normally discussed with the person first.
    pub discussed_with_person_first: bool,
    /// Required when it was not discussed first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why_not_discussed: Option<String>,
    /// The manager who was consulted or informed.
    pub manager: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Left out of what the person is given, like a timeline entry (the reason or who was told
    /// may be about someone else, or harmful to share).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withheld: Option<crate::WithholdReason>,
}

impl Validate for SafeguardingEvent {
    fn check_dates(&self, today: chrono::NaiveDate) -> Result<(), ValidationError> {
        crate::happened(self.at.date(), today, "the date")
    }

    fn validate(&self) -> Result<(), ValidationError> {
        let ctx = "safeguarding event";
        require_text(&self.reason, "the reason (the risk of harm)", ctx)?;
        require_text(&self.who_was_told, "who was told", ctx)?;
        require_text(&self.manager, "the manager informed", ctx)?;
        optional_text(&self.reference, "reference", ctx)?;
        if !self.discussed_with_person_first {
            match &self.why_not_discussed {
                Some(why) => {
                    require_text(why, "why it was not discussed with the person first", ctx)?
                }
                None => {
                    return Err(ValidationError::Required {
                        context: "safeguarding event not discussed with the person first",
                        field: "why it was not discussed first",
                    });
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_discussing_first_needs_a_reason() {
        let mut e = SafeguardingEvent {
            case_id: CaseId::new_random(),
            kind: SafeguardingKind::ConfidentialityBreach,
            at: NaiveDateTime::parse_from_str("2026-11-02T10:30", "%Y-%m-%dT%H:%M").unwrap(),
            reason: "Disclosed a plan to harm a named person".into(),
            who_was_told: "Nurse in charge".into(),
            discussed_with_person_first: false,
            why_not_discussed: None,
            manager: "Service manager".into(),
            reference: None,
            withheld: None,
        };
        assert!(
            e.validate()
                .unwrap_err()
                .to_string()
                .contains("why it was not discussed first")
        );
        e.why_not_discussed = Some("Immediate risk; the person had left the room".into());
        assert!(e.validate().is_ok());
    }
}
