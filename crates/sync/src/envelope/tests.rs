#![allow(clippy::unwrap_used)]

use super::*;

fn id(n: u8) -> Uuid {
    Uuid::from_bytes([n; 16])
}

fn routing() -> Routing {
    Routing {
        org_id: id(1),
        team_id: id(2),
        case_id: Some(id(3)),
        entity: "note".into(),
        entity_id: id(4),
        op_id: id(5),
        device_id: id(6),
        device_seq: 42,
        hlc: "0001764064800000-0000-0606060606060606".into(),
        kid: KeyId {
            team_id: id(2),
            epoch: 3,
        },
        schema_v: 1,
        chain: Some(ChainLink {
            seq: 7,
            prev: [8; 32],
        }),
    }
}

fn team_key() -> TeamKey {
    TeamKey::from_bytes(
        KeyId {
            team_id: id(2),
            epoch: 3,
        },
        [7; 32],
    )
}

const NOTE: &[u8] = br#"{"kind":"note-version","body":"She said CANARYNOTE about leave."}"#;

#[test]
fn a_sealed_op_opens_with_the_team_key_and_the_senders_public_key() {
    let device = DeviceSigningKey::generate().unwrap();
    let env = Envelope::seal(routing(), NOTE, &team_key(), &device).unwrap();
    assert_eq!(env.open(&team_key(), &device.public_key()).unwrap(), NOTE);
    // The content is nowhere in the envelope as it travels.
    let wire = serde_json::to_vec(&env).unwrap();
    assert!(!wire.windows(10).any(|w| w == b"CANARYNOTE"));
    assert!(!env.ciphertext.windows(10).any(|w| w == b"CANARYNOTE"));
    // And the wire form comes back the same.
    let back: Envelope = serde_json::from_slice(&wire).unwrap();
    assert_eq!(back, env);
}

#[test]
fn changing_any_routing_field_is_detected() {
    let device = DeviceSigningKey::generate().unwrap();
    let env = Envelope::seal(routing(), NOTE, &team_key(), &device).unwrap();
    type Change = Box<dyn Fn(&mut Routing)>;
    let changes: Vec<(&str, Change)> = vec![
        ("org", Box::new(|r| r.org_id = id(9))),
        ("case", Box::new(|r| r.case_id = Some(id(9)))),
        ("case removed", Box::new(|r| r.case_id = None)),
        ("entity", Box::new(|r| r.entity = "case".into())),
        ("entity id", Box::new(|r| r.entity_id = id(9))),
        ("op id", Box::new(|r| r.op_id = id(9))),
        ("device", Box::new(|r| r.device_id = id(9))),
        ("seq", Box::new(|r| r.device_seq = 43)),
        ("hlc", Box::new(|r| r.hlc.push('0'))),
        ("schema", Box::new(|r| r.schema_v = 2)),
        ("chain seq", Box::new(|r| r.chain.as_mut().unwrap().seq = 8)),
        (
            "chain link",
            Box::new(|r| r.chain.as_mut().unwrap().prev = [9; 32]),
        ),
        ("chain removed", Box::new(|r| r.chain = None)),
    ];
    for (what, change) in changes {
        let mut moved = env.clone();
        change(&mut moved.routing);
        assert_eq!(
            moved.open(&team_key(), &device.public_key()),
            Err(OpenError::HashMismatch),
            "{what}"
        );
        // Even a server that also recomputes the hash cannot make it open: the device's
        // signature covers the hash, and the AEAD covers the metadata.
        moved.content_hash = content_hash(&moved.routing.aad(), &moved.nonce, &moved.ciphertext);
        assert_eq!(
            moved.open(&team_key(), &device.public_key()),
            Err(OpenError::BadSignature),
            "{what}"
        );
    }
}

#[test]
fn a_flipped_ciphertext_bit_a_wrong_key_or_another_signer_is_refused() {
    let device = DeviceSigningKey::generate().unwrap();
    let other = DeviceSigningKey::generate().unwrap();
    let env = Envelope::seal(routing(), NOTE, &team_key(), &device).unwrap();

    let mut flipped = env.clone();
    flipped.ciphertext[3] ^= 1;
    assert_eq!(
        flipped.open(&team_key(), &device.public_key()),
        Err(OpenError::HashMismatch)
    );

    // Signed by the device, but opened as if sent by another: refused.
    assert_eq!(
        env.open(&team_key(), &other.public_key()),
        Err(OpenError::BadSignature)
    );

    // Same epoch id, different key bytes (a forged key): the AEAD refuses.
    let wrong = TeamKey::from_bytes(team_key().id, [8; 32]);
    assert_eq!(
        env.open(&wrong, &device.public_key()),
        Err(OpenError::Tampered)
    );

    // A key for another epoch is not even tried.
    let next_epoch = TeamKey::from_bytes(
        KeyId {
            team_id: id(2),
            epoch: 4,
        },
        [7; 32],
    );
    assert!(matches!(
        env.open(&next_epoch, &device.public_key()),
        Err(OpenError::NoKey { .. })
    ));
}

#[test]
fn a_page_opened_as_one_batch_refuses_exactly_the_bad_ops_and_opens_the_rest() {
    let a = DeviceSigningKey::generate().unwrap();
    let b = DeviceSigningKey::generate().unwrap();
    let key = team_key();
    let seal = |n: u8, by: &DeviceSigningKey| {
        let mut r = routing();
        r.op_id = Uuid::from_bytes([n; 16]);
        r.device_seq = u64::from(n);
        Envelope::seal(r, NOTE, &key, by).unwrap()
    };
    let mut envs: Vec<(Envelope, [u8; 32])> = (0..40u8)
        .map(|n| {
            let by = if n % 3 == 0 { &b } else { &a };
            (seal(n, by), by.public_key())
        })
        .collect();
    // 5: a signature altered (hash intact); 11: a signature cut short; 17: A's op presented as
    // B's; 23: the ciphertext altered; 29: sealed under an epoch this device lacks.
    envs[5].0.signature[10] ^= 1;
    envs[11].0.signature.truncate(10);
    envs[17].1 = b.public_key();
    envs[23].0.ciphertext[0] ^= 1;
    let later = TeamKey::from_bytes(
        KeyId {
            team_id: id(2),
            epoch: 9,
        },
        [1; 32],
    );
    let mut r = routing();
    r.kid = later.id;
    envs[29].0 = Envelope::seal(r, NOTE, &later, &a).unwrap();

    let items: Vec<_> = envs.iter().map(|(e, pk)| (e, &key, pk)).collect();
    let opened = Envelope::open_many(&items);
    assert_eq!(opened.len(), 40);
    for (i, result) in opened.iter().enumerate() {
        match i {
            5 | 11 | 17 => assert_eq!(result, &Err(OpenError::BadSignature), "op {i}"),
            23 => assert_eq!(result, &Err(OpenError::HashMismatch), "op {i}"),
            29 => assert!(matches!(result, Err(OpenError::NoKey { .. })), "op {i}"),
            _ => assert_eq!(result.as_deref(), Ok(NOTE), "op {i}"),
        }
        // One op alone gets the same answer as in the batch, and the service's own check
        // agrees on every signature an honest device made.
        let (env, pk) = &envs[i];
        assert_eq!(&env.open(&key, pk), result, "op {i} alone");
        if i != 29 {
            assert_eq!(
                env.verify(pk).is_ok(),
                result.is_ok(),
                "op {i} on the service"
            );
        }
    }

    // A batch with nothing wrong in it opens whole.
    let good: Vec<_> = items
        .iter()
        .enumerate()
        .filter(|(i, _)| ![5, 11, 17, 23, 29].contains(i))
        .map(|(_, it)| *it)
        .collect();
    assert!(
        Envelope::open_many(&good)
            .iter()
            .all(|r| r.as_deref() == Ok(NOTE))
    );
    assert!(Envelope::open_many(&[]).is_empty());
}

#[test]
fn sealing_refuses_a_key_for_another_team_and_oversized_content() {
    let device = DeviceSigningKey::generate().unwrap();
    let mut r = routing();
    r.team_id = id(9);
    assert!(matches!(
        Envelope::seal(r, NOTE, &team_key(), &device),
        Err(SealError::TeamMismatch { .. })
    ));
    let big = vec![0u8; MAX_CONTENT_BYTES + 1];
    assert!(matches!(
        Envelope::seal(routing(), &big, &team_key(), &device),
        Err(SealError::TooLarge(_))
    ));
}

#[test]
fn two_seals_of_the_same_op_differ_but_both_open() {
    // A re-sent op that was re-sealed has another hash: the server must see it as a conflict
    // unless the client re-sends the stored envelope byte for byte (the sync loop does).
    let device = DeviceSigningKey::generate().unwrap();
    let a = Envelope::seal(routing(), NOTE, &team_key(), &device).unwrap();
    let b = Envelope::seal(routing(), NOTE, &team_key(), &device).unwrap();
    assert_ne!(a.content_hash, b.content_hash);
    assert_eq!(b.open(&team_key(), &device.public_key()).unwrap(), NOTE);
}

#[test]
fn the_associated_data_encoding_is_pinned() {
    // Changing this encoding breaks every stored envelope: a new encoding needs a new tag.
    // Version 1 (no chain link), as frozen before chains existed:
    let mut v1 = routing();
    v1.chain = None;
    v1.hlc = "0001764064800000-0000-dev".into();
    let aad = v1.aad();
    let hex: String = sha256(&aad).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(aad.len(), 18 + 12 * 5 + 16 * 7 + 4 + 8 + 25 + 4 + 4);
    assert!(aad.starts_with(b"wardside/op-aad/v1\x01\x00\x00\x00\x10"));
    // Without a case, field 3 is present and empty.
    let mut r = v1.clone();
    r.case_id = None;
    let none = r.aad();
    let at = 18 + 2 * (5 + 16);
    assert_eq!(&none[at..at + 5], &[3, 0, 0, 0, 0]);
    assert_eq!(hex, PINNED_AAD_SHA256);
    // Version 2: its own tag, and the chain link's sequence and previous hash at the end.
    let v2 = routing().aad();
    assert!(v2.starts_with(b"wardside/op-aad/v2\x01\x00\x00\x00\x10"));
    assert!(v2.ends_with(&[&[14u8, 0, 0, 0, 32][..], &[8u8; 32][..]].concat()));
    let hex: String = sha256(&v2).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, PINNED_AAD_V2_SHA256);
}

// Computed independently (Python: struct.pack per the doc comment of `Routing::aad`).
const PINNED_AAD_SHA256: &str = "c5b93a38e97170f8e5558e3c4122e11aec19cf13813a9ead80b481056840fd82";
const PINNED_AAD_V2_SHA256: &str =
    "d9f1b2e1bc4ddff9a75e18135886f60faf64e1a471b7f4ce517c7ecfff1dac04";

#[test]
fn a_device_key_survives_a_round_trip_through_its_saved_form() {
    let device = DeviceSigningKey::generate().unwrap();
    let again = DeviceSigningKey::from_pkcs8(device.pkcs8()).unwrap();
    assert_eq!(device.public_key(), again.public_key());
    assert!(DeviceSigningKey::from_pkcs8(b"not a key").is_err());
    assert!(!format!("{device:?}").contains("pkcs8"));
    assert_eq!(
        format!("{:?}", team_key()),
        "TeamKey { id: KeyId { team_id: 02020202-0202-0202-0202-020202020202, epoch: 3 }, .. }"
    );
}

#[test]
fn sealing_again_with_the_same_nonce_gives_the_same_bytes_and_a_new_nonce_does_not() {
    let device = DeviceSigningKey::generate().unwrap();
    let a = Envelope::seal(routing(), NOTE, &team_key(), &device).unwrap();
    let nonce: [u8; 12] = a.nonce.clone().try_into().unwrap();
    let again = Envelope::seal_with_nonce(routing(), NOTE, &team_key(), &device, nonce).unwrap();
    assert_eq!(
        again, a,
        "re-sent byte for byte, so the chain link after it still holds"
    );
    let fresh = Envelope::seal(routing(), NOTE, &team_key(), &device).unwrap();
    assert_ne!(fresh.content_hash, a.content_hash);
}

#[test]
fn an_op_without_a_chain_link_keeps_the_v1_encoding() {
    let mut r = routing();
    r.chain = None;
    assert!(r.aad().starts_with(b"wardside/op-aad/v1"));
    assert!(routing().aad().starts_with(b"wardside/op-aad/v2"));
    let device = DeviceSigningKey::generate().unwrap();
    let env = Envelope::seal(r, NOTE, &team_key(), &device).unwrap();
    assert_eq!(env.open(&team_key(), &device.public_key()).unwrap(), NOTE);
    let json = serde_json::to_value(&env).unwrap();
    assert!(json.get("chain").is_none());
}

#[test]
fn an_hlc_has_one_exact_form() {
    let dev = id(6);
    assert_eq!(hlc_device_part(&dev), "0606060606060606");
    assert_eq!(
        parse_hlc("0001764064800000-00ff-0606060606060606"),
        Some((1_764_064_800_000, 255, "0606060606060606"))
    );
    assert!(routing().hlc_is_exact());
    for bad in [
        "1764064800000-0000-0606060606060606", // unpadded: sorts wrongly as text
        "0001764064800000-00FF-0606060606060606", // upper-case counter
        "0001764064800000-0000-0606060606060606-x",
        "0001764064800000-0000-06060606060606",
        "+001764064800000-0000-0606060606060606",
        "0001764064800000_0000_0606060606060606",
        "",
    ] {
        assert_eq!(parse_hlc(bad), None, "{bad}");
    }
    // Another device's part: refused for this op.
    let mut r = routing();
    r.hlc = "0001764064800000-0000-0707070707070707".into();
    assert!(!r.hlc_is_exact());
}
