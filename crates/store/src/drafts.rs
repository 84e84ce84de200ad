//! Drafts of new activities: what the advocate has typed but not yet saved, kept in the
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
