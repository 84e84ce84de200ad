use wardside_store::StoreError;

/// Why a sync step stopped. Every message says what happens next; none contains content.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("this device is not enrolled; run `wardside sync enroll` with a code from an admin")]
    NotEnrolled,
    #[error(
        "the sync service could not be reached ({0}); nothing is lost: changes stay on this device and go at the next sync"
    )]
    Unreachable(String),
    #[error("this device is waiting for an admin to approve it; read them its fingerprint {0}")]
    Pending(String),
    #[error(
        "this device was removed from the organisation; its copy of the organisation's records has been wiped"
    )]
    Revoked,
    #[error(
        "another installation is using this device's identity (a copied disk?); enrol this device again with a new code: its unsynced changes are kept and will be sent"
    )]
    ReEnrol,
    #[error("the sync service refused: {0}")]
    Refused(String),
    #[error(
        "this device has no key for its team yet; an admin must approve it (or share keys) first. Changes are kept"
    )]
    NoTeamKey,
    #[error("the fingerprint {given} does not match the device's ({actual}); do not approve it")]
    FingerprintMismatch { given: String, actual: String },
    #[error("only an admin device can do this")]
    NotAdmin,
    #[error("the sync service sent something this device cannot read ({0})")]
    Protocol(String),
    #[error("the recovery words are not valid: {0}")]
    RecoveryWords(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("a cryptographic operation failed: {0}")]
    Crypto(String),
}

impl SyncError {
    /// Worth trying again later with the same data.
    pub fn is_retryable(&self) -> bool {
        matches!(self, SyncError::Unreachable(_))
    }
}

pub type Result<T, E = SyncError> = std::result::Result<T, E>;
