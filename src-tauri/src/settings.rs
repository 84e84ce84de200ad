//! Preferences that are not case data (idle timeout, theme, how far ahead reminders look), in a
//! small JSON file in the user's configuration directory. Nothing in it is sensitive, so the
//! lock screen can use it; changing it needs an unlocked store.

use crate::error::{AppError, Result};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Theme {
    System,
    Light,
    Dark,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Lock after this many minutes without a key press or mouse movement.
    pub idle_lock_minutes: u32,
    pub theme: Theme,
    /// Reminders due within this many days go to the top of the caseload.
    pub reminder_days: i64,
    /// The size of all text, in percent of the normal size (WCAG 1.4.4: up to 200%). Ctrl+= and
    /// Ctrl+- change it in steps; Ctrl+0 goes back to 100.
    pub text_size: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            idle_lock_minutes: 5,
            theme: Theme::System,
            reminder_days: 14,
            text_size: 100,
        }
    }
}

impl Settings {
    pub const IDLE_MINUTES: std::ops::RangeInclusive<u32> = 1..=60;
    pub const REMINDER_DAYS: std::ops::RangeInclusive<i64> = 1..=90;
    pub const TEXT_SIZE: std::ops::RangeInclusive<u32> = 50..=300;

    pub fn validate(&self) -> Result<()> {
        if !Self::IDLE_MINUTES.contains(&self.idle_lock_minutes) {
            return Err(AppError::invalid(
                "The idle lock must be between 1 and 60 minutes.",
            ));
        }
        if !Self::REMINDER_DAYS.contains(&self.reminder_days) {
            return Err(AppError::invalid(
                "Reminders can look ahead between 1 and 90 days.",
            ));
        }
        if !Self::TEXT_SIZE.contains(&self.text_size) {
            return Err(AppError::invalid("Text size must be between 50% and 300%."));
        }
        Ok(())
    }

    pub fn idle_limit(&self) -> Duration {
        Duration::from_secs(u64::from(self.idle_lock_minutes) * 60)
    }
}

/// The settings in memory and where they are saved (nowhere in tests).
#[derive(Debug)]
pub struct SettingsFile {
    path: Option<PathBuf>,
    current: Mutex<Settings>,
}

impl SettingsFile {
    /// Read the file; a missing or unreadable one gives the defaults (settings are never worth
    /// refusing to start over).
    pub fn load(path: Option<PathBuf>) -> Self {
        let current = path
            .as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .and_then(|s| serde_json::from_str::<Settings>(&s).ok())
            .filter(|s| s.validate().is_ok())
            .unwrap_or_default();
        SettingsFile {
            path,
            current: Mutex::new(current),
        }
    }

    pub fn get(&self) -> Settings {
        *self.current.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn save(&self, settings: Settings) -> Result<()> {
        settings.validate()?;
        if let Some(path) = &self.path {
            let write = || -> std::io::Result<()> {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                let tmp = path.with_extension("json.new");
                std::fs::write(&tmp, serde_json::to_vec_pretty(&settings)?)?;
                std::fs::rename(&tmp, path)
            };
            write().map_err(|e| AppError {
                field: None,
                code: "settings-not-saved",
                message: format!(
                    "Could not save the settings ({e}); they apply until Wardside closes."
                ),
            })?;
        }
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = settings;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_survive_a_restart_and_bad_values_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        let file = SettingsFile::load(Some(path.clone()));
        assert_eq!(file.get(), Settings::default());
        let mut s = file.get();
        s.idle_lock_minutes = 0;
        assert_eq!(file.save(s).unwrap_err().code, "invalid");
        s.idle_lock_minutes = 10;
        s.theme = Theme::Dark;
        file.save(s).unwrap();
        assert_eq!(SettingsFile::load(Some(path.clone())).get(), s);
        s.text_size = 400;
        assert_eq!(file.save(s).unwrap_err().code, "invalid");
        s.text_size = 150;
        file.save(s).unwrap();
        assert_eq!(SettingsFile::load(Some(path.clone())).get().text_size, 150);
        // A file from before text sizes existed keeps its values and gets the normal size.
        std::fs::write(
            &path,
            r#"{"idle_lock_minutes":7,"theme":"dark","reminder_days":14}"#,
        )
        .unwrap();
        let old = SettingsFile::load(Some(path.clone())).get();
        assert_eq!((old.idle_lock_minutes, old.text_size), (7, 100));
        // A damaged file gives the defaults rather than stopping the app.
        std::fs::write(&path, "{not json").unwrap();
        assert_eq!(SettingsFile::load(Some(path)).get(), Settings::default());
    }
}
