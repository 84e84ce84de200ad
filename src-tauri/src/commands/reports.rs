//! Reports for a manager: the commissioners and their periods, a return on screen (exact and
//! marked not for release, or as released), the people behind a number, exporting a return
//! into a folder the user picks, the service dashboard, and a commissioner's contract.
//!
//! What is counted lives in `wardside_domain::report`; reading, naming and auditing in
//! `wardside_store` (`report`, `dashboard`); the files in `wardside_export::report`.

use crate::error::{AppError, Result};
use crate::session::Session;
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use tauri::{AppHandle, Manager, Runtime, State};
use tauri_plugin_dialog::DialogExt;
use wardside_domain::CaseId;
use wardside_domain::report::contract::{Contract, Period, Target};
use wardside_domain::report::suppress::DEFAULT_THRESHOLD;
use wardside_domain::report::{MEASURES, Measure, Return};
use wardside_export::Overwrite;
use wardside_export::report::{Released, ReturnFormat, new_return_folder, release_return};
use wardside_store::dashboard::{CaseLabel, Dashboard, UnassignedRow};
use wardside_store::report::ReportAudit;

/// End-to-end tests cannot drive the system's folder picker: with this set (as for the other
/// exports, commands/export.rs), the return's folder is made in the folder it names.
const TEST_SAVE_AS: &str = "WARDSIDE_E2E_SAVE_AS";

/// How many cases each list of the dashboard shows.
const DASHBOARD_ROWS: usize = 5;

/// A commissioner to choose, with the periods its contract reports on.
#[derive(Debug, Serialize)]
pub struct CommissionerChoice {
    pub name: String,
    pub has_contract: bool,
    pub cases: usize,
    /// Latest first.
    pub periods: Vec<Period>,
    pub last_complete: Option<Period>,
    /// The contract's own periods (empty: financial-year quarters).
    pub own_periods: Vec<Period>,
    pub measures: Vec<String>,
    pub targets: BTreeMap<String, Target>,
}

/// What the Reports screen starts from.
#[derive(Debug, Serialize)]
pub struct ReportSetup {
    pub today: NaiveDate,
    pub commissioners: Vec<CommissionerChoice>,
    pub measures: &'static [Measure],
    /// The keys of the headline measures (a contract's targets are set on these); the other
    /// keys of `measures` are tables.
    pub headline: Vec<&'static str>,
    /// Counts from 1 to this are shown as "*" in a return as released.
    pub threshold: u64,
}

/// A return as the screen shows it.
#[derive(Debug, Serialize)]
pub struct ReturnView {
    #[serde(flatten)]
    pub ret: Return,
    /// Exact numbers, not for release.
    pub exact: bool,
    /// The cases behind each number (ids only): exact returns only.
    pub cases_behind: BTreeMap<String, Vec<CaseId>>,
    /// Cases and referrals counted in no return, named for fixing.
    pub unassigned: Vec<UnassignedRow>,
    /// Referrals whose first contact was later than 5 working days, or has not happened.
    pub missed_target: usize,
}

#[derive(Debug, Serialize)]
pub struct ReturnExported {
    pub folder: PathBuf,
    pub files: Vec<PathBuf>,
    /// Returns released before for this commissioner over overlapping periods (a starred
    /// count can be worked out by subtracting one from the other).
    pub overlapping: Vec<ReportAudit>,
}

#[tauri::command(async)]
pub fn report_setup(session: State<'_, Session>) -> Result<ReportSetup> {
    let headline = wardside_domain::report::headline_keys().to_vec();
    session.with_store(|s| {
        let today = s.clock().today();
        let commissioners = s
            .commissioners()?
            .into_iter()
            .map(|c| CommissionerChoice {
                name: c.contract.commissioner.clone(),
                has_contract: c.has_contract,
                cases: c.cases,
                periods: c.contract.periods_on(today),
                last_complete: c.contract.last_complete(today),
                own_periods: c.contract.periods,
                measures: c.contract.measures,
                targets: c.contract.targets,
            })
            .collect();
        Ok(ReportSetup {
            today,
            commissioners,
            measures: MEASURES,
            headline,
            threshold: DEFAULT_THRESHOLD,
        })
    })
}

/// A return for the screen: exact (audited as a view of exact numbers) or as released.
#[tauri::command(async)]
pub fn report_return(
    session: State<'_, Session>,
    commissioner: String,
    from: NaiveDate,
    to: NaiveDate,
    exact: bool,
) -> Result<ReturnView> {
    let rules = &session.rules;
    session.with_store(|s| {
        let mut ret = s.view_return(&commissioner, from, to, rules, exact)?;
        Ok(ReturnView {
            exact,
            cases_behind: if exact {
                std::mem::take(&mut ret.cases_behind)
            } else {
                BTreeMap::new()
            },
            unassigned: s.unassigned_rows(&ret.unassigned)?,
            missed_target: ret.missed_target.len(),
            ret,
        })
    })
}

/// Who the cases behind a number are for (audited).
#[tauri::command(async)]
pub fn report_cases(session: State<'_, Session>, ids: Vec<CaseId>) -> Result<Vec<CaseLabel>> {
    session.with_store(|s| s.report_cases(&ids))
}

#[tauri::command(async)]
pub fn service_dashboard(session: State<'_, Session>) -> Result<Dashboard> {
    let rules = &session.rules;
    session.with_store(|s| s.dashboard(rules, rules.jurisdiction(), DASHBOARD_ROWS))
}

/// Set (or replace) a commissioner's contract: its periods, measures and targets. Audited.
#[tauri::command(async)]
pub fn set_contract(session: State<'_, Session>, mut contract: Contract) -> Result<()> {
    session.with_store(|s| {
        // The screen edits periods, measures and targets; the reference table of people
        // detained is loaded from a file (`wardside report contract set --reference`) and kept.
        if contract.reference.is_empty() {
            contract.reference = s.contract(&contract.commissioner)?.reference;
        }
        s.set_contract(&contract)
    })
}

fn pick_folder<R: Runtime>(app: &AppHandle<R>) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(TEST_SAVE_AS) {
        return Some(PathBuf::from(p));
    }
    app.dialog()
        .file()
        .set_title("Choose a folder for the return (its files will not be encrypted)")
        .blocking_pick_folder()
        .and_then(|p| p.into_path().ok())
}

/// Ask for a folder, compute the return as released (small numbers suppressed), write it there
/// in each format, audit it. `None` when the folder picker was cancelled.
#[tauri::command]
pub async fn export_return<R: Runtime>(
    app: AppHandle<R>,
    commissioner: String,
    from: NaiveDate,
    to: NaiveDate,
    formats: Vec<String>,
) -> Result<Option<ReturnExported>> {
    let formats = formats
        .iter()
        .map(|f| f.parse::<ReturnFormat>())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(AppError::invalid)?;
    if formats.is_empty() {
        return Err(AppError::invalid("Choose at least one format to export."));
    }
    tauri::async_runtime::spawn_blocking(move || {
        let session = app.state::<Session>();
        let Some(picked) = pick_folder(&app) else {
            return Ok(None);
        };
        let rules = &session.rules;
        session.with_store_as(|s| {
            let folder = new_return_folder(&picked, &commissioner, from, to);
            let Released {
                files, overlapping, ..
            } = release_return(
                s,
                &commissioner,
                from,
                to,
                rules,
                DEFAULT_THRESHOLD,
                &formats,
                &folder,
                Overwrite::Refuse,
            )?;
            Ok::<_, wardside_export::ExportError>(Some(ReturnExported {
                folder,
                files,
                overlapping,
            }))
        })
    })
    .await
    .map_err(|_| AppError {
        field: None,
        code: "internal",
        message: "The export stopped unexpectedly. Check the folder before trying again.".into(),
    })?
}
