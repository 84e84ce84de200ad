//! The caseload: the list, its filters, and the reminders that go first.

use super::today;
use crate::error::Result;
use crate::session::Session;
use serde::Deserialize;
use tauri::State;
use wardside_domain::{AdvocateId, StatusCode};
use wardside_store::{CaseloadFacets, CaseloadFilter, CaseloadRow, DueList, PersonHit};

/// The filters as the screen sends them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Filter {
    pub hospital: Option<String>,
    pub ward: Option<String>,
    pub status: Option<StatusCode>,
    pub advocate: Option<AdvocateId>,
    pub include_closed: bool,
    /// The name box: part of a name, an NHS number or a hospital number.
    pub name: Option<String>,
    /// Only this store's own advocate's cases.
    pub mine: bool,
}

impl From<Filter> for CaseloadFilter {
    fn from(f: Filter) -> Self {
        CaseloadFilter {
            hospital: f.hospital,
            ward: f.ward,
            status: f.status,
            advocate: f.advocate,
            include_closed: f.include_closed,
            name: f.name,
            mine: f.mine,
            ..CaseloadFilter::default()
        }
    }
}

#[tauri::command(async)]
pub fn caseload(
    session: State<'_, Session>,
    filter: Filter,
    offset: usize,
    limit: usize,
) -> Result<Vec<CaseloadRow>> {
    let filter = filter.into();
    session.with_store(|s| s.caseload(&filter, offset, limit.min(500)))
}

#[tauri::command(async)]
pub fn due_reminders(session: State<'_, Session>, filter: Filter) -> Result<DueList> {
    let filter = filter.into();
    let days = session.settings.get().reminder_days;
    let rules = &session.rules;
    session.with_store(|s| {
        s.due_reminders(
            &filter,
            rules,
            today(),
            rules.jurisdiction(),
            days,
            PAST_DUE_SHOWN,
        )
    })
}

/// How many past-due reminders the caseload lists (the rest are counted).
const PAST_DUE_SHOWN: usize = 100;

#[tauri::command(async)]
pub fn caseload_facets(session: State<'_, Session>) -> Result<CaseloadFacets> {
    session.with_store(|s| s.caseload_facets())
}

/// People by name, NHS number or hospital number: the first half of the search results.
#[tauri::command(async)]
pub fn search_people(session: State<'_, Session>, query: String) -> Result<Vec<PersonHit>> {
    session.with_store(|s| s.search_people(&query, 50))
}
