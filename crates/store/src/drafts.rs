//! Drafts of every form: what the advocate has typed but not yet saved, kept in the
//! encrypted file every few seconds so that a crash or a lock loses nothing. Local to this
//! device: no op, no sync, no audit entry per keystroke.

use crate::error::Result;
use crate::open::Store;
use crate::write::Writer;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use wardside_domain::CaseId;
use wardside_domain::activity::MAX_NOTE_BYTES;

/// A draft as the app left it.
#[derive(Debug, Clone, Serialize)]
pub struct Draft {
    pub case_id: CaseId,
    /// The form's fields, exactly as the app sent them.
    pub form: serde_json::Value,
    pub body: String,
    pub saved_at: String,
}

/// The form is the app's own JSON; this bounds it so a runaway caller cannot fill the disk.
const MAX_FORM_BYTES: usize = 64 * 1024;

impl Store {
    /// Keep (or replace) the draft for a case. Refuses what could never be saved as a note.
    pub fn save_draft(&mut self, case: CaseId, form: &serde_json::Value, body: &str) -> Result<()> {
        let form = serde_json::to_string(form)?;
        if body.len() > MAX_NOTE_BYTES || form.len() > MAX_FORM_BYTES {
            return Err(crate::StoreError::Refused(format!(
                "the draft is too long to keep (the limit for a note is {} KB)",
                MAX_NOTE_BYTES / 1024
            )));
        }
        // The case must exist: a draft for nothing would never be seen again.
        self.conn
            .prepare_cached("SELECT 1 FROM kase WHERE id = ?1")?
            .query_row([case.to_string()], |_| Ok(()))
            .optional()?
            .ok_or_else(|| crate::StoreError::NotFound {
                what: "case",
                id: case.to_string(),
            })?;
        self.conn
            .prepare_cached(
                "INSERT INTO draft (case_id, form, body, saved_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (case_id) DO UPDATE SET form = excluded.form, body = excluded.body, saved_at = excluded.saved_at",
            )?
            .execute(params![
                case.to_string(),
                form,
                body,
                self.clock.now().to_rfc3339()
            ])?;
        Ok(())
    }

    /// The draft for a case, if one is waiting.
    pub fn draft(&self, case: CaseId) -> Result<Option<Draft>> {
        let row = self
            .conn
            .prepare_cached("SELECT form, body, saved_at FROM draft WHERE case_id = ?1")?
            .query_row([case.to_string()], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .optional()?;
        row.map(|(form, body, saved_at)| {
            Ok(Draft {
                case_id: case,
                form: serde_json::from_str(&form)?,
                body,
                saved_at,
            })
        })
        .transpose()
    }

    /// Throw a draft away (the advocate chose to discard it).
    pub fn discard_draft(&mut self, case: CaseId) -> Result<()> {
        self.write(|w| w.discard_draft(case))
    }
}

impl Writer<'_> {
    /// Delete a case's draft inside this transaction: saving the activity and dropping its
    /// draft happen together or not at all.
    pub fn discard_draft(&mut self, case: CaseId) -> Result<()> {
        self.tx
            .prepare_cached("DELETE FROM draft WHERE case_id = ?1")?
            .execute([case.to_string()])?;
        Ok(())
    }
}

/// A draft of any other form (a safeguarding event, a new client, an issue, a consent, a
/// closing form...), as the app left it.
#[derive(Debug, Clone, Serialize)]
pub struct FormDraft {
    pub form_key: String,
    pub case_id: Option<CaseId>,
    pub form: serde_json::Value,
    pub saved_at: String,
}

/// A form key names the form and what it is about: `safeguarding:<case id>`, `new-client`.
/// It is the app's own label, never content: short, lower-case letters, digits, `-` and `:`.
fn check_form_key(key: &str) -> Result<()> {
    let ok = !key.is_empty()
        && key.len() <= 120
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b':');
    if ok {
        Ok(())
    } else {
        Err(crate::StoreError::Refused(
            "a draft's form name must be short: lower-case letters, digits, '-' and ':'".into(),
        ))
    }
}

impl Store {
    /// Keep (or replace) the draft of a form. Everything typed, fields and long text alike, is
    /// in `form`; it stays inside the encrypted file.
    pub fn save_form_draft(
        &mut self,
        form_key: &str,
        case: Option<CaseId>,
        form: &serde_json::Value,
    ) -> Result<()> {
        check_form_key(form_key)?;
        let form = serde_json::to_string(form)?;
        if form.len() > MAX_NOTE_BYTES + MAX_FORM_BYTES {
            return Err(crate::StoreError::Refused(format!(
                "the draft is too long to keep (the limit for a note is {} KB)",
                MAX_NOTE_BYTES / 1024
            )));
        }
        if let Some(case) = case {
            self.conn
                .prepare_cached("SELECT 1 FROM kase WHERE id = ?1")?
                .query_row([case.to_string()], |_| Ok(()))
                .optional()?
                .ok_or_else(|| crate::StoreError::NotFound {
                    what: "case",
                    id: case.to_string(),
                })?;
        }
        self.conn
            .prepare_cached(
                "INSERT INTO form_draft (form_key, case_id, form, saved_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (form_key) DO UPDATE SET case_id = excluded.case_id, form = excluded.form, saved_at = excluded.saved_at",
            )?
            .execute(params![
                form_key,
                case.map(|c| c.to_string()),
                form,
                self.clock.now().to_rfc3339()
            ])?;
        Ok(())
    }

    /// The draft of a form, if one is waiting.
    pub fn form_draft(&self, form_key: &str) -> Result<Option<FormDraft>> {
        check_form_key(form_key)?;
        let row = self
            .conn
            .prepare_cached("SELECT case_id, form, saved_at FROM form_draft WHERE form_key = ?1")?
            .query_row([form_key], |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .optional()?;
        row.map(|(case, form, saved_at)| {
            Ok(FormDraft {
                form_key: form_key.to_owned(),
                case_id: case.and_then(|c| c.parse().ok()),
                form: serde_json::from_str(&form)?,
                saved_at,
            })
        })
        .transpose()
    }

    /// The forms with a draft waiting, newest first (keys only: what to offer after unlock).
    pub fn form_draft_keys(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT form_key FROM form_draft ORDER BY saved_at DESC")?;
        let keys = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(keys)
    }

    /// Throw a form's draft away (saved, or the advocate chose to discard it).
    pub fn discard_form_draft(&mut self, form_key: &str) -> Result<()> {
        check_form_key(form_key)?;
        self.conn
            .prepare_cached("DELETE FROM form_draft WHERE form_key = ?1")?
            .execute([form_key])?;
        Ok(())
    }
}

/// A form someone was typing in and did not save, for the caseload's "Not yet saved" list
/// (after a crash the app cannot know which form was open; this says where the drafts are).
#[derive(Debug, Clone, Serialize)]
pub struct WaitingDraft {
    /// The form: "activity" for a new activity, else the form key's first part
    /// ("safeguarding", "new-client", "issue", ...).
    pub form: String,
    pub form_key: String,
    /// The case to open to get back to it (none for a new client).
    pub case_id: Option<CaseId>,
    /// Whose record it is about (none for a new client).
    pub name: Option<String>,
    pub saved_at: String,
}

impl Store {
    /// Every draft waiting on this device, newest first.
    pub fn waiting_drafts(&self) -> Result<Vec<WaitingDraft>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT 'activity', 'activity:' || d.case_id, d.case_id, k.client_id, d.saved_at
               FROM draft d LEFT JOIN kase k ON k.id = d.case_id
             UNION ALL
             SELECT substr(f.form_key, 1, instr(f.form_key || ':', ':') - 1), f.form_key, f.case_id,
                    coalesce(k.client_id,
                             CASE WHEN f.form_key GLOB '*:*' THEN substr(f.form_key, instr(f.form_key, ':') + 1) END),
                    f.saved_at
               FROM form_draft f LEFT JOIN kase k ON k.id = f.case_id
             ORDER BY 5 DESC",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut out = Vec::new();
        for (form, form_key, case, client, saved_at) in rows {
            // A client-keyed form (details, consent, relative, legal event): the client's open
            // case, if the key names a client at all.
            let client: Option<wardside_domain::ClientId> = client.and_then(|c| c.parse().ok());
            let client_record: Option<wardside_domain::Client> = match client {
                Some(c) => self.get(c.0).ok(),
                None => None,
            };
            let case_id = match case.and_then(|c| c.parse().ok()) {
                Some(c) => Some(c),
                None => match (client, &client_record) {
                    (Some(c), Some(_)) => self.open_case_of(c)?,
                    _ => None,
                },
            };
            out.push(WaitingDraft {
                form,
                form_key,
                case_id,
                name: client_record.map(|c| c.name),
                saved_at,
            });
        }
        Ok(out)
    }
}
