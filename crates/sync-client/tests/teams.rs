//! Every person goes to their own team (issue 14, part 4): an organisation with two teams (two
//! hospitals, two commissioners) works, each person's record and everything on it sealed for and
//! routed to the team holding it; moving a person's record gives the new team its whole history
//! and the old team stops receiving it. Real clients on real encrypted stores, a real service on
//! 127.0.0.1, both backends.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use uuid::Uuid;
use wardside_domain::*;

fn each_backend(f: impl Fn(&str)) {
    for b in backends() {
        eprintln!("--- backend {b}");
        f(b);
    }
}

/// Alice (admin) in both teams, Bea in the first team only, Cal in the second only.
struct TwoTeams {
    server: TestServer,
    alice: Dev,
    bea: Dev,
    cal: Dev,
    first: Uuid,
    second: Uuid,
}

fn two_teams(backend: &str) -> TwoTeams {
    let server = TestServer::start(backend);
    let (mut alice, _, _) = org(&server, 0);
    let first = alice.store.sync_config().unwrap().unwrap().teams[0];
    let second =
        wardside_sync_client::create_team(&mut alice.store, "North Hospital", &opts()).unwrap();
    let bea = join(&server, &mut alice, "Bea");
    let cal = join(&server, &mut alice, "Cal");
    wardside_sync_client::set_device_teams(&mut alice.store, bea.id(), &[first], &opts()).unwrap();
    wardside_sync_client::set_device_teams(&mut alice.store, cal.id(), &[second], &opts()).unwrap();
    let mut t = TwoTeams {
        server,
        alice,
        bea,
        cal,
        first,
        second,
    };
    for d in [&mut t.alice, &mut t.bea, &mut t.cal] {
        let r = d.sync();
        assert!(r.problems.is_empty(), "{}: {r:?}", d.name);
    }
    assert_eq!(
        t.bea.store.sync_config().unwrap().unwrap().teams,
        vec![first]
    );
    assert_eq!(
        t.cal.store.sync_config().unwrap().unwrap().teams,
        vec![second]
    );
    t
}

/// A person in `team`, with an open case; returns (client, case).
fn person_in(d: &mut Dev, name: &str, team: Uuid) -> (ClientId, CaseId) {
    d.store
        .write(|w| {
            let mut c = Client::named(name);
            c.team = Some(TeamId(team));
            let client = w.add_client(&c)?;
            let case = w.open_case(&Case::opened(client, date("2026-11-02")))?;
            Ok((client, case))
        })
        .unwrap()
}

fn holds(d: &Dev, client: ClientId) -> bool {
    d.store.get::<Client>(client.0).is_ok()
}

fn no_problems(devs: &[&Dev]) {
    for d in devs {
        let p = d.store.sync_problems().unwrap();
        assert!(p.is_empty(), "{}: {p:?}", d.name);
        assert_eq!(d.store.sync_summary().unwrap().held, 0, "{}", d.name);
    }
}

#[test]
fn every_person_goes_to_their_own_team_and_no_further() {
    each_backend(|b| {
        let mut t = two_teams(b);
        let (south, south_case) = person_in(&mut t.alice, "Ash South", t.first);
        let (north, north_case) = person_in(&mut t.alice, "Bo North", t.second);
        let s1 = t.alice.note(south_case, "South: seen on the ward.");
        let n1 = t.alice.note(north_case, "North: seen on the ward.");
        t.alice.sync();
        t.bea.sync();
        t.cal.sync();
        assert!(holds(&t.bea, south) && !holds(&t.bea, north), "{b}");
        assert!(holds(&t.cal, north) && !holds(&t.cal, south), "{b}");
        assert_eq!(t.bea.text(s1), "South: seen on the ward.");
        assert_eq!(t.cal.text(n1), "North: seen on the ward.");
        // Each writes in their own team; the admin in both sees both.
        let s2 = t.bea.note(south_case, "South: tribunal application sent.");
        let n2 = t.cal.note(north_case, "North: records requested.");
        t.bea.sync();
        t.cal.sync();
        t.alice.sync();
        assert_eq!(t.alice.text(s2), "South: tribunal application sent.");
        assert_eq!(t.alice.text(n2), "North: records requested.");
        t.bea.sync();
        t.cal.sync();
        assert!(!holds(&t.bea, north) && !holds(&t.cal, south), "{b}");
        // The service holds each team's ops under that team: nothing of the north person's went
        // to the first team (the first team's log names only what its members may read).
        let org = t.alice.store.sync_config().unwrap().unwrap().org_id;
        let first_log = t.server.pull_all(org, t.first);
        assert!(
            first_log
                .iter()
                .all(|o| o.envelope.routing.entity_id != north.0
                    && o.envelope.routing.entity_id != north_case.0
                    && o.envelope.routing.entity_id != n1.0),
            "{b}"
        );
        assert!(t.server.pull_all(org, t.second).len() >= 6, "{b}");
        no_problems(&[&t.alice, &t.bea, &t.cal]);
    });
}

#[test]
fn moving_a_person_to_another_team_gives_it_the_whole_history_and_the_old_team_no_more() {
    each_backend(|b| {
        let mut t = two_teams(b);
        // A laptop in both teams that has not synced yet: it will meet the moved history from
        // both sides, in whatever order.
        let mut dee = join(&t.server, &mut t.alice, "Dee");
        wardside_sync_client::set_device_teams(
            &mut t.alice.store,
            dee.id(),
            &[t.first, t.second],
            &opts(),
        )
        .unwrap();
        let (person, case) = person_in(&mut t.alice, "Cy Moving", t.first);
        let a1 = t.alice.note(case, "Seen before the move.");
        t.alice.sync();
        t.bea.sync();
        let b1 = t.bea.note(case, "Bea's visit before the move.");
        t.bea.amend(b1, "Bea's visit before the move (corrected).");
        t.bea.sync();
        t.alice.sync();
        assert!(!holds(&t.cal, person));

        // The person moves hospital: their record goes to the second team.
        let carried = t
            .alice
            .store
            .write(|w| w.move_client(person, TeamId(t.second)))
            .unwrap();
        assert!(carried >= 6, "{b}: {carried} ops carried");
        t.alice.sync();
        let r = t.cal.sync();
        assert!(r.problems.is_empty(), "{b}: {r:?}");
        assert!(holds(&t.cal, person), "{b}");
        assert_eq!(t.cal.text(a1), "Seen before the move.");
        assert_eq!(t.cal.text(b1), "Bea's visit before the move (corrected).");
        let c: Client = t.cal.store.get(person.0).unwrap();
        assert_eq!(c.team, Some(TeamId(t.second)));

        // From now on the second team works on it; the first team no longer receives it.
        let c2 = t.cal.note(case, "Cal's visit after the move.");
        t.cal.sync();
        t.bea.sync();
        assert_eq!(
            t.bea.text(c2),
            "",
            "{b}: the old team does not receive new notes"
        );
        let moved: Client = t.bea.store.get(person.0).unwrap();
        assert_eq!(
            moved.team,
            Some(TeamId(t.second)),
            "{b}: Bea knows it moved"
        );
        assert_eq!(
            t.bea.text(b1),
            "Bea's visit before the move (corrected).",
            "{b}: and keeps what she had"
        );
        let refused = t.bea.store.write(|w| {
            w.add_activity(
                &Activity {
                    case_id: case,
                    at: chrono::NaiveDateTime::parse_from_str("2026-11-05T10:00", "%Y-%m-%dT%H:%M")
                        .unwrap(),
                    duration_minutes: None,
                    kind: ActivityKind::PrivateInterview { wishes: None },
                    withheld: None,
                },
                "Written on a laptop of the old team.",
            )
        });
        let err = refused.unwrap_err().to_string();
        assert!(err.contains("another team"), "{b}: {err}");

        t.alice.sync();
        assert_eq!(t.alice.text(c2), "Cal's visit after the move.");
        // The laptop in both teams gets everything, with every chain whole.
        for _ in 0..2 {
            let r = dee.sync();
            assert!(r.problems.is_empty(), "{b}: {r:?}");
        }
        assert_eq!(dee.text(b1), "Bea's visit before the move (corrected).");
        assert_eq!(dee.text(c2), "Cal's visit after the move.");
        t.alice.sync();
        t.cal.sync();
        no_problems(&[&t.alice, &t.bea, &t.cal, &dee]);
        assert_eq!(
            t.alice.digest(),
            dee.digest(),
            "{b}: the two laptops in both teams agree"
        );
    });
}

/// Per-team admins: the organisation admin makes Bea the admin of the first team. She approves
/// a new laptop into it (and it reads the team's notes), revokes it again, and is refused, by
/// the service and by every laptop's check of the log, anything beyond her team: approving into
/// the second team, revoking Cal, making an organisation admin.
#[test]
fn a_teams_admin_approves_and_revokes_for_that_team_only() {
    each_backend(|b| {
        let mut t = two_teams(b);
        let (_, case) = person_in(&mut t.alice, "Di First", t.first);
        let n = t.alice.note(case, "First team's note.");
        t.alice.sync();
        wardside_sync_client::set_team_admins(&mut t.alice.store, t.bea.id(), &[t.first], &opts())
            .unwrap();
        t.bea.sync();
        assert!(
            t.bea.store.sync_config().unwrap().unwrap().admin,
            "{b}: Bea acts as an admin"
        );

        // Bea approves a new laptop into her team.
        let mut fay = Dev::new("Fay");
        let code = wardside_sync_client::invite(&mut t.bea.store, &opts()).unwrap();
        let e = wardside_sync_client::enroll(&mut fay.store, &t.server.url, &code, "Fay", &opts())
            .unwrap();
        wardside_sync_client::approve(&mut t.bea.store, e.device_id, &e.fingerprint, &opts())
            .unwrap();
        let r = fay.sync();
        assert!(r.problems.is_empty(), "{b}: {r:?}");
        assert_eq!(
            fay.store.sync_config().unwrap().unwrap().teams,
            vec![t.first]
        );
        assert_eq!(fay.text(n), "First team's note.");

        // Beyond her team: refused.
        let err = wardside_sync_client::set_device_teams(
            &mut t.bea.store,
            fay.id(),
            &[t.first, t.second],
            &opts(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("own teams"), "{b}: {err}");
        let err = wardside_sync_client::revoke(&mut t.bea.store, t.cal.id(), &opts()).unwrap_err();
        assert!(err.to_string().contains("teams alone"), "{b}: {err}");
        let err = wardside_sync_client::make_statement(
            &mut t.bea.store,
            wardside_sync::trust::Body::TeamAdmins {
                device: fay.id(),
                teams: vec![t.first],
            },
            &opts(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("organisation admin"), "{b}: {err}");

        // Within it: she revokes Fay; Fay's copy is wiped, every other laptop agrees.
        wardside_sync_client::revoke(&mut t.bea.store, fay.id(), &opts()).unwrap();
        let err = fay.try_sync().unwrap_err();
        assert!(
            matches!(err, wardside_sync_client::SyncError::Revoked { .. }),
            "{b}: {err}"
        );
        assert_eq!(fay.text(n), "", "{b}: wiped");
        for d in [&mut t.alice, &mut t.bea, &mut t.cal] {
            let r = d.sync();
            assert!(r.problems.is_empty(), "{b}: {}: {r:?}", d.name);
        }
        // The first team's key moved on, the second team's did not.
        let state_of = |d: &Dev| d.store.team_keys().unwrap();
        let epochs = |d: &Dev, team: Uuid| {
            state_of(d)
                .iter()
                .filter(|k| k.team == team)
                .map(|k| k.epoch)
                .max()
                .unwrap_or(0)
        };
        assert_eq!(epochs(&t.alice, t.first), 2, "{b}");
        assert_eq!(epochs(&t.alice, t.second), 1, "{b}");
        assert_eq!(epochs(&t.cal, t.second), 1, "{b}");
    });
}

/// A person's record made before its laptop was enrolled names no team: it stays with the team it
/// was first sent to. When the laptop later leaves that team, changes to the person are refused
/// there (never sent to the laptop's new team, whose members must not read them).
#[test]
fn a_record_that_names_no_team_stays_with_the_team_it_was_first_sent_to() {
    each_backend(|b| {
        let server = TestServer::start(b);
        let (mut alice, _, _) = org(&server, 0);
        let first = alice.store.sync_config().unwrap().unwrap().teams[0];
        let second =
            wardside_sync_client::create_team(&mut alice.store, "North Hospital", &opts()).unwrap();
        // Bea writes before she is enrolled: the person names no team.
        let mut bea = Dev::new("Bea");
        let (person, case) = bea.client_with_case("Ed Unteamed");
        let before = bea.note(case, "Written before enrolment.");
        let c: Client = bea.store.get(person.0).unwrap();
        assert_eq!(c.team, None);
        let code = wardside_sync_client::invite(&mut alice.store, &opts()).unwrap();
        let e = wardside_sync_client::enroll(&mut bea.store, &server.url, &code, "Bea", &opts())
            .unwrap();
        wardside_sync_client::approve(&mut alice.store, e.device_id, &e.fingerprint, &opts())
            .unwrap();
        wardside_sync_client::set_device_teams(&mut alice.store, bea.id(), &[first], &opts())
            .unwrap();
        bea.sync();
        let mut cal = join(&server, &mut alice, "Cal");
        wardside_sync_client::set_device_teams(&mut alice.store, cal.id(), &[second], &opts())
            .unwrap();
        cal.sync();
        alice.sync();
        assert_eq!(alice.text(before), "Written before enrolment.", "{b}");
        // Bea moves to the second team.
        wardside_sync_client::set_device_teams(&mut alice.store, bea.id(), &[second], &opts())
            .unwrap();
        bea.sync();
        assert_eq!(
            bea.store.sync_config().unwrap().unwrap().teams,
            vec![second]
        );
        let refused = bea.store.write(|w| {
            w.add_activity(
                &Activity {
                    case_id: case,
                    at: chrono::NaiveDateTime::parse_from_str("2026-11-05T10:00", "%Y-%m-%dT%H:%M")
                        .unwrap(),
                    duration_minutes: None,
                    kind: ActivityKind::PrivateInterview { wishes: None },
                    withheld: None,
                },
                "Would go to the wrong team.",
            )
        });
        assert!(
            refused.unwrap_err().to_string().contains("another team"),
            "{b}"
        );
        bea.sync();
        cal.sync();
        assert!(
            !holds(&cal, person),
            "{b}: the second team never sees the first team's person"
        );
    });
}

/// A note written offline on a laptop of the person's old team, before it heard of the move,
/// reaches the new team: a laptop in both teams carries it on.
#[test]
fn a_note_written_in_the_old_team_during_a_move_reaches_the_new_team() {
    each_backend(|b| {
        let mut t = two_teams(b);
        let (person, case) = person_in(&mut t.alice, "Flo Moving", t.first);
        t.alice.sync();
        t.bea.sync();
        let late = t.bea.note(
            case,
            "Bea's note, written offline before she heard of the move.",
        );
        t.alice
            .store
            .write(|w| w.move_client(person, TeamId(t.second)))
            .unwrap();
        t.alice.sync();
        t.cal.sync();
        t.bea.sync();
        for _ in 0..2 {
            for d in [&mut t.alice, &mut t.cal, &mut t.bea] {
                let r = d.sync();
                assert!(r.problems.is_empty(), "{b}: {}: {r:?}", d.name);
            }
        }
        assert_eq!(
            t.cal.text(late),
            "Bea's note, written offline before she heard of the move.",
            "{b}"
        );
        no_problems(&[&t.alice, &t.bea, &t.cal]);
    });
}
