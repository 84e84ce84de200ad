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
