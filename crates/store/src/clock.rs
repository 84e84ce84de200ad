//! Clocks. [`Clock`] is the wall clock every part of Wardside reads ("now" for an audit entry,
//! "today" for a legal deadline): the system's, or one that tests and demonstrations set, so no
//! test depends on the day it runs. [`Hlc`] is the hybrid logical clock that orders ops:
//! `(wall_ms, counter)` plus the device id as the tie-break. Saving never waits on, or refuses
//! because of, a wrong wall clock: the counter absorbs a clock that stands still or goes
//! backwards.

use chrono::{DateTime, NaiveDate, Utc};
use std::fmt;

/// The environment variable that sets the clock of the CLI and the app: an instant
/// (`2026-11-25T12:00:00Z`), a UK date (`2026-11-25`, noon that day), or an offset from the
/// system's clock (`+730d`, `-12h`). The clock then runs on from there in real time.
pub const CLOCK_ENV: &str = "WARDSIDE_NOW";

/// The wall clock: the system's clock plus a fixed offset (zero unless set). One clock per
/// process, handed to the store (which stamps audit entries and ops with it) and used by the
/// shells for "today".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Clock {
    offset_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{CLOCK_ENV}={0:?} is not a time: give an instant (2026-11-25T12:00:00Z), a date (2026-11-25) or an offset (+730d, -12h)"
)]
pub struct ClockError(pub String);

impl Clock {
    /// The system's clock.
    pub fn system() -> Clock {
        Clock::default()
    }

    /// A clock that reads `at` now and runs on in real time.
    pub fn starting_at(at: DateTime<Utc>) -> Clock {
        Clock {
            offset_ms: at.timestamp_millis() - Utc::now().timestamp_millis(),
        }
    }

    /// The system's clock moved by `offset`.
    pub fn offset_by(offset: chrono::Duration) -> Clock {
        Clock {
            offset_ms: offset.num_milliseconds(),
        }
    }

    /// The clock [`CLOCK_ENV`] asks for, or the system's when it is unset or empty.
    pub fn from_env() -> Result<Clock, ClockError> {
        match std::env::var(CLOCK_ENV) {
            Ok(v) if !v.trim().is_empty() => Clock::parse(&v),
            _ => Ok(Clock::system()),
        }
    }

    /// See [`CLOCK_ENV`] for the forms.
    pub fn parse(text: &str) -> Result<Clock, ClockError> {
        let t = text.trim();
        let bad = || ClockError(text.to_owned());
        if let Some(rest) = t.strip_prefix(['+', '-']) {
            let sign = if t.starts_with('-') { -1 } else { 1 };
            let (n, unit) = rest.split_at(rest.len().saturating_sub(1));
            let n: i64 = n.parse().map_err(|_| bad())?;
            let d = match unit {
                "d" => chrono::Duration::try_days(n),
                "h" => chrono::Duration::try_hours(n),
                "m" => chrono::Duration::try_minutes(n),
                _ => None,
            }
            .ok_or_else(bad)?;
            return Ok(Clock::offset_by(d * sign));
        }
        if let Ok(at) = DateTime::parse_from_rfc3339(t) {
            return Ok(Clock::starting_at(at.with_timezone(&Utc)));
        }
        if let Ok(day) = t.parse::<NaiveDate>() {
            let noon = day.and_hms_opt(12, 0, 0).ok_or_else(bad)?;
            return Ok(Clock::starting_at(
                wardside_domain::rules::period::uk_time_to_utc(noon),
            ));
        }
        Err(bad())
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::milliseconds(self.offset_ms)
    }

    pub fn now_ms(&self) -> i64 {
        self.now().timestamp_millis()
    }

    /// Today's date in the UK (legal deadlines run on UK dates, whatever the laptop's zone).
    pub fn today(&self) -> NaiveDate {
        wardside_domain::rules::period::uk_date_at(self.now())
    }

    /// The time in the UK now, to the second.
    pub fn uk_now(&self) -> chrono::NaiveDateTime {
        wardside_domain::rules::period::uk_time_at(self.now())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Hlc {
    pub wall_ms: u64,
    pub counter: u16,
}

impl Hlc {
    /// The next timestamp after `self`, given the local wall clock.
    pub fn tick(self, now_ms: u64) -> Hlc {
        if now_ms > self.wall_ms {
            Hlc {
                wall_ms: now_ms,
                counter: 0,
            }
        } else if self.counter == u16::MAX {
            Hlc {
                wall_ms: self.wall_ms + 1,
                counter: 0,
            }
        } else {
            Hlc {
                wall_ms: self.wall_ms,
                counter: self.counter + 1,
            }
        }
    }

    /// Sortable text: `0001767225600000-0000-<device>`; text order is clock order.
    pub fn encode(self, device_id: &str) -> String {
        let device: String = device_id.chars().filter(|c| *c != '-').take(16).collect();
        format!("{:016}-{:04x}-{}", self.wall_ms, self.counter, device)
    }

    pub fn decode(s: &str) -> Option<Hlc> {
        let mut parts = s.splitn(3, '-');
        let wall_ms = parts.next()?.parse().ok()?;
        let counter = u16::from_str_radix(parts.next()?, 16).ok()?;
        Some(Hlc { wall_ms, counter })
    }
}

impl fmt::Display for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.wall_ms, self.counter)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_set_clock_reads_what_it_was_given_and_runs_on() {
        let c = Clock::parse("2026-11-25T12:00:00Z").unwrap();
        let now = c.now();
        let at: DateTime<Utc> = "2026-11-25T12:00:00Z".parse().unwrap();
        assert!((now - at).num_seconds().abs() < 5, "{now}");
        assert_eq!(c.today(), "2026-11-25".parse::<NaiveDate>().unwrap());
        // A date is noon in the UK that day, in summer time too.
        let summer = Clock::parse("2027-07-01").unwrap();
        assert_eq!(summer.uk_now().date().to_string(), "2027-07-01");
        assert_eq!(
            summer.uk_now().format("%H").to_string(),
            "12",
            "noon UK time"
        );
        // Offsets move the system's clock.
        let ahead = Clock::parse("+730d").unwrap();
        let gap = ahead.now() - Clock::system().now();
        assert!((gap.num_days() - 730).abs() <= 1, "{gap}");
        assert!(Clock::parse("-12h").unwrap().now() < Clock::system().now());
        for bad in ["tomorrow", "+3w", "+d", "2026-13-01", "12/11/2026"] {
            let e = Clock::parse(bad).unwrap_err().to_string();
            assert!(e.contains(CLOCK_ENV), "{e}");
        }
    }

    #[test]
    fn a_clock_that_goes_backwards_still_moves_forward() {
        let a = Hlc::default().tick(1_000);
        let b = a.tick(900);
        let c = b.tick(900);
        assert!(a < b && b < c);
        assert_eq!(
            c,
            Hlc {
                wall_ms: 1_000,
                counter: 2
            }
        );
        assert_eq!(
            c.tick(2_000),
            Hlc {
                wall_ms: 2_000,
                counter: 0
            }
        );
    }

    #[test]
    fn counter_overflow_borrows_a_millisecond_instead_of_blocking() {
        let h = Hlc {
            wall_ms: 5,
            counter: u16::MAX,
        }
        .tick(5);
        assert_eq!(
            h,
            Hlc {
                wall_ms: 6,
                counter: 0
            }
        );
    }

    #[test]
    fn encoding_sorts_like_the_clock_and_round_trips() {
        let dev = "0b7e3c1a-9f2d-4c55-8e61-2a7d9c0f1b23";
        let a = Hlc {
            wall_ms: 999,
            counter: 0xff,
        }
        .encode(dev);
        let b = Hlc {
            wall_ms: 1000,
            counter: 0,
        }
        .encode(dev);
        assert!(a < b);
        assert_eq!(
            Hlc::decode(&a),
            Some(Hlc {
                wall_ms: 999,
                counter: 0xff
            })
        );
    }
}
