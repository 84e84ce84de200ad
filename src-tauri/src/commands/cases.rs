//! A case: what it shows, opening and closing, issues, safeguarding events, its audit trail.

use super::today;
use crate::error::Result;
use crate::session::Session;
use serde::Serialize;
use tauri::State;
use wardside_domain::*;
use wardside_store::{AuditEntry, CaseView, Draft, Guidance};

/// Everything the case screen shows, with the rules engine's guidance for today.
#[derive(Debug, Serialize)]
pub struct CaseScreen {
    #[serde(flatten)]
    pub view: CaseView,
    pub guidance: Guidance,
    pub draft: Option<Draft>,
    pub today: chrono::NaiveDate,
}

#[tauri::command(async)]
pub fn case_view(session: State<'_, Session>, id: CaseId) -> Result<CaseScreen> {
    let rules = &session.rules;
    let today = today();
    session.with_store(|s| {
        let view = s.case_view(id)?;
        let guidance = view.guidance(rules, today, rules.jurisdiction())?;
        let draft = s.draft(id)?;
        Ok(CaseScreen {
            view,
            guidance,
            draft,
            today,
        })
    })
}

#[tauri::command(async)]
pub fn close_case(
    session: State<'_, Session>,
    id: CaseId,
    closure: CaseClosure,
    outcomes: Vec<(IssueId, IssueOutcome)>,
) -> Result<()> {
    session.with_store(|s| s.write(|w| w.close_case_with_outcomes(id, closure, &outcomes)))
}

#[tauri::command(async)]
pub fn add_issue(session: State<'_, Session>, issue: Issue) -> Result<IssueId> {
    session.with_store(|s| s.write(|w| w.add_issue(&issue)))
}

#[tauri::command(async)]
pub fn set_issue_outcome(
    session: State<'_, Session>,
    id: IssueId,
    outcome: IssueOutcome,
) -> Result<()> {
    session.with_store(|s| s.write(|w| w.set_issue_outcome(id, outcome)))
}

#[tauri::command(async)]
pub fn add_safeguarding(
    session: State<'_, Session>,
    event: SafeguardingEvent,
) -> Result<SafeguardingId> {
    session.with_store(|s| s.write(|w| w.add_safeguarding(&event)))
}

#[tauri::command(async)]
pub fn case_audit(session: State<'_, Session>, id: CaseId) -> Result<Vec<AuditEntry>> {
    session.with_store(|s| s.audit_for_case(id))
}
