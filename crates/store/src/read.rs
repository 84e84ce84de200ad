//! Reads for the shells. Reads that show a case, a client or a note's history, and searches,
//! write an audit entry first: if that cannot be written, nothing is shown.

use crate::error::{Result, StoreError};
use crate::open::Store;
use crate::write::{Entity, Record, Scope, issues_of, load_json};
use chrono::NaiveDate;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use uuid::Uuid;
use wardside_domain::case::{CaseFlag, FlagPolicy, case_flags};
use wardside_domain::rules::{
    Eligibility, EligibilityQuery, Jurisdiction, Reminder, Rules, Treatment,
};
use wardside_domain::*;

/// A stored record with its id.
#[derive(Debug, Clone, Serialize)]
pub struct Stored<I, T> {
    pub id: I,
    #[serde(flatten)]
    pub record: T,
}

#[derive(Debug, Clone, Default)]
pub struct CaseloadFilter {
    pub hospital: Option<String>,
    pub ward: Option<String>,
    pub status: Option<StatusCode>,
    pub advocate: Option<AdvocateId>,
    pub include_closed: bool,
    /// When an open case is flagged for a second look.
    pub flag_policy: FlagPolicy,
    /// Part of a name, an NHS number or a hospital number (see [`Client::matches`]).
    pub name: Option<String>,
    /// Only this store's own advocate's cases (see `Store::own_advocates`).
    pub mine: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseloadRow {
    pub case_id: CaseId,
    pub client_id: ClientId,
    pub name: String,
    pub hospital: Option<String>,
    pub ward: Option<String>,
    pub status: Option<StatusCode>,
    pub status_since: Option<NaiveDate>,
    pub opened_on: NaiveDate,
    pub closed_on: Option<NaiveDate>,
    pub advocate_id: Option<AdvocateId>,
    pub last_activity: Option<String>,
    /// Open long, or quiet: see [`wardside_domain::case::case_flags`].
    pub flags: Vec<CaseFlag>,
    /// Under 18 today (s131A, s58A): see [`Client::is_under_18_on`].
    pub under_18: bool,
}

/// The caseload's reminders: upcoming soonest first; past due most recent first.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DueList {
    pub upcoming: Vec<DueReminder>,
    pub past_due: Vec<DueReminder>,
    pub past_due_total: usize,
}

/// What the caseload can be filtered by.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CaseloadFacets {
    pub hospitals: Vec<String>,
    pub wards: Vec<Place>,
    pub advocates: Vec<Stored<AdvocateId, Advocate>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Place {
    pub hospital: String,
    pub ward: String,
}

/// A reminder on one of the caseload's open cases.
#[derive(Debug, Clone, Serialize)]
pub struct DueReminder {
    pub case_id: CaseId,
    pub client_id: ClientId,
    pub name: String,
    #[serde(flatten)]
    pub reminder: Reminder,
}

#[derive(Debug, Clone, Serialize)]
pub struct CurrentStatus {
    pub status: StatusCode,
    pub since: NaiveDate,
    pub label: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct TimelineEntry {
    pub id: ActivityId,
    pub kind_label: &'static str,
    #[serde(flatten)]
    pub activity: Activity,
    /// The current text of the note.
    pub text: String,
    /// How many saves the note has had; more than one means it was amended.
    pub versions: u32,
    pub last_saved_at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClientView {
    pub client: Stored<ClientId, Client>,
    pub current_status: Option<CurrentStatus>,
    pub legal_history: Vec<Stored<LegalEventId, LegalEvent>>,
    pub relatives: Vec<Stored<RelativeId, Relative>>,
    pub consents: Vec<Stored<ConsentId, Consent>>,
    pub referrals: Vec<Stored<ReferralId, Referral>>,
    pub cases: Vec<Stored<CaseId, Case>>,
}

/// What the rules engine says about a case today: IMHA eligibility and the reminders, each
/// labelled as guidance.
#[derive(Debug, Clone, Serialize)]
pub struct Guidance {
    pub eligibility: Eligibility,
    pub reminders: Vec<Reminder>,
}

/// Everything on a case, the timeline in order.
#[derive(Debug, Clone, Serialize)]
pub struct CaseView {
    pub case: Stored<CaseId, Case>,
    pub client: Stored<ClientId, Client>,
    pub current_status: Option<CurrentStatus>,
    pub legal_history: Vec<Stored<LegalEventId, LegalEvent>>,
    pub relatives: Vec<Stored<RelativeId, Relative>>,
    pub consents: Vec<Stored<ConsentId, Consent>>,
    pub issues: Vec<Stored<IssueId, Issue>>,
    pub safeguarding: Vec<Stored<SafeguardingId, SafeguardingEvent>>,
    pub advocate: Option<Stored<AdvocateId, Advocate>>,
    pub timeline: Vec<TimelineEntry>,
    /// The person is under 18 today (s131A, s58A).
    pub under_18: bool,
    /// What the case's referral recorded on whether an informal patient is an in-patient
    /// (s. 130J): the case's eligibility answer uses it.
    #[serde(skip)]
    pub inpatient: Option<bool>,
    /// The referral the case was opened from (when, from whom, eligibility, out of area).
    pub referral: Option<Referral>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NoteVersion {
    pub version_id: NoteVersionId,
    pub parents: Vec<NoteVersionId>,
    pub body: String,
    pub reason: Option<String>,
    pub author: String,
    pub saved_at: String,
    pub hlc: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub at: String,
    pub actor: String,
    pub device_id: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
}

/// One entry of the op log, as the sync issue will read it.
#[derive(Debug, Clone, Serialize)]
pub struct OpRecord {
    pub seq: i64,
    pub op_id: String,
    pub device_id: String,
    pub device_seq: i64,
    pub hlc: String,
    pub entity: String,
    pub entity_id: String,
    pub kind: String,
    pub field: Option<String>,
    pub payload: serde_json::Value,
}

/// Eligibility from a legal-status history: the status on `on` (none recorded: informal) and
/// the age from the date of birth.
fn eligibility_from(
    rules: &Rules,
    client: &Client,
    events: &[LegalEvent],
    on: NaiveDate,
    considering: Option<Treatment>,
    jurisdiction: Jurisdiction,
    inpatient: Option<bool>,
) -> Result<Eligibility> {
    let status = wardside_domain::legal::status_on(events, on)
        .map(|(s, _)| s)
        .unwrap_or(StatusCode::Informal);
    Ok(rules.eligibility(&EligibilityQuery {
        status,
        on,
        age: client
            .dob
            .and_then(|dob| wardside_domain::client::age_on(dob, on)),
        considering,
        jurisdiction,
        inpatient,
    })?)
}

impl CaseView {
    /// Eligibility and reminders on `today`, recomputed from the legal-status history.
    pub fn guidance(
        &self,
        rules: &Rules,
        today: NaiveDate,
        jurisdiction: Jurisdiction,
    ) -> Result<Guidance> {
        let client = &self.client.record;
        let events: Vec<LegalEvent> = self
            .legal_history
            .iter()
            .map(|s| s.record.clone())
            .collect();
        let age = client
            .dob
            .and_then(|dob| wardside_domain::client::age_on(dob, today));
        Ok(Guidance {
            eligibility: eligibility_from(
                rules,
                client,
                &events,
                today,
                None,
                jurisdiction,
                self.inpatient,
            )?,
            reminders: rules.reminders(&events, today, age, jurisdiction),
        })
    }
}

pub(crate) fn parse_id<I: std::str::FromStr>(s: String) -> Result<I> {
    s.parse()
        .map_err(|_| StoreError::Corrupt("an id is not a UUID".into()))
}

pub(crate) fn parse_date(s: Option<String>) -> Option<NaiveDate> {
    s.and_then(|s| s.parse().ok())
}

impl Store {
    pub(crate) fn all_of<I: std::str::FromStr, R: Record>(
        &self,
        sql: &str,
        key: &str,
    ) -> Result<Vec<Stored<I, R>>> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map([key], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        rows.map(|row| {
            let (id, data) = row?;
            Ok(Stored {
                id: parse_id(id)?,
                record: serde_json::from_str(&data)?,
            })
        })
        .collect()
    }

    /// Read one record by id.
    pub fn get<R: Record>(&self, id: Uuid) -> Result<R> {
        Ok(serde_json::from_value(load_json(
            &self.conn,
            R::ENTITY,
            id,
        )?)?)
    }

    /// The status in force now, from the history.
    pub(crate) fn current_status(
        &self,
        history: &[Stored<LegalEventId, LegalEvent>],
    ) -> Option<CurrentStatus> {
        let events: Vec<LegalEvent> = history.iter().map(|s| s.record.clone()).collect();
        let today = self.clock.today();
        wardside_domain::legal::status_on(&events, today).map(|(status, since)| CurrentStatus {
            status,
            since,
            label: status.label(),
        })
    }

    pub(crate) fn legal_history(
        &self,
        client: &str,
    ) -> Result<Vec<Stored<LegalEventId, LegalEvent>>> {
        self.all_of(
            "SELECT id, data FROM legal_event WHERE client_id = ?1 ORDER BY on_date, rowid",
            client,
        )
    }

    /// The caseload: cases with their client, sorted by name. Open cases only unless asked.
    pub fn caseload(
        &self,
        filter: &CaseloadFilter,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<CaseloadRow>> {
        // Walk clients in name order and stop at the page: CROSS JOIN keeps SQLite from
        // scanning every case and sorting (44 ms on 10,000 clients; see docs/PERFORMANCE.md).
        // The current status is the latest status event, looked up per row by index.
        let mut stmt = self.conn.prepare_cached(
            "SELECT k.id, c.id, c.name, c.hospital, c.ward,
                    iif(s.event = 'ended', NULL, s.status), iif(s.event = 'ended', NULL, s.on_date),
                    k.opened_on, k.closed_on, k.advocate_id,
                    (SELECT max(a.at) FROM activity a WHERE a.case_id = k.id AND a.deleted = 0),
                    c.data ->> '$.dob'
             FROM client c CROSS JOIN kase k ON k.client_id = c.id
             LEFT JOIN legal_event s ON s.rowid = (
                 SELECT le.rowid FROM legal_event le
                 WHERE le.client_id = c.id AND le.event IN ('status-started', 'cto-revoked', 'ended')
                 ORDER BY le.on_date DESC, le.rowid DESC LIMIT 1)
             WHERE (?1 OR k.closed_on IS NULL)
               AND (?2 IS NULL OR c.hospital = ?2)
               AND (?3 IS NULL OR c.ward = ?3)
               AND (?4 IS NULL OR k.advocate_id = ?4)
               AND (?5 IS NULL OR (s.status = ?5 AND s.event <> 'ended'))
               AND (?8 IS NULL OR c.id IN (SELECT value FROM json_each(?8)))
               AND (NOT ?9 OR k.advocate_id IN (SELECT value FROM json_each(?10))
                    OR (k.advocate_id IS NULL AND EXISTS (
                        SELECT 1 FROM op o WHERE o.entity_id = k.id AND o.kind = 'create'
                          AND o.entity = 'case' AND o.device_id = ?11)))
             ORDER BY c.name COLLATE NOCASE, c.id, k.opened_on DESC
             LIMIT ?6 OFFSET ?7",
        )?;
        let (named, own) = self.filter_sets(filter)?;
        let rows = stmt.query_map(
            params![
                filter.include_closed,
                filter.hospital,
                filter.ward,
                filter.advocate.map(|a| a.to_string()),
                filter.status.map(|s| s.code()),
                limit as i64,
                offset as i64,
                named,
                filter.mine,
                own,
                self.device_id,
            ],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, String>(7)?,
                    r.get::<_, Option<String>>(8)?,
                    r.get::<_, Option<String>>(9)?,
                    r.get::<_, Option<String>>(10)?,
                    r.get::<_, Option<String>>(11)?,
                ))
            },
        )?;
        let today = self.clock.today();
        let mut out = Vec::new();
        for row in rows {
            let (
                case_id,
                client_id,
                name,
                hospital,
                ward,
                status,
                since,
                opened,
                closed,
                advocate,
                last,
                dob,
            ) = row?;
            let opened_on = parse_date(Some(opened))
                .ok_or_else(|| StoreError::Corrupt("case opening date".into()))?;
            let flags = if closed.is_none() {
                let last_day = last
                    .as_deref()
                    .and_then(|l| parse_date(l.get(..10).map(str::to_owned)));
                case_flags(opened_on, last_day, today, filter.flag_policy)
            } else {
                Vec::new()
            };
            out.push(CaseloadRow {
                case_id: parse_id(case_id)?,
                client_id: parse_id(client_id)?,
                name,
                hospital,
                ward,
                status: status.and_then(|s| s.parse().ok()),
                status_since: parse_date(since),
                opened_on,
                closed_on: parse_date(closed),
                advocate_id: advocate.map(parse_id).transpose()?,
                last_activity: last,
                flags,
                under_18: parse_date(dob)
                    .and_then(|d| wardside_domain::client::age_on(d, today))
                    .is_some_and(|age| age < 18),
            });
        }
        Ok(out)
    }

    /// Reminders due within `within_days` of `today` on the open cases that match the filter,
    /// soonest first, and the most recent `past_due_limit` of those already past due (with
    /// their total): what the caseload shows above the list. One pass over the legal-status
    /// histories; the rules engine decides each case.
    pub fn due_reminders(
        &self,
        filter: &CaseloadFilter,
        rules: &Rules,
        today: NaiveDate,
        jurisdiction: Jurisdiction,
        within_days: i64,
        past_due_limit: usize,
    ) -> Result<DueList> {
        // Cases by client; then the histories stream past one client at a time, so only one
        // history is in memory however large the caseload.
        let mut cases = self.conn.prepare_cached(
            "SELECT k.id, c.id, c.name, c.data ->> '$.dob' FROM kase k JOIN client c ON c.id = k.client_id
             WHERE k.closed_on IS NULL
               AND (?1 IS NULL OR c.hospital = ?1)
               AND (?2 IS NULL OR c.ward = ?2)
               AND (?3 IS NULL OR k.advocate_id = ?3)
               AND (?4 IS NULL OR c.id IN (SELECT value FROM json_each(?4)))
               AND (NOT ?5 OR k.advocate_id IN (SELECT value FROM json_each(?6))
                    OR (k.advocate_id IS NULL AND EXISTS (
                        SELECT 1 FROM op o WHERE o.entity_id = k.id AND o.kind = 'create'
                          AND o.entity = 'case' AND o.device_id = ?7)))",
        )?;
        let (named, own) = self.filter_sets(filter)?;
        type OpenCase = (String, String, Option<String>);
        let mut by_client: std::collections::HashMap<String, Vec<OpenCase>> =
            std::collections::HashMap::new();
        let rows = cases.query_map(
            params![
                filter.hospital,
                filter.ward,
                filter.advocate.map(|a| a.to_string()),
                named,
                filter.mine,
                own,
                self.device_id,
            ],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get(2)?,
                    r.get(3)?,
                ))
            },
        )?;
        for row in rows {
            let (case_id, client_id, name, dob) = row?;
            by_client
                .entry(client_id)
                .or_default()
                .push((case_id, name, dob));
        }
        let mut out = Vec::new();
        let mut remind = |client: &str, history: &[LegalEvent]| -> Result<()> {
            let Some(cases) = by_client.get(client) else {
                return Ok(());
            };
            if let Some(wanted) = filter.status {
                let now = wardside_domain::legal::status_on(history, today).map(|(s, _)| s);
                if now != Some(wanted) {
                    return Ok(());
                }
            }
            let client_id: ClientId = parse_id(client.to_owned())?;
            for (case_id, name, dob) in cases {
                let age =
                    parse_date(dob.clone()).and_then(|d| wardside_domain::client::age_on(d, today));
                let case_id: CaseId = parse_id(case_id.clone())?;
                for reminder in rules.reminders(history, today, age, jurisdiction) {
                    if reminder.days_left <= within_days {
                        out.push(DueReminder {
                            case_id,
                            client_id,
                            name: name.clone(),
                            reminder,
                        });
                    }
                }
            }
            Ok(())
        };
        let mut events = self.conn.prepare_cached(
            "SELECT client_id, data FROM legal_event
             WHERE client_id IN (SELECT client_id FROM kase WHERE closed_on IS NULL)
             ORDER BY client_id, on_date, rowid",
        )?;
        let mut current = String::new();
        let mut history: Vec<LegalEvent> = Vec::new();
        let rows =
            events.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (client, data) = row?;
            if client != current {
                remind(&current, &history)?;
                history.clear();
                current = client;
            }
            history.push(serde_json::from_str(&data)?);
        }
        remind(&current, &history)?;
        out.sort_by(|a, b| (a.reminder.due, &a.name).cmp(&(b.reminder.due, &b.name)));
        let split = out.partition_point(|r| r.reminder.days_left < 0);
        let upcoming = out.split_off(split);
        let past_due_total = out.len();
        out.reverse();
        out.truncate(past_due_limit);
        Ok(DueList {
            upcoming,
            past_due: out,
            past_due_total,
        })
    }

    /// The hospitals, wards and advocates on open cases, for the caseload's filters.
    pub fn caseload_facets(&self) -> Result<CaseloadFacets> {
        let mut places = self.conn.prepare_cached(
            "SELECT DISTINCT c.hospital, c.ward FROM kase k JOIN client c ON c.id = k.client_id
             WHERE k.closed_on IS NULL AND c.hospital IS NOT NULL ORDER BY 1, 2",
        )?;
        let places: Vec<(String, Option<String>)> = places
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let mut facets = CaseloadFacets::default();
        for (hospital, ward) in places {
            if facets.hospitals.last() != Some(&hospital) {
                facets.hospitals.push(hospital.clone());
            }
            if let Some(ward) = ward {
                facets.wards.push(Place { hospital, ward });
            }
        }
        let mut advocates = self
            .conn
            .prepare_cached("SELECT id, data FROM advocate ORDER BY data ->> '$.name'")?;
        let rows =
            advocates.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (id, data) = row?;
            facets.advocates.push(Stored {
                id: parse_id(id)?,
                record: serde_json::from_str(&data)?,
            });
        }
        Ok(facets)
    }

    /// Whether a client is a qualifying patient on `on`, from their recorded legal status and
    /// date of birth: what a referral records when it is added.
    pub fn eligibility_of(
        &self,
        client: ClientId,
        on: NaiveDate,
        considering: Option<Treatment>,
        inpatient: Option<bool>,
        rules: &Rules,
        jurisdiction: Jurisdiction,
    ) -> Result<Eligibility> {
        let record: Client = self.get(client.0)?;
        let events: Vec<LegalEvent> = self
            .legal_history(&client.to_string())?
            .into_iter()
            .map(|s| s.record)
            .collect();
        eligibility_from(
            rules,
            &record,
            &events,
            on,
            considering,
            jurisdiction,
            inpatient,
        )
    }

    /// Everything on a case, with an audit entry for the view.
    pub fn case_view(&mut self, id: CaseId) -> Result<CaseView> {
        let case: Case = self.get(id.0)?;
        self.write(|w| {
            w.audit_read(
                "view",
                Entity::Case,
                Some(id.0),
                Scope {
                    client: Some(case.client_id.0),
                    case: Some(id.0),
                },
            )
        })?;
        let client_key = case.client_id.to_string();
        let case_key = id.to_string();
        let legal_history = self.legal_history(&client_key)?;
        let advocate = match case.advocate_id {
            Some(a) => Some(Stored {
                id: a,
                record: self.get::<Advocate>(a.0)?,
            }),
            None => None,
        };
        let client: Client = self.get(case.client_id.0)?;
        let referral: Option<Referral> = match case.referral_id {
            Some(r) => self.get::<Referral>(r.0).ok(),
            None => None,
        };
        Ok(CaseView {
            inpatient: referral.as_ref().and_then(|r| r.inpatient),
            referral,
            under_18: client.is_under_18_on(self.clock.today()),
            client: Stored {
                id: case.client_id,
                record: client,
            },
            current_status: self.current_status(&legal_history),
            legal_history,
            relatives: self.all_of(
                "SELECT id, data FROM relative WHERE client_id = ?1 ORDER BY rowid",
                &client_key,
            )?,
            consents: self.all_of(
                "SELECT id, data FROM consent WHERE client_id = ?1 ORDER BY on_date, rowid",
                &client_key,
            )?,
            issues: issues_of(&self.conn, id)?
                .into_iter()
                .map(|(id, record)| Stored { id, record })
                .collect(),
            safeguarding: self.all_of(
                "SELECT id, data FROM safeguarding WHERE case_id = ?1 ORDER BY rowid",
                &case_key,
            )?,
            advocate,
            timeline: self.timeline(&case_key)?,
            case: Stored { id, record: case },
        })
    }

    pub(crate) fn timeline(&self, case_key: &str) -> Result<Vec<TimelineEntry>> {
        let mut stmt = self.conn.prepare_cached(
            // A head without parents is the only version: count the others only for amended notes.
            "SELECT a.id, a.data, nv.body, nv.saved_at,
                    iif(nv.parents = '[]', 1, (SELECT count(*) FROM note_version v WHERE v.note_id = a.id))
             FROM activity a LEFT JOIN note_version nv ON nv.rowid = a.head
             WHERE a.case_id = ?1 AND a.deleted = 0
             ORDER BY a.at, a.rowid",
        )?;
        let rows = stmt.query_map([case_key], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, u32>(4)?,
            ))
        })?;
        rows.map(|row| {
            let (id, data, body, saved, versions) = row?;
            let activity: Activity = serde_json::from_str(&data)?;
            Ok(TimelineEntry {
                id: parse_id(id)?,
                kind_label: activity.kind.code().label(),
                activity,
                text: body.unwrap_or_default(),
                versions,
                last_saved_at: saved,
            })
        })
        .collect()
    }

    /// A client and everything held about them outside cases, with an audit entry.
    pub fn client_view(&mut self, id: ClientId) -> Result<ClientView> {
        let client: Client = self.get(id.0)?;
        self.write(|w| {
            w.audit_read(
                "view",
                Entity::Client,
                Some(id.0),
                Scope {
                    client: Some(id.0),
                    case: None,
                },
            )
        })?;
        self.client_view_of(id, client)
    }

    /// A client and everything held about them outside cases (no audit entry: for callers
    /// that write their own).
    pub(crate) fn client_view_of(&self, id: ClientId, client: Client) -> Result<ClientView> {
        let key = id.to_string();
        let legal_history = self.legal_history(&key)?;
        Ok(ClientView {
            client: Stored { id, record: client },
            current_status: self.current_status(&legal_history),
            legal_history,
            relatives: self.all_of(
                "SELECT id, data FROM relative WHERE client_id = ?1 ORDER BY rowid",
                &key,
            )?,
            consents: self.all_of(
                "SELECT id, data FROM consent WHERE client_id = ?1 ORDER BY on_date, rowid",
                &key,
            )?,
            referrals: self.all_of(
                "SELECT id, data FROM referral WHERE client_id = ?1 ORDER BY rowid",
                &key,
            )?,
            cases: self.all_of(
                "SELECT id, data FROM kase WHERE client_id = ?1 ORDER BY opened_on, rowid",
                &key,
            )?,
        })
    }

    /// Every saved version of a note, oldest first, with an audit entry.
    pub fn note_history(&mut self, id: ActivityId) -> Result<Vec<NoteVersion>> {
        let activity: Activity = self.get(id.0)?;
        let case: Case = self.get(activity.case_id.0)?;
        self.write(|w| {
            w.audit_read(
                "view-history",
                Entity::Note,
                Some(id.0),
                Scope {
                    client: Some(case.client_id.0),
                    case: Some(activity.case_id.0),
                },
            )
        })?;
        self.versions_of_note(id)
    }

    /// Every saved version of a note, oldest first (no audit entry: for callers that write one).
    pub(crate) fn versions_of_note(&self, id: ActivityId) -> Result<Vec<NoteVersion>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT version_id, parents, body, reason, author, saved_at, hlc FROM note_version WHERE note_id = ?1 ORDER BY rowid",
        )?;
        let rows = stmt.query_map([id.to_string()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })?;
        rows.map(|row| {
            let (v, parents, body, reason, author, saved_at, hlc) = row?;
            Ok(NoteVersion {
                version_id: parse_id(v)?,
                parents: serde_json::from_str(&parents)?,
                body,
                reason,
                author,
                saved_at,
                hlc,
            })
        })
        .collect()
    }

    /// Who did what on a case, and on its client, oldest first (with an audit entry of its own).
    pub fn audit_for_case(&mut self, id: CaseId) -> Result<Vec<AuditEntry>> {
        let case: Case = self.get(id.0)?;
        self.write(|w| {
            w.audit_read(
                "view-audit",
                Entity::Case,
                Some(id.0),
                Scope {
                    client: Some(case.client_id.0),
                    case: Some(id.0),
                },
            )
        })?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT at, actor, device_id, action, entity, entity_id FROM audit
             WHERE case_id = ?1 OR (case_id IS NULL AND client_id = ?2) ORDER BY id",
        )?;
        let rows = stmt.query_map([id.to_string(), case.client_id.to_string()], |r| {
            Ok(AuditEntry {
                at: r.get(0)?,
                actor: r.get(1)?,
                device_id: r.get(2)?,
                action: r.get(3)?,
                entity: r.get(4)?,
                entity_id: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The op log after local sequence `after`, in order.
    pub fn ops_after(&self, after: i64, limit: usize) -> Result<Vec<OpRecord>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, op_id, device_id, device_seq, hlc, entity, entity_id, kind, field, payload FROM op WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![after, limit as i64], |r| {
            Ok((
                OpRecord {
                    seq: r.get(0)?,
                    op_id: r.get(1)?,
                    device_id: r.get(2)?,
                    device_seq: r.get(3)?,
                    hlc: r.get(4)?,
                    entity: r.get(5)?,
                    entity_id: r.get(6)?,
                    kind: r.get(7)?,
                    field: r.get(8)?,
                    payload: serde_json::Value::Null,
                },
                r.get::<_, String>(9)?,
            ))
        })?;
        rows.map(|row| {
            let (mut op, payload) = row?;
            op.payload = serde_json::from_str(&payload)?;
            Ok(op)
        })
        .collect()
    }

    /// Counts for a status line: clients, open cases, activities.
    pub fn counts(&self) -> Result<(i64, i64, i64)> {
        Ok(self.conn.query_row(
            "SELECT (SELECT count(*) FROM client), (SELECT count(*) FROM kase WHERE closed_on IS NULL), (SELECT count(*) FROM activity WHERE deleted = 0)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?)
    }

    /// The id of the open case of a client, if any.
    pub fn open_case_of(&self, client: ClientId) -> Result<Option<CaseId>> {
        let id: Option<String> = self
            .conn
            .prepare_cached(
                "SELECT id FROM kase WHERE client_id = ?1 AND closed_on IS NULL LIMIT 1",
            )?
            .query_row([client.to_string()], |r| r.get(0))
            .optional()?;
        id.map(parse_id).transpose()
    }
}
