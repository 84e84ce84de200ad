//! HLCs and typed codes: `parse_hlc` takes only its one exact form (up to year 9999), and
//! `normalise`, `code_kind`, `check_root_binding`, `fingerprint` and `same_fingerprint` take any
//! text calmly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use uuid::Uuid;
use wardside_sync::codes;
use wardside_sync::envelope::parse_hlc;

fuzz_target!(|data: &[u8]| {
    let (head, rest) = data.split_at(data.len().min(32));
    let text = String::from_utf8_lossy(rest);
    if let Some((wall, counter, device)) = parse_hlc(&text) {
        assert_eq!(format!("{wall:016}-{counter:04x}-{device}"), text);
        assert!(wall <= 253_402_300_799_999, "past year 9999: {text}");
    }
    let n = codes::normalise(&text);
    assert!(
        n.bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
    );
    assert!(!n.contains(['O', 'I', 'L']));
    assert_eq!(codes::normalise(&n), n);
    let kind = codes::code_kind(&text);
    assert_eq!(kind, codes::code_kind(&n));
    assert!(kind.is_none() || n.len() == 20);
    let mut root = [0u8; 32];
    root[..head.len()].copy_from_slice(head);
    let org = Uuid::from_bytes(root[..16].try_into().unwrap());
    let made = codes::root_binding(&text, org, &root);
    assert!(codes::check_root_binding(&n, org, &root, &made));
    assert_eq!(
        codes::check_root_binding(&text, org, &root, head),
        head == made.as_slice()
    );
    let f = codes::fingerprint(&root, &root);
    assert_eq!(f.len(), 19);
    let _ = codes::same_fingerprint(&text, &f);
    let _ = codes::code_token(&text);
});
