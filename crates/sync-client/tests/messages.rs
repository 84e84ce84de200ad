//! Every refusal a person can meet, in plain words (issue 14, part 5). A real service runs on
//! 127.0.0.1 behind a small hostile front (an axum server of this test's own) that passes every
//! request through to it, except the one the case is about: that one it answers with the
//! status, body or silence the case names, or refuses the laptop's changes with each
//! `Rejection` the protocol has. The laptop is a real enrolled store with the real client.
//!
//! Each message is checked as a person would read it on the CLI's stderr or the app's screen:
//! no program text (`{`, `Some(`, `::`), no control characters, at most a bounded length however
//! much the service sent, and an action to take.
#![allow(clippy::unwrap_used)]

mod common;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use common::*;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wardside_sync::protocol::{NOT_APPROVED, PushRequest, REVOKED, Rejection};
use wardside_sync_client::{Options, Retry, SyncError, rejection_words};

/// What the front does to requests whose path starts with the plan's prefix.
#[derive(Debug, Clone)]
enum Answer {
    /// This status, this content type and this body.
    Reply(u16, &'static str, Vec<u8>),
    /// Nothing, for a minute (the laptop's request times out).
    Silence,
    /// A push answered with every op rejected for this reason.
    Reject(Rejection),
}

type Plan = Arc<Mutex<Option<(&'static str, Answer)>>>;

#[derive(Clone)]
struct Front {
    plan: Plan,
    upstream: String,
    http: reqwest::Client,
}

async fn front(State(f): State<Front>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    let planned = f
        .plan
        .lock()
        .unwrap()
        .clone()
        .filter(|(prefix, _)| path.starts_with(prefix))
        .map(|(_, a)| a);
    let reply = |status: u16, ctype: &str, body: Vec<u8>| {
        Response::builder()
            .status(status)
            .header("content-type", ctype)
            .body(Body::from(body))
            .unwrap()
    };
    match planned {
        Some(Answer::Reply(status, ctype, body)) => reply(status, ctype, body),
        Some(Answer::Silence) => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            reply(503, "text/plain", Vec::new())
        }
        Some(Answer::Reject(why)) => {
            let bytes = axum::body::to_bytes(req.into_body(), usize::MAX)
                .await
                .unwrap();
            let push: PushRequest = serde_json::from_slice(&bytes).unwrap();
            let mut results = Vec::new();
            for e in &push.ops {
                let mut r = serde_json::json!({ "op_id": e.routing.op_id, "status": "rejected" });
                let reason = serde_json::to_value(&why).unwrap();
                r.as_object_mut()
                    .unwrap()
                    .extend(reason.as_object().unwrap().clone());
                results.push(r);
            }
            let now = chrono::Utc::now().timestamp_millis();
            reply(
                200,
                "application/json",
                serde_json::to_vec(
                    &serde_json::json!({ "results": results, "server_time_ms": now }),
                )
                .unwrap(),
            )
        }
        None => {
            // Through to the real service, signature headers and all.
            let (parts, body) = req.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
            let url = format!(
                "{}{}",
                f.upstream,
                parts.uri.path_and_query().map_or("/", |p| p.as_str())
            );
            let mut out = f.http.request(parts.method, url).body(bytes.to_vec());
            for (k, v) in &parts.headers {
                if k != axum::http::header::HOST && k != axum::http::header::CONTENT_LENGTH {
                    out = out.header(k, v);
                }
            }
            let resp = out.send().await.unwrap();
            let mut b = Response::builder().status(resp.status().as_u16());
            for (k, v) in resp.headers() {
                if k != reqwest::header::CONTENT_LENGTH && k != reqwest::header::TRANSFER_ENCODING {
                    b = b.header(k, v);
                }
            }
            b.body(Body::from(resp.bytes().await.unwrap())).unwrap()
        }
    }
}

/// The front on a runtime of its own; its address and its plan.
fn start_front(upstream: &str) -> (String, Plan, tokio::runtime::Runtime) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let plan: Plan = Arc::default();
    let state = Front {
        plan: plan.clone(),
        upstream: upstream.to_owned(),
        http: reqwest::Client::new(),
    };
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(front).with_state(state);
    rt.spawn(async move { axum::serve(listener, app).await });
    (url, plan, rt)
}

/// No program text, no control characters, one line, bounded.
fn assert_clean(case: &str, msg: &str) {
    for bad in ["{", "}", "Some(", "None", "::", "Error", "\u{1b}"] {
        assert!(!msg.contains(bad), "{case}: {bad:?} in {msg:?}");
    }
    assert!(!msg.chars().any(char::is_control), "{case}: {msg:?}");
    assert!(msg.chars().count() <= 600, "{case}: {} chars", msg.len());
}

/// A person can act on it: plain words, bounded, one line, and something to do.
fn assert_plain(case: &str, msg: &str) {
    assert_clean(case, msg);
    let lower = msg.to_lowercase();
    let actions = [
        "sync again",
        "try again",
        "ask ",
        "tell ",
        "check ",
        "enrol ",
        "set this laptop",
        "read them",
        "goes on at the next sync",
        "run `",
        "do not approve",
        "must approve",
    ];
    assert!(
        actions.iter().any(|a| lower.contains(a)),
        "{case}: no action in {msg:?}"
    );
}

/// Quick retries, short waits.
fn quick() -> Options {
    Options {
        retry: Retry {
            attempts: 2,
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        },
        timeout: Duration::from_millis(800),
        ..opts()
    }
}

fn point_at(dev: &mut Dev, url: &str) {
    let mut c = dev.store.sync_config().unwrap().unwrap();
    c.server = url.to_owned();
    dev.store.set_sync_config(&c).unwrap();
}

/// A laptop enrolled through the front (the organisation's first, so its admin).
fn laptop(server: &TestServer, front_url: &str) -> Dev {
    let (_, code) = server.new_org();
    let mut d = Dev::new("Admin");
    wardside_sync_client::enroll(&mut d.store, front_url, &code, "admin laptop", &opts()).unwrap();
    d.sync();
    d
}

#[test]
fn every_refusal_the_service_can_send_is_plain_words_with_something_to_do() {
    let server = TestServer::start("sqlite");
    let (front_url, plan, _rt) = start_front(&server.url);
    let mut dev = laptop(&server, &front_url);
    let json = |text: &str| serde_json::to_vec(&serde_json::json!({ "error": text })).unwrap();
    let hostile = format!(
        "\u{1b}[2J\u{1b}]0;owned\u{7}Some(Gap {{ expected: 6 }}) wardside_sync::protocol::Rejection{}",
        "\u{202e}x{}".repeat(700_000)
    );
    let long_plain = "please try later ".repeat(130_000);
    let cases: Vec<(&str, Answer)> = vec![
        (
            "400 from the service",
            Answer::Reply(
                400,
                "application/json",
                json("the body is not a push request"),
            ),
        ),
        (
            "401 unknown signature",
            Answer::Reply(
                401,
                "application/json",
                json("request not signed by an enrolled device"),
            ),
        ),
        (
            "401 revoked (a claim)",
            Answer::Reply(401, "application/json", json(REVOKED)),
        ),
        (
            "401 not approved",
            Answer::Reply(401, "application/json", json(NOT_APPROVED)),
        ),
        (
            "403",
            Answer::Reply(
                403,
                "application/json",
                json("only an admin device may do this"),
            ),
        ),
        (
            "404 without a body",
            Answer::Reply(404, "text/plain", Vec::new()),
        ),
        (
            "409",
            Answer::Reply(
                409,
                "application/json",
                json("another admin changed the organisation first; sync and try again"),
            ),
        ),
        (
            "413",
            Answer::Reply(413, "application/json", json("too many ops in one push")),
        ),
        (
            "429",
            Answer::Reply(
                429,
                "application/json",
                json("too many requests from this device; slow down and retry"),
            ),
        ),
        (
            "500",
            Answer::Reply(500, "text/plain", b"thread 'main' panicked".to_vec()),
        ),
        (
            "503",
            Answer::Reply(
                503,
                "application/json",
                json("storage unavailable; retry later"),
            ),
        ),
        (
            "418, a status nobody expects",
            Answer::Reply(418, "text/plain", Vec::new()),
        ),
        (
            "200 whose body is not JSON",
            Answer::Reply(
                200,
                "text/html",
                b"<html><body>Welcome to nginx!</body></html>".to_vec(),
            ),
        ),
        (
            "400 whose body is not JSON",
            Answer::Reply(
                400,
                "text/html",
                b"<html><h1>400 Bad Request</h1></html>".to_vec(),
            ),
        ),
        (
            "400 with 2 MB of hostile error text",
            Answer::Reply(400, "application/json", json(&hostile)),
        ),
        (
            "400 with 2 MB of plain error text",
            Answer::Reply(400, "application/json", json(&long_plain)),
        ),
        ("no answer (a timeout)", Answer::Silence),
    ];
    let mut shown = Vec::new();
    for (case, answer) in cases {
        *plan.lock().unwrap() = Some(("/v1/heads", answer));
        let err = dev.sync_with(&quick()).unwrap_err();
        let msg = err.to_string();
        assert_plain(case, &msg);
        assert!(
            !msg.contains("owned") && !msg.contains("please try later please"),
            "{case}: {msg}"
        );
        shown.push(format!("{case}: {msg}"));
    }
    // The service's own words are quoted when they are plain and short.
    assert!(
        shown[4].contains("only an admin device may do this"),
        "{}",
        shown[4]
    );
    assert!(
        shown[2].contains("no admin's signed revocation"),
        "{}",
        shown[2]
    );
    assert!(shown[3].contains("waiting for an admin"), "{}", shown[3]);
    *plan.lock().unwrap() = None;

    // Nothing listening: connection refused.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    point_at(&mut dev, &format!("http://{closed}"));
    let err = dev.sync_with(&quick()).unwrap_err();
    assert!(matches!(err, SyncError::Unreachable(_)), "{err:?}");
    assert_plain("connection refused", &err.to_string());
    assert!(err.to_string().contains("could not connect"), "{err}");
    shown.push(format!("connection refused: {err}"));

    // https:// to something that does not speak TLS (a proxy left out, a wrong port).
    let tls_url = front_url.replace("http://", "https://");
    point_at(&mut dev, &tls_url);
    let err = dev.sync_with(&quick()).unwrap_err();
    assert_plain("TLS", &err.to_string());
    assert!(err.to_string().contains("secure connection"), "{err}");
    shown.push(format!("TLS: {err}"));
    point_at(&mut dev, &front_url);
    dev.sync_with(&quick()).unwrap();

    // An enrolment code the service does not know: the real service's 403.
    let mut stranger = Dev::new("Stranger");
    let code = wardside_sync::codes::new_code(wardside_sync::codes::CodeKind::Invitation).unwrap();
    let err = wardside_sync_client::enroll(&mut stranger.store, &front_url, &code, "x", &opts())
        .unwrap_err();
    assert_plain("unknown code", &err.to_string());
    assert!(
        err.to_string().contains("ask an admin for a new one"),
        "{err}"
    );
    shown.push(format!("unknown code: {err}"));

    // Every rejection of a push: the sync ends, the changes stay, and the problem says why.
    dev.client_with_case("Rejected Example");
    // A gap or a chain that does not join: the sync sends again from where the service says
    // (restore detection, in the engine); what it says when it cannot is its own words.
    for why in [
        Rejection::Gap { expected: 6 },
        Rejection::BadChain { expected: 3 },
    ] {
        *plan.lock().unwrap() = Some(("/v1/ops/push", Answer::Reject(why.clone())));
        let report = dev.sync_with(&quick()).unwrap();
        assert!(report.unsynced > 0, "the changes stay");
        for p in &report.problems {
            assert_clean(&format!("{why:?}"), &p.detail);
            shown.push(format!("{why:?}: {}", p.detail));
        }
    }
    let now = chrono::Utc::now().timestamp_millis();
    for why in [
        Rejection::ClockAhead {
            server_time_ms: now,
        },
        Rejection::BadEnvelope,
        Rejection::Forbidden,
    ] {
        *plan.lock().unwrap() = Some(("/v1/ops/push", Answer::Reject(why.clone())));
        let report = dev.sync_with(&quick()).unwrap();
        assert!(report.unsynced > 0, "{why:?}: the changes stay");
        let p = report
            .problems
            .iter()
            .find(|p| p.kind == "push-refused")
            .unwrap_or_else(|| panic!("{why:?}: {:?}", report.problems));
        assert_plain(&format!("{why:?}"), &p.detail);
        assert!(
            p.detail.contains(&rejection_words(Some(&why))),
            "{}",
            p.detail
        );
        shown.push(format!("{why:?}: {}", p.detail));
    }
    // The same numbers another device's restored copy would reuse: enrol again.
    *plan.lock().unwrap() = Some(("/v1/ops/push", Answer::Reject(Rejection::SeqConflict)));
    let err = dev.sync_with(&quick()).unwrap_err();
    assert!(matches!(err, SyncError::ReEnrol), "{err:?}");
    assert_plain("seq conflict", &err.to_string());
    shown.push(format!("SeqConflict: {err}"));
    for s in &shown {
        println!("{s}");
    }
}

#[test]
fn every_rejection_in_words_says_what_happened_and_what_to_do() {
    for r in [
        None,
        Some(Rejection::SeqConflict),
        Some(Rejection::Gap { expected: 6 }),
        Some(Rejection::ClockAhead {
            server_time_ms: 1_795_609_763_000,
        }),
        Some(Rejection::BadEnvelope),
        Some(Rejection::Forbidden),
        Some(Rejection::BadChain { expected: 2 }),
    ] {
        let w = rejection_words(r.as_ref());
        assert_plain(&format!("{r:?}"), &w);
        // Two sentences: what happened, what to do.
        assert_eq!(w.matches(". ").count() + 1, 2, "{w}");
        assert!(w.ends_with('.'), "{w}");
    }
    assert!(rejection_words(Some(&Rejection::Gap { expected: 6 })).contains("number 6"));
}

/// Every error the sync can end with, made here, reads as plain words with an action (the ones
/// the service's replies cannot reach are covered by this list).
#[test]
fn every_sync_error_reads_as_plain_words() {
    let all = [
        SyncError::NotEnrolled,
        SyncError::Unreachable("it did not answer in time".into()),
        SyncError::Pending("3F9A-21CX-77BE-KD0P".into()),
        SyncError::Revoked { kept: 2 },
        SyncError::RevokedClaim,
        SyncError::ReEnrol,
        SyncError::NoTeamKey,
        SyncError::FingerprintMismatch {
            given: "AAAA-BBBB".into(),
            actual: "CCCC-DDDD".into(),
        },
        SyncError::NotAdmin,
        SyncError::Protocol("invalid type: map, expected a string at line 1 column 9".into()),
        SyncError::RecoveryWords("mnemonic has an invalid checksum".into()),
        SyncError::RecoveryWordsUnknown,
        SyncError::RecoveryNotEnabled,
        SyncError::BadCode(
            "that code is mistyped (its check letter does not match); check it with the admin who made it",
        ),
        SyncError::RootNotProved,
        SyncError::Trust(
            "trust statement 4 is not signed by the device it names as its author".into(),
        ),
        SyncError::NoTrustRoot,
        SyncError::Cancelled,
        SyncError::Crypto("Unspecified".into()),
    ];
    for e in all {
        let msg = e.to_string();
        assert_plain(&format!("{e:?}"), &msg);
        assert!(!msg.contains("line 1 column"), "{msg}");
        assert!(!msg.contains("Unspecified"), "{msg}");
    }
}
