//! Load the domain's synthetic caseload through the one write path.

use crate::error::Result;
use crate::open::Store;
use crate::write::Writer;
use wardside_domain::demo::{DemoConfig, DemoReferral, caseload};
use wardside_domain::rules::{EligibilityQuery, Rules};
use wardside_domain::*;

#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct DemoSummary {
    pub clients: usize,
    pub cases: usize,
    pub activities: usize,
    pub referrals: usize,
}

/// A referral as intake records it: with the rules engine's answer on eligibility that day.
fn add_referral(
    w: &mut Writer<'_>,
    rules: &Rules,
    client_id: ClientId,
    client: &Client,
    r: &DemoReferral,
) -> Result<ReferralId> {
    let mut referral = Referral {
        client_id,
        received_on: r.received_on,
        source: r.source,
        method: Some(r.method.clone()),
        referrer: r.referrer.clone(),
        eligible: None,
        eligibility_reason: None,
        eligibility_source: None,
        inpatient: r.inpatient,
        responsible_authority: Some(r.responsible_authority.clone()),
        out_of_area: r.out_of_area,
    };
    referral.record_eligibility(
        &rules.eligibility(&EligibilityQuery {
            status: r.status.unwrap_or(StatusCode::Informal),
            on: r.received_on,
            age: client
                .dob
                .and_then(|d| wardside_domain::client::age_on(d, r.received_on)),
            considering: None,
            jurisdiction: r.jurisdiction,
            inpatient: r.inpatient,
        })?,
    );
    w.add_referral(&referral)
}

/// Fill `store` with `cfg.clients` synthetic clients, 100 per transaction. `progress` is told
/// how many clients are done after each transaction.
pub fn load(
    store: &mut Store,
    cfg: &DemoConfig,
    mut progress: impl FnMut(usize),
) -> Result<DemoSummary> {
    let rules = Rules::shipped()?;
    let mut summary = DemoSummary::default();
    let all: Vec<_> = caseload(cfg).collect();
    for chunk in all.chunks(100) {
        store.write(|w| {
            for d in chunk {
                let client_id = w.add_client(&d.client)?;
                w.add_legal_event(&LegalEvent {
                    client_id,
                    on: d.status_since,
                    kind: LegalEventKind::StatusStarted { status: d.status },
                    note: None,
                })?;
                let (scope, state, on) = d.consent;
                w.record_consent(&Consent {
                    client_id,
                    scope,
                    state,
                    on,
                    how: Some("Verbally, in private".into()),
                    witness: None,
                    note: None,
                })?;
                if let Some(r) = &d.declined {
                    add_referral(w, &rules, client_id, &d.client, r)?;
                    summary.referrals += 1;
                }
                // Oldest first: each earlier case is closed before the next one opens.
                for c in &d.cases {
                    let mut case = Case::opened(client_id, c.opened_on);
                    case.referral_id =
                        Some(add_referral(w, &rules, client_id, &d.client, &c.referral)?);
                    case.instruction = c.instruction.clone();
                    case.responsible_authority = Some(c.responsible_authority.clone());
                    let case_id = w.open_case(&case)?;
                    for i in &c.issues {
                        w.add_issue(&Issue {
                            case_id,
                            category: i.category,
                            summary: i.summary.clone(),
                            opened_on: i.opened_on,
                            outcome: i.outcome.clone(),
                        })?;
                    }
                    for a in &c.activities {
                        let activity = Activity {
                            case_id,
                            at: a.at,
                            duration_minutes: Some(a.duration_minutes),
                            kind: a.kind.clone(),
                            withheld: None,
                        };
                        w.add_activity(&activity, &a.text)?;
                    }
                    if let Some(closure) = &c.closed {
                        w.close_case(case_id, closure.clone())?;
                    }
                    summary.cases += 1;
                    summary.referrals += 1;
                    summary.activities += c.activities.len();
                }
                summary.clients += 1;
            }
            Ok(())
        })?;
        progress(summary.clients);
    }
    Ok(summary)
}

/// For `wardside-bench report` only: its SQL baseline runs each measure as one query on the
/// store's own connection (the key never leaves the store). Each row is a key (empty for a
/// headline measure) and a number; `params` are `?1`, `?2`... in order. Built only with the
/// benchmarks' feature, never in the app or the CLI.
#[cfg(feature = "unencrypted-baseline-for-benchmarks")]
pub fn baseline_query(store: &Store, sql: &str, params: &[&str]) -> Result<Vec<(String, i64)>> {
    let mut stmt = store.conn.prepare_cached(sql)?;
    // A query may use only the first few (`?1` and `?2`, say).
    let used = stmt.parameter_count().min(params.len());
    let rows = stmt.query_map(rusqlite::params_from_iter(&params[..used]), |r| {
        Ok((
            r.get::<_, Option<String>>(0)?.unwrap_or_default(),
            r.get::<_, Option<i64>>(1)?.unwrap_or(0),
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
