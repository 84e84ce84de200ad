//! Signed HTTP to the sync service, with retries. Every attempt is signed afresh (a new nonce
//! and time), so a retry is never refused as a replay; re-sending is always safe because the
//! service treats a repeated push as a duplicate.
//!
//! Everything the service answers is untrusted input: its error texts are shown only after
//! control characters are removed and the length is capped ([`remote_text`]), a 401 that says
//! "revoked" is a claim to check against the trust log (never a reason to wipe anything), and
//! plain `http://` is accepted only for a service on this machine. A sync can be stopped from
//! another thread ([`Cancel`]): between requests, during a retry's wait, and during a request
//! (which is then abandoned), within a fraction of a second.

use crate::error::{Result, SyncError};
use backon::{BlockingRetryable, ExponentialBuilder};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;
use uuid::Uuid;
use wardside_sync::keys::DeviceSigningKey;
use wardside_sync::protocol::{ErrorBody, NOT_APPROVED, REVOKED, RequestSigner, header};

/// How hard to try before giving up until the next sync.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    pub attempts: usize,
    pub min_delay: Duration,
    pub max_delay: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 6,
            min_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
        }
    }
}

/// A flag another thread sets to stop a sync (the app locking). Cheap to clone; all clones
/// share the flag.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Ready for the next sync.
    pub fn reset(&self) {
        self.0.store(false, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// `Err(Cancelled)` once cancelled.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(SyncError::Cancelled)
        } else {
            Ok(())
        }
    }
}

/// Knobs for a sync; the defaults suit a laptop on an office network.
#[derive(Debug, Clone)]
pub struct Options {
    pub retry: Retry,
    /// Ops per pull page (the service caps it).
    pub page_size: usize,
    /// Most ops per push.
    pub push_batch: usize,
    /// Per request.
    pub timeout: Duration,
    /// Stops the sync when set.
    pub cancel: Cancel,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            retry: Retry::default(),
            page_size: 1000,
            push_batch: wardside_sync::protocol::MAX_PUSH_OPS,
            timeout: Duration::from_secs(60),
            cancel: Cancel::default(),
        }
    }
}

/// One HTTP exchange's outcome: the status and the body.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body)
            .map_err(|_| SyncError::Protocol("a reply was not in the expected form".into()))
    }

    /// The service's error text, made safe to show ([`remote_text`]); empty when the body is
    /// not the service's error form.
    fn error_text(&self) -> String {
        serde_json::from_slice::<ErrorBody>(&self.body)
            .map(|e| remote_text(&e.error))
            .unwrap_or_default()
    }

    /// A 2xx, or the error it stands for.
    pub fn ok(self) -> Result<Reply> {
        match self.status {
            200..=299 => Ok(self),
            _ => Err(self.into_error()),
        }
    }

    /// The refusal a status stands for, in plain words: what happened and what to do, from
    /// the status alone (the service is untrusted, so it never writes the message); its own
    /// text is quoted after, only when it is short plain words ([`service_said`]).
    pub fn into_error(self) -> SyncError {
        let text = self.error_text();
        match self.status {
            // Only a claim: the sync checks the trust log before believing it.
            401 if text == REVOKED => SyncError::RevokedClaim,
            401 if text == NOT_APPROVED => SyncError::Pending(String::new()),
            status => SyncError::Refused(refusal_words(status, service_said(&text).as_deref())),
        }
    }
}

/// What a refusal with this status means for the person at the laptop, and what to do.
pub(crate) fn refusal_words(status: u16, said: Option<&str>) -> String {
    let what = match status {
        400 => {
            "it could not take a request from this laptop (HTTP 400). Check that this laptop runs a Wardside version the service supports, then sync again; if it keeps happening, tell your organisation's admin"
        }
        401 => {
            "it did not recognise this laptop (HTTP 401). Check that this laptop's date and time are right and sync again; if it keeps happening, ask an admin to enrol this laptop again with a new code"
        }
        403 => {
            "this laptop is not allowed to do that (HTTP 403). Ask an admin of your organisation"
        }
        404 => {
            "it does not know what this laptop asked for (HTTP 404). Check the service address; if it is right, tell your organisation's admin"
        }
        409 => {
            "it already holds something that conflicts with this (HTTP 409). Sync again; if it keeps happening, ask an admin"
        }
        413 => {
            "a request from this laptop was larger than it accepts (HTTP 413); nothing was lost. Sync again; if it keeps happening, ask whoever runs the service to raise its size limit"
        }
        429 => {
            "it is busy and asked this laptop to slow down (HTTP 429); nothing was lost. Sync again in a few minutes"
        }
        500..=599 => {
            "it failed while answering (a server error); nothing was lost. Sync again later; if it keeps happening, tell whoever runs the service"
        }
        _ => {
            "it answered in a way this laptop does not expect; nothing from that answer was used. Check the service address, then sync again; if it keeps happening, tell your organisation's admin"
        }
    };
    match said {
        Some(said) => format!("{what}. The service said: \u{201c}{said}\u{201d}"),
        None => what.to_owned(),
    }
}

/// The longest error text from the service ever quoted.
const MAX_SAID: usize = 160;

/// The service's own error text, quoted beside our words only when it reads as a short line of
/// plain words: control characters removed and the length capped ([`remote_text`]), and none
/// of the marks of program text (braces, brackets, angle brackets, `::`, backquotes, `Some(`),
/// which a service's internals or a hostile service would put there.
pub(crate) fn service_said(text: &str) -> Option<String> {
    let t = remote_text(text);
    let t = t.trim();
    let programmish = t.contains(['{', '}', '[', ']', '<', '>', '`', '\\', '"'])
        || t.contains("::")
        || ["Some(", "None", "Ok(", "Err("]
            .iter()
            .any(|w| t.contains(w));
    if t.is_empty() || programmish || t.chars().count() > MAX_SAID {
        return None;
    }
    Some(t.to_owned())
}

/// The longest text from the service ever shown.
const MAX_REMOTE_TEXT: usize = 200;

/// A string from the service (an error text, a device name) made safe to show on a terminal or
/// a screen: control characters (escape sequences, bells, line breaks that fake a prompt) and
/// Unicode direction overrides removed, at most 200 characters.
pub fn remote_text(s: &str) -> String {
    let mut out: String = s
        .chars()
        .filter(|c| {
            !c.is_control()
                && !matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .take(MAX_REMOTE_TEXT)
        .collect();
    if s.chars().count() > MAX_REMOTE_TEXT {
        out.push('…');
    }
    out
}

/// Why an attempt failed.
enum Failure {
    /// Worth repeating: why, in a few words.
    Retry(String),
    Cancelled,
}

pub(crate) struct Transport {
    http: reqwest::blocking::Client,
    timeout: Duration,
    base: String,
    device: Uuid,
    key: DeviceSigningKey,
    retry: Retry,
    cancel: Cancel,
    /// The service's clock minus ours, from its `Date` header: requests are signed on its time,
    /// so a laptop whose clock is a year out can still sync.
    offset_ms: AtomicI64,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("base", &self.base)
            .field("device", &self.device)
            .finish_non_exhaustive()
    }
}

/// One HTTP client for the process: building one reads and parses the system's certificate
/// store, which costs more than a whole sync on a small laptop.
fn shared_client() -> Result<reqwest::blocking::Client> {
    static CLIENT: std::sync::OnceLock<reqwest::blocking::Client> = std::sync::OnceLock::new();
    if let Some(c) = CLIENT.get() {
        return Ok(c.clone());
    }
    let c = reqwest::blocking::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("wardside/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|_| {
            SyncError::Unreachable("this laptop could not set up secure connections".into())
        })?;
    Ok(CLIENT.get_or_init(|| c).clone())
}

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Whether a service address may be used: `https://` anywhere, plain `http://` only on this
/// machine (a loopback address or `localhost`), where no network sees it.
pub fn check_address(address: &str) -> Result<()> {
    let refuse = || {
        SyncError::Refused(
            "the service address must start with https:// (plain http:// only for a service on this machine)".into(),
        )
    };
    let url = reqwest::Url::parse(address.trim()).map_err(|_| refuse())?;
    match url.scheme() {
        "https" if url.host().is_some() => Ok(()),
        "http" => {
            let host = url.host_str().unwrap_or_default();
            let ip = host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>();
            match ip {
                Ok(ip) if ip.is_loopback() => Ok(()),
                Err(_) if host.eq_ignore_ascii_case("localhost") => Ok(()),
                _ => Err(refuse()),
            }
        }
        _ => Err(refuse()),
    }
}

impl Transport {
    pub fn new(base: &str, device: Uuid, key: DeviceSigningKey, opts: &Options) -> Result<Self> {
        let base = base.trim().trim_end_matches('/').to_owned();
        check_address(&base)?;
        let http = shared_client()?;
        Ok(Transport {
            http,
            timeout: opts.timeout,
            base,
            device,
            key,
            retry: opts.retry,
            cancel: opts.cancel.clone(),
            offset_ms: AtomicI64::new(0),
        })
    }

    pub fn device(&self) -> Uuid {
        self.device
    }

    pub fn key(&self) -> &DeviceSigningKey {
        &self.key
    }

    /// The service's time now, as far as we know it.
    pub fn server_now_ms(&self) -> i64 {
        now_ms() + self.offset_ms.load(Ordering::Relaxed)
    }

    /// The service's `Date`: requests are signed on its clock (they go to it alone). Its word
    /// on the time goes no further than that (the store bounds what it adopts for stamping).
    fn learn_clock(&self, server_ms: i64) {
        self.offset_ms
            .store(server_ms.saturating_sub(now_ms()), Ordering::Relaxed);
    }

    /// Ask the service's time without signing (once per sync, before anything signed).
    pub fn hello(&self) -> Result<()> {
        self.send("GET", "/healthz", None, false).map(|_| ())
    }

    pub fn get(&self, path: &str) -> Result<Reply> {
        self.send("GET", path, None, true)
    }

    pub fn post(&self, path: &str, body: Vec<u8>) -> Result<Reply> {
        self.send("POST", path, Some(body), true)
    }

    /// Unsigned POST (enrolment proves its key inside the body).
    pub fn post_unsigned(&self, path: &str, body: Vec<u8>) -> Result<Reply> {
        self.send("POST", path, Some(body), false)
    }

    /// One exchange, abandoned (within a tenth of a second) if the sync is cancelled meanwhile:
    /// the request runs on a thread of its own, which finishes or times out by itself.
    fn exchange(
        &self,
        req: reqwest::blocking::RequestBuilder,
    ) -> std::result::Result<(u16, Option<i64>, Vec<u8>), Failure> {
        let run = move || -> std::result::Result<(u16, Option<i64>, Vec<u8>), String> {
            let resp = req.send().map_err(|e| describe(&e))?;
            let date = resp
                .headers()
                .get(reqwest::header::DATE)
                .and_then(|v| v.to_str().ok())
                .and_then(httpdate_ms);
            let status = resp.status().as_u16();
            let body = resp.bytes().map_err(|e| describe(&e))?.to_vec();
            Ok((status, date, body))
        };
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("wardside-sync-request".into())
            .spawn(move || {
                let _ = tx.send(run());
            })
            .map_err(|_| Failure::Retry("could not start a request".into()))?;
        loop {
            if self.cancel.is_cancelled() {
                return Err(Failure::Cancelled);
            }
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(r) => return r.map_err(Failure::Retry),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(_) => return Err(Failure::Retry("the request stopped".into())),
            }
        }
    }

    fn send(&self, method: &str, path: &str, body: Option<Vec<u8>>, signed: bool) -> Result<Reply> {
        self.cancel.check()?;
        let body = body.unwrap_or_default();
        let attempt = || -> std::result::Result<Reply, Failure> {
            if self.cancel.is_cancelled() {
                return Err(Failure::Cancelled);
            }
            let url = format!("{}{}", self.base, path);
            let mut req = match method {
                "POST" => self
                    .http
                    .post(&url)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone()),
                _ => self.http.get(&url),
            }
            .timeout(self.timeout);
            if signed {
                // 122 random bits from the system's generator, used once.
                let nonce = Uuid::new_v4().simple().to_string();
                let h = RequestSigner {
                    device_id: self.device,
                    key: &self.key,
                }
                .sign(method, path, &body, self.server_now_ms(), &nonce);
                req = req
                    .header(header::DEVICE, h.device)
                    .header(header::TIME, h.time)
                    .header(header::NONCE, h.nonce)
                    .header(header::SIGNATURE, h.signature);
            }
            let (status, date, body) = self.exchange(req)?;
            if let Some(server) = date {
                self.learn_clock(server);
            }
            let reply = Reply { status, body };
            match status {
                408 | 429 | 500..=599 => Err(Failure::Retry(busy_words(status).into())),
                // Our clock was too far out for the first request: the Date header has put it right.
                401 if reply.error_text().contains("window") => {
                    Err(Failure::Retry("clock corrected".into()))
                }
                _ => Ok(reply),
            }
        };
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.retry.min_delay)
            .with_max_delay(self.retry.max_delay)
            .with_max_times(self.retry.attempts)
            .with_jitter();
        let cancel = self.cancel.clone();
        attempt
            .retry(backoff)
            // A wait between attempts is cut short by a cancel (the next attempt then stops).
            .sleep(move |d: Duration| {
                let until = std::time::Instant::now() + d;
                while !cancel.is_cancelled() {
                    let left = until.saturating_duration_since(std::time::Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    std::thread::sleep(left.min(Duration::from_millis(50)));
                }
            })
            .when(|f| matches!(f, Failure::Retry(_)))
            .notify(|f, after| {
                if let Failure::Retry(why) = f {
                    tracing::info!(
                        why,
                        after_ms = after.as_millis() as u64,
                        "sync request retried"
                    );
                }
            })
            .call()
            .map_err(|f| match f {
                Failure::Retry(why) => SyncError::Unreachable(why),
                Failure::Cancelled => SyncError::Cancelled,
            })
    }
}

/// Why a status worth retrying failed, in a few words (the last one is what a person sees).
fn busy_words(status: u16) -> &'static str {
    match status {
        408 => "it took too long to answer",
        429 => "it is busy and asked this laptop to slow down",
        503 => "it is unavailable for now",
        _ => "it failed while answering",
    }
}

/// A reqwest error in a few words, without the URL's query or the library's own text.
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "it did not answer in time".into()
    } else if is_tls(e) {
        "a secure connection could not be set up with it: check that the address is right, and that this laptop trusts the service's certificate".into()
    } else if e.is_connect() {
        "this laptop could not connect to it".into()
    } else if e.is_body() || e.is_decode() {
        "its reply was cut off".into()
    } else {
        "the connection to it failed".into()
    }
}

/// Whether a TLS handshake or certificate check failed somewhere under a reqwest error (rustls
/// reports through `io::Error`s whose text names it; the text only decides, never shown).
fn is_tls(e: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        let text = s.to_string().to_ascii_lowercase();
        if [
            "certificate",
            "tls",
            "handshake",
            "corrupt message",
            "invalidcontenttype",
        ]
        .iter()
        .any(|w| text.contains(w))
        {
            return true;
        }
        source = s.source();
    }
    false
}

/// An HTTP date (`Wed, 25 Nov 2026 12:00:00 GMT`, RFC 2822's form) as Unix milliseconds.
fn httpdate_ms(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc2822(s)
        .ok()
        .map(|d| d.timestamp_millis())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn plain_http_is_only_for_this_machine() {
        for ok in [
            "https://sync.example.org",
            "https://10.0.0.5:8443/",
            "http://127.0.0.1:8740",
            "http://127.8.9.10",
            "http://[::1]:8740",
            "http://localhost:8740",
        ] {
            assert!(check_address(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://sync.example.org",
            "http://10.0.0.5:8740",
            "http://[::ffff:8.8.8.8]",
            "http://127.0.0.1.evil.example",
            "ftp://127.0.0.1",
            "sync.example.org",
            "",
            "https://",
        ] {
            assert!(check_address(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn text_from_the_service_cannot_drive_the_terminal() {
        let hostile = "ok\u{1b}[2J\u{1b}]0;pwned\u{7}\r\nwardside: error: \u{202e}gnp.exe";
        let shown = remote_text(hostile);
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
        assert!(!shown.contains('\u{202e}'));
        assert!(shown.starts_with("ok[2J]0;pwned"));
        let long = "x".repeat(5000);
        assert_eq!(remote_text(&long).chars().count(), MAX_REMOTE_TEXT + 1);
    }

    #[test]
    fn a_cancel_stops_a_stalled_request_within_a_second() {
        // A listener that accepts and never answers.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let _keep = std::thread::spawn(move || {
            let mut held = Vec::new();
            for s in listener.incoming().flatten() {
                held.push(s);
            }
        });
        let opts = Options::default();
        let t = Transport::new(
            &format!("http://{addr}"),
            Uuid::new_v4(),
            DeviceSigningKey::generate().unwrap(),
            &opts,
        )
        .unwrap();
        let cancel = opts.cancel.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            cancel.cancel();
        });
        let started = std::time::Instant::now();
        let r = t.get("/v1/heads");
        assert!(matches!(r, Err(SyncError::Cancelled)), "{r:?}");
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn http_dates_parse() {
        assert_eq!(httpdate_ms("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            httpdate_ms("Wed, 25 Nov 2026 12:29:23 GMT"),
            Some(1_795_609_763_000)
        );
        assert_eq!(httpdate_ms("nonsense"), None);
    }
}
