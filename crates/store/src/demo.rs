//! Load the domain's synthetic caseload through the one write path.

use crate::error::Result;
use crate::open::Store;
use wardside_domain::demo::{DemoConfig, caseload};
use wardside_domain::*;

#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct DemoSummary {
    pub clients: usize,
    pub cases: usize,
    pub activities: usize,
}

/// Fill `store` with `cfg.clients` synthetic clients, 100 per transaction. `progress` is told
/// how many clients are done after each transaction.
pub fn load(
    store: &mut Store,
    cfg: &DemoConfig,
    mut progress: impl FnMut(usize),
) -> Result<DemoSummary> {
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
                let case_id = w.open_case(&Case::opened(client_id, d.case_opened))?;
                for (category, summary) in &d.issues {
                    w.add_issue(&Issue {
                        case_id,
                        category: *category,
                        summary: summary.clone(),
                        opened_on: d.case_opened,
                        outcome: None,
                    })?;
                }
                for a in &d.activities {
                    let activity = Activity {
                        case_id,
                        at: a.at,
                        duration_minutes: Some(a.duration_minutes),
                        kind: a.kind.clone(),
                        withheld: None,
                    };
                    w.add_activity(&activity, &a.text)?;
                }
                summary.clients += 1;
                summary.cases += 1;
                summary.activities += d.activities.len();
            }
            Ok(())
        })?;
        progress(summary.clients);
    }
    Ok(summary)
}
