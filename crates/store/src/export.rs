//! The read behind every export: everything held about a client (or one of their cases), in
//! one go, with one audit entry naming the kind of export. What is then printed, withheld or
//! worded plainly is decided by `wardside-export`; this only gathers.

use crate::error::Result;
use crate::open::Store;
use crate::read::{AuditEntry, CurrentStatus, NoteVersion, Stored, TimelineEntry};
use crate::write::{Entity, Scope};
use serde::Serialize;
use wardside_domain::*;

/// Why the record is being read out: each writes its own audit action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    /// The full case file, for the service (handover, file review).
    CaseFile,
    /// The case file for the person themselves, with withheld items left out.
    PatientCopy,
    /// A subject access response: the patient copy and the JSON bundle.
    SubjectAccess,
    /// A hearing summary for one case.
    HearingSummary,
}

impl ExportKind {
    pub fn action(self) -> &'static str {
        match self {
            ExportKind::CaseFile => "export-case-file",
            ExportKind::PatientCopy => "export-patient-copy",
            ExportKind::SubjectAccess => "export-subject-access",
            ExportKind::HearingSummary => "export-hearing-summary",
        }
    }
}

/// Everything held about a client.
#[derive(Debug, Clone, Serialize)]
pub struct ClientRecord {
    pub client: Stored<ClientId, Client>,
    pub current_status: Option<CurrentStatus>,
    pub legal_history: Vec<Stored<LegalEventId, LegalEvent>>,
    pub relatives: Vec<Stored<RelativeId, Relative>>,
    pub consents: Vec<Stored<ConsentId, Consent>>,
    pub referrals: Vec<Stored<ReferralId, Referral>>,
    /// Oldest first.
    pub cases: Vec<CaseRecord>,
    /// Who viewed, changed or exported the record, and when (ids and actions, no content).
    pub access_log: Vec<AuditEntry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseRecord {
    pub case: Stored<CaseId, Case>,
    pub advocate: Option<Stored<AdvocateId, Advocate>>,
    pub issues: Vec<Stored<IssueId, Issue>>,
    pub safeguarding: Vec<Stored<SafeguardingId, SafeguardingEvent>>,
    /// In date order, each with every saved version of its note (oldest first).
    pub timeline: Vec<RecordEntry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RecordEntry {
    #[serde(flatten)]
    pub entry: TimelineEntry,
    pub versions: Vec<NoteVersion>,
}

impl Store {
    /// Everything held about a client, for an export of `kind`. The audit entry is written
    /// first: if it cannot be, nothing is read.
    pub fn client_record(&mut self, id: ClientId, kind: ExportKind) -> Result<ClientRecord> {
        self.gather(id, None, kind)
    }

    /// A client's record with only one of their cases (a hearing summary).
    pub fn case_record(&mut self, case: CaseId, kind: ExportKind) -> Result<ClientRecord> {
        let record: Case = self.get(case.0)?;
        self.gather(record.client_id, Some(case), kind)
    }

    fn gather(
        &mut self,
        id: ClientId,
        only: Option<CaseId>,
        kind: ExportKind,
    ) -> Result<ClientRecord> {
        let client: Client = self.get(id.0)?;
        self.write(|w| {
            w.audit_read(
                kind.action(),
                if only.is_some() {
                    Entity::Case
                } else {
                    Entity::Client
                },
                Some(only.map_or(id.0, |c| c.0)),
                Scope {
                    client: Some(id.0),
                    case: only.map(|c| c.0),
                },
            )
        })?;
        let view = self.client_view_of(id, client)?;
        let cases = view
            .cases
            .into_iter()
            .filter(|case| only.is_none_or(|c| c == case.id))
            .map(|case| self.case_record_of(case))
            .collect::<Result<_>>()?;
        Ok(ClientRecord {
            access_log: self.access_log(&id.to_string())?,
            client: view.client,
            current_status: view.current_status,
            legal_history: view.legal_history,
            relatives: view.relatives,
            consents: view.consents,
            referrals: view.referrals,
            cases,
        })
    }

    fn case_record_of(&self, case: Stored<CaseId, Case>) -> Result<CaseRecord> {
        let key = case.id.to_string();
        let advocate = match case.record.advocate_id {
            Some(a) => Some(Stored {
                id: a,
                record: self.get::<Advocate>(a.0)?,
            }),
            None => None,
        };
        let timeline = self
            .timeline(&key)?
            .into_iter()
            .map(|entry| {
                Ok(RecordEntry {
                    versions: self.versions_of_note(entry.id)?,
                    entry,
                })
            })
            .collect::<Result<_>>()?;
        Ok(CaseRecord {
            advocate,
            issues: crate::write::issues_of(&self.conn, case.id)?
                .into_iter()
                .map(|(id, record)| Stored { id, record })
                .collect(),
            safeguarding: self.all_of(
                "SELECT id, data FROM safeguarding WHERE case_id = ?1 ORDER BY rowid",
                &key,
            )?,
            timeline,
            case,
        })
    }

    fn access_log(&self, client: &str) -> Result<Vec<AuditEntry>> {
        let mut stmt = self.conn.prepare_cached(
            // Two index ranges (by case, and the client's own entries) rather than a scan.
            "SELECT id, at, actor, device_id, action, entity, entity_id FROM audit
               WHERE case_id IN (SELECT id FROM kase WHERE client_id = ?1)
             UNION ALL
             SELECT id, at, actor, device_id, action, entity, entity_id FROM audit
               WHERE case_id IS NULL AND client_id = ?1
             ORDER BY 1",
        )?;
        let rows = stmt.query_map([client], |r| {
            Ok(AuditEntry {
                at: r.get(1)?,
                actor: r.get(2)?,
                device_id: r.get(3)?,
                action: r.get(4)?,
                entity: r.get(5)?,
                entity_id: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }
}
