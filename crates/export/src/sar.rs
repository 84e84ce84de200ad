//! The machine-readable half of a subject access response: everything held about the person,
//! as JSON, with withheld entries reduced to a marker (their date and why), nothing more.

use crate::model::{Cell, Generated, advocate_name, kind_fields};
use serde::Serialize;
use wardside_domain::*;
use wardside_store::export::{ClientRecord, RecordEntry};
use wardside_store::read::{AuditEntry, NoteVersion, Stored};

pub const FORMAT: &str = "wardside-subject-access/1";

#[derive(Debug, Serialize)]
pub struct Bundle<'a> {
    pub format: &'static str,
    pub generated_by: &'a str,
    pub generated_at: String,
    /// How many timeline entries and safeguarding events were left out (each has a marker in
    /// place).
    pub withheld_entries: usize,
    pub person: &'a Stored<ClientId, Client>,
    pub legal_status_history: &'a [Stored<LegalEventId, LegalEvent>],
    pub relatives: &'a [Stored<RelativeId, Relative>],
    pub consents: &'a [Stored<ConsentId, Consent>],
    pub referrals: &'a [Stored<ReferralId, Referral>],
    pub cases: Vec<CaseOut<'a>>,
    /// Who looked at, changed or exported the record, and when.
    pub access_log: &'a [AuditEntry],
}

#[derive(Debug, Serialize)]
pub struct CaseOut<'a> {
    pub case: &'a Stored<CaseId, Case>,
    pub advocate: Option<&'a str>,
    pub issues: &'a [Stored<IssueId, Issue>],
    pub safeguarding: Vec<SafeguardingOut<'a>>,
    pub timeline: Vec<EntryOut<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum EntryOut<'a> {
    Held {
        id: ActivityId,
        kind_label: &'static str,
        #[serde(flatten)]
        activity: &'a Activity,
        details: Vec<(String, Cell)>,
        /// The current text.
        note: &'a str,
        /// Every saved version, oldest first.
        versions: &'a [NoteVersion],
    },
    Withheld {
        id: ActivityId,
        at: chrono::NaiveDateTime,
        withheld: &'static str,
    },
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum SafeguardingOut<'a> {
    Held(&'a Stored<SafeguardingId, SafeguardingEvent>),
    Withheld {
        id: SafeguardingId,
        at: chrono::NaiveDateTime,
        withheld: &'static str,
    },
}

fn safeguarding(s: &Stored<SafeguardingId, SafeguardingEvent>) -> SafeguardingOut<'_> {
    match s.record.withheld {
        Some(reason) => SafeguardingOut::Withheld {
            id: s.id,
            at: s.record.at,
            withheld: reason.label(),
        },
        None => SafeguardingOut::Held(s),
    }
}

fn entry(e: &RecordEntry) -> EntryOut<'_> {
    let a = &e.entry.activity;
    match a.withheld_reason() {
        Some(reason) => EntryOut::Withheld {
            id: e.entry.id,
            at: a.at,
            withheld: reason.label(),
        },
        None => EntryOut::Held {
            id: e.entry.id,
            kind_label: e.entry.kind_label,
            activity: a,
            details: kind_fields(a),
            note: &e.entry.text,
            versions: &e.versions,
        },
    }
}

pub fn bundle<'a>(record: &'a ClientRecord, generated: &'a Generated) -> Bundle<'a> {
    let cases: Vec<CaseOut<'a>> = record
        .cases
        .iter()
        .map(|k| CaseOut {
            case: &k.case,
            advocate: advocate_name(record, k),
            issues: &k.issues,
            safeguarding: k.safeguarding.iter().map(safeguarding).collect(),
            timeline: k.timeline.iter().map(entry).collect(),
        })
        .collect();
    let withheld_entries = cases
        .iter()
        .flat_map(|k| &k.timeline)
        .filter(|e| matches!(e, EntryOut::Withheld { .. }))
        .count()
        + cases
            .iter()
            .flat_map(|k| &k.safeguarding)
            .filter(|s| matches!(s, SafeguardingOut::Withheld { .. }))
            .count();
    Bundle {
        format: FORMAT,
        generated_by: &generated.by,
        generated_at: generated.at.format("%Y-%m-%dT%H:%M:%S").to_string(),
        withheld_entries,
        person: &record.client,
        legal_status_history: &record.legal_history,
        relatives: &record.relatives,
        consents: &record.consents,
        referrals: &record.referrals,
        cases,
        access_log: &record.access_log,
    }
}
