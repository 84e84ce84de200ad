//! The timeline: typed activities. Each carries the fields its kind needs; the long text (the
//! note) is kept beside it in versions by the store, so an amendment never overwrites.

use crate::legal::coded_enum;
use crate::{CaseId, Validate, ValidationError, in_order, optional_text, require_text};
use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Longest note text accepted in one save (a long tribunal note is ~30 KB).
pub const MAX_NOTE_BYTES: usize = 256 * 1024;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Activity {
    pub case_id: CaseId,
    /// Local (UK) date and time it happened.
    pub at: NaiveDateTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_minutes: Option<u32>,
    pub kind: ActivityKind,
    /// Left out of everything the person is given (their copy, a subject access response):
    /// the note holds information about someone else, or could cause serious harm if shared
    /// (DPA 2018 Sch 2 para 16; Sch 3 Part 2; DH guidance for IMHAs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withheld: Option<WithholdReason>,
}

coded_enum! {
    /// Why an entry is kept from the person (research/domain.md §4.2).
    WithholdReason, "reason for withholding" {
        ThirdParty => "third-party", "Third-party information";
        SeriousHarm => "serious-harm", "Serious-harm material";
        RecordsMaterial => "records-material", "Third-party or serious-harm material from records";
    }
}

impl WithholdReason {
    /// The reason in plain words, for the person's own copy.
    pub fn plain(self) -> &'static str {
        match self {
            WithholdReason::ThirdParty => "It contains information about another person.",
            WithholdReason::SeriousHarm => {
                "Sharing it could cause serious harm to someone's physical or mental health."
            }
            WithholdReason::RecordsMaterial => {
                "It contains information from records that we are not allowed to pass on."
            }
        }
    }
}

impl Activity {
    /// Whether this entry is kept from the person, and why: marked so, or a records request
    /// whose notes hold third-party or serious-harm material.
    pub fn withheld_reason(&self) -> Option<WithholdReason> {
        match (&self.withheld, &self.kind) {
            (Some(reason), _) => Some(*reason),
            (
                None,
                ActivityKind::RecordsRequest {
                    withhold_from_patient: true,
                    ..
                },
            ) => Some(WithholdReason::RecordsMaterial),
            _ => None,
        }
    }
}

coded_enum! {
    /// The kinds of activity, as typed on the command line.
    ActivityKindCode, "activity kind" {
        PrivateInterview => "private-interview", "Private interview with the patient";
        ProfessionalInterview => "professional-interview", "Interview with a professional";
        WardRound => "ward-round", "Ward round representation";
        CpaReview => "cpa-review", "CPA / care review representation";
        Tribunal => "tribunal", "Tribunal support";
        ManagersHearing => "managers-hearing", "Hospital managers' hearing support";
        Concern => "concern", "Concern raised";
        RecordsRequest => "records-request", "Records request / inspection";
        RightsInformation => "rights-information", "Rights information given";
        Contact => "contact", "Phone, email or letter";
        Other => "other", "Other";
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ActivityKind {
    /// s130B(3)(a): visit and interview the patient in private.
    PrivateInterview {
        /// The person's wishes in their own words, kept apart from what the advocate did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        wishes: Option<String>,
    },
    /// s130B(3)(b): anyone professionally concerned with the patient's treatment.
    ProfessionalInterview {
        professional: String,
    },
    WardRound {
        /// Points raised on the patient's behalf.
        #[serde(default)]
        points_raised: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        response: Option<String>,
    },
    CpaReview {
        #[serde(default)]
        points_raised: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        response: Option<String>,
    },
    Tribunal {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        hearing_on: Option<NaiveDate>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        outcome: Option<String>,
    },
    ManagersHearing {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        hearing_on: Option<NaiveDate>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        outcome: Option<String>,
    },
    Concern {
        raised_with: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        response_due: Option<NaiveDate>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        response: Option<String>,
    },
    /// s130B(3)(c) and (4): production and inspection of records.
    RecordsRequest {
        record_holder: String,
        basis: RecordsBasis,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        records_requested: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seen_on: Option<NaiveDate>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        what_was_seen: Option<String>,
        /// Notes from these records hold third-party or serious-harm material: never disclose
        /// them to the patient (DH supplementary guidance).
        #[serde(default)]
        withhold_from_patient: bool,
    },
    /// s130B(1)–(2): help to obtain information about and understand.
    RightsInformation {
        topics: BTreeSet<RightsTopic>,
    },
    Contact {
        method: ContactMethod,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        with_whom: Option<String>,
    },
    Other,
}

impl ActivityKind {
    pub fn code(&self) -> ActivityKindCode {
        match self {
            ActivityKind::PrivateInterview { .. } => ActivityKindCode::PrivateInterview,
            ActivityKind::ProfessionalInterview { .. } => ActivityKindCode::ProfessionalInterview,
            ActivityKind::WardRound { .. } => ActivityKindCode::WardRound,
            ActivityKind::CpaReview { .. } => ActivityKindCode::CpaReview,
            ActivityKind::Tribunal { .. } => ActivityKindCode::Tribunal,
            ActivityKind::ManagersHearing { .. } => ActivityKindCode::ManagersHearing,
            ActivityKind::Concern { .. } => ActivityKindCode::Concern,
            ActivityKind::RecordsRequest { .. } => ActivityKindCode::RecordsRequest,
            ActivityKind::RightsInformation { .. } => ActivityKindCode::RightsInformation,
            ActivityKind::Contact { .. } => ActivityKindCode::Contact,
            ActivityKind::Other => ActivityKindCode::Other,
        }
    }
}

/// The legal basis for an IMHA to see records (s130B(4)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "basis", rename_all = "kebab-case", deny_unknown_fields)]
pub enum RecordsBasis {
    /// The patient has capacity (or competence) and consents.
    PatientConsent,
    /// The patient lacks capacity: the record holder decides that the records are relevant and
    /// access appropriate, and access must not conflict with an attorney, deputy or Court of
    /// Protection decision.
    LacksCapacityRecordHolderDecision {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        capacity_assessment: Option<String>,
        /// The advocate checked that no attorney, deputy or Court of Protection decision conflicts.
        no_conflicting_decision_checked: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        holder_decision: Option<String>,
    },
}

coded_enum! {
    /// The s130B topics an advocate helps the person obtain information about and understand.
    RightsTopic, "rights topic" {
        QualifyingProvisions => "qualifying-provisions", "The provisions that make them a qualifying patient (s130B(1)(a))";
        ConditionsRestrictions => "conditions-restrictions", "Conditions or restrictions they are subject to (s130B(1)(b))";
        Treatment => "treatment", "Medical treatment given, proposed or discussed (s130B(1)(c))";
        TreatmentReasons => "treatment-reasons", "The reasons for that treatment (s130B(1)(d))";
        TreatmentAuthority => "treatment-authority", "The legal authority for that treatment (s130B(1)(e))";
        TreatmentSafeguards => "treatment-safeguards", "The Act's requirements that apply to that treatment (s130B(1)(f))";
        Rights => "rights", "Rights they and others (e.g. the nearest relative) may exercise (s130B(2))";
    }
}

coded_enum! {
    ContactMethod, "contact method" {
        Phone => "phone", "Phone";
        Email => "email", "Email";
        Letter => "letter", "Letter";
        Video => "video", "Video call";
    }
}

fn check_points(points: &[String], context: &'static str) -> Result<(), ValidationError> {
    points
        .iter()
        .try_for_each(|p| require_text(p, "each point raised", context))
}

impl Validate for Activity {
    fn check_dates(&self, today: NaiveDate) -> Result<(), ValidationError> {
        crate::happened(self.at.date(), today, "the date")?;
        if let ActivityKind::RecordsRequest {
            seen_on: Some(seen),
            ..
        } = &self.kind
        {
            crate::happened(*seen, today, "the date records were seen")?;
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), ValidationError> {
        if self.duration_minutes == Some(0) {
            return Err(ValidationError::Invalid {
                field: "duration",
                reason: "must be at least one minute, or left out".into(),
            });
        }
        let on = self.at.date();
        match &self.kind {
            ActivityKind::PrivateInterview { wishes } => {
                optional_text(wishes, "the person's wishes", "private interview")
            }
            ActivityKind::ProfessionalInterview { professional } => require_text(
                professional,
                "who was interviewed (name or role)",
                "professional interview",
            ),
            ActivityKind::WardRound {
                points_raised,
                response,
            } => {
                check_points(points_raised, "ward round")?;
                optional_text(response, "response", "ward round")
            }
            ActivityKind::CpaReview {
                points_raised,
                response,
            } => {
                check_points(points_raised, "CPA review")?;
                optional_text(response, "response", "CPA review")
            }
            ActivityKind::Tribunal { outcome, .. } => {
                optional_text(outcome, "outcome", "tribunal support")
            }
            ActivityKind::ManagersHearing { outcome, .. } => {
                optional_text(outcome, "outcome", "managers' hearing support")
            }
            ActivityKind::Concern {
                raised_with,
                response_due,
                response,
            } => {
                require_text(raised_with, "who the concern was raised with", "concern")?;
                if let Some(due) = response_due {
                    in_order(
                        &on,
                        "the date the concern was raised",
                        due,
                        "the response due date",
                    )?;
                }
                optional_text(response, "response", "concern")
            }
            ActivityKind::RecordsRequest {
                record_holder,
                basis,
                seen_on,
                what_was_seen,
                records_requested,
                ..
            } => {
                require_text(record_holder, "the record holder", "records request")?;
                optional_text(records_requested, "records requested", "records request")?;
                optional_text(what_was_seen, "what was seen", "records request")?;
                if let Some(seen) = seen_on {
                    in_order(
                        &on,
                        "the date of the request",
                        seen,
                        "the date records were seen",
                    )?;
                }
                if let RecordsBasis::LacksCapacityRecordHolderDecision {
                    no_conflicting_decision_checked,
                    ..
                } = basis
                    && !no_conflicting_decision_checked
                {
                    return Err(ValidationError::Required {
                        context: "records request for a patient who lacks capacity",
                        field: "confirmation that no attorney, deputy or Court of Protection decision conflicts (s130B(4))",
                    });
                }
                Ok(())
            }
            ActivityKind::RightsInformation { topics } => {
                if topics.is_empty() {
                    Err(ValidationError::Required {
                        context: "rights information",
                        field: "at least one topic covered",
                    })
                } else {
                    Ok(())
                }
            }
            ActivityKind::Contact { with_whom, .. } => {
                optional_text(with_whom, "who the contact was with", "contact")
            }
            ActivityKind::Other => Ok(()),
        }
    }
}

/// A note must say something, and fit in one save.
pub fn check_note_text(text: &str) -> Result<(), ValidationError> {
    require_text(text, "note text", "activity")?;
    if text.len() > MAX_NOTE_BYTES {
        return Err(ValidationError::Invalid {
            field: "note text",
            reason: format!(
                "it is {} KB; the limit is {} KB: split it into two activities",
                text.len() / 1024,
                MAX_NOTE_BYTES / 1024
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").unwrap()
    }

    fn activity(kind: ActivityKind) -> Activity {
        Activity {
            case_id: CaseId::new_random(),
            at: at("2026-11-02T10:30"),
            duration_minutes: Some(45),
            kind,
            withheld: None,
        }
    }

    #[test]
    fn every_kind_code_is_accepted() {
        for code in "private-interview professional-interview ward-round cpa-review tribunal managers-hearing concern records-request rights-information contact other".split(' ') {
            assert_eq!(code.parse::<ActivityKindCode>().unwrap().code(), code);
        }
    }

    #[test]
    fn records_request_for_a_patient_lacking_capacity_needs_the_s130b4_check() {
        let mut a = activity(ActivityKind::RecordsRequest {
            record_holder: "Ward manager".into(),
            basis: RecordsBasis::LacksCapacityRecordHolderDecision {
                capacity_assessment: None,
                no_conflicting_decision_checked: false,
                holder_decision: None,
            },
            records_requested: None,
            seen_on: None,
            what_was_seen: None,
            withhold_from_patient: false,
        });
        assert!(a.validate().unwrap_err().to_string().contains("s130B(4)"));
        if let ActivityKind::RecordsRequest {
            basis:
                RecordsBasis::LacksCapacityRecordHolderDecision {
                    no_conflicting_decision_checked,
                    ..
                },
            ..
        } = &mut a.kind
        {
            *no_conflicting_decision_checked = true;
        }
        assert!(a.validate().is_ok());
    }

    #[test]
    fn rights_information_needs_a_topic_and_concern_needs_who() {
        assert!(
            activity(ActivityKind::RightsInformation {
                topics: BTreeSet::new()
            })
            .validate()
            .is_err()
        );
        let topics = [RightsTopic::Rights, RightsTopic::Treatment]
            .into_iter()
            .collect();
        assert!(
            activity(ActivityKind::RightsInformation { topics })
                .validate()
                .is_ok()
        );
        let concern = activity(ActivityKind::Concern {
            raised_with: "".into(),
            response_due: None,
            response: None,
        });
        assert_eq!(
            concern.validate().unwrap_err().to_string(),
            "concern: who the concern was raised with is required"
        );
    }

    #[test]
    fn response_due_before_the_concern_was_raised_is_refused() {
        let concern = activity(ActivityKind::Concern {
            raised_with: "Ward manager".into(),
            response_due: Some("2026-11-01".parse().unwrap()),
            response: None,
        });
        assert!(matches!(
            concern.validate(),
            Err(ValidationError::DatesOutOfOrder { .. })
        ));
    }

    #[test]
    fn ward_round_points_must_not_be_blank() {
        let wr = activity(ActivityKind::WardRound {
            points_raised: vec!["Wants leave to visit mother".into(), " ".into()],
            response: None,
        });
        assert!(wr.validate().is_err());
    }

    #[test]
    fn note_text_is_required_and_bounded() {
        assert!(check_note_text("  \n").is_err());
        assert!(
            check_note_text(&"x".repeat(MAX_NOTE_BYTES + 1))
                .unwrap_err()
                .to_string()
                .contains("split it")
        );
        assert!(check_note_text("Met on the ward.").is_ok());
    }

    #[test]
    fn kind_round_trips_through_json_with_its_fields() {
        let wr = activity(ActivityKind::WardRound {
            points_raised: vec!["Leave".into()],
            response: Some("Agreed".into()),
        });
        let json = serde_json::to_value(&wr).unwrap();
        assert_eq!(json["kind"]["type"], "ward-round");
        assert_eq!(serde_json::from_value::<Activity>(json).unwrap(), wr);
    }
}
