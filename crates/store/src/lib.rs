//! Wardside's local store: one SQLCipher file per advocate's device, opened with a random key
//! that a passphrase unwraps (see [`keys`]).
//!
//! What it owns: the schema and its migrations, the one write path (every change is an op in a
//! per-device log plus an audit entry, in the same transaction as the change), versioned notes,
//! full-text search, and the reads the shells need.
//!
//! What it must never do: write plaintext anywhere but the encrypted file (no temp files; temp
//! storage is in memory), log or put into an error message any note, name or NHS number, or
//! overwrite a note version.

pub mod amend;
pub mod clock;
pub mod config;
pub mod dashboard;
pub mod demo;
mod drafts;
mod error;
pub mod export;
pub mod intake;
pub mod keys;
mod merge;
mod open;
pub mod read;
mod referral;
mod rekey;
pub mod report;
pub mod search;
pub mod sync;
pub mod tasks;
pub mod write;

pub use drafts::{Draft, FormDraft, WaitingDraft};
pub use error::{Result, StoreError};
pub use keys::{KdfParams, Passphrase, key_path};
pub use merge::Effects;
pub use open::{Store, StoreInfo, Tuning};
pub use read::*;
pub use search::{PersonHit, SearchHit, fts_query};
pub use tasks::{Diary, DueTask, DueTasks};
pub use write::{Entity, Writer};
