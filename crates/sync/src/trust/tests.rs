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

/// An organisation whose genesis names this recovery secret's X25519 key.
fn org_with_recovery(secret: &crate::recovery::RecoverySecret) -> Org {
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
            recovery_key: secret.box_public(),
            teams: vec![TEAM],
        },
    }
    .sign(&root.sign);
    let state = TrustState::genesis(&genesis, ORG, &root.sign.public_key()).unwrap();
    let key = TeamKey::generate(KeyId {
        team_id: TEAM,
        epoch: 1,
    })
    .unwrap();
    let mut org = Org {
        root,
        log: vec![genesis],
        state,
        key,
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

fn signer_body(secret: &crate::recovery::RecoverySecret, root: &[u8; 32]) -> Body {
    let s = secret.endorse(ORG, root);
    Body::RecoverySigner {
        sign_key: s.sign_key,
        endorsement: s.endorsement,
    }
}

fn recover_body(d: &Dev) -> Body {
    Body::Recover {
        device: d.keys(),
        name: "new laptop".into(),
        teams: vec![TEAM],
    }
}

#[test]
fn the_recovery_words_make_a_new_admin_once_an_admin_named_their_signing_key() {
    use crate::recovery::RecoverySecret;
    let secret = RecoverySecret::generate().unwrap();
    let mut org = org_with_recovery(&secret);
    let root_pub = org.root.sign.public_key();
    let laptop = Dev::new(20);

    // Before an admin names the recovery signing key, the words make nobody an admin.
    let early = org
        .state
        .next(ORG, 0, recover_body(&laptop))
        .sign_as_recovery(&secret);
    assert!(matches!(
        org.state.clone().apply(&early),
        Err(TrustError::Refused { seq: 3, .. })
    ));

    // A non-admin cannot name it; an endorsement by other words, or of another root, is refused.
    let b = Dev::new(2);
    org.approve(&b, false);
    let s = org.statement(&b, signer_body(&secret, &root_pub));
    assert_eq!(
        org.state.clone().apply(&s),
        Err(TrustError::NotAdmin { seq: 4 })
    );
    let other = RecoverySecret::generate().unwrap();
    for body in [
        signer_body(&other, &root_pub),
        signer_body(&secret, &b.sign.public_key()),
    ] {
        let s = org.statement(&org.root, body);
        assert!(matches!(
            org.state.clone().apply(&s),
            Err(TrustError::Refused { seq: 4, .. })
        ));
    }
    org.say_as_root(signer_body(&secret, &root_pub)).unwrap();
    assert_eq!(org.state.recovery_signer, Some(secret.sign_public()));
    // Named once only.
    let again = org.statement(&org.root, signer_body(&secret, &root_pub));
    assert!(matches!(
        org.state.clone().apply(&again),
        Err(TrustError::Refused { seq: 5, .. })
    ));

    // Other words, a device's own key, or an author other than the organisation: refused.
    let wrong = org
        .state
        .next(ORG, 0, recover_body(&laptop))
        .sign_as_recovery(&other);
    assert_eq!(
        org.state.clone().apply(&wrong),
        Err(TrustError::BadSignature { seq: 5 })
    );
    let by_device = org.statement(&laptop, recover_body(&laptop));
    assert!(matches!(
        org.state.clone().apply(&by_device),
        Err(TrustError::Refused { seq: 5, .. })
    ));
    let as_root = org
        .state
        .next(org.root.id, 0, recover_body(&laptop))
        .sign_as_recovery(&secret);
    assert!(matches!(
        org.state.clone().apply(&as_root),
        Err(TrustError::Refused { seq: 5, .. })
    ));
    // A recovery that reuses a known device or signing key, or names a team with no key.
    for body in [
        recover_body(&b),
        Body::Recover {
            device: DeviceKeys {
                device_id: id(21),
                ..b.keys()
            },
            name: "copy".into(),
            teams: vec![TEAM],
        },
        Body::Recover {
            device: laptop.keys(),
            name: "new laptop".into(),
            teams: vec![id(404)],
        },
    ] {
        let s = org.state.next(ORG, 0, body).sign_as_recovery(&secret);
        assert!(matches!(
            org.state.clone().apply(&s),
            Err(TrustError::Refused { seq: 5, .. })
        ));
    }

    // The words make the new laptop an admin in every team.
    let recover = org
        .state
        .next(ORG, 0, recover_body(&laptop))
        .sign_as_recovery(&secret);
    org.state.apply(&recover).unwrap();
    org.log.push(recover.clone());
    assert!(org.state.is_admin(laptop.id));
    assert_eq!(org.state.teams_of(laptop.id), vec![TEAM]);
    assert_eq!(org.state.teams(), vec![TEAM]);
    // The same statement cannot be replayed later in the log.
    assert!(matches!(
        org.state.clone().apply(&recover),
        Err(TrustError::OutOfOrder { .. })
    ));

    // The recovered admin acts as any admin: approves a device, revokes the lost root.
    let c = Dev::new(3);
    org.say(
        &laptop,
        Body::Approve {
            device: c.keys(),
            name: "third".into(),
            admin: false,
            teams: vec![TEAM],
        },
    )
    .unwrap();
    org.say(
        &laptop,
        Body::Revoke {
            device: org.root.id,
            cutoffs: BTreeMap::new(),
        },
    )
    .unwrap();
    assert!(org.state.is_approved(c.id) && org.state.is_revoked(org.root.id));

    // Every device folds the same log (JSON round trip) to the same state.
    let json = serde_json::to_string(&org.log).unwrap();
    let back: Vec<SignedStatement> = serde_json::from_str(&json).unwrap();
    assert_eq!(
        TrustState::from_log(&back, ORG, &root_pub).unwrap(),
        org.state
    );
}

#[test]
fn the_recovery_statements_encoding_is_pinned_and_older_statements_keep_theirs() {
    let at = |body| Statement {
        org_id: id(1),
        seq: 2,
        prev: [3; 32],
        author: id(1),
        at_ms: 5,
        body,
    };
    let hex = |h: Hash| -> String { h.iter().map(|b| format!("{b:02x}")).collect() };
    let signer = at(Body::RecoverySigner {
        sign_key: [6; 32],
        endorsement: vec![7; 64],
    });
    let recover = at(Body::Recover {
        device: DeviceKeys {
            device_id: id(8),
            sign_key: [9; 32],
            box_key: [10; 32],
        },
        name: "new laptop".into(),
        teams: vec![id(11)],
    });
    assert_eq!(hex(signer.hash()), PINNED_SIGNER);
    assert_eq!(hex(recover.hash()), PINNED_RECOVER);
    // The JSON names the kinds.
    assert!(
        serde_json::to_string(&recover)
            .unwrap()
            .contains(r#""kind":"recover""#)
    );
    assert!(
        serde_json::to_string(&signer)
            .unwrap()
            .contains(r#""kind":"recovery-signer""#)
    );
}

const PINNED_SIGNER: &str = "4609ea7dc8d133299d039f559d3eed1edc2c0c541d6817a092ab500d8a0abf2b";
const PINNED_RECOVER: &str = "7805f9c4f3827ff5fe1a157475b70f96b3e603f9e9ec770fb6ec93e6c934eec4";

/// A team's admin (named by an organisation admin) acts within its teams only; every device
/// folds the log the same way, and a statement beyond the teams is refused.
#[test]
fn a_teams_admin_acts_within_its_teams_only() {
    let mut org = Org::new();
    let other = id(0x0b);
    let other_key = TeamKey::generate(KeyId {
        team_id: other,
        epoch: 1,
    })
    .unwrap();
    org.say_as_root(Body::TeamEpoch {
        team: other,
        epoch: 1,
        key_id: key_id(ORG, &other_key),
    })
    .unwrap();
    let lead = Dev::new(2);
    org.approve(&lead, false);
    let elsewhere = Dev::new(3);
    org.say_as_root(Body::Approve {
        device: elsewhere.keys(),
        name: "Elsewhere".into(),
        admin: false,
        teams: vec![other],
    })
    .unwrap();
    // Not an admin yet: nothing.
    let newcomer = Dev::new(4);
    let approve = |teams: Vec<Uuid>, admin: bool| Body::Approve {
        device: newcomer.keys(),
        name: "Newcomer".into(),
        admin,
        teams,
    };
    assert!(matches!(
        org.say(&lead, approve(vec![TEAM], false)),
        Err(TrustError::NotAdmin { .. })
    ));
    // Only an organisation admin names team admins.
    let by_lead = Body::TeamAdmins {
        device: lead.id,
        teams: vec![TEAM],
    };
    assert!(org.say(&lead, by_lead.clone()).is_err());
    org.say_as_root(by_lead).unwrap();
    assert_eq!(org.state.admin_teams(lead.id), vec![TEAM]);
    assert!(!org.state.is_admin(lead.id) && org.state.is_any_admin(lead.id));
    // Beyond its team: refused, each for its reason.
    for (body, why) in [
        (approve(vec![other], false), "its own teams only"),
        (approve(vec![TEAM], true), "organisation admins"),
        (
            Body::Revoke {
                device: elsewhere.id,
                cutoffs: BTreeMap::new(),
            },
            "in its teams alone",
        ),
        (
            Body::TeamEpoch {
                team: other,
                epoch: 2,
                key_id: [7; 32],
            },
            "key epochs of its own teams",
        ),
        (
            Body::TeamAdmins {
                device: lead.id,
                teams: vec![TEAM, other],
            },
            "organisation admin",
        ),
    ] {
        match org.say(&lead, body) {
            Err(TrustError::Refused { why: w, .. }) => assert!(w.contains(why), "{w}"),
            other => panic!("{why}: {other:?}"),
        }
    }
    // A member of its team who administers another team is not its to revoke.
    let other_lead = Dev::new(5);
    org.approve(&other_lead, false);
    org.say_as_root(Body::TeamAdmins {
        device: other_lead.id,
        teams: vec![other],
    })
    .unwrap();
    match org.say(
        &lead,
        Body::Revoke {
            device: other_lead.id,
            cutoffs: BTreeMap::new(),
        },
    ) {
        Err(TrustError::Refused { why, .. }) => {
            assert!(why.contains("in its teams alone"), "{why}")
        }
        other => panic!("{other:?}"),
    }
    // Within it: approve, start a key epoch, revoke.
    org.say(&lead, approve(vec![TEAM], false)).unwrap();
    let next = TeamKey::generate(KeyId {
        team_id: TEAM,
        epoch: 2,
    })
    .unwrap();
    org.say(
        &lead,
        Body::TeamEpoch {
            team: TEAM,
            epoch: 2,
            key_id: key_id(ORG, &next),
        },
    )
    .unwrap();
    org.say(
        &lead,
        Body::Revoke {
            device: newcomer.id,
            cutoffs: BTreeMap::new(),
        },
    )
    .unwrap();
    // Every device folds the same log to the same state.
    let folded = TrustState::from_log(&org.log, ORG, &org.root.sign.public_key()).unwrap();
    assert_eq!(folded, org.state);
    // Its grants count for its team only.
    let g = KeyGrant::sign(
        ORG,
        wrap(&next, newcomer.id, &newcomer.boxs.public_key()).unwrap(),
        &next,
        lead.id,
        &lead.sign,
    );
    assert!(org.state.check_grant(&g, newcomer.id).is_ok());
    let g = KeyGrant::sign(
        ORG,
        wrap(&other_key, newcomer.id, &newcomer.boxs.public_key()).unwrap(),
        &other_key,
        lead.id,
        &lead.sign,
    );
    assert!(org.state.check_grant(&g, newcomer.id).is_err());
}
