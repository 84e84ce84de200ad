#![allow(clippy::unwrap_used)]

use super::*;
use crate::keys::DeviceSigningKey;
use crate::wrap::{BoxSecret, unwrap, wrap};

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

const ORG: Uuid = Uuid::from_u128(0x0a);
const TEAM: Uuid = Uuid::from_u128(0x0a);

struct Dev {
    id: Uuid,
    sign: DeviceSigningKey,
    boxs: BoxSecret,
}

impl Dev {
    fn new(n: u128) -> Dev {
        Dev {
            id: id(n),
            sign: DeviceSigningKey::generate().unwrap(),
            boxs: BoxSecret::generate().unwrap(),
        }
    }
    fn keys(&self) -> DeviceKeys {
        DeviceKeys {
            device_id: self.id,
            sign_key: self.sign.public_key(),
            box_key: self.boxs.public_key(),
        }
    }
}

/// An organisation: a root admin, its genesis and the team's first key.
struct Org {
    root: Dev,
    log: Vec<SignedStatement>,
    state: TrustState,
    key: TeamKey,
}

impl Org {
    fn new() -> Org {
        let root = Dev::new(1);
        let genesis = Statement {
            org_id: ORG,
            seq: 1,
            prev: [0; 32],
            author: root.id,
            at_ms: 0,
            body: Body::Genesis {
                admin: root.keys(),
                name: "Riverside IMHA".into(),
                recovery_key: [5; 32],
                teams: vec![TEAM],
            },
        }
        .sign(&root.sign);
        let state = TrustState::genesis(&genesis, ORG, &root.sign.public_key()).unwrap();
        let mut org = Org {
            root,
            log: vec![genesis],
            state,
            key: TeamKey::generate(KeyId {
                team_id: TEAM,
                epoch: 1,
            })
            .unwrap(),
        };
        let key_id = key_id(ORG, &org.key);
        org.say_as_root(Body::TeamEpoch {
            team: TEAM,
            epoch: 1,
            key_id,
        })
        .unwrap();
        org
    }

    fn statement(&self, by: &Dev, body: Body) -> SignedStatement {
        self.state.next(by.id, 0, body).sign(&by.sign)
    }

    fn say(&mut self, by: &Dev, body: Body) -> Result<(), TrustError> {
        let s = self.statement(by, body);
        self.state.apply(&s)?;
        self.log.push(s);
        Ok(())
    }

    fn say_as_root(&mut self, body: Body) -> Result<(), TrustError> {
        let s = self.state.next(self.root.id, 0, body).sign(&self.root.sign);
        self.state.apply(&s)?;
        self.log.push(s);
        Ok(())
    }

    fn approve(&mut self, d: &Dev, admin: bool) {
        self.say_as_root(Body::Approve {
            device: d.keys(),
            name: format!("laptop {}", d.id),
            admin,
            teams: vec![TEAM],
        })
        .unwrap();
    }
}

#[test]
fn a_log_of_approvals_epochs_and_revocations_folds_the_same_everywhere() {
    let mut org = Org::new();
    let b = Dev::new(2);
    let c = Dev::new(3);
    assert_eq!(org.state.sender(b.id, TEAM, 1), Sender::Unknown);
    org.approve(&b, false);
    org.approve(&c, true);
    assert_eq!(
        org.state.sender(b.id, TEAM, 9),
        Sender::Trusted(b.sign.public_key())
    );
    assert_eq!(
        org.state.sender(b.id, Uuid::from_u128(99), 1),
        Sender::NotMember
    );
    assert!(org.state.is_admin(c.id) && !org.state.is_admin(b.id));
    // The second admin revokes the first device, which had sent 7 ops in the team.
    org.say(
        &c,
        Body::Revoke {
            device: b.id,
            cutoffs: BTreeMap::from([(TEAM, 7)]),
        },
    )
    .unwrap();
    assert!(org.state.is_revoked(b.id));
    assert_eq!(
        org.state.sender(b.id, TEAM, 7),
        Sender::Trusted(b.sign.public_key())
    );
    assert_eq!(
        org.state.sender(b.id, TEAM, 8),
        Sender::AfterCutoff { through: 7 }
    );
    assert_eq!(org.state.members(TEAM).count(), 2);
    // A new epoch after the revocation: the newest is what new ops are sealed with.
    let k2 = TeamKey::generate(KeyId {
        team_id: TEAM,
        epoch: 2,
    })
    .unwrap();
    org.say(
        &c,
        Body::TeamEpoch {
            team: TEAM,
            epoch: 2,
            key_id: key_id(ORG, &k2),
        },
    )
    .unwrap();
    assert_eq!(org.state.current_epoch(TEAM).unwrap().0, 2);
    // Every device that reads the same log reaches the same state, and JSON round-trips.
    let json = serde_json::to_string(&org.log).unwrap();
    let back: Vec<SignedStatement> = serde_json::from_str(&json).unwrap();
    let again = TrustState::from_log(&back, ORG, &org.root.sign.public_key()).unwrap();
    assert_eq!(again, org.state);
}

#[test]
fn every_way_of_altering_or_forging_the_log_is_refused() {
    let mut org = Org::new();
    let b = Dev::new(2);
    org.approve(&b, false);
    let stranger = Dev::new(9);
    let pinned = org.root.sign.public_key();

    // Another root: a log the service made with its own key.
    assert_eq!(
        TrustState::from_log(&org.log, ORG, &stranger.sign.public_key()),
        Err(TrustError::WrongRoot)
    );
    // A genesis that names the real root but was signed by someone else.
    let mut forged = org.log[0].clone();
    forged.signature = stranger
        .sign
        .sign(&signed_message(&forged.statement.hash()))
        .to_vec();
    assert_eq!(
        TrustState::genesis(&forged, ORG, &pinned),
        Err(TrustError::BadSignature { seq: 1 })
    );
    // Another organisation.
    assert_eq!(
        TrustState::from_log(&org.log, id(77), &pinned),
        Err(TrustError::OtherOrganisation { seq: 1 })
    );

    let body = || Body::Approve {
        device: stranger.keys(),
        name: "service's own laptop".into(),
        admin: true,
        teams: vec![TEAM],
    };
    // Made by a device that is not an admin.
    let s = org.statement(&b, body());
    assert_eq!(
        org.state.clone().apply(&s),
        Err(TrustError::NotAdmin { seq: 4 })
    );
    // Made by a stranger claiming to be the root.
    let mut s = org.state.next(org.root.id, 0, body());
    let sig = stranger.sign.sign(&signed_message(&s.hash())).to_vec();
    let claimed = SignedStatement {
        statement: s.clone(),
        signature: sig,
    };
    assert_eq!(
        org.state.clone().apply(&claimed),
        Err(TrustError::BadSignature { seq: 4 })
    );
    // A real statement with its body changed afterwards.
    let mut real = org.statement(&org.root, body());
    real.statement.body = Body::Approve {
        device: stranger.keys(),
        name: "service's own laptop".into(),
        admin: false,
        teams: vec![TEAM],
    };
    assert_eq!(
        org.state.clone().apply(&real),
        Err(TrustError::BadSignature { seq: 4 })
    );
    // Skipped, repeated, or linked to another head.
    s.seq = 6;
    assert!(matches!(
        org.state.clone().apply(&s.clone().sign(&org.root.sign)),
        Err(TrustError::OutOfOrder { head: 3, got: 6 })
    ));
    assert!(matches!(
        org.state.clone().apply(&org.log[2]),
        Err(TrustError::OutOfOrder { .. })
    ));
    let mut relinked = org.state.next(org.root.id, 0, body());
    relinked.prev = [1; 32];
    assert_eq!(
        org.state.clone().apply(&relinked.sign(&org.root.sign)),
        Err(TrustError::BrokenLink { seq: 4 })
    );
    // A second genesis; approving the same device twice; an epoch that jumps; a team with no
    // key; the last admin revoked.
    let refusals = [
        Body::Genesis {
            admin: stranger.keys(),
            name: "x".into(),
            recovery_key: [0; 32],
            teams: vec![TEAM],
        },
        Body::Approve {
            device: b.keys(),
            name: "again".into(),
            admin: false,
            teams: vec![TEAM],
        },
        Body::TeamEpoch {
            team: TEAM,
            epoch: 99,
            key_id: [1; 32],
        },
        Body::Approve {
            device: stranger.keys(),
            name: "x".into(),
            admin: false,
            teams: vec![id(404)],
        },
        Body::Revoke {
            device: org.root.id,
            cutoffs: BTreeMap::new(),
        },
        Body::Approve {
            device: stranger.keys(),
            name: "bell\u{7}".into(),
            admin: false,
            teams: vec![TEAM],
        },
    ];
    for body in refusals {
        let what = format!("{body:?}");
        let s = org.statement(&org.root, body);
        assert!(
            matches!(
                org.state.clone().apply(&s),
                Err(TrustError::Refused { seq: 4, .. })
            ),
            "{what}"
        );
    }
    // Nothing refused changed the state.
    assert_eq!(
        TrustState::from_log(&org.log, ORG, &pinned).unwrap(),
        org.state
    );
}

#[test]
fn a_key_is_used_only_if_an_admin_signed_its_wrap_and_it_is_the_announced_key() {
    let mut org = Org::new();
    let b = Dev::new(2);
    org.approve(&b, false);
    let good_wrap = wrap(&org.key, b.id, &b.boxs.public_key()).unwrap();
    let grant = KeyGrant::sign(
        ORG,
        good_wrap.clone(),
        &org.key,
        org.root.id,
        &org.root.sign,
    );
    org.state.check_grant(&grant, b.id).unwrap();
    let key = unwrap(&grant.wrap, b.id, &b.boxs).unwrap();
    org.state.check_key(&key).unwrap();

    // The service wraps its own key for epoch 99 (anyone can wrap to a public key).
    let minted = TeamKey::generate(KeyId {
        team_id: TEAM,
        epoch: 99,
    })
    .unwrap();
    let w = wrap(&minted, b.id, &b.boxs.public_key()).unwrap();
    let service = Dev::new(66);
    let g = KeyGrant::sign(ORG, w.clone(), &minted, service.id, &service.sign);
    assert!(org.state.check_grant(&g, b.id).is_err());
    // ... or for epoch 1, signed by a device that is not an admin.
    let fake1 = TeamKey::generate(KeyId {
        team_id: TEAM,
        epoch: 1,
    })
    .unwrap();
    let w1 = wrap(&fake1, b.id, &b.boxs.public_key()).unwrap();
    let g = KeyGrant::sign(ORG, w1.clone(), &fake1, b.id, &b.sign);
    assert!(org.state.check_grant(&g, b.id).is_err());
    // ... or claiming the announced key id over another key: the signature does not cover it,
    let mut g = KeyGrant::sign(ORG, w1.clone(), &fake1, org.root.id, &org.root.sign);
    g.key_id = grant.key_id;
    assert!(org.state.check_grant(&g, b.id).is_err());
    // and had an admin been fooled into signing it, the key inside is still not the announced one.
    let inside = unwrap(&w1, b.id, &b.boxs).unwrap();
    assert!(org.state.check_key(&inside).is_err());
    // A grant for someone else, or with its wrap swapped for another.
    assert!(org.state.check_grant(&grant, id(3)).is_err());
    let mut swapped = grant.clone();
    swapped.wrap = w1;
    assert!(org.state.check_grant(&swapped, b.id).is_err());
}

#[test]
fn the_signed_encoding_is_pinned() {
    let s = Statement {
        org_id: id(1),
        seq: 2,
        prev: [3; 32],
        author: id(4),
        at_ms: 5,
        body: Body::Revoke {
            device: id(6),
            cutoffs: BTreeMap::from([(id(7), 8)]),
        },
    };
    let e = s.encode();
    assert!(e.starts_with(b"wardside/statement/v1\x01\x00\x00\x00\x10"));
    let hex: String = s.hash().iter().map(|b| format!("{b:02x}")).collect();
    // Changing the encoding changes every signature ever made: a new version tag instead.
    assert_eq!(
        hex,
        "3d93eaf1065ed883bcb433f61197c0d3e626b87b42d121951814d88c048b0add"
    );
}
