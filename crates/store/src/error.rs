use std::path::PathBuf;
use thiserror::Error;
use wardside_domain::ValidationError;

/// Everything that can go wrong in the store. Messages say what to do, and never contain a
/// note, a name or an NHS number (SQLite's own messages name tables and columns, not values).
#[derive(Debug, Error)]
pub enum StoreError {
    #[error(
        "no Wardside store at {0}; create one with `wardside init` or pass --db with the right path"
    )]
    NoStore(PathBuf),

    #[error(
        "a Wardside store already exists at {0}; Wardside never overwrites a store: choose another --db path"
    )]
    AlreadyExists(PathBuf),

    #[error(
        "the key file {0} is missing, so the store cannot be opened; restore it from the same backup as the database"
    )]
    KeyFileMissing(PathBuf),

    #[error(
        "the key file {path} is damaged ({reason}); restore it from the same backup as the database"
    )]
    CorruptKeyFile { path: PathBuf, reason: String },

    #[error(
        "the key file {path} has format version {version}, which this Wardside does not know; update Wardside"
    )]
    UnsupportedKeyFile { path: PathBuf, version: u32 },

    #[error(
        "wrong passphrase; nothing was changed. Check caps lock and the keyboard layout, then try again"
    )]
    WrongPassphrase,

    #[error(
        "the database does not match its key file, or it is damaged; restore both files from the same backup"
    )]
    KeyMismatch,

    #[error(
        "the last re-key did not finish, so this passphrase is not in use yet; unlock with the previous passphrase (nothing was lost), then re-key again"
    )]
    RekeyInterrupted,

    #[error("passphrase too weak: {0}")]
    WeakPassphrase(&'static str),

    #[error("this store was written by a newer version of Wardside; update Wardside to open it")]
    NewerSchema,

    #[error("{0}")]
    Invalid(#[from] ValidationError),

    #[error("{0}")]
    Rules(#[from] wardside_domain::rules::RulesError),

    #[error("could not read the rules file {path}: {source}")]
    RulesFile {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("no {what} with id {id}")]
    NotFound { what: &'static str, id: String },

    #[error("{0}")]
    Refused(String),

    #[error("the disk is full; nothing was saved. Free some space and try again")]
    DiskFull,

    #[error("could not use {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("database error: {0}")]
    Database(rusqlite::Error),

    #[error("could not update the store's schema: {0}")]
    Migration(rusqlite_migration::Error),

    #[error("a stored record could not be read ({0}); the store may be damaged")]
    Corrupt(String),

    #[error("the system's random number generator failed")]
    Random,
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DiskFull) => StoreError::DiskFull,
            Some(rusqlite::ErrorCode::NotADatabase) => StoreError::KeyMismatch,
            _ => StoreError::Database(e),
        }
    }
}

impl From<rusqlite_migration::Error> for StoreError {
    fn from(e: rusqlite_migration::Error) -> Self {
        use rusqlite_migration::{Error as E, MigrationDefinitionError as D};
        match e {
            E::MigrationDefinition(D::DatabaseTooFarAhead) => StoreError::NewerSchema,
            E::RusqliteError { err, .. } => err.into(),
            other => StoreError::Migration(other),
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        // serde_json's messages name the field and position, not the value.
        StoreError::Corrupt(e.to_string())
    }
}

impl StoreError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        if source.raw_os_error() == Some(28) {
            // ENOSPC
            return StoreError::DiskFull;
        }
        StoreError::Io {
            path: path.into(),
            source,
        }
    }
}
