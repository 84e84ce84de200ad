//! The one place where errors become what the screen shows: a stable `code` the UI can act on
//! and a `message` a person can act on. Internals never reach the screen.

use serde::Serialize;
use wardside_store::StoreError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppError {
    pub code: &'static str,
    pub message: String,
    /// The form field a validation error is about (the record's own field name, e.g. `at`,
    /// `nhs_number`): the app puts the message beside it and links to it from the summary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
}

pub type Result<T, E = AppError> = std::result::Result<T, E>;

impl AppError {
    pub fn locked() -> Self {
        AppError {
            field: None,
            code: "locked",
            message: "Wardside is locked. Enter your passphrase to continue.".into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        AppError {
            field: None,
            code: "invalid",
            message: message.into(),
        }
    }
}

/// Fixed text for failures whose own message would mean nothing to an advocate (or could carry
/// internals). The detail stays out of the UI; nothing was saved by a failed write.
const SOMETHING_WENT_WRONG: &str = "Something went wrong and nothing was saved. Try again; if it keeps happening, restart Wardside.";

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        let (code, message) = match &e {
            StoreError::WrongPassphrase => ("wrong-passphrase", e.to_string()),
            StoreError::RekeyInterrupted => ("rekey-interrupted", e.to_string()),
            StoreError::WeakPassphrase(_) => ("weak-passphrase", e.to_string()),
            StoreError::Invalid(v) => return AppError::from(v.clone()),
            StoreError::Rules(_) => ("invalid", e.to_string()),
            StoreError::RulesFile { .. } => ("rules-file", e.to_string()),
            StoreError::NotFound { .. } => ("not-found", e.to_string()),
            StoreError::Refused(_) => ("refused", e.to_string()),
            StoreError::DiskFull => ("disk-full", e.to_string()),
            StoreError::NoStore(_) => ("no-store", e.to_string()),
            StoreError::AlreadyExists(_) => ("already-exists", e.to_string()),
            StoreError::KeyFileMissing(_)
            | StoreError::CorruptKeyFile { .. }
            | StoreError::UnsupportedKeyFile { .. }
            | StoreError::KeyMismatch
            | StoreError::NewerSchema => ("store-unusable", e.to_string()),
            StoreError::Database(_)
            | StoreError::Migration(_)
            | StoreError::Corrupt(_)
            | StoreError::Io { .. }
            | StoreError::Random => ("internal", SOMETHING_WENT_WRONG.to_owned()),
        };
        AppError {
            code,
            message,
            field: None,
        }
    }
}

impl From<wardside_sync_client::SyncError> for AppError {
    fn from(e: wardside_sync_client::SyncError) -> Self {
        use wardside_sync_client::SyncError as S;
        let e = match e {
            S::Store(inner) => return AppError::from(inner),
            other => other,
        };
        let code = match &e {
            S::Store(_) => "internal",
            S::Unreachable(_) => "offline",
            S::Pending(_) => "sync-pending",
            S::Revoked { .. } => "sync-revoked",
            S::RevokedClaim => "sync-revoked-claim",
            S::ReEnrol => "sync-re-enrol",
            S::NotEnrolled => "sync-not-enrolled",
            S::NoTeamKey => "sync-no-key",
            S::FingerprintMismatch { .. } => "fingerprint-mismatch",
            S::NotAdmin => "not-admin",
            S::RecoveryWords(_) | S::RecoveryWordsUnknown | S::BadCode(_) => "invalid",
            S::RecoveryNotEnabled => "recovery-not-enabled",
            S::Cancelled => "sync-cancelled",
            S::RootNotProved | S::Trust(_) | S::NoTrustRoot => "sync-untrusted",
            S::Refused(_) | S::Protocol(_) | S::Crypto(_) => "sync-refused",
        };
        AppError {
            field: None,
            code,
            message: e.to_string(),
        }
    }
}

impl From<wardside_export::ExportError> for AppError {
    fn from(e: wardside_export::ExportError) -> Self {
        use wardside_export::ExportError as X;
        match e {
            X::Store(inner) => AppError::from(inner),
            X::Rules(inner) => AppError::invalid(inner.to_string()),
            // The folder and the system's reason are the user's own; no record content.
            X::Write { ref source, .. } if source.raw_os_error() == Some(28) => AppError {
                field: None,
                code: "disk-full",
                message: format!("{e}. Free some space or choose another place; nothing else was written."),
            },
            X::Write { .. } => AppError {
                field: None,
                code: "write-failed",
                message: format!("{e}. Nothing else was written."),
            },
            // Only a subject access response gets here: the save dialog asks before replacing
            // a file, the folder picker does not.
            X::Exists { .. } => AppError {
                field: None,
                code: "exists",
                message: format!(
                    "{e}. Choose another folder, or move the earlier files out of this one first."
                ),
            },
            X::Symlink { .. } | X::NotAFile { .. } => AppError {
                field: None,
                code: "write-failed",
                message: e.to_string(),
            },
            X::Typeset(_) | X::Data(_) => AppError {
                field: None,
                code: "internal",
                message: "The document could not be made, and nothing was written. Try again; if it keeps happening, restart Wardside.".into(),
            },
        }
    }
}

/// A record refused by the domain's checks: the words a person sees beside the field (never
/// the CLI's "context: field is required" form), and which field.
impl From<wardside_domain::ValidationError> for AppError {
    fn from(e: wardside_domain::ValidationError) -> Self {
        AppError {
            code: "invalid",
            message: e.for_person(),
            field: e.field_key(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wardside_domain::ValidationError;

    #[test]
    fn a_validation_error_shows_its_message() {
        let e: AppError = StoreError::Invalid(ValidationError::Required {
            context: "client",
            field: "name",
        })
        .into();
        assert_eq!(e.code, "invalid");
        assert!(e.message.contains("name"), "{}", e.message);
    }

    /// Every check the domain makes reaches the screen as an instruction beside its field,
    /// never as the generic message (issue 13: "no action a person can take ever ends in the
    /// generic message").
    #[test]
    fn every_validation_error_reaches_its_field_in_plain_words() {
        for (phrase, key) in wardside_domain::error::FIELD_KEYS {
            for e in [
                ValidationError::Required {
                    context: "form",
                    field: phrase,
                },
                ValidationError::InFuture { field: phrase },
            ] {
                let shown: AppError = StoreError::Invalid(e.clone()).into();
                assert_eq!(shown.code, "invalid");
                assert_eq!(shown.field, Some(*key), "{phrase}");
                assert_ne!(shown.message, SOMETHING_WENT_WRONG);
                assert!(
                    shown.message.starts_with(char::is_uppercase),
                    "{}",
                    shown.message
                );
                assert!(!shown.message.contains("is required"), "{}", shown.message);
                assert!(!shown.message.contains("form:"), "{}", shown.message);
            }
        }
        let nhs: AppError = ValidationError::InvalidNhsNumber {
            reason: "it must be exactly 10 digits",
        }
        .into();
        assert_eq!(
            (nhs.field, nhs.message.as_str()),
            (
                Some("nhs_number"),
                "NHS number must be 10 digits and pass the check digit"
            )
        );
    }

    #[test]
    fn internals_never_reach_the_screen() {
        let e: AppError = StoreError::Corrupt("column data at line 1 column 7".into()).into();
        assert_eq!(e.code, "internal");
        assert_eq!(e.message, SOMETHING_WENT_WRONG);
        let e: AppError = StoreError::Io {
            path: "/home/a/.local/share/wardside/wardside.db-wal".into(),
            source: std::io::Error::other("permission denied"),
        }
        .into();
        assert_eq!(e.message, SOMETHING_WENT_WRONG);
    }

    #[test]
    fn an_export_that_would_replace_a_file_says_where_and_what_to_do() {
        let e: AppError = wardside_export::ExportError::Exists {
            path: "/home/a/Documents/subject-access-2026-11-25.pdf".into(),
        }
        .into();
        assert_eq!(e.code, "exists");
        assert!(e.message.contains("subject-access-2026-11-25.pdf"));
        assert!(e.message.contains("Choose another folder"), "{}", e.message);
    }

    /// Every way a sync can end badly reaches the screen with a stable code and the sync's own
    /// plain words: never program text, never the service's text unchecked.
    #[test]
    fn every_sync_error_has_its_code_and_plain_words() {
        use wardside_sync_client::SyncError as S;
        let cases = [
            (S::NotEnrolled, "sync-not-enrolled"),
            (
                S::Unreachable("it did not answer in time".into()),
                "offline",
            ),
            (S::Pending("3F9A-21CX".into()), "sync-pending"),
            (S::Revoked { kept: 2 }, "sync-revoked"),
            (S::RevokedClaim, "sync-revoked-claim"),
            (S::ReEnrol, "sync-re-enrol"),
            (
                S::Refused("this laptop is not allowed to do that (HTTP 403). Ask an admin".into()),
                "sync-refused",
            ),
            (S::NoTeamKey, "sync-no-key"),
            (
                S::FingerprintMismatch {
                    given: "AAAA".into(),
                    actual: "BBBB".into(),
                },
                "fingerprint-mismatch",
            ),
            (S::NotAdmin, "not-admin"),
            (
                S::Protocol("invalid type: map, expected a string at line 1 column 9".into()),
                "sync-refused",
            ),
            (
                S::RecoveryWords("mnemonic has an invalid checksum".into()),
                "invalid",
            ),
            (S::RecoveryWordsUnknown, "invalid"),
            (S::RecoveryNotEnabled, "recovery-not-enabled"),
            (S::BadCode("that code is mistyped; check it"), "invalid"),
            (S::RootNotProved, "sync-untrusted"),
            (
                S::Trust("trust statement 4 is refused".into()),
                "sync-untrusted",
            ),
            (S::NoTrustRoot, "sync-untrusted"),
            (S::Cancelled, "sync-cancelled"),
            (S::Crypto("Unspecified".into()), "sync-refused"),
        ];
        for (e, code) in cases {
            let shown: AppError = e.into();
            assert_eq!(shown.code, code, "{}", shown.message);
            for bad in ["{", "Some(", "::", "line 1 column", "Unspecified"] {
                assert!(!shown.message.contains(bad), "{bad:?} in {}", shown.message);
            }
            assert_ne!(shown.message, SOMETHING_WENT_WRONG);
        }
        // The store's own failures during a sync are the store's codes.
        let e: AppError =
            wardside_sync_client::SyncError::Store(StoreError::Corrupt("x".into())).into();
        assert_eq!(
            (e.code, e.message.as_str()),
            ("internal", SOMETHING_WENT_WRONG)
        );
    }

    #[test]
    fn a_wrong_passphrase_says_what_to_check() {
        let e: AppError = StoreError::WrongPassphrase.into();
        assert_eq!(e.code, "wrong-passphrase");
        assert!(e.message.contains("caps lock"));
    }
}
