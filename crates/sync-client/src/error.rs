use wardside_store::StoreError;

/// Why a sync step stopped. Every message says what happens next; none contains content, and
/// any text that came from the service has been made safe to show first.
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
        "an admin removed this device from the organisation; its copy of the organisation's records has been wiped. {kept} change(s) made here and never sent are kept, encrypted, until an admin enrols this laptop again"
    )]
    Revoked { kept: u64 },
    #[error(
        "the sync service refuses this device as revoked, but no admin's signed revocation says so; nothing was wiped. Ask an admin"
    )]
    RevokedClaim,
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
    #[error("{0}")]
    BadCode(&'static str),
    #[error(
        "the sync service could not prove that this invitation comes from the organisation whose admin made the code; nothing was kept. Check the address and the code with the admin"
    )]
    RootNotProved,
    #[error(
        "the organisation's trust log from the sync service does not check ({0}); nothing in it was used"
    )]
    Trust(String),
    #[error(
        "this device's copy of the organisation's trust log is missing or damaged; enrol it again"
    )]
    NoTrustRoot,
    #[error(
        "sync stopped because the app was locked; nothing is lost, and it goes on at the next sync"
    )]
    Cancelled,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("a cryptographic operation failed: {0}")]
    Crypto(String),
}

impl SyncError {
    /// Worth trying again later with the same data.
    pub fn is_retryable(&self) -> bool {
        matches!(self, SyncError::Unreachable(_) | SyncError::Cancelled)
    }
}

pub type Result<T, E = SyncError> = std::result::Result<T, E>;
