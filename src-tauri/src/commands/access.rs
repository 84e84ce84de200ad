//! Creating, unlocking and locking the store; settings; the lists the forms offer.

use crate::error::Result;
use crate::session::{LockReason, Session, SessionStatus, lock_and_notify};
use crate::settings::Settings;
use std::collections::BTreeMap;
use tauri::{AppHandle, Runtime, State};
use wardside_domain::vocabulary::Choice;

#[tauri::command(async)]
pub fn session_status(session: State<'_, Session>) -> Result<SessionStatus> {
    session.status()
}

#[tauri::command(async)]
pub fn create_store(
    session: State<'_, Session>,
    advocate: String,
    passphrase: String,
    confirm: String,
) -> Result<()> {
    session.create(&advocate, &passphrase, &confirm)
}

#[tauri::command(async)]
pub fn unlock(session: State<'_, Session>, passphrase: String) -> Result<()> {
    session.unlock(&passphrase)
}

#[tauri::command(async)]
pub fn lock<R: Runtime>(app: AppHandle<R>, session: State<'_, Session>) -> Result<()> {
    lock_and_notify(&app, &session, LockReason::Manual);
    Ok(())
}

/// The UI reports a key press or mouse movement (at most every few seconds) so the idle lock
/// measures the person, not just the calls.
#[tauri::command(async)]
pub fn touch(session: State<'_, Session>) -> Result<()> {
    session.touch();
    Ok(())
}

#[tauri::command(async)]
pub fn settings(session: State<'_, Session>) -> Result<Settings> {
    Ok(session.settings.get())
}

#[tauri::command(async)]
pub fn save_settings(session: State<'_, Session>, settings: Settings) -> Result<Settings> {
    // Only someone who has unlocked may change the idle lock.
    session.with_store(|_| Ok(()))?;
    session.settings.save(settings)?;
    Ok(settings)
}

#[tauri::command(async)]
pub fn change_passphrase(
    session: State<'_, Session>,
    current: String,
    new: String,
    confirm: String,
) -> Result<()> {
    session.change_passphrase(&current, &new, &confirm)
}

#[tauri::command(async)]
pub fn vocabulary() -> Result<BTreeMap<&'static str, Vec<Choice>>> {
    Ok(wardside_domain::vocabulary::vocabulary())
}
