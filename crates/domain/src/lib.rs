//! What IMHA casework is: clients (patients), referrals, cases, issues and outcomes, typed
//! activities, legal-status history, consents, safeguarding and confidentiality-breach events,
//! nearest relative / nominated person, equality monitoring, advocates and teams.
//!
//! This crate owns the types and the validation rules, and nothing else: it does no I/O, reads
//! no clock (callers pass dates in) and logs nothing. Every message in [`ValidationError`] says
//! what is wrong and what to do, and never repeats a record's content back.

pub mod activity;
pub mod amendment;
pub mod case;
pub mod client;
pub mod demo;
pub mod error;
pub mod ids;
pub mod legal;
pub mod nhs;
pub mod people;
pub mod report;
pub mod rules;
pub mod safeguarding;
pub mod tasks;
pub mod vocabulary;

pub use activity::{
    Activity, ActivityKind, ContactMethod, RecordsBasis, RightsTopic, WithholdReason,
};
pub use amendment::{ActivityDetails, Amended, Amendment};
pub use case::{
    Case, CaseClosure, ClosureReason, Instruction, Issue, IssueCategory, IssueOutcome, OutcomeKind,
    Referral, ReferralSource,
};
pub use client::{Client, EqualityMonitoring, EthnicCategory, Relative, RelativeRole};
pub use error::ValidationError;
pub use ids::*;
pub use legal::{Consent, ConsentScope, ConsentState, LegalEvent, LegalEventKind, StatusCode};
pub use nhs::NhsNumber;
pub use people::{Advocate, Team};
pub use safeguarding::{SafeguardingEvent, SafeguardingKind};

/// Every record that can be stored checks itself before it is written.
pub trait Validate {
    fn validate(&self) -> Result<(), ValidationError>;

    /// Dates of things that have already happened (an interview, a closure, a consent given)
    /// cannot be after `today`; dates of things planned (a hearing, a response due) can. Checked
    /// when this device writes the record, never when a record arrives from another device
    /// (whose clock is its own): a sync never refuses a note.
    fn check_dates(&self, _today: chrono::NaiveDate) -> Result<(), ValidationError> {
        Ok(())
    }
}

/// A date of something that has happened: not after `today`.
pub(crate) fn happened(
    on: chrono::NaiveDate,
    today: chrono::NaiveDate,
    field: &'static str,
) -> Result<(), ValidationError> {
    if on > today {
        Err(ValidationError::InFuture { field })
    } else {
        Ok(())
    }
}

/// A required free-text field: present and not blank.
pub(crate) fn require_text(
    value: &str,
    field: &'static str,
    context: &'static str,
) -> Result<(), ValidationError> {
    if value.trim().is_empty() {
        Err(ValidationError::Required { context, field })
    } else {
        Ok(())
    }
}

/// An optional free-text field: absent, or not blank.
pub(crate) fn optional_text(
    value: &Option<String>,
    field: &'static str,
    context: &'static str,
) -> Result<(), ValidationError> {
    match value {
        Some(v) => require_text(v, field, context),
        None => Ok(()),
    }
}

/// `earlier` must not be after `later`.
pub(crate) fn in_order<T: PartialOrd + std::fmt::Display>(
    earlier: &T,
    earlier_name: &'static str,
    later: &T,
    later_name: &'static str,
) -> Result<(), ValidationError> {
    if later < earlier {
        Err(ValidationError::DatesOutOfOrder {
            earlier: earlier_name,
            earlier_value: earlier.to_string(),
            later: later_name,
            later_value: later.to_string(),
        })
    } else {
        Ok(())
    }
}
