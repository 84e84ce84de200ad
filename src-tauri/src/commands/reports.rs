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
use wardside_export::report::ReturnFormat;
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
    let headline = wardside_domain::report::dashboard::headline_keys(session.rules.calendar());
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
        let threshold = if exact { 0 } else { DEFAULT_THRESHOLD };
        let mut ret = s.commissioner_return(&commissioner, from, to, rules, threshold)?;
        if exact {
            s.audit_report(&ReportAudit {
                commissioner: ret.commissioner.clone(),
                from,
                to,
                formats: Vec::new(),
                threshold: 0,
            })?;
        }
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
pub fn set_contract(session: State<'_, Session>, contract: Contract) -> Result<()> {
    session.with_store(|s| s.set_contract(&contract))
}

/// The folder a return goes in, inside the one the user picked: the commissioner and the
/// period, so returns for several never overwrite each other.
fn folder_name(commissioner: &str, from: NaiveDate, to: NaiveDate) -> String {
    let name: String = commissioner
        .trim()
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '-' })
        .collect();
    let name = name
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    format!("return-{name}-{from}-to-{to}")
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
            let ret = s.commissioner_return(&commissioner, from, to, rules, DEFAULT_THRESHOLD)?;
            let overlapping = s.overlapping_releases(&ret.commissioner, from, to)?;
            // A new folder every time (the same return exported again after records were
            // fixed goes beside the first, never over it).
            let name = folder_name(&ret.commissioner, from, to);
            let folder = (1..)
                .map(|n| match n {
                    1 => picked.join(&name),
                    n => picked.join(format!("{name}-{n}")),
                })
                .find(|f| std::fs::symlink_metadata(f).is_err())
                .unwrap_or_else(|| picked.join(&name));
            let files =
                wardside_export::report::write_return(&folder, &ret, &formats, Overwrite::Refuse)?;
            s.audit_report(&ReportAudit {
                commissioner: ret.commissioner.clone(),
                from,
                to,
                formats: formats
                    .iter()
                    .map(|f| format!("{f:?}").to_lowercase())
                    .collect(),
                threshold: DEFAULT_THRESHOLD,
            })?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_return_folder_is_named_for_the_commissioner_and_period() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap_or_default();
        assert_eq!(
            folder_name(
                " Northshire County Council ",
                d("2026-07-01"),
                d("2026-09-30")
            ),
            "return-Northshire-County-Council-2026-07-01-to-2026-09-30"
        );
        assert_eq!(
            folder_name("Bro Morgannwg / Cardiff", d("2026-04-01"), d("2027-03-31")),
            "return-Bro-Morgannwg-Cardiff-2026-04-01-to-2027-03-31"
        );
    }
}
