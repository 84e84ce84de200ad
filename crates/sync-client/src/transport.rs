//! Signed HTTP to the sync service, with retries. Every attempt is signed afresh (a new nonce
//! and time), so a retry is never refused as a replay; re-sending is always safe because the
//! service treats a repeated push as a duplicate.

use crate::error::{Result, SyncError};
use backon::{BlockingRetryable, ExponentialBuilder};
use std::sync::atomic::{AtomicI64, Ordering};
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

/// Knobs for a sync; the defaults suit a laptop on an office network.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub retry: Retry,
    /// Ops per pull page (the service caps it).
    pub page_size: usize,
    /// Most ops per push.
    pub push_batch: usize,
    /// Per request.
    pub timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            retry: Retry::default(),
            page_size: 1000,
            push_batch: wardside_sync::protocol::MAX_PUSH_OPS,
            timeout: Duration::from_secs(60),
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

    fn error_text(&self) -> String {
        serde_json::from_slice::<ErrorBody>(&self.body)
            .map(|e| e.error)
            .unwrap_or_else(|_| format!("HTTP {}", self.status))
    }

    /// A 2xx, or the error it stands for.
    pub fn ok(self) -> Result<Reply> {
        match self.status {
            200..=299 => Ok(self),
            _ => Err(self.into_error()),
        }
    }

    pub fn into_error(self) -> SyncError {
        let text = self.error_text();
        match self.status {
            401 if text == REVOKED => SyncError::Revoked,
            401 if text == NOT_APPROVED => SyncError::Pending(String::new()),
            _ => SyncError::Refused(text),
        }
    }
}

/// A failed attempt worth repeating: why, in a few words.
struct Retryable(String);

pub(crate) struct Transport {
    http: reqwest::blocking::Client,
    timeout: Duration,
    base: String,
    device: Uuid,
    key: DeviceSigningKey,
    retry: Retry,
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
        .map_err(|e| SyncError::Unreachable(e.to_string()))?;
    Ok(CLIENT.get_or_init(|| c).clone())
}

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Transport {
    pub fn new(base: &str, device: Uuid, key: DeviceSigningKey, opts: &Options) -> Result<Self> {
        let base = base.trim_end_matches('/').to_owned();
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(SyncError::Refused(
                "the server address must start with https:// (or http:// for a service on this machine)".into(),
            ));
        }
        let http = shared_client()?;
        Ok(Transport {
            http,
            timeout: opts.timeout,
            base,
            device,
            key,
            retry: opts.retry,
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

    fn learn_clock(&self, resp: &reqwest::blocking::Response) {
        let date = resp
            .headers()
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(httpdate_ms);
        if let Some(server) = date {
            self.offset_ms.store(server - now_ms(), Ordering::Relaxed);
        }
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

    fn send(&self, method: &str, path: &str, body: Option<Vec<u8>>, signed: bool) -> Result<Reply> {
        let body = body.unwrap_or_default();
        let attempt = || -> std::result::Result<Reply, Retryable> {
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
            let resp = req.send().map_err(|e| Retryable(describe(&e)))?;
            self.learn_clock(&resp);
            let status = resp.status().as_u16();
            let body = resp.bytes().map_err(|e| Retryable(describe(&e)))?.to_vec();
            let reply = Reply { status, body };
            match status {
                408 | 429 | 500..=599 => Err(Retryable(format!("HTTP {status}"))),
                // Our clock was too far out for the first request: the Date header has put it right.
                401 if reply.error_text().contains("window") => {
                    Err(Retryable("clock corrected".into()))
                }
                _ => Ok(reply),
            }
        };
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.retry.min_delay)
            .with_max_delay(self.retry.max_delay)
            .with_max_times(self.retry.attempts)
            .with_jitter();
        attempt
            .retry(backoff)
            .sleep(std::thread::sleep)
            .notify(|Retryable(why), after| {
                tracing::info!(
                    why,
                    after_ms = after.as_millis() as u64,
                    "sync request retried"
                );
            })
            .call()
            .map_err(|Retryable(why)| SyncError::Unreachable(why))
    }
}

/// A reqwest error in a few words, without the URL's query.
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else if e.is_body() || e.is_decode() {
        "the reply was cut off".into()
    } else {
        "the connection failed".into()
    }
}

/// An HTTP date (`Wed, 25 Nov 2026 12:00:00 GMT`, RFC 2822's form) as Unix milliseconds.
fn httpdate_ms(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc2822(s)
        .ok()
        .map(|d| d.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

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
