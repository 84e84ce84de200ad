//! The service's settings: a TOML file (`--config FILE` or `WARDSIDE_CONFIG`), then flags and
//! environment variables over it. The database URL may hold a password: never printed.

use serde::Deserialize;
use std::fmt;
use std::path::Path;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8740";

/// `wardside-server.toml`:
///
/// ```toml
/// database = "postgres://wardside:secret@db.internal/wardside"
/// listen = "127.0.0.1:8740"
/// metrics_listen = "127.0.0.1:9740"   # optional: Prometheus /metrics, on its own address
/// ```
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub database: Option<String>,
    pub listen: Option<String>,
    pub metrics_listen: Option<String>,
}

impl fmt::Debug for ConfigFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigFile")
            .field("database", &self.database.as_ref().map(|_| "<set>"))
            .field("listen", &self.listen)
            .field("metrics_listen", &self.metrics_listen)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("could not read the configuration file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the configuration file {path} is not valid: {message}")]
    Invalid { path: String, message: String },
    #[error(
        "no database given: pass --database, set WARDSIDE_DATABASE, or put database = \"...\" in the configuration file"
    )]
    NoDatabase,
}

impl ConfigFile {
    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Invalid {
            path: path.display().to_string(),
            // toml's message names the key and line; values are not repeated.
            message: e.message().to_owned(),
        })
    }
}

/// What the service runs with, after flags and environment over the file.
#[derive(Clone, PartialEq, Eq)]
pub struct Settings {
    pub database: String,
    pub listen: String,
    /// Where `/metrics` is served, if anywhere.
    pub metrics_listen: Option<String>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("database", &"<set>")
            .field("listen", &self.listen)
            .field("metrics_listen", &self.metrics_listen)
            .finish()
    }
}

impl Settings {
    /// `given_*` are the flag-or-environment values (clap resolves those two).
    pub fn resolve(
        file: ConfigFile,
        given_database: Option<String>,
        given_listen: Option<String>,
        given_metrics_listen: Option<String>,
    ) -> Result<Self, ConfigError> {
        Ok(Settings {
            database: given_database
                .or(file.database)
                .ok_or(ConfigError::NoDatabase)?,
            listen: given_listen
                .or(file.listen)
                .unwrap_or_else(|| DEFAULT_LISTEN.to_owned()),
            metrics_listen: given_metrics_listen.or(file.metrics_listen),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn flags_override_the_file_and_secrets_are_never_printed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.toml");
        std::fs::write(
            &path,
            "database = \"postgres://w:hunter2@db/w\"\nlisten = \"0.0.0.0:9000\"\n",
        )
        .unwrap();
        let file = ConfigFile::read(&path).unwrap();
        assert!(!format!("{file:?}").contains("hunter2"));
        let s = Settings::resolve(file.clone(), None, None, None).unwrap();
        assert_eq!(s.listen, "0.0.0.0:9000");
        assert!(!format!("{s:?}").contains("hunter2"));
        let s = Settings::resolve(
            file,
            Some("sqlite:///x.db".into()),
            Some("127.0.0.1:1".into()),
            None,
        )
        .unwrap();
        assert_eq!(s.database, "sqlite:///x.db");
        assert_eq!(s.listen, "127.0.0.1:1");
        assert!(matches!(
            Settings::resolve(ConfigFile::default(), None, None, None),
            Err(ConfigError::NoDatabase)
        ));
    }

    #[test]
    fn a_typo_or_a_missing_file_says_which() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.toml");
        std::fs::write(&path, "databse = \"sqlite:///x.db\"\n").unwrap();
        let e = ConfigFile::read(&path).unwrap_err().to_string();
        assert!(e.contains("databse"), "{e}");
        let e = ConfigFile::read(&dir.path().join("nope.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("nope.toml"), "{e}");
    }
}
