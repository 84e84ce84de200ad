//! A new person arriving: the client, their legal status, how the referral came and (usually)
//! a case opened at once, written together so a half-entered person never exists. The referral
//! records the rules engine's answer on eligibility, as `wardside referral` does.

use crate::error::Result;
use crate::open::Store;
use crate::search::PersonHit;
use crate::write::{Entity, Scope};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use wardside_domain::client::{DuplicateReason, MatchedOn};
use wardside_domain::rules::{EligibilityQuery, Jurisdiction, Rules};
use wardside_domain::*;

/// What the app's "new client" form sends.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Intake {
    pub client: Client,
    pub status: StatusCode,
    pub status_since: NaiveDate,
    pub referral: Option<IntakeReferral>,
    /// Open a case now, on this date, instructed or not.
    pub case: Option<IntakeCase>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntakeReferral {
    pub received_on: NaiveDate,
    pub source: ReferralSource,
    #[serde(default)]
    pub referrer: Option<String>,
    /// For an informal patient: whether they are an in-patient (in Wales only an in-patient
    /// qualifies, s. 130J(2)(a)). Not given: not known.
    #[serde(default)]
    pub inpatient: Option<bool>,
    /// The commissioner, for a referral that opens no case (a case's own authority wins).
    #[serde(default)]
    pub responsible_authority: Option<String>,
    /// Placed outside the commissioner's area. Not given: not known.
    #[serde(default)]
    pub out_of_area: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntakeCase {
    pub opened_on: NaiveDate,
    pub instruction: Instruction,
    #[serde(default)]
    pub responsible_authority: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IntakeResult {
    pub client_id: ClientId,
    pub referral_id: Option<ReferralId>,
    pub case_id: Option<CaseId>,
}

/// Someone already in the store who is probably the person being added.
#[derive(Debug, Clone, Serialize)]
pub struct LikelyDuplicate {
    #[serde(flatten)]
    pub person: PersonHit,
    pub reason: DuplicateReason,
}

impl Store {
    /// Before a new person is saved: who already here is probably them (the same NHS number,
    /// or the same name and date of birth; see [`Client::likely_same_person`]). Audited as a
    /// search, without the details typed.
    pub fn likely_duplicates(&mut self, client: &Client) -> Result<Vec<LikelyDuplicate>> {
        self.write(|w| w.audit_read("duplicate-check", Entity::Client, None, Scope::default()))?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, data FROM client
             WHERE (?1 IS NOT NULL AND data ->> '$.nhs_number' = ?1)
                OR (?2 IS NOT NULL AND data ->> '$.dob' = ?2)
             ORDER BY name COLLATE NOCASE, id",
        )?;
        let candidates: Vec<(String, String)> = stmt
            .query_map(
                rusqlite::params![
                    client.nhs_number.as_ref().map(NhsNumber::as_str),
                    client.dob.map(|d| d.to_string())
                ],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?
            .collect::<std::result::Result<_, _>>()?;
        let mut out = Vec::new();
        for (id, data) in candidates {
            let existing: Client = serde_json::from_str(&data)?;
            if let Some(reason) = client.likely_same_person(&existing) {
                let on = match reason {
                    DuplicateReason::SameNhsNumber => MatchedOn::NhsNumber,
                    DuplicateReason::SameNameAndDateOfBirth => MatchedOn::Name,
                };
                out.push(LikelyDuplicate {
                    person: self.person_hit(id, existing, on)?,
                    reason,
                });
            }
        }
        Ok(out)
    }

    pub fn intake(
        &mut self,
        intake: &Intake,
        rules: &Rules,
        jurisdiction: Jurisdiction,
    ) -> Result<IntakeResult> {
        self.write(|w| {
            let client_id = w.add_client(&intake.client)?;
            w.add_legal_event(&LegalEvent {
                client_id,
                on: intake.status_since,
                kind: LegalEventKind::StatusStarted {
                    status: intake.status,
                },
                note: None,
            })?;
            let referral_id = match &intake.referral {
                Some(r) => {
                    let mut referral = Referral {
                        client_id,
                        received_on: r.received_on,
                        source: r.source,
                        method: None,
                        referrer: r.referrer.clone(),
                        eligible: None,
                        eligibility_reason: None,
                        eligibility_source: None,
                        inpatient: r.inpatient,
                        responsible_authority: intake
                            .case
                            .as_ref()
                            .and_then(|c| c.responsible_authority.clone())
                            .or_else(|| r.responsible_authority.clone()),
                        out_of_area: r.out_of_area,
                    };
                    let status = if r.received_on >= intake.status_since {
                        intake.status
                    } else {
                        StatusCode::Informal
                    };
                    referral.record_eligibility(
                        &rules.eligibility(&EligibilityQuery {
                            status,
                            on: r.received_on,
                            age: intake
                                .client
                                .dob
                                .and_then(|d| wardside_domain::client::age_on(d, r.received_on)),
                            considering: None,
                            jurisdiction,
                            inpatient: r.inpatient,
                        })?,
                    );
                    Some(w.add_referral(&referral)?)
                }
                None => None,
            };
            let case_id = match &intake.case {
                Some(c) => {
                    let mut case = Case::opened(client_id, c.opened_on);
                    case.referral_id = referral_id;
                    case.instruction = c.instruction.clone();
                    case.responsible_authority = c.responsible_authority.clone();
                    Some(w.open_case(&case)?)
                }
                None => None,
            };
            Ok(IntakeResult {
                client_id,
                referral_id,
                case_id,
            })
        })
    }
}
