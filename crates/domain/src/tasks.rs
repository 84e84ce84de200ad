//! Tasks: every dated promise on a case, with what the advocate did about it.
//!
//! A task is anything that falls due on a day: a concern's response-due date, a records
//! inspection, a tribunal or hospital managers' hearing (on the activity, or entered in the
//! legal-status history), a ward round or CPA review planned on the timeline, a legal-status
//! reminder from the rules engine, or something the advocate added by hand ("call the
//! solicitor back").
//!
//! **Decision: tasks that come from a dated field are computed when they are read, never
//! stored.** The date lives in one place (the activity, the legal event, the rules), so
//! correcting it moves the task and nothing has to be kept in step. What a person does to a
//! task — done, snoozed until a day with a reason, reopened — is stored as an append-only
//! [`TaskUpdate`] keyed by the task's source ([`TaskKey`]), and tasks added by hand are stored
//! [`Task`] records; both travel in the op log like every other record and merge without
//! conflict (they are only ever created). The latest update in the op log's clock order decides a
//! task's state, the same on every device; the earlier ones are its history.
//!
//! A concern whose response has been recorded has kept its promise: it is no longer a task.
//! An appointment (a hearing, a ward round, a CPA review, a records inspection) whose day has
//! passed is over, not overdue; a deadline that has passed is overdue until marked done.

use crate::legal::coded_enum;
use crate::rules::{Reminder, ReminderKind};
use crate::{
    Activity, ActivityId, ActivityKind, CaseId, LegalEvent, LegalEventId, LegalEventKind, TaskId,
    Validate, ValidationError, require_text,
};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Longest title of a task added by hand.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest reason given for a snooze.
pub const MAX_REASON_CHARS: usize = 500;

/// A task the advocate added by hand: something to do by a day, or something planned on a
/// day (a ward visit, a ward round, a CPA review) that the diary shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Task {
    pub case_id: CaseId,
    pub title: String,
    pub due: NaiveDate,
    #[serde(default)]
    pub kind: PlannedKind,
    /// The time of a planned visit or meeting (UK local).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<NaiveTime>,
}

coded_enum! {
    /// What a hand-added task is.
    PlannedKind, "kind of task" {
        Task => "task", "Something to do";
        Visit => "visit", "Ward visit";
        WardRound => "ward-round", "Ward round";
        CpaReview => "cpa-review", "CPA / care review";
    }
}

// `coded_enum!` cannot mark a variant `#[default]`, so this is written out.
#[allow(clippy::derivable_impls)]
impl Default for PlannedKind {
    fn default() -> Self {
        PlannedKind::Task
    }
}

impl PlannedKind {
    fn task_kind(self) -> TaskKind {
        match self {
            PlannedKind::Task => TaskKind::Manual,
            PlannedKind::Visit => TaskKind::Visit,
            PlannedKind::WardRound => TaskKind::WardRound,
            PlannedKind::CpaReview => TaskKind::CpaReview,
        }
    }
}

impl Validate for Task {
    fn validate(&self) -> Result<(), ValidationError> {
        require_text(&self.title, "what is to be done", "task")?;
        if self.title.chars().count() > MAX_TITLE_CHARS {
            return Err(ValidationError::Invalid {
                field: "task",
                reason: format!(
                    "keep what is to be done under {MAX_TITLE_CHARS} characters; put the detail in a note"
                ),
            });
        }
        Ok(())
    }
}

/// A task added by hand is for today or later: a day already past is a mistake.
pub fn check_due(due: NaiveDate, today: NaiveDate) -> Result<(), ValidationError> {
    if due < today {
        return Err(ValidationError::Invalid {
            field: "due date",
            reason: "the day has passed; give today or a later day".into(),
        });
    }
    Ok(())
}

/// Where a task comes from: what its done and snoozed state is kept against. Written as text
/// (`activity:<id>`, `legal-event:<id>`, `reminder:<kind>:<date>`, `task:<id>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TaskKey {
    /// The dated field of a timeline entry (an activity has at most one).
    Activity(ActivityId),
    /// A hearing entered in the legal-status history.
    LegalEvent(LegalEventId),
    /// A legal-status reminder: a new period's reminder has a new date, so a new task.
    Reminder { kind: ReminderKind, due: NaiveDate },
    /// A task added by hand.
    Manual(TaskId),
}

fn reminder_code(kind: ReminderKind) -> &'static str {
    match kind {
        ReminderKind::TribunalWindowCloses => "tribunal-window-closes",
        ReminderKind::TribunalWindowOpens => "tribunal-window-opens",
        ReminderKind::Expiry => "expiry",
        ReminderKind::RenewalDue => "renewal-due",
        ReminderKind::ReferenceDue => "reference-due",
        ReminderKind::StatusLapsed => "status-lapsed",
    }
}

impl fmt::Display for TaskKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskKey::Activity(id) => write!(f, "activity:{id}"),
            TaskKey::LegalEvent(id) => write!(f, "legal-event:{id}"),
            TaskKey::Reminder { kind, due } => write!(f, "reminder:{}:{due}", reminder_code(*kind)),
            TaskKey::Manual(id) => write!(f, "task:{id}"),
        }
    }
}

impl FromStr for TaskKey {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ValidationError::Invalid {
            field: "task",
            reason: "not a task of this case; reload the case and try again".into(),
        };
        let (what, rest) = s.split_once(':').ok_or_else(bad)?;
        match what {
            "activity" => rest.parse().map(TaskKey::Activity).map_err(|_| bad()),
            "legal-event" => rest.parse().map(TaskKey::LegalEvent).map_err(|_| bad()),
            "task" => rest.parse().map(TaskKey::Manual).map_err(|_| bad()),
            "reminder" => {
                let (code, due) = rest.split_once(':').ok_or_else(bad)?;
                let kind = [
                    ReminderKind::TribunalWindowCloses,
                    ReminderKind::TribunalWindowOpens,
                    ReminderKind::Expiry,
                    ReminderKind::RenewalDue,
                    ReminderKind::ReferenceDue,
                    ReminderKind::StatusLapsed,
                ]
                .into_iter()
                .find(|k| reminder_code(*k) == code)
                .ok_or_else(bad)?;
                let due = due.parse().map_err(|_| bad())?;
                Ok(TaskKey::Reminder { kind, due })
            }
            _ => Err(bad()),
        }
    }
}

impl Serialize for TaskKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TaskKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// What a person did to a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "kebab-case")]
pub enum TaskChange {
    Done,
    /// Put aside until a day (it comes back that day), and why.
    Snoozed {
        until: NaiveDate,
        reason: String,
    },
    Reopened,
}

/// One change to a task's state: append-only, so the history is kept and two devices never
/// conflict. `by` and `at` are filled in by the store from the signed-in advocate and its clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskUpdate {
    pub case_id: CaseId,
    pub key: TaskKey,
    #[serde(flatten)]
    pub change: TaskChange,
    pub by: String,
    pub at: DateTime<Utc>,
}

impl Validate for TaskUpdate {
    fn validate(&self) -> Result<(), ValidationError> {
        require_text(&self.by, "who made the change", "task")?;
        if let TaskChange::Snoozed { reason, .. } = &self.change {
            require_text(reason, "the reason for snoozing", "snooze")?;
            if reason.chars().count() > MAX_REASON_CHARS {
                return Err(ValidationError::Invalid {
                    field: "snooze",
                    reason: format!("keep the reason under {MAX_REASON_CHARS} characters"),
                });
            }
        }
        Ok(())
    }
}

impl TaskUpdate {
    /// Whether this change makes sense for a task in `state` on `today`, so a double click or a
    /// stale screen cannot record nonsense ("done" twice, a snooze into the past).
    pub fn check(&self, state: &TaskState, today: NaiveDate) -> Result<(), ValidationError> {
        let refuse = |reason: &str| {
            Err(ValidationError::Invalid {
                field: "task",
                reason: reason.into(),
            })
        };
        match (&self.change, state.current(today)) {
            (TaskChange::Done, TaskState::Done { .. }) => refuse("it is already done"),
            (TaskChange::Snoozed { .. }, TaskState::Done { .. }) => {
                refuse("it is done; reopen it before snoozing it")
            }
            (TaskChange::Snoozed { until, .. }, _) if *until <= today => {
                refuse("snooze it until a day after today")
            }
            (TaskChange::Reopened, TaskState::Open) => refuse("it is already open"),
            _ => Ok(()),
        }
    }
}

coded_enum! {
    /// What kind of promise a task is.
    TaskKind, "task kind" {
        ConcernResponse => "concern-response", "Concern response";
        RecordsInspection => "records-inspection", "Records";
        TribunalHearing => "tribunal-hearing", "Tribunal hearing";
        ManagersHearing => "managers-hearing", "Managers' hearing";
        WardRound => "ward-round", "Ward round";
        CpaReview => "cpa-review", "CPA review";
        Visit => "visit", "Ward visit";
        LegalStatus => "legal-status", "Legal status";
        Manual => "manual", "Task";
    }
}

impl TaskKind {
    /// Something that happens on its day (a hearing, a meeting): once the day has passed it is
    /// over, not overdue.
    pub fn is_appointment(self) -> bool {
        matches!(
            self,
            TaskKind::RecordsInspection
                | TaskKind::TribunalHearing
                | TaskKind::ManagersHearing
                | TaskKind::WardRound
                | TaskKind::CpaReview
                | TaskKind::Visit
        )
    }
}

/// A task's state after every update it has had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum TaskState {
    Open,
    Done {
        by: String,
        at: DateTime<Utc>,
    },
    Snoozed {
        until: NaiveDate,
        reason: String,
        by: String,
        at: DateTime<Utc>,
    },
}

impl TaskState {
    /// The state after `updates`, given oldest first (the op log's clock order).
    pub fn after<'a>(updates: impl IntoIterator<Item = &'a TaskUpdate>) -> TaskState {
        let mut state = TaskState::Open;
        for u in updates {
            state = match &u.change {
                TaskChange::Done => TaskState::Done {
                    by: u.by.clone(),
                    at: u.at,
                },
                TaskChange::Snoozed { until, reason } => TaskState::Snoozed {
                    until: *until,
                    reason: reason.clone(),
                    by: u.by.clone(),
                    at: u.at,
                },
                TaskChange::Reopened => TaskState::Open,
            };
        }
        state
    }

    /// The state on `today`: a snooze ends on its day.
    pub fn current(&self, today: NaiveDate) -> TaskState {
        match self {
            TaskState::Snoozed { until, .. } if *until <= today => TaskState::Open,
            other => other.clone(),
        }
    }
}

/// Where a task stands on a day, for sorting and for the words beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TaskStatus {
    /// A deadline that has passed without being marked done.
    Overdue,
    /// Due today or later.
    Open,
    Snoozed,
    Done,
    /// An appointment whose day has passed, or a meeting recorded on the timeline (held).
    Past,
}

/// A task on a case, with its state on a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseTask {
    pub key: TaskKey,
    pub case_id: CaseId,
    pub kind: TaskKind,
    pub kind_label: &'static str,
    pub title: String,
    pub due: NaiveDate,
    /// The time of day, for a meeting planned or recorded at one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<NaiveTime>,
    /// Days from today to `due` (negative when past).
    pub days_left: i64,
    pub appointment: bool,
    /// Where the date comes from (a statute for a legal-status reminder).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub status: TaskStatus,
    #[serde(flatten)]
    pub state: TaskState,
}

impl CaseTask {
    /// Due within `days` of today and still to do (overdue deadlines included).
    pub fn is_due_within(&self, days: i64) -> bool {
        matches!(self.status, TaskStatus::Open | TaskStatus::Overdue) && self.days_left <= days
    }
}

/// Everything on a case that can be a task, as the store reads it.
#[derive(Debug, Clone, Copy)]
pub struct TaskSources<'a> {
    pub case_id: CaseId,
    /// The case's timeline entries (deleted ones left out).
    pub activities: &'a [(ActivityId, Activity)],
    /// The client's legal-status history.
    pub legal_history: &'a [(LegalEventId, LegalEvent)],
    /// The rules engine's reminders for the client today.
    pub reminders: &'a [Reminder],
    /// Tasks added by hand on the case.
    pub manual: &'a [(TaskId, Task)],
}

/// The date an activity promises, if any, as a task: (kind, title, due).
pub fn activity_task(activity: &Activity) -> Option<(TaskKind, String, NaiveDate)> {
    let on_its_day = activity.at.date();
    match &activity.kind {
        ActivityKind::Concern {
            raised_with,
            response_due: Some(due),
            response: None,
        } => Some((
            TaskKind::ConcernResponse,
            format!(
                "Response due to the concern raised with {}",
                raised_with.trim()
            ),
            *due,
        )),
        ActivityKind::RecordsRequest {
            record_holder,
            seen_on: Some(on),
            ..
        } => Some((
            TaskKind::RecordsInspection,
            format!("Records inspection: {}", record_holder.trim()),
            *on,
        )),
        ActivityKind::Tribunal {
            hearing_on: Some(on),
            ..
        } => Some((TaskKind::TribunalHearing, "Tribunal hearing".into(), *on)),
        ActivityKind::ManagersHearing {
            hearing_on: Some(on),
            ..
        } => Some((
            TaskKind::ManagersHearing,
            "Hospital managers' hearing".into(),
            *on,
        )),
        ActivityKind::WardRound { .. } => {
            Some((TaskKind::WardRound, "Ward round".into(), on_its_day))
        }
        ActivityKind::CpaReview { .. } => {
            Some((TaskKind::CpaReview, "CPA review".into(), on_its_day))
        }
        _ => None,
    }
}

/// Every task on a case on `today`: computed from the sources, with the state their updates
/// (oldest first) leave them in. Sorted by due date.
pub fn case_tasks(
    sources: TaskSources<'_>,
    updates: &[TaskUpdate],
    today: NaiveDate,
) -> Vec<CaseTask> {
    struct Found {
        key: TaskKey,
        kind: TaskKind,
        title: String,
        due: NaiveDate,
        time: Option<NaiveTime>,
        source: Option<String>,
        /// A record of a meeting that took place (a ward round, a CPA review, records seen):
        /// the timeline holds only things that have happened, so on or before today it is held.
        record: bool,
    }
    let mut found: Vec<Found> = Vec::new();
    for (id, a) in sources.activities {
        if a.case_id != sources.case_id {
            continue;
        }
        if let Some((kind, title, due)) = activity_task(a) {
            let time = (due == a.at.date()).then(|| a.at.time());
            let record = matches!(
                kind,
                TaskKind::WardRound | TaskKind::CpaReview | TaskKind::RecordsInspection
            );
            found.push(Found {
                key: TaskKey::Activity(*id),
                kind,
                title,
                due,
                time,
                source: None,
                record,
            });
        }
    }
    for (id, e) in sources.legal_history {
        let (kind, title) = match e.kind {
            LegalEventKind::TribunalHearing { .. } => {
                (TaskKind::TribunalHearing, "Tribunal hearing")
            }
            LegalEventKind::ManagersHearing { .. } => {
                (TaskKind::ManagersHearing, "Hospital managers' hearing")
            }
            _ => continue,
        };
        found.push(Found {
            key: TaskKey::LegalEvent(*id),
            kind,
            title: title.into(),
            due: e.on,
            time: None,
            source: None,
            record: false,
        });
    }
    for r in sources.reminders {
        found.push(Found {
            key: TaskKey::Reminder {
                kind: r.kind,
                due: r.due,
            },
            kind: TaskKind::LegalStatus,
            title: r.text.clone(),
            due: r.due,
            time: None,
            source: Some(r.source.clone()),
            record: false,
        });
    }
    for (id, t) in sources.manual {
        if t.case_id == sources.case_id {
            found.push(Found {
                key: TaskKey::Manual(*id),
                kind: t.kind.task_kind(),
                title: t.title.trim().to_owned(),
                due: t.due,
                time: t.time,
                source: None,
                record: false,
            });
        }
    }
    let mut out: Vec<CaseTask> = found
        .into_iter()
        .map(
            |Found {
                 key,
                 kind,
                 title,
                 due,
                 time,
                 source,
                 record,
             }| {
                let state = TaskState::after(
                    updates
                        .iter()
                        .filter(|u| u.key == key && u.case_id == sources.case_id),
                )
                .current(today);
                let days_left = (due - today).num_days();
                let status = match &state {
                    TaskState::Done { .. } => TaskStatus::Done,
                    TaskState::Snoozed { .. } => TaskStatus::Snoozed,
                    TaskState::Open if record && days_left <= 0 => TaskStatus::Past,
                    TaskState::Open if days_left >= 0 => TaskStatus::Open,
                    TaskState::Open if kind.is_appointment() => TaskStatus::Past,
                    TaskState::Open => TaskStatus::Overdue,
                };
                CaseTask {
                    key,
                    case_id: sources.case_id,
                    kind,
                    kind_label: kind.label(),
                    title,
                    due,
                    time,
                    days_left,
                    appointment: kind.is_appointment(),
                    source,
                    status,
                    state,
                }
            },
        )
        .collect();
    out.sort_by(|a, b| (a.due, a.time, a.kind, &a.title).cmp(&(b.due, b.time, b.kind, &b.title)));
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::{ClientId, StatusCode};
    use chrono::NaiveDateTime;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").unwrap()
    }

    fn instant(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn activity(case: CaseId, when: &str, kind: ActivityKind) -> Activity {
        Activity {
            case_id: case,
            at: at(when),
            duration_minutes: None,
            kind,
            withheld: None,
        }
    }

    fn concern(case: CaseId, due: Option<&str>, response: Option<&str>) -> Activity {
        activity(
            case,
            "2026-11-20T10:00",
            ActivityKind::Concern {
                raised_with: "Ward manager".into(),
                response_due: due.map(d),
                response: response.map(str::to_owned),
            },
        )
    }

    fn update(case: CaseId, key: TaskKey, change: TaskChange, when: &str) -> TaskUpdate {
        TaskUpdate {
            case_id: case,
            key,
            change,
            by: "Ann Advocate".into(),
            at: instant(when),
        }
    }

    fn tasks(
        case: CaseId,
        activities: &[(ActivityId, Activity)],
        updates: &[TaskUpdate],
        today: &str,
    ) -> Vec<CaseTask> {
        case_tasks(
            TaskSources {
                case_id: case,
                activities,
                legal_history: &[],
                reminders: &[],
                manual: &[],
            },
            updates,
            d(today),
        )
    }

    #[test]
    fn a_concern_with_a_response_due_date_is_a_task_until_its_response_is_recorded() {
        let case = CaseId::new_random();
        let id = ActivityId::new_random();
        let open = tasks(
            case,
            &[(id, concern(case, Some("2026-12-04"), None))],
            &[],
            "2026-12-01",
        );
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].key, TaskKey::Activity(id));
        assert_eq!(open[0].kind, TaskKind::ConcernResponse);
        assert_eq!(open[0].due, d("2026-12-04"));
        assert_eq!(open[0].days_left, 3);
        assert_eq!(open[0].status, TaskStatus::Open);
        assert!(open[0].is_due_within(14));
        assert!(!open[0].is_due_within(2));
        let answered = concern(case, Some("2026-12-04"), Some("They agreed to review it"));
        assert!(tasks(case, &[(id, answered)], &[], "2026-12-01").is_empty());
        let undated = concern(case, None, None);
        assert!(tasks(case, &[(id, undated)], &[], "2026-12-01").is_empty());
    }

    #[test]
    fn a_deadline_passed_is_overdue_but_a_hearing_passed_is_over() {
        let case = CaseId::new_random();
        let (c, h) = (ActivityId::new_random(), ActivityId::new_random());
        let hearing = activity(
            case,
            "2026-11-01T09:00",
            ActivityKind::Tribunal {
                hearing_on: Some(d("2026-11-25")),
                outcome: None,
            },
        );
        let all = tasks(
            case,
            &[(c, concern(case, Some("2026-11-27"), None)), (h, hearing)],
            &[],
            "2026-12-01",
        );
        let status = |k: TaskKey| all.iter().find(|t| t.key == k).unwrap().status;
        assert_eq!(status(TaskKey::Activity(h)), TaskStatus::Past);
        assert_eq!(status(TaskKey::Activity(c)), TaskStatus::Overdue);
        assert!(
            all.iter()
                .find(|t| t.key == TaskKey::Activity(c))
                .unwrap()
                .is_due_within(14)
        );
        assert!(
            !all.iter()
                .find(|t| t.key == TaskKey::Activity(h))
                .unwrap()
                .is_due_within(14)
        );
    }

    #[test]
    fn done_snoozed_and_reopened_follow_the_latest_update_and_a_snooze_ends_on_its_day() {
        let case = CaseId::new_random();
        let id = ActivityId::new_random();
        let key = TaskKey::Activity(id);
        let acts = [(id, concern(case, Some("2026-12-04"), None))];
        let done = update(case, key, TaskChange::Done, "2026-12-01T10:00:00Z");
        let t = &tasks(case, &acts, std::slice::from_ref(&done), "2026-12-01")[0];
        assert_eq!(t.status, TaskStatus::Done);
        assert_eq!(
            t.state,
            TaskState::Done {
                by: "Ann Advocate".into(),
                at: instant("2026-12-01T10:00:00Z")
            }
        );
        assert!(!t.is_due_within(14));
        let reopened = update(case, key, TaskChange::Reopened, "2026-12-01T11:00:00Z");
        let snoozed = update(
            case,
            key,
            TaskChange::Snoozed {
                until: d("2026-12-03"),
                reason: "Ward manager on leave".into(),
            },
            "2026-12-01T12:00:00Z",
        );
        let history = [done.clone(), reopened.clone(), snoozed];
        assert_eq!(
            tasks(case, &acts, &history, "2026-12-02")[0].status,
            TaskStatus::Snoozed
        );
        assert_eq!(
            tasks(case, &acts, &history, "2026-12-03")[0].status,
            TaskStatus::Open
        );
        assert_eq!(
            tasks(case, &acts, &[done, reopened], "2026-12-02")[0].status,
            TaskStatus::Open
        );
        // Another case's update of the same source does not count here.
        let elsewhere = update(
            CaseId::new_random(),
            key,
            TaskChange::Done,
            "2026-12-01T10:00:00Z",
        );
        assert_eq!(
            tasks(case, &acts, &[elsewhere], "2026-12-02")[0].status,
            TaskStatus::Open
        );
    }

    #[test]
    fn a_ward_round_on_the_timeline_is_held_not_to_do() {
        let case = CaseId::new_random();
        let id = ActivityId::new_random();
        let round = activity(
            case,
            "2026-12-01T09:30",
            ActivityKind::WardRound {
                points_raised: vec![],
                response: None,
            },
        );
        let t = &tasks(case, &[(id, round)], &[], "2026-12-01")[0];
        assert_eq!((t.kind, t.status), (TaskKind::WardRound, TaskStatus::Past));
        assert_eq!(t.time, NaiveTime::from_hms_opt(9, 30, 0));
        assert!(!t.is_due_within(14));
    }

    #[test]
    fn changes_that_make_no_sense_for_the_state_are_refused() {
        let case = CaseId::new_random();
        let key = TaskKey::Manual(TaskId::new_random());
        let today = d("2026-12-01");
        let done = TaskState::Done {
            by: "Ann".into(),
            at: instant("2026-12-01T10:00:00Z"),
        };
        let u = |change| update(case, key, change, "2026-12-01T10:00:00Z");
        assert!(u(TaskChange::Done).check(&done, today).is_err());
        assert!(u(TaskChange::Reopened).check(&done, today).is_ok());
        assert!(
            u(TaskChange::Reopened)
                .check(&TaskState::Open, today)
                .is_err()
        );
        let snooze = |until: &str| {
            u(TaskChange::Snoozed {
                until: d(until),
                reason: "Solicitor away".into(),
            })
        };
        assert!(snooze("2026-12-01").check(&TaskState::Open, today).is_err());
        assert!(snooze("2026-12-02").check(&TaskState::Open, today).is_ok());
        assert!(snooze("2026-12-02").check(&done, today).is_err());
        let no_reason = u(TaskChange::Snoozed {
            until: d("2026-12-02"),
            reason: "  ".into(),
        });
        assert!(no_reason.validate().is_err());
    }

    #[test]
    fn every_dated_field_hearings_in_the_history_reminders_and_hand_added_tasks_are_tasks() {
        let case = CaseId::new_random();
        let client = ClientId::new_random();
        let acts: Vec<(ActivityId, Activity)> = vec![
            (
                ActivityId::new_random(),
                activity(
                    case,
                    "2026-11-20T10:00",
                    ActivityKind::RecordsRequest {
                        record_holder: "Riverside records office".into(),
                        basis: crate::RecordsBasis::PatientConsent,
                        records_requested: None,
                        seen_on: Some(d("2026-12-08")),
                        what_was_seen: None,
                        withhold_from_patient: false,
                    },
                ),
            ),
            (
                ActivityId::new_random(),
                activity(
                    case,
                    "2026-12-02T14:00",
                    ActivityKind::CpaReview {
                        points_raised: vec![],
                        response: None,
                    },
                ),
            ),
            (
                ActivityId::new_random(),
                activity(
                    case,
                    "2026-12-03T09:30",
                    ActivityKind::WardRound {
                        points_raised: vec![],
                        response: None,
                    },
                ),
            ),
            (
                ActivityId::new_random(),
                activity(
                    case,
                    "2026-11-30T09:30",
                    ActivityKind::ManagersHearing {
                        hearing_on: Some(d("2026-12-10")),
                        outcome: None,
                    },
                ),
            ),
            (
                ActivityId::new_random(),
                activity(case, "2026-11-30T09:30", ActivityKind::Other),
            ),
        ];
        let hearing = LegalEventId::new_random();
        let history = vec![
            (
                LegalEventId::new_random(),
                LegalEvent {
                    client_id: client,
                    on: d("2026-11-01"),
                    kind: LegalEventKind::StatusStarted {
                        status: StatusCode::S3,
                    },
                    note: None,
                },
            ),
            (
                hearing,
                LegalEvent {
                    client_id: client,
                    on: d("2026-12-15"),
                    kind: LegalEventKind::TribunalHearing { outcome: None },
                    note: None,
                },
            ),
        ];
        let reminder = Reminder {
            kind: ReminderKind::RenewalDue,
            due: d("2026-12-20"),
            days_left: 19,
            text: "Section 3 renewal due by 20 Dec 2026".into(),
            source: "MHA 1983 s. 20".into(),
            guidance: crate::rules::GUIDANCE,
        };
        let manual_id = TaskId::new_random();
        let manual = vec![(
            manual_id,
            Task {
                case_id: case,
                title: "Call the solicitor back".into(),
                due: d("2026-12-01"),
                kind: PlannedKind::Task,
                time: None,
            },
        )];
        let all = case_tasks(
            TaskSources {
                case_id: case,
                activities: &acts,
                legal_history: &history,
                reminders: std::slice::from_ref(&reminder),
                manual: &manual,
            },
            &[],
            d("2026-12-01"),
        );
        let kinds: Vec<(TaskKind, NaiveDate)> = all.iter().map(|t| (t.kind, t.due)).collect();
        assert_eq!(
            kinds,
            vec![
                (TaskKind::Manual, d("2026-12-01")),
                (TaskKind::CpaReview, d("2026-12-02")),
                (TaskKind::WardRound, d("2026-12-03")),
                (TaskKind::RecordsInspection, d("2026-12-08")),
                (TaskKind::ManagersHearing, d("2026-12-10")),
                (TaskKind::TribunalHearing, d("2026-12-15")),
                (TaskKind::LegalStatus, d("2026-12-20")),
            ]
        );
        assert_eq!(all[0].key, TaskKey::Manual(manual_id));
        assert_eq!(all[5].key, TaskKey::LegalEvent(hearing));
        assert_eq!(all[6].source.as_deref(), Some("MHA 1983 s. 20"));
        assert!(all.iter().all(|t| t.status == TaskStatus::Open));
    }

    #[test]
    fn task_keys_round_trip_as_text_and_nonsense_is_refused() {
        let keys = [
            TaskKey::Activity(ActivityId::new_random()),
            TaskKey::LegalEvent(LegalEventId::new_random()),
            TaskKey::Manual(TaskId::new_random()),
            TaskKey::Reminder {
                kind: ReminderKind::TribunalWindowCloses,
                due: d("2027-04-27"),
            },
        ];
        for k in keys {
            assert_eq!(k.to_string().parse::<TaskKey>().unwrap(), k);
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(serde_json::from_str::<TaskKey>(&json).unwrap(), k);
        }
        for bad in [
            "",
            "activity",
            "activity:nope",
            "reminder:expiry",
            "reminder:x:2026-01-01",
            "note:1",
        ] {
            assert!(bad.parse::<TaskKey>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_hand_added_task_needs_words() {
        let case = CaseId::new_random();
        let t = |title: &str| Task {
            case_id: case,
            title: title.into(),
            due: d("2026-12-01"),
            kind: PlannedKind::default(),
            time: None,
        };
        assert!(t("Call the solicitor back").validate().is_ok());
        assert!(t("   ").validate().is_err());
        assert!(t(&"x".repeat(MAX_TITLE_CHARS + 1)).validate().is_err());
    }
}
