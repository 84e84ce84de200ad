//! The service's rules, apart from HTTP: which pushed ops a device may store, and whether a
//! fingerprint read off a new device's screen is that device's.

use crate::storage::{Device, Result, Storage};
use wardside_sync::Envelope;
use wardside_sync::keys::fingerprint;
use wardside_sync::protocol::{PushResult, PushStatus, Rejection};

/// Why `device` may not push `env`, if it may not: only its own ops, for its organisation and
/// teams, with a hash and signature that check.
fn refusal(device: &Device, env: &Envelope) -> Option<Rejection> {
    let r = &env.routing;
    if r.device_id != device.id || r.org_id != device.org_id || !device.teams.contains(&r.team_id) {
        Some(Rejection::Forbidden)
    } else if env.verify(&device.sign_key).is_err() {
        Some(Rejection::BadEnvelope)
    } else {
        None
    }
}

/// Store what `device` may push and refuse the rest; one result per op, in the order given.
pub async fn push(
    storage: &impl Storage,
    device: &Device,
    ops: Vec<Envelope>,
    now_ms: i64,
) -> Result<Vec<PushResult>> {
    let mut results: Vec<Option<PushResult>> = Vec::with_capacity(ops.len());
    let mut admitted = Vec::new();
    for env in ops {
        match refusal(device, &env) {
            Some(rejection) => results.push(Some(PushResult {
                op_id: env.routing.op_id,
                status: PushStatus::Rejected,
                server_seq: None,
                rejection: Some(rejection),
            })),
            None => {
                results.push(None);
                admitted.push(env);
            }
        }
    }
    let mut stored = storage
        .push(device.org_id, admitted, now_ms)
        .await?
        .into_iter();
    // Storage answers once per admitted op, in order: fill the gaps left above.
    results
        .into_iter()
        .map(|r| r.or_else(|| stored.next()))
        .collect::<Option<_>>()
        .ok_or_else(|| crate::storage::StorageError::Backend("push results were lost".into()))
}

/// Whether the fingerprint an admin typed (any case, with or without dashes) is the device's.
pub fn fingerprint_matches(device: &Device, typed: &str) -> bool {
    let typed: String = typed.chars().filter(char::is_ascii_hexdigit).collect();
    let actual = fingerprint(&device.sign_key, &device.box_key).replace('-', "");
    typed.eq_ignore_ascii_case(&actual)
}
