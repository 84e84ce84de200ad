//! Tasks on cases: what is due, the diary, and marking a task done, snoozing or reopening it.
//!
//! The domain decides what a task is ([`wardside_domain::tasks`]): tasks from dated fields are
//! computed here from the records at read time; only hand-added tasks and task updates are
//! stored, through the one write path (an op, its merge and an audit entry).

use crate::error::{Result, StoreError};
use crate::open::Store;
use crate::read::{CaseView, CaseloadFilter};
use crate::write::{Entity, Op, OpKind, Scope, Writer};
use chrono::{Datelike, Days, NaiveDate};
use rusqlite::Connection;
use serde::Serialize;
use std::collections::HashMap;
use uuid::Uuid;
use wardside_domain::rules::{Jurisdiction, Reminder, Rules, TribunalPosition};
use wardside_domain::tasks::{
    CaseTask, Task, TaskChange, TaskKey, TaskSources, TaskUpdate, case_tasks, check_due,
};
use wardside_domain::*;

/// A task on one of the caseload's open cases, with who it is for.
#[derive(Debug, Clone, Serialize)]
pub struct DueTask {
    pub client_id: ClientId,
    pub name: String,
    pub hospital: Option<String>,
    pub ward: Option<String>,
    #[serde(flatten)]
    pub task: CaseTask,
}

/// What the caseload shows under "Due in the next N days".
#[derive(Debug, Clone, Default, Serialize)]
pub struct DueTasks {
    pub today: Option<NaiveDate>,
    /// Due from today to the end of the period, soonest first (by name within a day).
    pub upcoming: Vec<DueTask>,
    /// Deadlines already past and not done, most recent first, at most the limit asked for.
    pub overdue: Vec<DueTask>,
    pub overdue_total: usize,
}

/// A week of the diary, Monday to Sunday.
#[derive(Debug, Clone, Serialize)]
pub struct Diary {
    pub today: NaiveDate,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Every task and appointment in the week on the open cases, by day then time.
    pub entries: Vec<DueTask>,
}

/// The Monday of the week `day` falls in.
pub fn monday_of(day: NaiveDate) -> NaiveDate {
    day.checked_sub_days(Days::new(u64::from(day.weekday().num_days_from_monday())))
        .unwrap_or(day)
}

fn parse<T: serde::de::DeserializeOwned>(data: &str) -> Result<T> {
    Ok(serde_json::from_str(data)?)
}

fn parse_id<I: std::str::FromStr>(s: &str) -> Result<I> {
    s.parse()
        .map_err(|_| StoreError::Corrupt("a stored id is not an id".into()))
}

/// Pairs of (id, record) from a query whose first two columns are the id and the data.
fn pairs<I: std::str::FromStr, R: serde::de::DeserializeOwned>(
    conn: &Connection,
    sql: &str,
    key: &str,
) -> Result<Vec<(I, R)>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map([key], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    rows.map(|row| {
        let (id, data) = row?;
        Ok((parse_id(&id)?, parse(&data)?))
    })
    .collect()
}

/// The activity kinds that carry a date a task can come from.
const DATED_KINDS: &str =
    "('concern', 'records-request', 'tribunal', 'managers-hearing', 'ward-round', 'cpa-review')";

/// The updates on a case's tasks, oldest first in the op log's clock order (the order every
/// device agrees on).
fn updates_of(conn: &Connection, case_key: &str) -> Result<Vec<TaskUpdate>> {
    let mut stmt = conn.prepare_cached(
        "SELECT u.data FROM task_update u LEFT JOIN op o ON o.entity_id = u.id AND o.kind = 'create'
         WHERE u.case_id = ?1 ORDER BY coalesce(o.hlc, ''), u.id",
    )?;
    let rows = stmt.query_map([case_key], |r| r.get::<_, String>(0))?;
    rows.map(|row| parse(&row?)).collect()
}

/// Every task on one case today, from its records.
fn tasks_of_case(
    conn: &Connection,
    case_id: CaseId,
    case: &Case,
    rules: &Rules,
    today: NaiveDate,
    j: Jurisdiction,
) -> Result<Vec<CaseTask>> {
    let case_key = case_id.to_string();
    let client_key = case.client_id.to_string();
    let activities: Vec<(ActivityId, Activity)> = pairs(
        conn,
        &format!(
            "SELECT id, data FROM activity WHERE case_id = ?1 AND deleted = 0
               AND data ->> '$.kind.type' IN {DATED_KINDS}"
        ),
        &case_key,
    )?;
    let history: Vec<(LegalEventId, LegalEvent)> = pairs(
        conn,
        "SELECT id, data FROM legal_event WHERE client_id = ?1 ORDER BY on_date, rowid",
        &client_key,
    )?;
    let manual: Vec<(TaskId, Task)> = pairs(
        conn,
        "SELECT id, data FROM task WHERE case_id = ?1",
        &case_key,
    )?;
    let client: Client = parse(
        &conn
            .prepare_cached("SELECT data FROM client WHERE id = ?1")?
            .query_row([&client_key], |r| r.get::<_, String>(0))?,
    )?;
    let events: Vec<LegalEvent> = history.iter().map(|(_, e)| e.clone()).collect();
    let age = client
        .dob
        .and_then(|dob| wardside_domain::client::age_on(dob, today));
    // A closed case has no legal-status reminders: they are about work still to do.
    let reminders = if case.closed.is_none() {
        rules.reminders(&events, today, age, j)
    } else {
        Vec::new()
    };
    Ok(case_tasks(
        TaskSources {
            case_id,
            activities: &activities,
            legal_history: &history,
            reminders: &reminders,
            manual: &manual,
        },
        &updates_of(conn, &case_key)?,
        today,
    ))
}

impl Store {
    /// Every task on a case today (done and past ones included), soonest first.
    pub fn case_tasks(
        &self,
        id: CaseId,
        rules: &Rules,
        jurisdiction: Jurisdiction,
    ) -> Result<Vec<CaseTask>> {
        let case: Case = self.get(id.0)?;
        tasks_of_case(
            &self.conn,
            id,
            &case,
            rules,
            self.clock.today(),
            jurisdiction,
        )
    }

    /// Every task on the open cases that match the filter, computed in one pass per table.
    /// Legal-status reminders are taken from [`Store::due_reminders`] up to `reminders_within`
    /// days ahead.
    fn open_case_tasks(
        &self,
        filter: &CaseloadFilter,
        rules: &Rules,
        jurisdiction: Jurisdiction,
        reminders_within: i64,
    ) -> Result<Vec<DueTask>> {
        let today = self.clock.today();
        let open = CaseloadFilter {
            include_closed: false,
            ..filter.clone()
        };
        // The caseload's own query decides which cases match, so every filter it has applies.
        let rows = self.caseload(&open, 0, i64::MAX as usize)?;

        let mut activities: HashMap<CaseId, Vec<(ActivityId, Activity)>> = HashMap::new();
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT a.id, a.data FROM activity a JOIN kase k ON k.id = a.case_id
             WHERE k.closed_on IS NULL AND a.deleted = 0 AND a.data ->> '$.kind.type' IN {DATED_KINDS}"
        ))?;
        let found = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in found {
            let (id, data) = row?;
            let a: Activity = parse(&data)?;
            activities
                .entry(a.case_id)
                .or_default()
                .push((parse_id(&id)?, a));
        }
        let mut hearings: HashMap<ClientId, Vec<(LegalEventId, LegalEvent)>> = HashMap::new();
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, data FROM legal_event WHERE event IN ('tribunal-hearing', 'managers-hearing')
               AND client_id IN (SELECT client_id FROM kase WHERE closed_on IS NULL)",
        )?;
        let found = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in found {
            let (id, data) = row?;
            let e: LegalEvent = parse(&data)?;
            hearings
                .entry(e.client_id)
                .or_default()
                .push((parse_id(&id)?, e));
        }
        let mut manual: HashMap<CaseId, Vec<(TaskId, Task)>> = HashMap::new();
        let mut stmt = self.conn.prepare_cached(
            "SELECT t.id, t.data FROM task t JOIN kase k ON k.id = t.case_id WHERE k.closed_on IS NULL",
        )?;
        let found = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in found {
            let (id, data) = row?;
            let t: Task = parse(&data)?;
            manual
                .entry(t.case_id)
                .or_default()
                .push((parse_id(&id)?, t));
        }
        let mut updates: HashMap<CaseId, Vec<TaskUpdate>> = HashMap::new();
        let mut stmt = self.conn.prepare_cached(
            "SELECT u.data FROM task_update u JOIN kase k ON k.id = u.case_id
             LEFT JOIN op o ON o.entity_id = u.id AND o.kind = 'create'
             WHERE k.closed_on IS NULL ORDER BY coalesce(o.hlc, ''), u.id",
        )?;
        let found = stmt.query_map([], |r| r.get::<_, String>(0))?;
        for row in found {
            let u: TaskUpdate = parse(&row?)?;
            updates.entry(u.case_id).or_default().push(u);
        }
        let mut reminders: HashMap<CaseId, Vec<Reminder>> = HashMap::new();
        let due = self.due_reminders(
            &open,
            rules,
            today,
            jurisdiction,
            reminders_within,
            usize::MAX,
        )?;
        for r in due.upcoming.into_iter().chain(due.past_due) {
            reminders.entry(r.case_id).or_default().push(r.reminder);
        }

        let mut out = Vec::new();
        for row in &rows {
            let case_acts = activities.remove(&row.case_id).unwrap_or_default();
            let tasks = case_tasks(
                TaskSources {
                    case_id: row.case_id,
                    activities: &case_acts,
                    legal_history: hearings.get(&row.client_id).map_or(&[], Vec::as_slice),
                    reminders: reminders.get(&row.case_id).map_or(&[], Vec::as_slice),
                    manual: manual.get(&row.case_id).map_or(&[], Vec::as_slice),
                },
                updates.get(&row.case_id).map_or(&[], Vec::as_slice),
                today,
            );
            for task in tasks {
                out.push(DueTask {
                    client_id: row.client_id,
                    name: row.name.clone(),
                    hospital: row.hospital.clone(),
                    ward: row.ward.clone(),
                    task,
                });
            }
        }
        Ok(out)
    }

    /// What is due in the next `within_days` days on the open cases that match the filter (every
    /// dated promise, hand-added task and legal-status reminder not done or snoozed), and the
    /// most recent `overdue_limit` deadlines already past, with their total.
    pub fn due_tasks(
        &self,
        filter: &CaseloadFilter,
        rules: &Rules,
        jurisdiction: Jurisdiction,
        within_days: i64,
        overdue_limit: usize,
    ) -> Result<DueTasks> {
        let mut all: Vec<DueTask> = self
            .open_case_tasks(filter, rules, jurisdiction, within_days)?
            .into_iter()
            .filter(|t| t.task.is_due_within(within_days))
            .collect();
        all.sort_by(|a, b| {
            (a.task.due, a.task.time, &a.name, &a.task.title).cmp(&(
                b.task.due,
                b.task.time,
                &b.name,
                &b.task.title,
            ))
        });
        let split = all.partition_point(|t| t.task.days_left < 0);
        let upcoming = all.split_off(split);
        let overdue_total = all.len();
        all.reverse();
        all.truncate(overdue_limit);
        Ok(DueTasks {
            today: Some(self.clock.today()),
            upcoming,
            overdue: all,
            overdue_total,
        })
    }

    /// The week (Monday to Sunday) that `day` falls in: every hearing, ward round, CPA review
    /// and task on the open cases that match the filter, on its own day whatever its state (done
    /// and snoozed ones say so), by day and time.
    pub fn diary(
        &self,
        filter: &CaseloadFilter,
        day: NaiveDate,
        rules: &Rules,
        jurisdiction: Jurisdiction,
    ) -> Result<Diary> {
        let today = self.clock.today();
        let from = monday_of(day);
        let to = from.checked_add_days(Days::new(6)).unwrap_or(from);
        let within = (to - today).num_days().max(0);
        let mut entries: Vec<DueTask> = self
            .open_case_tasks(filter, rules, jurisdiction, within)?
            .into_iter()
            .filter(|t| t.task.due >= from && t.task.due <= to)
            .collect();
        entries.sort_by(|a, b| {
            (a.task.due, a.task.time, &a.name, a.task.kind).cmp(&(
                b.task.due,
                b.task.time,
                &b.name,
                b.task.kind,
            ))
        });
        Ok(Diary {
            today,
            from,
            to,
            entries,
        })
    }
}

impl CaseView {
    /// The patient's tribunal position on `today`, in one line.
    pub fn tribunal_position(
        &self,
        rules: &Rules,
        today: NaiveDate,
        jurisdiction: Jurisdiction,
    ) -> TribunalPosition {
        let events: Vec<LegalEvent> = self
            .legal_history
            .iter()
            .map(|s| s.record.clone())
            .collect();
        rules.tribunal_position(&events, today, jurisdiction)
    }
}

impl Writer<'_> {
    /// Add a task by hand to an open case, due today or later.
    pub fn add_task(&mut self, task: &Task) -> Result<TaskId> {
        let case: Case = self.get(task.case_id.0)?;
        if case.closed.is_some() {
            return Err(StoreError::Refused(
                "this case is closed; reopen it to add tasks".into(),
            ));
        }
        check_due(task.due, self.clock().today())?;
        let scope = Scope {
            client: Some(case.client_id.0),
            case: Some(task.case_id.0),
        };
        self.create(task, scope).map(TaskId)
    }

    /// Mark a task on a case done, snooze it or reopen it. The change is checked against the
    /// task's state now (nothing is done twice, a snooze ends after today) and audited; the
    /// store fills in who and when.
    pub fn update_task(
        &mut self,
        case_id: CaseId,
        key: TaskKey,
        change: TaskChange,
        rules: &Rules,
        jurisdiction: Jurisdiction,
    ) -> Result<TaskUpdateId> {
        let case: Case = self.get(case_id.0)?;
        let today = self.clock().today();
        let tasks = tasks_of_case(&self.tx, case_id, &case, rules, today, jurisdiction)?;
        let task = tasks.iter().find(|t| t.key == key).ok_or_else(|| {
            StoreError::Refused(
                "this task is no longer on the case (its date may have changed); reload the case"
                    .into(),
            )
        })?;
        let update = TaskUpdate {
            case_id,
            key,
            change,
            by: self.actor().to_owned(),
            at: self.clock().now(),
        };
        update.validate()?;
        update.check(&task.state, today)?;
        let action = match update.change {
            TaskChange::Done => "task-done",
            TaskChange::Snoozed { .. } => "task-snoozed",
            TaskChange::Reopened => "task-reopened",
        };
        let id = Uuid::new_v4();
        let op = Op {
            entity: Entity::TaskUpdate,
            entity_id: id,
            kind: OpKind::Create,
            field: None,
            payload: serde_json::to_value(&update)?,
        };
        self.commit(
            op,
            action,
            Scope {
                client: Some(case.client_id.0),
                case: Some(case_id.0),
            },
        )?;
        Ok(TaskUpdateId(id))
    }
}
