use wardside_store::StoreError;
use wardside_sync::protocol::Rejection;

/// Why a sync step stopped. Every message says what happened and what to do next, in plain
/// words; none contains content, and any text that came from the service has been made safe to
/// show first (see `transport::service_said`).
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("this device is not enrolled; run `wardside sync enroll` with a code from an admin")]
    NotEnrolled,
    /// Why, in a few plain words ("timed out", "it is unavailable for now").
    #[error(
        "the sync service could not be reached ({0}); nothing is lost: changes stay on this device and go at the next sync. Check the network and sync again later; if it keeps happening, tell your organisation's admin"
    )]
    Unreachable(String),
    #[error("this device is waiting for an admin to approve it; read them its fingerprint {0}")]
    Pending(String),
    #[error(
        "an admin removed this device from the organisation; its copy of the organisation's records has been wiped. {kept} change(s) made here and never sent are kept, encrypted: ask an admin to enrol this laptop again, and they will be sent"
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
    /// What was refused and what to do, in plain words (the service's own text only after it
    /// was made safe).
    #[error("the sync service refused: {0}")]
    Refused(String),
    #[error(
        "this device has no key for its team yet; an admin must approve it (or share keys) first. Changes are kept"
    )]
    NoTeamKey,
    #[error("the fingerprint {given} does not match the device's ({actual}); do not approve it")]
    FingerprintMismatch { given: String, actual: String },
    #[error("only an admin device can do this; ask an admin of your organisation")]
    NotAdmin,
    /// The detail is for the log, never the screen: it may name what the service sent.
    #[error(
        "the sync service sent something this device cannot read, so nothing from that reply was used. Check the service address, and that the service runs a Wardside version this laptop supports; then sync again"
    )]
    Protocol(String),
    #[error(
        "the recovery words are not valid ({0}); check each word against the sheet they were written on, and type all 24 in order"
    )]
    RecoveryWords(String),
    #[error(
        "no organisation on this sync service was set up with these recovery words; nothing was changed. Check each word against the sheet they were written on, and the service's address"
    )]
    RecoveryWordsUnknown,
    #[error(
        "this organisation was set up before its recovery words could make a new admin laptop, and no admin has turned that on yet; nothing was changed. Ask an admin to run `wardside sync enable-recovery` once with the words on their laptop, then try again"
    )]
    RecoveryNotEnabled,
    #[error("{0}")]
    BadCode(&'static str),
    #[error(
        "the sync service could not prove that this invitation comes from the organisation whose admin made the code; nothing was kept. Check the address and the code with the admin"
    )]
    RootNotProved,
    #[error(
        "the organisation's trust log from the sync service does not check ({0}); nothing in it was used. Tell your organisation's admin"
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
    /// The detail is for the log, never the screen.
    #[error(
        "a cryptographic step on this laptop failed, so nothing was sent or used. Sync again; if it keeps happening, restart Wardside and tell your organisation's admin"
    )]
    Crypto(String),
}

impl SyncError {
    /// Worth trying again later with the same data.
    pub fn is_retryable(&self) -> bool {
        matches!(self, SyncError::Unreachable(_) | SyncError::Cancelled)
    }
}

/// Why the service would not take this laptop's changes, in plain words: what happened, then
/// what to do, one sentence each. Never the protocol's own names or numbers in braces.
pub fn rejection_words(r: Option<&Rejection>) -> String {
    match r {
        Some(Rejection::SeqConflict) => "The sync service already holds other changes under this laptop's numbers, as happens when a laptop is restored from an old copy or its disk is copied. Enrol this laptop again with a new code from an admin; its unsent changes are kept and will be sent.".into(),
        Some(Rejection::Gap { expected }) => format!("The sync service is missing this laptop's change number {expected}, which must arrive before the later ones. Sync again; if this keeps happening, tell your organisation's admin so they can check the service.") ,
        Some(Rejection::ClockAhead { .. }) => "This laptop's clock is more than a day ahead of the sync service's. Set this laptop's date and time correctly, then sync again.".into(),
        Some(Rejection::BadEnvelope) => "The sync service could not check the seal or signature on this laptop's changes. Sync again; if it keeps happening, update Wardside and tell your organisation's admin.".into(),
        Some(Rejection::Forbidden) => "The sync service will not take these changes for this laptop's team. Ask an admin to check which team this laptop belongs to, then sync again.".into(),
        Some(Rejection::BadChain { expected }) => format!("The sync service expected this laptop's changes to carry on from its change {expected} in the team's history, and they did not. Sync again; if it keeps happening, tell your organisation's admin.") ,
        None => "The sync service refused this laptop's changes without saying why. Sync again later; if it keeps happening, tell your organisation's admin.".into(),
    }
}

pub type Result<T, E = SyncError> = std::result::Result<T, E>;
