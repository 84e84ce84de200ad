//! Corrections after the fact (an activity's details amended, a closed case reopened) and the
//! drafts of every form.

use crate::checked::Checked;
use crate::error::Result;
use crate::session::Session;
use tauri::State;
use wardside_domain::*;
use wardside_store::intake::{IntakeCase, IntakeReferral, IntakeResult};
use wardside_store::{FormDraft, Stored};

#[tauri::command(async)]
pub fn amend_activity(
    session: State<'_, Session>,
    id: ActivityId,
    details: Checked<ActivityDetails>,
    reason: String,
) -> Result<AmendmentId> {
    let details = details.get()?;
    session.with_store(|s| s.amend_activity(id, &details, &reason))
}

#[tauri::command(async)]
pub fn activity_amendments(
    session: State<'_, Session>,
    id: ActivityId,
) -> Result<Vec<Stored<AmendmentId, Amendment>>> {
    session.with_store(|s| s.activity_amendments(id))
}

#[tauri::command(async)]
pub fn reopen_case(session: State<'_, Session>, id: CaseId, reason: String) -> Result<AmendmentId> {
    session.with_store(|s| s.reopen_case(id, &reason))
}

/// Record or change a case's responsible authority (its commissioner) from a day on.
#[tauri::command(async)]
pub fn move_case_commissioner(
    session: State<'_, Session>,
    id: CaseId,
    to: String,
    from: chrono::NaiveDate,
    reason: String,
) -> Result<AmendmentId> {
    session.with_store(|s| s.move_case_commissioner(id, Some(&to), from, &reason))
}

/// The authorities already recorded, to choose from rather than type again.
#[tauri::command(async)]
pub fn commissioner_names(session: State<'_, Session>) -> Result<Vec<String>> {
    session.with_store(|s| {
        Ok(s.commissioners()?
            .into_iter()
            .map(|c| c.contract.commissioner)
            .collect())
    })
}

#[tauri::command(async)]
pub fn save_form_draft(
    session: State<'_, Session>,
    key: String,
    case: Option<CaseId>,
    form: serde_json::Value,
) -> Result<()> {
    session.with_store(|s| s.save_form_draft(&key, case, &form))
}

#[tauri::command(async)]
pub fn form_draft(session: State<'_, Session>, key: String) -> Result<Option<FormDraft>> {
    session.with_store(|s| s.form_draft(&key))
}

/// The drafts waiting on this laptop (after a crash: where to go back to).
#[tauri::command(async)]
pub fn waiting_drafts(session: State<'_, Session>) -> Result<Vec<wardside_store::WaitingDraft>> {
    session.with_store(|s| s.waiting_drafts())
}

#[tauri::command(async)]
pub fn discard_form_draft(session: State<'_, Session>, key: String) -> Result<()> {
    session.with_store(|s| s.discard_form_draft(&key))
}

/// A new referral and case for a person already known (their last case closed).
#[tauri::command(async)]
pub fn refer_again(
    session: State<'_, Session>,
    client: ClientId,
    referral: Checked<IntakeReferral>,
    case: Checked<IntakeCase>,
) -> Result<IntakeResult> {
    let (referral, case) = (referral.get()?, case.get()?);
    let rules = &session.rules;
    session.with_store(|s| s.refer_again(client, &referral, &case, rules, rules.jurisdiction()))
}
