//! Corrections after the fact, each with its reason: an activity's date, kind or typed fields
//! changed after it was saved, or a closed case reopened. Like a note's amendments, nothing is
//! overwritten without trace: every amendment is its own append-only record holding what was
//! there before, so the history survives any merge.

use crate::{
    Activity, ActivityId, ActivityKind, CaseClosure, CaseId, Validate, ValidationError,
    WithholdReason, require_text,
};
use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

/// The parts of a timeline entry that can be corrected (its note has its own versions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivityDetails {
    pub at: NaiveDateTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_minutes: Option<u32>,
    pub kind: ActivityKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withheld: Option<WithholdReason>,
}

impl ActivityDetails {
    pub fn of(a: &Activity) -> Self {
        ActivityDetails {
            at: a.at,
            duration_minutes: a.duration_minutes,
            kind: a.kind.clone(),
            withheld: a.withheld,
        }
    }

    /// The names of what differs, in the words the history shows.
    pub fn changes(&self, after: &ActivityDetails) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.at.date() != after.at.date() {
            out.push("date");
        }
        if self.at.time() != after.at.time() {
            out.push("time");
        }
        if self.duration_minutes != after.duration_minutes {
            out.push("minutes");
        }
        if self.kind.code() != after.kind.code() {
            out.push("kind");
        } else if self.kind != after.kind {
            out.push("details");
        }
        if self.withheld != after.withheld {
            out.push("the person's copy");
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "what", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Amended {
    /// A timeline entry's details corrected.
    Activity {
        activity_id: ActivityId,
        before: Box<ActivityDetails>,
        after: Box<ActivityDetails>,
    },
    /// A closed case opened again; `closure` is how it had been closed.
    CaseReopened { closure: CaseClosure },
    /// The case's responsible authority (its commissioner) changed, from a day on: the work
    /// before that day stays in the earlier commissioner's returns.
    CaseCommissioner {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after: Option<String>,
        from: NaiveDate,
    },
}

/// One correction, with who made it, when, and why.
// No `deny_unknown_fields` here: serde does not support it together with `flatten`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Amendment {
    pub case_id: CaseId,
    #[serde(flatten)]
    pub amended: Amended,
    pub reason: String,
    /// The advocate who made it.
    pub by: String,
    /// Local (UK) time it was made.
    pub made_at: NaiveDateTime,
}

impl Validate for Amendment {
    fn validate(&self) -> Result<(), ValidationError> {
        require_text(&self.reason, "the reason for the change", "amendment")?;
        if let Amended::CaseCommissioner { before, after, .. } = &self.amended {
            crate::optional_text(after, "responsible authority", "case")?;
            let trimmed = |s: &Option<String>| {
                s.as_deref()
                    .map(|s| s.trim().to_lowercase())
                    .filter(|s| !s.is_empty())
            };
            if trimmed(before) == trimmed(after) {
                return Err(ValidationError::Invalid {
                    field: "responsible authority",
                    reason: "it is the same as before, so there is nothing to change".into(),
                });
            }
        }
        if let Amended::Activity { before, after, .. } = &self.amended
            && before.changes(after).is_empty()
        {
            return Err(ValidationError::Invalid {
                field: "the activity",
                reason: "nothing has changed, so there is nothing to amend".into(),
            });
        }
        Ok(())
    }

    fn check_dates(&self, today: NaiveDate) -> Result<(), ValidationError> {
        match &self.amended {
            Amended::Activity { after, .. } => crate::happened(after.at.date(), today, "the date"),
            Amended::CaseReopened { .. } => Ok(()),
            Amended::CaseCommissioner { from, .. } => {
                crate::happened(*from, today, "the day the new authority became responsible")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn details(day: u32, kind: ActivityKind) -> ActivityDetails {
        ActivityDetails {
            at: NaiveDate::from_ymd_opt(2026, 3, day)
                .and_then(|d| d.and_hms_opt(10, 0, 0))
                .expect("a real date"),
            duration_minutes: None,
            kind,
            withheld: None,
        }
    }

    #[test]
    fn an_amendment_names_what_changed_and_needs_a_reason() {
        let before = details(3, ActivityKind::PrivateInterview { wishes: None });
        let after = details(
            2,
            ActivityKind::WardRound {
                points_raised: vec!["Leave".into()],
                response: None,
            },
        );
        assert_eq!(before.changes(&after), vec!["date", "kind"]);
        let mut a = Amendment {
            case_id: CaseId(uuid::Uuid::nil()),
            amended: Amended::Activity {
                activity_id: ActivityId(uuid::Uuid::nil()),
                before: Box::new(before.clone()),
                after: Box::new(after),
            },
            reason: "  ".into(),
            by: "Ann".into(),
            made_at: before.at,
        };
        assert!(matches!(
            a.validate(),
            Err(ValidationError::Required { .. })
        ));
        a.reason = "Typed the wrong day".into();
        assert!(a.validate().is_ok());
        // Saying it moved to a day that has not come yet is refused.
        let new_day = NaiveDate::from_ymd_opt(2026, 3, 2).expect("a real date");
        assert!(a.check_dates(new_day - chrono::Days::new(1)).is_err());
        assert!(a.check_dates(new_day).is_ok());
    }

    #[test]
    fn an_amendment_that_changes_nothing_is_refused() {
        let d = details(3, ActivityKind::Other);
        let a = Amendment {
            case_id: CaseId(uuid::Uuid::nil()),
            amended: Amended::Activity {
                activity_id: ActivityId(uuid::Uuid::nil()),
                before: Box::new(d.clone()),
                after: Box::new(d.clone()),
            },
            reason: "no reason".into(),
            by: "Ann".into(),
            made_at: d.at,
        };
        assert!(a.validate().is_err());
    }
}
