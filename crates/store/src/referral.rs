//! A new referral for a person already known: their earlier cases stay as they were (closed),
//! a new referral records how the request arrived and the rules engine's answer on eligibility
//! that day, and a new case opens for it. Refused while the person has a case open.

use crate::error::Result;
use crate::intake::{IntakeCase, IntakeReferral, IntakeResult};
use crate::open::Store;
use wardside_domain::rules::{EligibilityQuery, Jurisdiction, Rules};
use wardside_domain::*;

impl Store {
    pub fn refer_again(
        &mut self,
        client_id: ClientId,
        referral: &IntakeReferral,
        case: &IntakeCase,
        rules: &Rules,
        jurisdiction: Jurisdiction,
    ) -> Result<IntakeResult> {
        let client: Client = self.get(client_id.0)?;
        let history: Vec<LegalEvent> = self
            .legal_history(&client_id.to_string())?
            .into_iter()
            .map(|s| s.record)
            .collect();
        let status = wardside_domain::legal::status_on(&history, referral.received_on)
            .map(|(s, _)| s)
            .unwrap_or(StatusCode::Informal);
        let mut record = Referral {
            client_id,
            received_on: referral.received_on,
            source: referral.source,
            method: None,
            referrer: referral.referrer.clone(),
            eligible: None,
            eligibility_reason: None,
            eligibility_source: None,
            inpatient: referral.inpatient,
            responsible_authority: case.responsible_authority.clone(),
            out_of_area: referral.out_of_area,
        };
        record.record_eligibility(
            &rules.eligibility(&EligibilityQuery {
                status,
                on: referral.received_on,
                age: client
                    .dob
                    .and_then(|d| wardside_domain::client::age_on(d, referral.received_on)),
                considering: None,
                jurisdiction,
                inpatient: referral.inpatient,
            })?,
        );
        self.write(|w| {
            let referral_id = w.add_referral(&record)?;
            let mut new_case = Case::opened(client_id, case.opened_on);
            new_case.referral_id = Some(referral_id);
            new_case.instruction = case.instruction.clone();
            new_case.responsible_authority = case.responsible_authority.clone();
            let case_id = w.open_case(&new_case)?;
            Ok(IntakeResult {
                client_id,
                referral_id: Some(referral_id),
                case_id: Some(case_id),
            })
        })
    }
}
