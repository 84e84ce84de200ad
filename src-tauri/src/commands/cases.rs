//! A case: what it shows, opening and closing, issues, safeguarding events, its audit trail.

use super::today;
use crate::checked::Checked;
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
    /// The tribunal position in one line, for the header.
    pub tribunal: wardside_domain::rules::TribunalPosition,
    pub draft: Option<Draft>,
    /// Corrections made after the fact (activities' details, reopenings), oldest first.
    pub amendments: Vec<wardside_store::Stored<AmendmentId, Amendment>>,
    pub today: chrono::NaiveDate,
}

#[tauri::command(async)]
pub fn case_view(session: State<'_, Session>, id: CaseId) -> Result<CaseScreen> {
    let rules = &session.rules;
    let today = today();
    session.with_store(|s| {
        let view = s.case_view(id)?;
        let guidance = view.guidance(rules, today, rules.jurisdiction())?;
        let tribunal = view.tribunal_position(rules, today, rules.jurisdiction());
        let draft = s.draft(id)?;
        let amendments = s.case_amendments(id)?;
        Ok(CaseScreen {
            amendments,
            view,
            guidance,
            tribunal,
            draft,
            today,
        })
    })
}

#[tauri::command(async)]
pub fn close_case(
    session: State<'_, Session>,
    id: CaseId,
    closure: Checked<CaseClosure>,
    outcomes: Checked<Vec<(IssueId, IssueOutcome)>>,
) -> Result<()> {
    let (closure, outcomes) = (closure.get()?, outcomes.get()?);
    session.with_store(|s| s.write(|w| w.close_case_with_outcomes(id, closure, &outcomes)))
}

#[tauri::command(async)]
pub fn add_issue(session: State<'_, Session>, issue: Checked<Issue>) -> Result<IssueId> {
    let issue = issue.get()?;
    session.with_store(|s| s.write(|w| w.add_issue(&issue)))
}

#[tauri::command(async)]
pub fn set_issue_outcome(
    session: State<'_, Session>,
    id: IssueId,
    outcome: Checked<IssueOutcome>,
) -> Result<()> {
    let outcome = outcome.get()?;
    session.with_store(|s| s.write(|w| w.set_issue_outcome(id, outcome)))
}

#[tauri::command(async)]
pub fn add_safeguarding(
    session: State<'_, Session>,
    event: Checked<SafeguardingEvent>,
) -> Result<SafeguardingId> {
    let event = event.get()?;
    session.with_store(|s| s.write(|w| w.add_safeguarding(&event)))
}

#[tauri::command(async)]
pub fn case_audit(session: State<'_, Session>, id: CaseId) -> Result<Vec<AuditEntry>> {
    session.with_store(|s| s.audit_for_case(id))
}
