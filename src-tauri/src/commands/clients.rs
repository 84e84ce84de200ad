//! A client: intake, details, legal status history, nearest relative or nominated person,
//! consents.

use crate::checked::Checked;
use crate::error::Result;
use crate::session::Session;
use tauri::State;
use wardside_domain::*;
use wardside_store::intake::{Intake, IntakeResult, LikelyDuplicate};

#[tauri::command(async)]
pub fn add_client(session: State<'_, Session>, intake: Checked<Intake>) -> Result<IntakeResult> {
    let intake = intake.get()?;
    let rules = &session.rules;
    session.with_store(|s| s.intake(&intake, rules, rules.jurisdiction()))
}

/// Before a new person is saved: who already here is probably them.
#[tauri::command(async)]
pub fn likely_duplicates(
    session: State<'_, Session>,
    client: Checked<Client>,
) -> Result<Vec<LikelyDuplicate>> {
    let client = client.get()?;
    session.with_store(|s| s.likely_duplicates(&client))
}

#[tauri::command(async)]
pub fn update_client(
    session: State<'_, Session>,
    id: ClientId,
    client: Checked<Client>,
) -> Result<usize> {
    let client = client.get()?;
    session.with_store(|s| s.write(|w| w.update_client(id, &client)))
}

#[tauri::command(async)]
pub fn add_relative(
    session: State<'_, Session>,
    relative: Checked<Relative>,
) -> Result<RelativeId> {
    let relative = relative.get()?;
    session.with_store(|s| s.write(|w| w.add_relative(&relative)))
}

#[tauri::command(async)]
pub fn record_consent(session: State<'_, Session>, consent: Checked<Consent>) -> Result<ConsentId> {
    let consent = consent.get()?;
    session.with_store(|s| s.write(|w| w.record_consent(&consent)))
}

#[tauri::command(async)]
pub fn add_legal_event(
    session: State<'_, Session>,
    event: Checked<LegalEvent>,
) -> Result<LegalEventId> {
    let event = event.get()?;
    session.with_store(|s| s.write(|w| w.add_legal_event(&event)))
}
