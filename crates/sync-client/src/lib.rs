//! Wardside's sync on the device. The store knows nothing of the network and the service knows
//! nothing of the content: this crate is where they meet. It enrols the device, keeps its keys
//! inside the encrypted store, seals this device's ops for its team and opens everyone else's,
//! and runs the loop of sync.md §8.6 over signed HTTP with retries.
//!
//! What it must never do: send or log plaintext, seal under a key the team cannot fetch, drop a
//! received op it cannot read yet (it is held), or mark an op sent before the service said so.

mod admin;
mod engine;
mod error;
mod identity;
mod recover;
mod transport;
mod trust;

pub use admin::{
    Revoked, approve, create_team, devices, invite, make_statement, revoke, rotate_team_keys,
    set_device_teams, set_team_admins, share_keys_with,
};
pub use engine::{Phase, Progress, SyncReport, fetch_only, sync_now, sync_with_progress};
pub use error::{Result, SyncError, rejection_words};
pub use identity::{Enrolled, RecoveryKey, enroll, org_fingerprint_of};
pub use recover::{Recovered, enable_recovery, recover};
pub use transport::{Cancel, Options, Retry, check_address, remote_text};
