//! A client: intake, details, legal status history, nearest relative or nominated person,
//! consents.

use crate::error::Result;
use crate::session::Session;
use tauri::State;
use wardside_domain::*;
use wardside_store::intake::{Intake, IntakeResult};

#[tauri::command(async)]
pub fn add_client(session: State<'_, Session>, intake: Intake) -> Result<IntakeResult> {
    let rules = &session.rules;
    session.with_store(|s| s.intake(&intake, rules, rules.jurisdiction()))
}

#[tauri::command(async)]
pub fn update_client(session: State<'_, Session>, id: ClientId, client: Client) -> Result<usize> {
    session.with_store(|s| s.write(|w| w.update_client(id, &client)))
}

#[tauri::command(async)]
pub fn add_relative(session: State<'_, Session>, relative: Relative) -> Result<RelativeId> {
    session.with_store(|s| s.write(|w| w.add_relative(&relative)))
}

#[tauri::command(async)]
pub fn record_consent(session: State<'_, Session>, consent: Consent) -> Result<ConsentId> {
    session.with_store(|s| s.write(|w| w.record_consent(&consent)))
}

#[tauri::command(async)]
pub fn add_legal_event(session: State<'_, Session>, event: LegalEvent) -> Result<LegalEventId> {
    session.with_store(|s| s.write(|w| w.add_legal_event(&event)))
}
