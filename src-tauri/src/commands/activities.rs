//! The timeline: new activities (and their autosaved drafts), amendments, note history, search.

use crate::checked::Checked;
use crate::error::Result;
use crate::session::Session;
use tauri::State;
use wardside_domain::*;
use wardside_store::{NoteVersion, SearchHit};

/// Save an activity; its draft goes in the same transaction.
#[tauri::command(async)]
pub fn add_activity(
    session: State<'_, Session>,
    activity: Checked<Activity>,
    text: String,
) -> Result<ActivityId> {
    let activity = activity.get()?;
    session.with_store(|s| {
        s.write(|w| {
            let id = w.add_activity(&activity, &text)?;
            w.discard_draft(activity.case_id)?;
            Ok(id)
        })
    })
}

#[tauri::command(async)]
pub fn amend_note(
    session: State<'_, Session>,
    id: ActivityId,
    text: String,
    reason: String,
) -> Result<NoteVersionId> {
    session.with_store(|s| s.write(|w| w.amend_note(id, &text, &reason)))
}

#[tauri::command(async)]
pub fn note_history(session: State<'_, Session>, id: ActivityId) -> Result<Vec<NoteVersion>> {
    session.with_store(|s| s.note_history(id))
}

#[tauri::command(async)]
pub fn save_draft(
    session: State<'_, Session>,
    case: CaseId,
    form: serde_json::Value,
    body: String,
) -> Result<()> {
    session.with_store(|s| s.save_draft(case, &form, &body))
}

#[tauri::command(async)]
pub fn discard_draft(session: State<'_, Session>, case: CaseId) -> Result<()> {
    session.with_store(|s| s.discard_draft(case))
}

#[tauri::command(async)]
pub fn search(session: State<'_, Session>, query: String) -> Result<Vec<SearchHit>> {
    session.with_store(|s| s.search(&query, 100))
}
