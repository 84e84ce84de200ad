//! Where a store lives by default and which rules apply: shared by every shell, so the CLI and
//! the app find the same store and the same organisation rules file.

use crate::error::{Result, StoreError};
use std::path::{Path, PathBuf};
use wardside_domain::rules::Rules;

fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("uk", "Wardside", "Wardside")
}

/// The default store for this user (`~/.local/share/wardside/wardside.db` on Linux).
pub fn default_db_path() -> Option<PathBuf> {
    project_dirs().map(|d| d.data_dir().join("wardside.db"))
}

/// The organisation's rules file when none is named: `rules.toml` in the configuration
/// directory, if there is one.
pub fn default_rules_path() -> Option<PathBuf> {
    project_dirs()
        .map(|d| d.config_dir().join("rules.toml"))
        .filter(|p| p.exists())
}

/// The shipped rules plus the organisation's commencement file, if one is given or found.
pub fn load_rules(path: Option<&Path>) -> Result<Rules> {
    let rules = Rules::shipped()?;
    let path = path.map(Path::to_path_buf).or_else(default_rules_path);
    match path {
        Some(p) => {
            let text = std::fs::read_to_string(&p).map_err(|source| StoreError::RulesFile {
                path: p.clone(),
                source,
            })?;
            Ok(rules.with_organisation_file(&text)?)
        }
        None => Ok(rules),
    }
}

/// Where the app keeps its (non-sensitive) preferences.
pub fn config_dir() -> Option<PathBuf> {
    project_dirs().map(|d| d.config_dir().to_path_buf())
}

/// The demo store, kept apart from any real one.
pub fn demo_db_path() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|d| d.data_dir().join("wardside-demo").join("wardside.db"))
}
