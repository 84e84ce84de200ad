//! Tasks: what is due on the caseload, a case's tasks, the diary's week, and marking a task
//! done, snoozing or reopening it. Rules live in `wardside_domain::tasks`; the store computes
//! and writes.

use super::caseload::Filter;
use crate::error::Result;
use crate::session::Session;
use chrono::NaiveDate;
use tauri::State;
use wardside_domain::tasks::{CaseTask, Task, TaskChange, TaskKey};
use wardside_domain::{CaseId, TaskId, TaskUpdateId};
use wardside_store::{Diary, DueTasks};

/// How many overdue tasks the caseload lists (the rest are counted).
const OVERDUE_SHOWN: usize = 100;

#[tauri::command(async)]
pub fn due_tasks(session: State<'_, Session>, filter: Filter) -> Result<DueTasks> {
    let filter = filter.into();
    let days = session.settings.get().reminder_days;
    let rules = &session.rules;
    session.with_store(|s| s.due_tasks(&filter, rules, rules.jurisdiction(), days, OVERDUE_SHOWN))
}

#[tauri::command(async)]
pub fn case_tasks(session: State<'_, Session>, id: CaseId) -> Result<Vec<CaseTask>> {
    let rules = &session.rules;
    session.with_store(|s| s.case_tasks(id, rules, rules.jurisdiction()))
}

#[tauri::command(async)]
pub fn add_task(session: State<'_, Session>, task: Task) -> Result<TaskId> {
    session.with_store(|s| s.write(|w| w.add_task(&task)))
}

#[tauri::command(async)]
pub fn update_task(
    session: State<'_, Session>,
    case: CaseId,
    key: TaskKey,
    change: TaskChange,
) -> Result<TaskUpdateId> {
    let rules = &session.rules;
    session
        .with_store(|s| s.write(|w| w.update_task(case, key, change, rules, rules.jurisdiction())))
}

/// The week (Monday to Sunday) holding `day`, or this week.
#[tauri::command(async)]
pub fn diary(session: State<'_, Session>, day: Option<NaiveDate>) -> Result<Diary> {
    let rules = &session.rules;
    session.with_store(|s| {
        let day = day.unwrap_or_else(|| s.clock().today());
        s.diary(&Default::default(), day, rules, rules.jurisdiction())
    })
}
