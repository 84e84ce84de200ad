//! The one write path. Every change to the store is an op: it is applied to the tables, appended
//! to this device's op log with the next contiguous sequence number and a hybrid logical clock,
//! and recorded in the audit log — all in one transaction, or not at all.

use crate::clock::Hlc;
use crate::error::{Result, StoreError};
use crate::merge::{self, OpMeta};
use crate::open::Store;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;
use wardside_domain::activity::check_note_text;
use wardside_domain::case::check_can_close;
use wardside_domain::*;

/// Version of the op payloads this build writes; ops from a newer schema are kept, not dropped
/// (the sync issue builds on this).
pub const OP_SCHEMA_VERSION: i64 = 1;

/// What an op is about. The names are part of the op log's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Entity {
    Team,
    Advocate,
    Client,
    LegalEvent,
    Relative,
    Consent,
    Referral,
    Case,
    Issue,
    Safeguarding,
    Activity,
    Note,
    Amendment,
    /// A task added by hand (see [`wardside_domain::tasks`]).
    Task,
    /// Done, snoozed or reopened: a change to a task's state.
    TaskUpdate,
}

impl Entity {
    pub fn name(self) -> &'static str {
        match self {
            Entity::Team => "team",
            Entity::Advocate => "advocate",
            Entity::Client => "client",
            Entity::LegalEvent => "legal-event",
            Entity::Relative => "relative",
            Entity::Consent => "consent",
            Entity::Referral => "referral",
            Entity::Case => "case",
            Entity::Issue => "issue",
            Entity::Safeguarding => "safeguarding",
            Entity::Activity => "activity",
            Entity::Note => "note",
            Entity::Amendment => "amendment",
            Entity::Task => "task",
            Entity::TaskUpdate => "task-update",
        }
    }

    /// The entity a name in the op log stands for (`None` for one from a newer Wardside).
    pub fn parse(s: &str) -> Option<Entity> {
        serde_json::from_value(Value::String(s.to_owned())).ok()
    }

    pub(crate) fn table(self) -> &'static str {
        match self {
            Entity::Case => "kase",
            Entity::LegalEvent => "legal_event",
            Entity::Note => "note_version",
            Entity::TaskUpdate => "task_update",
            other => other.name(),
        }
    }
}

/// A domain record kept in an entity table.
pub trait Record: Serialize + DeserializeOwned + Validate {
    const ENTITY: Entity;
}

macro_rules! records {
    ($($t:ty => $e:ident),*) => {$(impl Record for $t { const ENTITY: Entity = Entity::$e; })*};
}
records!(Team => Team, Advocate => Advocate, Client => Client, LegalEvent => LegalEvent, Relative => Relative,
    Consent => Consent, Referral => Referral, Case => Case, Issue => Issue, SafeguardingEvent => Safeguarding, Activity => Activity,
    Amendment => Amendment, wardside_domain::tasks::Task => Task,
    wardside_domain::tasks::TaskUpdate => TaskUpdate);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpKind {
    Create,
    Set,
    NoteVersion,
    /// A timeline entry taken off the timeline; payload `{"seen": hlc, "reason": ...}`.
    Delete,
    /// A deleted entry put back.
    Restore,
    /// A person's record moved to another team: the payload ([`TransferPayload`]) carries ops of
    /// the person's whole history, as their authors made them, for the new team's members.
    Transfer,
}

impl OpKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            OpKind::Create => "create",
            OpKind::Set => "set",
            OpKind::NoteVersion => "note-version",
            OpKind::Delete => "delete",
            OpKind::Restore => "restore",
            OpKind::Transfer => "transfer",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<OpKind> {
        [
            OpKind::Create,
            OpKind::Set,
            OpKind::NoteVersion,
            OpKind::Delete,
            OpKind::Restore,
            OpKind::Transfer,
        ]
        .into_iter()
        .find(|k| k.name() == s)
    }
}

#[derive(Debug)]
pub(crate) struct Op {
    pub entity: Entity,
    pub entity_id: Uuid,
    pub kind: OpKind,
    pub field: Option<String>,
    pub payload: Value,
}

/// Payload of a `note-version` op: one immutable save of a note.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct NoteVersionPayload {
    pub version_id: Uuid,
    pub note_id: Uuid,
    pub parents: Vec<Uuid>,
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub author: String,
    pub saved_at: String,
}

/// Payload of a `transfer` op: part of a person's history, moved to the team `to`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TransferPayload {
    pub to: Uuid,
    pub ops: Vec<TransferredOp>,
}

/// One op of a moved history, as its author made it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TransferredOp {
    pub op_id: Uuid,
    pub device_id: Uuid,
    pub device_seq: u64,
    pub hlc: String,
    pub entity: String,
    pub entity_id: Uuid,
    pub schema_v: i64,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub payload: Value,
    pub actor: String,
}

/// The most history one `transfer` op carries (its sealed size stays far below an op's limit).
const TRANSFER_BYTES: usize = 256 * 1024;

/// Where an audit entry points, so a case's audit view finds it.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Scope {
    pub client: Option<Uuid>,
    pub case: Option<Uuid>,
}

/// A write transaction. Obtain one with [`Store::write`]; everything done through it commits
/// together when the closure returns `Ok`.
#[derive(Debug)]
pub struct Writer<'s> {
    pub(crate) tx: Transaction<'s>,
    device_id: &'s str,
    actor: &'s str,
    hlc: Hlc,
    next_seq: i64,
    now: DateTime<Utc>,
    clock: crate::clock::Clock,
    /// The service's clock minus ours at the last sync: new ops are stamped on its time, so a
    /// laptop whose clock is days out does not win (or lose) every merge.
    clock_offset_ms: i64,
    /// The teams this device belongs to, by its trust log (`None` before it is enrolled): a
    /// change about a person whose record another team holds is refused.
    teams: Option<Vec<Uuid>>,
    /// Where the next op goes when its routing is decided by the caller (a move between teams).
    route_to: Option<Uuid>,
}

impl Store {
    /// Run `f` in one immediate transaction and commit if it succeeds.
    pub fn write<T>(&mut self, f: impl FnOnce(&mut Writer<'_>) -> Result<T>) -> Result<T> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let hlc = tx
            .query_row("SELECT value FROM meta WHERE key = 'hlc'", [], |r| {
                r.get::<_, String>(0)
            })
            .optional()?
            .and_then(|s| Hlc::decode(&s))
            .unwrap_or_default();
        let next_seq = tx.query_row(
            "SELECT coalesce(max(device_seq), 0) + 1 FROM op WHERE device_id = ?1",
            [&self.device_id],
            |r| r.get(0),
        )?;
        let clock_offset_ms = tx
            .prepare_cached("SELECT value FROM meta WHERE key = 'clock_offset_ms'")?
            .query_row([], |r| r.get::<_, String>(0))
            .optional()?
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let teams = tx
            .prepare_cached("SELECT value FROM meta WHERE key = 'sync_config'")?
            .query_row([], |r| r.get::<_, String>(0))
            .optional()?
            .and_then(|s| serde_json::from_str::<crate::sync::SyncConfig>(&s).ok())
            .map(|c| c.teams)
            .filter(|t| !t.is_empty());
        let mut w = Writer {
            tx,
            device_id: &self.device_id,
            actor: &self.actor,
            hlc,
            next_seq,
            now: self.clock.now(),
            clock: self.clock,
            clock_offset_ms,
            teams,
            route_to: None,
        };
        let out = f(&mut w)?;
        // A transaction that only audited a read did not tick the clock: leave its page alone.
        if w.hlc != hlc {
            w.tx.execute("INSERT INTO meta (key, value) VALUES ('hlc', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [w.hlc.encode(w.device_id)])?;
        }
        w.tx.commit()?;
        Ok(out)
    }
}

fn not_found(what: &'static str, id: impl ToString) -> StoreError {
    StoreError::NotFound {
        what,
        id: id.to_string(),
    }
}

impl Writer<'_> {
    /// Who is writing (the advocate's name this store was set up with).
    pub(crate) fn actor(&self) -> &str {
        self.actor
    }

    /// The injected clock's "now" and "today" (UK local).
    pub(crate) fn clock(&self) -> crate::clock::Clock {
        self.clock
    }

    // ---- the single place where changes happen ----

    /// The team an op goes to: the team holding the person it is about (for a new person, the
    /// team named in the record), or this device's own (`None`). A person whose record another
    /// team holds cannot be changed here.
    fn route(&self, op: &Op, scope: Scope) -> Result<Option<Uuid>> {
        if let Some(team) = self.route_to {
            return Ok(Some(team));
        }
        let team = match scope.client {
            Some(_) if op.entity == Entity::Client && op.kind == OpKind::Create => op
                .payload
                .get("team")
                .and_then(Value::as_str)
                .map(str::to_owned),
            Some(client) => self
                .tx
                .prepare_cached("SELECT data ->> '$.team' FROM client WHERE id = ?1")?
                .query_row([client.to_string()], |r| r.get::<_, Option<String>>(0))
                .optional()?
                .flatten(),
            None => None,
        };
        // A person whose record names no team (made before teams, or on a laptop in one team)
        // stays with the team its record was first sent to, whatever this laptop's teams are now.
        let team = match (team, scope.client) {
            (Some(t), _) => Some(t),
            (None, Some(client)) => self.first_sent_to(client)?,
            (None, None) => None,
        };
        let Some(team) = team else {
            return Ok(None);
        };
        let team: Uuid = team
            .parse()
            .map_err(|_| StoreError::Corrupt("a person's team is not a UUID".into()))?;
        match &self.teams {
            Some(mine) if !mine.contains(&team) => Err(StoreError::Refused(
                "this person's record is kept by another team, which this laptop is not a member of: ask an admin to add it to that team, or a member of it to make the change".into(),
            )),
            _ => Ok(Some(team)),
        }
    }

    /// The team a person's record was first sent to: the team its creating op was sealed for
    /// (by this laptop, or by the laptop it came from), if it was sent yet.
    fn first_sent_to(&self, client: Uuid) -> Result<Option<String>> {
        Ok(self
            .tx
            .prepare_cached(
                "SELECT coalesce((SELECT s.team_id FROM own_seal s WHERE s.op_id = o.op_id),
                                 (SELECT e.team_id FROM op_envelope e WHERE e.op_id = o.op_id),
                                 o.team_id)
                 FROM op o WHERE o.entity = 'client' AND o.entity_id = ?1 AND o.kind = 'create'",
            )?
            .query_row([client.to_string()], |r| r.get::<_, Option<String>>(0))
            .optional()?
            .flatten())
    }

    pub(crate) fn commit(&mut self, op: Op, action: &str, scope: Scope) -> Result<()> {
        let team = self.route(&op, scope)?;
        let now_ms = u64::try_from(self.clock.now_ms() + self.clock_offset_ms).unwrap_or(0);
        self.hlc = self.hlc.tick(now_ms);
        let hlc = self.hlc.encode(self.device_id);
        // Time-ordered (v7): the op log's indexes grow at one end instead of everywhere. The
        // time is already in the HLC beside it, so nothing new is revealed.
        let op_id = Uuid::now_v7().to_string();
        self.tx
            .prepare_cached(
                "INSERT INTO op (op_id, device_id, device_seq, hlc, entity, entity_id, kind, field, payload, schema_v, team_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![
                op_id,
                self.device_id,
                self.next_seq,
                hlc,
                op.entity.name(),
                op.entity_id.to_string(),
                op.kind.name(),
                op.field,
                serde_json::to_string(&op.payload)?,
                OP_SCHEMA_VERSION,
                team.map(|t| t.to_string())
            ])?;
        // After the op row: deletes and restores read the log.
        let now = self.now.to_rfc3339();
        merge::apply(
            &self.tx,
            &op,
            OpMeta {
                op_id: &op_id,
                hlc: &hlc,
                device_id: self.device_id,
                local: true,
                server_seq: None,
                this_device: self.device_id,
                now: &now,
            },
        )?;
        self.next_seq += 1;
        self.audit_entry(action, op.entity, Some(op.entity_id), scope, Some(&op_id))
    }

    fn audit_entry(
        &mut self,
        action: &str,
        entity: Entity,
        id: Option<Uuid>,
        scope: Scope,
        op_id: Option<&str>,
    ) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO audit (at, device_id, actor, action, entity, entity_id, client_id, case_id, op_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                self.now.to_rfc3339(),
                self.device_id,
                self.actor,
                action,
                entity.name(),
                id.map(|u| u.to_string()),
                scope.client.map(|u| u.to_string()),
                scope.case.map(|u| u.to_string()),
                op_id
            ])?;
        Ok(())
    }

    /// An audit entry about no one record, saying what was done (a return was exported, a
    /// contract set): `detail` holds names of authorities, dates and choices, never plaintext
    /// about a person.
    pub(crate) fn audit_detail(
        &mut self,
        action: &str,
        entity: Entity,
        detail: &str,
    ) -> Result<()> {
        self.audit_entry(action, entity, None, Scope::default(), None)?;
        self.tx
            .prepare_cached("UPDATE audit SET detail = ?1 WHERE id = last_insert_rowid()")?
            .execute([detail])?;
        Ok(())
    }

    /// An audit entry for something that changed nothing: a case was viewed, notes were
    /// searched, a file was exported.
    pub(crate) fn audit_read(
        &mut self,
        action: &str,
        entity: Entity,
        id: Option<Uuid>,
        scope: Scope,
    ) -> Result<()> {
        self.audit_entry(action, entity, id, scope, None)
    }

    pub(crate) fn create<R: Record>(&mut self, rec: &R, scope: Scope) -> Result<Uuid> {
        rec.validate()?;
        rec.check_dates(self.clock.today())?;
        let id = Uuid::new_v4();
        let op = Op {
            entity: R::ENTITY,
            entity_id: id,
            kind: OpKind::Create,
            field: None,
            payload: serde_json::to_value(rec)?,
        };
        self.commit(op, "create", scope)?;
        Ok(id)
    }

    /// Replace a record with a changed copy: one `set` op per top-level field that differs, so
    /// concurrent edits of different fields on two devices both survive a merge.
    pub(crate) fn update<R: Record>(&mut self, id: Uuid, rec: &R, scope: Scope) -> Result<usize> {
        rec.validate()?;
        rec.check_dates(self.clock.today())?;
        let old = load_json(&self.tx, R::ENTITY, id)?;
        let new = serde_json::to_value(rec)?;
        let (Value::Object(old), Value::Object(new)) = (old, new) else {
            return Err(StoreError::Corrupt("record is not an object".into()));
        };
        let mut fields: Vec<&String> = old.keys().chain(new.keys()).collect();
        fields.sort();
        fields.dedup();
        let changed: Vec<(String, Value)> = fields
            .into_iter()
            .filter(|f| old.get(*f) != new.get(*f))
            .map(|f| (f.clone(), new.get(f).cloned().unwrap_or(Value::Null)))
            .collect();
        let n = changed.len();
        for (field, value) in changed {
            let op = Op {
                entity: R::ENTITY,
                entity_id: id,
                kind: OpKind::Set,
                field: Some(field),
                payload: value,
            };
            self.commit(op, "update", scope)?;
        }
        Ok(n)
    }

    pub(crate) fn get<R: Record>(&self, id: Uuid) -> Result<R> {
        Ok(serde_json::from_value(load_json(&self.tx, R::ENTITY, id)?)?)
    }

    fn exists(&self, entity: Entity, id: Uuid) -> Result<bool> {
        let sql = format!("SELECT 1 FROM {} WHERE id = ?1", entity.table());
        Ok(self.tx.prepare_cached(&sql)?.exists([id.to_string()])?)
    }

    pub(crate) fn require(&self, entity: Entity, id: Uuid) -> Result<()> {
        if self.exists(entity, id)? {
            Ok(())
        } else {
            Err(not_found(entity.name(), id))
        }
    }

    fn open_case_of(&self, case: CaseId) -> Result<Case> {
        let c: Case = self.get(case.0)?;
        if c.closed.is_some() {
            return Err(StoreError::Refused(format!(
                "case {case} is closed; open a new case for new work"
            )));
        }
        Ok(c)
    }

    // ---- people and teams ----

    pub fn add_team(&mut self, team: &Team) -> Result<TeamId> {
        self.create(team, Scope::default()).map(TeamId)
    }

    /// The name of one of the organisation's sync teams, under the team's own id, sent to its
    /// members only.
    pub fn name_sync_team(&mut self, id: TeamId, team: &Team) -> Result<()> {
        team.validate()?;
        self.route_to = Some(id.0);
        let op = Op {
            entity: Entity::Team,
            entity_id: id.0,
            kind: OpKind::Create,
            field: None,
            payload: serde_json::to_value(team)?,
        };
        let done = self.commit(op, "create", Scope::default());
        self.route_to = None;
        done
    }

    pub fn add_advocate(&mut self, advocate: &Advocate) -> Result<AdvocateId> {
        if let Some(t) = advocate.team_id {
            self.require(Entity::Team, t.0)?;
        }
        self.create(advocate, Scope::default()).map(AdvocateId)
    }

    // ---- clients ----

    pub fn add_client(&mut self, client: &Client) -> Result<ClientId> {
        if let Some(dob) = client.dob {
            wardside_domain::client::check_dob(
                dob,
                wardside_domain::rules::period::uk_date_at(self.now),
            )?;
        }
        let id = Uuid::new_v4();
        client.validate()?;
        // An enrolled laptop names the team of every new person (its first, unless the record
        // names another), so where the record goes never depends on this laptop's teams later.
        let mut client = client.clone();
        if client.team.is_none()
            && let Some(teams) = self.teams.as_ref()
        {
            client.team = teams.first().copied().map(TeamId);
        }
        let op = Op {
            entity: Entity::Client,
            entity_id: id,
            kind: OpKind::Create,
            field: None,
            payload: serde_json::to_value(&client)?,
        };
        self.commit(
            op,
            "create",
            Scope {
                client: Some(id),
                case: None,
            },
        )?;
        Ok(ClientId(id))
    }

    /// Change a person's details. Their team is not one of them: it changes only by
    /// [`Writer::move_client`] (an edit that does not name it leaves it as it is).
    pub fn update_client(&mut self, id: ClientId, client: &Client) -> Result<usize> {
        let current: Client = self.get(id.0)?;
        if let Some(dob) = client.dob {
            wardside_domain::client::check_dob(
                dob,
                wardside_domain::rules::period::uk_date_at(self.now),
            )?;
        }
        let client = Client {
            team: current.team,
            ..client.clone()
        };
        self.update(
            id.0,
            &client,
            Scope {
                client: Some(id.0),
                case: None,
            },
        )
    }

    /// Move a person's record, with every case, note and entry on it, to another team of the
    /// organisation (this laptop must be a member of both). The old team is told it moved (its
    /// members keep what they hold, and their changes to it are refused from then on); the new
    /// team receives the whole history, as its authors made it, sealed under its own key; every
    /// change made after goes to the new team only. Returns how many ops were carried.
    pub fn move_client(&mut self, id: ClientId, to: TeamId) -> Result<usize> {
        let mut client: Client = self.get(id.0)?;
        if client.team == Some(to) {
            return Err(StoreError::Refused(
                "this person's record is already kept by that team".into(),
            ));
        }
        if self
            .teams
            .as_ref()
            .is_some_and(|mine| !mine.contains(&to.0))
        {
            return Err(StoreError::Refused(
                "this laptop is not a member of that team: an admin adds it first".into(),
            ));
        }
        let scope = Scope {
            client: Some(id.0),
            case: None,
        };
        // Told to the old team (the change is routed by the team the record is in now).
        client.team = Some(to);
        self.update(id.0, &client, scope)?;
        // The whole history, oldest first, in parts, for the new team.
        let ops = self.history_of(id, None)?;
        self.carry(id, to, ops)
    }

    /// Ops of a person's history as their authors made them, oldest first: all of them, or only
    /// those named.
    fn history_of(&self, id: ClientId, only: Option<&[String]>) -> Result<Vec<TransferredOp>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT o.op_id, o.device_id, o.device_seq, o.hlc, o.entity, o.entity_id, o.schema_v, o.kind, o.field, o.payload,
                    coalesce(a.actor, '')
             FROM op o JOIN audit a ON a.op_id = o.op_id
             WHERE a.client_id = ?1 AND o.kind <> 'transfer' ORDER BY o.hlc, o.op_id",
        )?;
        let rows = stmt.query_map([id.0.to_string()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, i64>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, Option<String>>(8)?,
                r.get::<_, String>(9)?,
                r.get::<_, String>(10)?,
            ))
        })?;
        let uuid = |s: &str| {
            s.parse::<Uuid>()
                .map_err(|_| StoreError::Corrupt("an id in the op log is not a UUID".into()))
        };
        let mut out = Vec::new();
        for row in rows {
            let (op_id, device, seq, hlc, entity, entity_id, schema_v, kind, field, payload, actor) =
                row?;
            if only.is_some_and(|ids| !ids.contains(&op_id)) {
                continue;
            }
            out.push(TransferredOp {
                op_id: uuid(&op_id)?,
                device_id: uuid(&device)?,
                device_seq: seq.unsigned_abs(),
                hlc,
                entity,
                entity_id: uuid(&entity_id)?,
                schema_v,
                kind,
                field,
                payload: serde_json::from_str(&payload)?,
                actor,
            });
        }
        Ok(out)
    }

    /// Carry ops of a person's history to a team, in `transfer` ops of a bounded size.
    fn carry(&mut self, id: ClientId, to: TeamId, ops: Vec<TransferredOp>) -> Result<usize> {
        let scope = Scope {
            client: Some(id.0),
            case: None,
        };
        let carried = ops.len();
        let mut part: Vec<TransferredOp> = Vec::new();
        let mut size = 0usize;
        let mut parts = Vec::new();
        for op in ops {
            let n = serde_json::to_string(&op)?.len();
            if !part.is_empty() && size + n > TRANSFER_BYTES {
                parts.push(std::mem::take(&mut part));
                size = 0;
            }
            size += n;
            part.push(op);
        }
        parts.push(part);
        self.route_to = Some(to.0);
        for ops in parts {
            let op = Op {
                entity: Entity::Client,
                entity_id: id.0,
                kind: OpKind::Transfer,
                field: None,
                payload: serde_json::to_value(TransferPayload { to: to.0, ops })?,
            };
            let done = self.commit(op, "move", scope);
            if done.is_err() {
                self.route_to = None;
                return done.map(|()| 0);
            }
        }
        self.route_to = None;
        Ok(carried)
    }

    /// Carry on to the team that now holds each person the ops received through another team
    /// about them: written on a laptop of the old team before it heard of the move. A laptop in
    /// both teams does this at every sync (each op once), so the new team's members get them
    /// too. Returns how many ops were carried.
    pub fn forward_moved(&mut self) -> Result<usize> {
        let Some(mine) = self.teams.clone() else {
            return Ok(0);
        };
        let late: Vec<(String, String, String)> = self
            .tx
            .prepare(
                "SELECT e.op_id, a.client_id, c.data ->> '$.team' FROM op_envelope e
                 JOIN audit a ON a.op_id = e.op_id JOIN client c ON c.id = a.client_id
                 WHERE c.data ->> '$.team' IS NOT NULL AND c.data ->> '$.team' <> e.team_id
                   AND e.op_id NOT IN (SELECT op_id FROM op_forwarded)",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut by_person: std::collections::BTreeMap<(String, String), Vec<String>> =
            std::collections::BTreeMap::new();
        for (op, client, team) in late {
            by_person.entry((client, team)).or_default().push(op);
        }
        let mut carried = 0;
        for ((client, team), ops) in by_person {
            for op in &ops {
                self.tx
                    .prepare_cached(
                        "INSERT INTO op_forwarded (op_id) VALUES (?1) ON CONFLICT DO NOTHING",
                    )?
                    .execute([op])?;
            }
            let (Ok(client), Ok(team)) = (client.parse::<Uuid>(), team.parse::<Uuid>()) else {
                continue;
            };
            if !mine.contains(&team) {
                continue;
            }
            let history = self.history_of(ClientId(client), Some(&ops))?;
            if !history.is_empty() {
                carried += self.carry(ClientId(client), TeamId(team), history)?;
            }
        }
        Ok(carried)
    }

    pub fn add_legal_event(&mut self, event: &LegalEvent) -> Result<LegalEventId> {
        self.require(Entity::Client, event.client_id.0)?;
        self.create(
            event,
            Scope {
                client: Some(event.client_id.0),
                case: None,
            },
        )
        .map(LegalEventId)
    }

    pub fn add_relative(&mut self, relative: &Relative) -> Result<RelativeId> {
        self.require(Entity::Client, relative.client_id.0)?;
        self.create(
            relative,
            Scope {
                client: Some(relative.client_id.0),
                case: None,
            },
        )
        .map(RelativeId)
    }

    pub fn update_relative(&mut self, id: RelativeId, relative: &Relative) -> Result<usize> {
        self.require(Entity::Relative, id.0)?;
        self.update(
            id.0,
            relative,
            Scope {
                client: Some(relative.client_id.0),
                case: None,
            },
        )
    }

    /// Consents are never edited: a change of mind is a new record, so the history stays.
    pub fn record_consent(&mut self, consent: &Consent) -> Result<ConsentId> {
        self.require(Entity::Client, consent.client_id.0)?;
        self.create(
            consent,
            Scope {
                client: Some(consent.client_id.0),
                case: None,
            },
        )
        .map(ConsentId)
    }

    pub fn add_referral(&mut self, referral: &Referral) -> Result<ReferralId> {
        self.require(Entity::Client, referral.client_id.0)?;
        self.create(
            referral,
            Scope {
                client: Some(referral.client_id.0),
                case: None,
            },
        )
        .map(ReferralId)
    }

    // ---- cases ----

    pub fn open_case(&mut self, case: &Case) -> Result<CaseId> {
        self.require(Entity::Client, case.client_id.0)?;
        if case.closed.is_some() {
            return Err(StoreError::Refused("a new case cannot start closed".into()));
        }
        let existing: Option<String> = self
            .tx
            .prepare_cached(
                "SELECT id FROM kase WHERE client_id = ?1 AND closed_on IS NULL LIMIT 1",
            )?
            .query_row([case.client_id.to_string()], |r| r.get(0))
            .optional()?;
        if let Some(existing) = existing {
            return Err(StoreError::Refused(format!(
                "this client already has an open case ({existing}); add to it, or close it before opening another"
            )));
        }
        if let Some(r) = case.referral_id {
            self.require(Entity::Referral, r.0)?;
        }
        if let Some(a) = case.advocate_id {
            self.require(Entity::Advocate, a.0)?;
        }
        if let Some(t) = case.team_id {
            self.require(Entity::Team, t.0)?;
        }
        let id = Uuid::new_v4();
        case.validate()?;
        case.check_dates(self.clock.today())?;
        let op = Op {
            entity: Entity::Case,
            entity_id: id,
            kind: OpKind::Create,
            field: None,
            payload: serde_json::to_value(case)?,
        };
        self.commit(
            op,
            "create",
            Scope {
                client: Some(case.client_id.0),
                case: Some(id),
            },
        )?;
        Ok(CaseId(id))
    }

    /// Close a case. Every issue must have an outcome first.
    pub fn close_case(&mut self, id: CaseId, closure: CaseClosure) -> Result<()> {
        let mut case: Case = self.get(id.0)?;
        let issues = issues_of(&self.tx, id)?;
        check_can_close(
            &case,
            &issues.into_iter().map(|(_, i)| i).collect::<Vec<_>>(),
            &closure,
        )?;
        case.closed = Some(closure);
        self.update(
            id.0,
            &case,
            Scope {
                client: Some(case.client_id.0),
                case: Some(id.0),
            },
        )
        .map(|_| ())
    }

    /// Record an outcome on each issue still open, then close: the closing screen's one action.
    /// Nothing is written unless the case can close.
    pub fn close_case_with_outcomes(
        &mut self,
        id: CaseId,
        closure: CaseClosure,
        outcomes: &[(IssueId, IssueOutcome)],
    ) -> Result<()> {
        for (issue, outcome) in outcomes {
            self.set_issue_outcome(*issue, outcome.clone())?;
        }
        self.close_case(id, closure)
    }

    pub fn update_case(&mut self, id: CaseId, case: &Case) -> Result<usize> {
        let old: Case = self.get(id.0)?;
        if old.client_id != case.client_id {
            return Err(StoreError::Refused(
                "a case cannot be moved to another client".into(),
            ));
        }
        self.update(
            id.0,
            case,
            Scope {
                client: Some(case.client_id.0),
                case: Some(id.0),
            },
        )
    }

    pub fn add_issue(&mut self, issue: &Issue) -> Result<IssueId> {
        let case = self.open_case_of(issue.case_id)?;
        self.create(
            issue,
            Scope {
                client: Some(case.client_id.0),
                case: Some(issue.case_id.0),
            },
        )
        .map(IssueId)
    }

    pub fn set_issue_outcome(&mut self, id: IssueId, outcome: IssueOutcome) -> Result<()> {
        let mut issue: Issue = self.get(id.0)?;
        let case: Case = self.get(issue.case_id.0)?;
        issue.outcome = Some(outcome);
        self.update(
            id.0,
            &issue,
            Scope {
                client: Some(case.client_id.0),
                case: Some(issue.case_id.0),
            },
        )
        .map(|_| ())
    }

    pub fn add_safeguarding(&mut self, event: &SafeguardingEvent) -> Result<SafeguardingId> {
        let case: Case = self.get(event.case_id.0)?;
        self.create(
            event,
            Scope {
                client: Some(case.client_id.0),
                case: Some(event.case_id.0),
            },
        )
        .map(SafeguardingId)
    }

    // ---- the timeline and its notes ----

    /// Add an activity with its note: two ops (the activity, then the first note version).
    pub fn add_activity(&mut self, activity: &Activity, text: &str) -> Result<ActivityId> {
        check_note_text(text)?;
        let case = self.open_case_of(activity.case_id)?;
        let scope = Scope {
            client: Some(case.client_id.0),
            case: Some(activity.case_id.0),
        };
        let id = self.create(activity, scope)?;
        self.save_version(id, Vec::new(), text, None, scope)?;
        Ok(ActivityId(id))
    }

    /// Amend a note: a new version whose parent is the current one. The old text is kept.
    pub fn amend_note(
        &mut self,
        id: ActivityId,
        text: &str,
        reason: &str,
    ) -> Result<NoteVersionId> {
        check_note_text(text)?;
        if reason.trim().is_empty() {
            return Err(ValidationError::Required {
                context: "amendment",
                field: "the reason for the amendment",
            }
            .into());
        }
        let activity: Activity = self.get(id.0)?;
        let case: Case = self.get(activity.case_id.0)?;
        let body: Option<String> = self
            .tx
            .query_row(
                "SELECT nv.body FROM activity a LEFT JOIN note_version nv ON nv.rowid = a.head WHERE a.id = ?1",
                [id.to_string()],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| not_found("activity", id))?;
        if body.as_deref() == Some(text) {
            return Err(StoreError::Refused(
                "the text is unchanged, so there is nothing to amend".into(),
            ));
        }
        // Every head is a parent: an amendment of a note in conflict resolves the conflict.
        let parents = merge::note_heads(&self.tx, id.0)?
            .iter()
            .filter_map(|h| h.parse().ok())
            .collect();
        let scope = Scope {
            client: Some(case.client_id.0),
            case: Some(activity.case_id.0),
        };
        self.save_version(id.0, parents, text, Some(reason.trim().to_owned()), scope)
            .map(NoteVersionId)
    }

    /// Take an entry off the timeline. Nothing is erased: its note versions stay, and an edit
    /// another device makes without having seen this delete brings it back, flagged.
    pub fn delete_activity(&mut self, id: ActivityId, reason: &str) -> Result<()> {
        self.deletion(id, OpKind::Delete, reason)
    }

    /// Put a deleted entry back on the timeline.
    pub fn restore_activity(&mut self, id: ActivityId) -> Result<()> {
        self.deletion(id, OpKind::Restore, "")
    }

    fn deletion(&mut self, id: ActivityId, kind: OpKind, reason: &str) -> Result<()> {
        let activity: Activity = self.get(id.0)?;
        let case: Case = self.get(activity.case_id.0)?;
        let deleted: bool = self.tx.query_row(
            "SELECT deleted FROM activity WHERE id = ?1",
            [id.to_string()],
            |r| r.get(0),
        )?;
        let payload = match kind {
            OpKind::Delete if deleted => {
                return Err(StoreError::Refused("this entry is already deleted".into()));
            }
            OpKind::Delete => {
                if reason.trim().is_empty() {
                    return Err(ValidationError::Required {
                        context: "deletion",
                        field: "the reason for deleting the entry",
                    }
                    .into());
                }
                // The newest change this device has seen: anything newer from elsewhere wins.
                let seen: String = self.tx.query_row(
                    "SELECT max(hlc) FROM op WHERE entity_id = ?1 AND kind IN ('create', 'set', 'note-version', 'restore')",
                    [id.to_string()],
                    |r| r.get(0),
                )?;
                serde_json::json!({ "seen": seen, "reason": reason.trim() })
            }
            _ if !deleted => {
                return Err(StoreError::Refused("this entry is not deleted".into()));
            }
            _ => serde_json::json!({}),
        };
        let op = Op {
            entity: Entity::Activity,
            entity_id: id.0,
            kind,
            field: None,
            payload,
        };
        self.commit(
            op,
            kind.name(),
            Scope {
                client: Some(case.client_id.0),
                case: Some(activity.case_id.0),
            },
        )
    }

    fn save_version(
        &mut self,
        note_id: Uuid,
        parents: Vec<Uuid>,
        body: &str,
        reason: Option<String>,
        scope: Scope,
    ) -> Result<Uuid> {
        let version_id = Uuid::now_v7();
        let payload = NoteVersionPayload {
            version_id,
            note_id,
            parents,
            body: body.to_owned(),
            reason: reason.clone(),
            author: self.actor.to_owned(),
            saved_at: self.now.to_rfc3339(),
        };
        let action = if reason.is_some() { "amend" } else { "create" };
        let op = Op {
            entity: Entity::Note,
            entity_id: note_id,
            kind: OpKind::NoteVersion,
            field: None,
            payload: serde_json::to_value(payload)?,
        };
        self.commit(op, action, scope)?;
        Ok(version_id)
    }
}

pub(crate) fn load_json(conn: &rusqlite::Connection, entity: Entity, id: Uuid) -> Result<Value> {
    let sql = format!("SELECT data FROM {} WHERE id = ?1", entity.table());
    let data: String = conn
        .prepare_cached(&sql)?
        .query_row([id.to_string()], |r| r.get(0))
        .optional()?
        .ok_or_else(|| not_found(entity.name(), id))?;
    Ok(serde_json::from_str(&data)?)
}

pub(crate) fn issues_of(
    conn: &rusqlite::Connection,
    case: CaseId,
) -> Result<Vec<(IssueId, Issue)>> {
    let mut stmt =
        conn.prepare_cached("SELECT id, data FROM issue WHERE case_id = ?1 ORDER BY rowid")?;
    let rows = stmt.query_map([case.to_string()], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    rows.map(|row| {
        let (id, data) = row?;
        Ok((
            id.parse()
                .map_err(|_| StoreError::Corrupt("issue id".into()))?,
            serde_json::from_str(&data)?,
        ))
    })
    .collect()
}
