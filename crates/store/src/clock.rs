//! Hybrid logical clock: `(wall_ms, counter)` plus the device id as the tie-break. Saving never
//! waits on, or refuses because of, a wrong wall clock: the counter absorbs a clock that stands
//! still or goes backwards.

use std::fmt;

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
    use super::*;

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
