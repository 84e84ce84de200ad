//! Corrections after the fact: an activity's details (date, time, kind, typed fields, the
//! person's-copy choice) changed with a reason, and a closed case reopened with a reason. Each
//! writes the change and an append-only [`Amendment`] holding what was there before, in one
//! transaction; the history is read back from those records.

use crate::error::{Result, StoreError};
use crate::open::Store;
use crate::read::Stored;
use crate::write::{Scope, Writer};
use chrono::NaiveDate;
use rusqlite::params;
use wardside_domain::{
    Activity, ActivityDetails, ActivityId, Amended, Amendment, AmendmentId, Case, CaseId,
};

impl Writer<'_> {
    /// Change an activity's details. Refused when nothing changed, when the reason is blank, or
    /// when the new date has not happened yet.
    pub fn amend_activity(
        &mut self,
        id: ActivityId,
        after: &ActivityDetails,
        reason: &str,
    ) -> Result<AmendmentId> {
        let mut activity: Activity = self.get(id.0)?;
        let case: Case = self.get(activity.case_id.0)?;
        let amendment = Amendment {
            case_id: activity.case_id,
            amended: Amended::Activity {
                activity_id: id,
                before: Box::new(ActivityDetails::of(&activity)),
                after: Box::new(after.clone()),
            },
            reason: reason.trim().to_owned(),
            by: self.actor().to_owned(),
            made_at: self.clock().uk_now(),
        };
        let scope = Scope {
            client: Some(case.client_id.0),
            case: Some(activity.case_id.0),
        };
        // The amendment's own checks first: a reason, a change, a date that has happened.
        let amendment_id = self.create(&amendment, scope)?;
        activity.at = after.at;
        activity.duration_minutes = after.duration_minutes;
        activity.kind = after.kind.clone();
        activity.withheld = after.withheld;
        self.update(id.0, &activity, scope)?;
        Ok(AmendmentId(amendment_id))
    }

    /// Open a closed case again, for new work with the same person (the closing stays in its
    /// history). Refused while the person has another case open.
    pub fn reopen_case(&mut self, id: CaseId, reason: &str) -> Result<AmendmentId> {
        let mut case: Case = self.get(id.0)?;
        let Some(closure) = case.closed.clone() else {
            return Err(StoreError::Refused(
                "this case is open already, so there is nothing to reopen".into(),
            ));
        };
        let other_open = self
            .tx
            .prepare_cached(
                "SELECT 1 FROM kase WHERE client_id = ?1 AND closed_on IS NULL AND id <> ?2",
            )?
            .exists(params![case.client_id.to_string(), id.to_string()])?;
        if other_open {
            return Err(StoreError::Refused(
                "this person has another case open; add to that one, or close it first".into(),
            ));
        }
        let scope = Scope {
            client: Some(case.client_id.0),
            case: Some(id.0),
        };
        let amendment = Amendment {
            case_id: id,
            amended: Amended::CaseReopened { closure },
            reason: reason.trim().to_owned(),
            by: self.actor().to_owned(),
            made_at: self.clock().uk_now(),
        };
        let amendment_id = self.create(&amendment, scope)?;
        case.closed = None;
        self.update(id.0, &case, scope)?;
        Ok(AmendmentId(amendment_id))
    }
}

impl Writer<'_> {
    /// Move a case to another commissioner (responsible authority) from a day on; the work
    /// before that day stays in the earlier commissioner's returns. `to` empty: none recorded.
    pub fn move_case_commissioner(
        &mut self,
        id: CaseId,
        to: Option<&str>,
        from: NaiveDate,
        reason: &str,
    ) -> Result<AmendmentId> {
        let mut case: Case = self.get(id.0)?;
        if from < case.opened_on {
            return Err(StoreError::Refused(format!(
                "the case opened on {}; a new authority cannot be responsible before that",
                case.opened_on
            )));
        }
        let after = to
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        let scope = Scope {
            client: Some(case.client_id.0),
            case: Some(id.0),
        };
        let amendment = Amendment {
            case_id: id,
            amended: Amended::CaseCommissioner {
                before: case.responsible_authority.clone(),
                after: after.clone(),
                from,
            },
            reason: reason.trim().to_owned(),
            by: self.actor().to_owned(),
            made_at: self.clock().uk_now(),
        };
        let amendment_id = self.create(&amendment, scope)?;
        case.responsible_authority = after;
        self.update(id.0, &case, scope)?;
        Ok(AmendmentId(amendment_id))
    }
}

impl Store {
    pub fn move_case_commissioner(
        &mut self,
        id: CaseId,
        to: Option<&str>,
        from: NaiveDate,
        reason: &str,
    ) -> Result<AmendmentId> {
        self.write(|w| w.move_case_commissioner(id, to, from, reason))
    }

    pub fn amend_activity(
        &mut self,
        id: ActivityId,
        after: &ActivityDetails,
        reason: &str,
    ) -> Result<AmendmentId> {
        self.write(|w| w.amend_activity(id, after, reason))
    }

    pub fn reopen_case(&mut self, id: CaseId, reason: &str) -> Result<AmendmentId> {
        self.write(|w| w.reopen_case(id, reason))
    }

    /// Every correction of an activity's details, oldest first.
    pub fn activity_amendments(
        &self,
        id: ActivityId,
    ) -> Result<Vec<Stored<AmendmentId, Amendment>>> {
        let mut out: Vec<Stored<AmendmentId, Amendment>> = self.all_of(
            "SELECT id, data FROM amendment WHERE activity_id = ?1",
            &id.to_string(),
        )?;
        out.sort_by_key(|a| a.record.made_at);
        Ok(out)
    }

    /// Every correction on a case (its activities and its reopenings), oldest first.
    pub fn case_amendments(&self, id: CaseId) -> Result<Vec<Stored<AmendmentId, Amendment>>> {
        let mut out: Vec<Stored<AmendmentId, Amendment>> = self.all_of(
            "SELECT id, data FROM amendment WHERE case_id = ?1",
            &id.to_string(),
        )?;
        out.sort_by_key(|a| a.record.made_at);
        Ok(out)
    }
}
