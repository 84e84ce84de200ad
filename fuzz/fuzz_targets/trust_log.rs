//! The trust log. Two kinds of input:
//! - JSON (any bytes, or the genuine log edited), folded with `TrustState::from_log`: a log that
//!   folds must fold to exactly the genuine state, never to another one.
//! - Logs of arbitrary statements, each properly numbered, linked and signed by one of four
//!   devices (or a stranger): every statement is applied or refused without a panic, a refusal
//!   changes nothing, every state keeps the log's invariants, and folding the accepted log again
//!   from its JSON reaches the same state.
#![no_main]

use arbitrary::{Arbitrary, Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use uuid::Uuid;
use wardside_fuzz::{ORG, TEAMS, check_invariants, genesis, input_from, org, pool, root_key};
use wardside_sync::protocol::{SignedStatement, TrustLog};
use wardside_sync::trust::{Body, DeviceKeys, TrustState};

fn device_id(u: &mut Unstructured) -> Result<Uuid> {
    Ok(if u.ratio(3, 4)? {
        Uuid::from_u128(u.int_in_range(1..=5)?)
    } else {
        Uuid::from_u128(u128::arbitrary(u)?)
    })
}

fn team(u: &mut Unstructured) -> Result<Uuid> {
    Ok(if u.ratio(4, 5)? {
        *u.choose(&TEAMS)?
    } else {
        device_id(u)?
    })
}

fn teams(u: &mut Unstructured) -> Result<Vec<Uuid>> {
    let n = if u.ratio(1, 20)? {
        u.int_in_range(60..=70)?
    } else {
        u.int_in_range(0..=3)?
    };
    (0..n).map(|_| team(u)).collect()
}

fn cutoffs(u: &mut Unstructured) -> Result<BTreeMap<Uuid, u64>> {
    let n = u.int_in_range(0..=2)?;
    (0..n).map(|_| Ok((team(u)?, u64::arbitrary(u)?))).collect()
}

fn keys(u: &mut Unstructured) -> Result<DeviceKeys> {
    let d = &pool()[u.choose_index(4)?];
    Ok(match u.int_in_range(0..=3)? {
        0 | 1 => d.keys(),
        2 => DeviceKeys {
            device_id: device_id(u)?,
            sign_key: d.sign.public_key(),
            box_key: <[u8; 32]>::arbitrary(u)?,
        },
        _ => DeviceKeys {
            device_id: device_id(u)?,
            sign_key: <[u8; 32]>::arbitrary(u)?,
            box_key: <[u8; 32]>::arbitrary(u)?,
        },
    })
}

fn body(u: &mut Unstructured) -> Result<Body> {
    Ok(match u.int_in_range(0..=12)? {
        0 => Body::Genesis {
            admin: keys(u)?,
            name: String::arbitrary(u)?,
            recovery_key: <[u8; 32]>::arbitrary(u)?,
            teams: teams(u)?,
        },
        1..=4 => Body::Approve {
            device: keys(u)?,
            name: String::arbitrary(u)?,
            admin: bool::arbitrary(u)?,
            teams: teams(u)?,
        },
        5..=7 => Body::Update {
            device: device_id(u)?,
            admin: bool::arbitrary(u)?,
            teams: teams(u)?,
            cutoffs: cutoffs(u)?,
        },
        8 | 9 => Body::Revoke {
            device: device_id(u)?,
            cutoffs: cutoffs(u)?,
        },
        _ => Body::TeamEpoch {
            team: team(u)?,
            epoch: if u.ratio(4, 5)? {
                u.int_in_range(0..=3)?
            } else {
                u32::arbitrary(u)?
            },
            key_id: if u.ratio(1, 5)? {
                [0; 32]
            } else {
                <[u8; 32]>::arbitrary(u)?
            },
        },
    })
}

fn fold_signed(u: &mut Unstructured) -> Result<()> {
    let first = genesis(&String::arbitrary(u)?, teams(u)?);
    let Ok(mut state) = TrustState::genesis(&first, ORG, &root_key()) else {
        return Ok(());
    };
    check_invariants(&state);
    let mut log = vec![first];
    while !u.is_empty() && log.len() < 40 {
        let author = u.int_in_range(0..=4)?;
        let (id, key) = match pool().get(author) {
            Some(d) => (d.id, &d.sign),
            // A stranger signs as the root.
            None => (pool()[0].id, &pool()[3].sign),
        };
        let s = state.next(id, i64::arbitrary(u)?, body(u)?).sign(key);
        let before = state.clone();
        match state.apply(&s) {
            Ok(()) => {
                assert_eq!(state.seq, before.seq + 1);
                assert_eq!(state.head, s.statement.hash());
                check_invariants(&state);
                log.push(s);
            }
            Err(_) => assert_eq!(state, before, "a refused statement changed the state"),
        }
    }
    let json = serde_json::to_vec(&log).unwrap();
    let back: Vec<SignedStatement> = serde_json::from_slice(&json).unwrap();
    assert_eq!(TrustState::from_log(&back, ORG, &root_key()), Ok(state));
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    if data.first().is_some_and(|m| m % 4 == 2) {
        let _ = fold_signed(&mut Unstructured::new(&data[1..]));
        return;
    }
    let o = org();
    let bytes = input_from(data, &[&o.log_json]);
    let logs = [
        serde_json::from_slice::<Vec<SignedStatement>>(&bytes).ok(),
        serde_json::from_slice::<TrustLog>(&bytes)
            .ok()
            .map(|t| t.statements),
    ];
    for log in logs.into_iter().flatten() {
        if let Ok(state) = TrustState::from_log(&log, ORG, &root_key()) {
            assert_eq!(state, o.state, "a changed log folded to another state");
        }
        // Folded from the genesis of whoever it names: no panic either.
        if let Some(first) = log.first()
            && let wardside_sync::trust::Body::Genesis { admin, .. } = &first.statement.body
        {
            let _ = TrustState::from_log(&log, first.statement.org_id, &admin.sign_key);
        }
    }
});
