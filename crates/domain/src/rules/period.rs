//! Statutory period arithmetic on UK calendar dates (never instants, so no clock change or UTC
//! midnight can move a deadline), and the days the tribunal office is closed.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, Utc, Weekday};
use std::collections::BTreeSet;

/// The calendar date in the UK at an instant. Legal deadlines are UK dates: a laptop set to UTC
/// must not think it is still yesterday at 00:30 British Summer Time.
pub fn uk_date_at(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&chrono_tz::Europe::London).date_naive()
}

/// The date and time in the UK at an instant (what a printed "generated on" shows).
pub fn uk_time_at(at: DateTime<Utc>) -> chrono::NaiveDateTime {
    at.with_timezone(&chrono_tz::Europe::London).naive_local()
}

/// The instant of a UK wall-clock time (the earlier one when clocks go back; a time skipped when
/// they go forward is taken as UTC).
pub fn uk_time_to_utc(t: chrono::NaiveDateTime) -> DateTime<Utc> {
    use chrono::TimeZone;
    chrono_tz::Europe::London
        .from_local_datetime(&t)
        .earliest()
        .map_or_else(|| t.and_utc(), |local| local.with_timezone(&Utc))
}

/// The last day of "a period of `n` months beginning with" `start`.
///
/// The period ends on the day before the corresponding date `n` months later (a period of six
/// months beginning with 3 March ends on 2 September). Where that month has no corresponding
/// day (a period beginning with 31 August that would end on "30 February"), it ends on the last
/// day of that month instead.
pub fn months_beginning_with(start: NaiveDate, n: u32) -> NaiveDate {
    let target_month = start
        .with_day(1)
        .and_then(|first| first.checked_add_months(Months::new(n)));
    let Some(first_of_target) = target_month else {
        return NaiveDate::MAX;
    };
    match first_of_target.with_day(start.day()) {
        Some(corresponding) => corresponding.pred_opt().unwrap_or(corresponding),
        None => last_day_of_month(first_of_target),
    }
}

/// The last day of "a period of `n` days beginning with" `start` (`start` is day 1).
pub fn days_beginning_with(start: NaiveDate, n: u32) -> NaiveDate {
    start
        .checked_add_days(Days::new(u64::from(n.max(1)) - 1))
        .unwrap_or(NaiveDate::MAX)
}

fn last_day_of_month(any_day: NaiveDate) -> NaiveDate {
    any_day
        .with_day(1)
        .and_then(|d| d.checked_add_months(Months::new(1)))
        .and_then(|d| d.pred_opt())
        .unwrap_or(any_day)
}

/// The days the tribunal office is closed: weekends and the bank holidays given.
#[derive(Debug, Clone, Default)]
pub struct OfficeCalendar {
    pub(crate) bank_holidays: BTreeSet<NaiveDate>,
}

impl OfficeCalendar {
    pub fn is_closed(&self, day: NaiveDate) -> bool {
        matches!(day.weekday(), Weekday::Sat | Weekday::Sun) || self.bank_holidays.contains(&day)
    }

    /// `day` itself if the office is open, otherwise the next day it is.
    pub fn next_business_day(&self, day: NaiveDate) -> NaiveDate {
        let mut d = day;
        while self.is_closed(d) {
            match d.succ_opt() {
                Some(next) => d = next,
                None => break,
            }
        }
        d
    }

    pub fn is_bank_holiday(&self, day: NaiveDate) -> bool {
        self.bank_holidays.contains(&day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn today_is_the_uk_date_around_midnight_and_the_clock_changes() {
        assert_eq!(
            uk_date_at(at("2026-06-30T23:30:00Z")),
            d("2026-07-01"),
            "BST"
        );
        assert_eq!(
            uk_date_at(at("2026-12-31T23:59:00Z")),
            d("2026-12-31"),
            "GMT"
        );
        // Clocks go forward at 01:00 UTC on Sunday 29 March 2026 and back on 25 October.
        assert_eq!(uk_date_at(at("2026-03-28T23:59:00Z")), d("2026-03-28"));
        assert_eq!(uk_date_at(at("2026-03-29T23:00:00Z")), d("2026-03-30"));
        assert_eq!(uk_date_at(at("2026-10-24T23:30:00Z")), d("2026-10-25"));
        assert_eq!(uk_date_at(at("2026-10-25T23:30:00Z")), d("2026-10-25"));
    }

    #[test]
    fn uk_wall_clock_times_and_instants_convert_both_ways() {
        let local = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").unwrap();
        for instant in ["2026-07-01T11:00:00Z", "2026-12-01T11:00:00Z"] {
            assert_eq!(uk_time_to_utc(uk_time_at(at(instant))), at(instant));
        }
        assert_eq!(
            uk_time_to_utc(local("2026-07-01T12:00")),
            at("2026-07-01T11:00:00Z")
        );
        // 01:30 happens twice on 25 October 2026: the first (BST) is taken.
        assert_eq!(
            uk_time_to_utc(local("2026-10-25T01:30")),
            at("2026-10-25T00:30:00Z")
        );
        // 01:30 never happens on 29 March 2026.
        assert_eq!(
            uk_time_to_utc(local("2026-03-29T01:30")),
            at("2026-03-29T01:30:00Z")
        );
    }

    /// Every half hour of 2020-2035 against the Summer Time Order 2002's rule, derived
    /// independently: BST from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last
    /// Sunday of October.
    #[test]
    fn uk_date_matches_the_summer_time_rule_for_every_half_hour() {
        fn last_sunday(year: i32, month: u32) -> NaiveDate {
            let mut day =
                months_beginning_with(NaiveDate::from_ymd_opt(year, month, 1).unwrap(), 1);
            while day.weekday() != Weekday::Sun {
                day = day.pred_opt().unwrap();
            }
            day
        }
        let mut t = at("2020-01-01T00:00:00Z");
        while t < at("2036-01-01T00:00:00Z") {
            let y = t.year();
            let bst_from = last_sunday(y, 3).and_hms_opt(1, 0, 0).unwrap().and_utc();
            let bst_to = last_sunday(y, 10).and_hms_opt(1, 0, 0).unwrap().and_utc();
            let offset = if t >= bst_from && t < bst_to { 1 } else { 0 };
            let expected = (t + chrono::Duration::hours(offset)).date_naive();
            assert_eq!(uk_date_at(t), expected, "{t}");
            t += chrono::Duration::minutes(30);
        }
    }

    #[test]
    fn a_period_of_months_ends_the_day_before_the_corresponding_date() {
        assert_eq!(months_beginning_with(d("2026-03-03"), 6), d("2026-09-02"));
        assert_eq!(months_beginning_with(d("2026-01-15"), 1), d("2026-02-14"));
        assert_eq!(months_beginning_with(d("2026-11-25"), 12), d("2027-11-24"));
        assert_eq!(months_beginning_with(d("2026-01-01"), 6), d("2026-06-30"));
        assert_eq!(months_beginning_with(d("2026-07-01"), 6), d("2026-12-31"));
    }

    #[test]
    fn a_missing_corresponding_day_falls_back_to_the_end_of_the_month() {
        // 31 August + 6 months: there is no 31 February.
        assert_eq!(months_beginning_with(d("2026-08-31"), 6), d("2027-02-28"));
        assert_eq!(months_beginning_with(d("2026-08-30"), 6), d("2027-02-28"));
        assert_eq!(months_beginning_with(d("2026-08-29"), 6), d("2027-02-28"));
        assert_eq!(months_beginning_with(d("2026-08-28"), 6), d("2027-02-27"));
        // Leap years: 29 February exists in 2028.
        assert_eq!(months_beginning_with(d("2027-08-31"), 6), d("2028-02-29"));
        assert_eq!(months_beginning_with(d("2027-08-29"), 6), d("2028-02-28"));
        assert_eq!(months_beginning_with(d("2028-02-29"), 12), d("2029-02-28"));
        assert_eq!(months_beginning_with(d("2026-05-31"), 1), d("2026-06-30"));
        assert_eq!(months_beginning_with(d("2026-03-31"), 6), d("2026-09-30"));
    }

    #[test]
    fn a_period_of_days_counts_the_first_day() {
        // s. 2: 28 days beginning with the day of admission.
        assert_eq!(days_beginning_with(d("2026-11-01"), 28), d("2026-11-28"));
        // s. 66(2)(a): 14 days beginning with the day of admission.
        assert_eq!(days_beginning_with(d("2026-02-20"), 14), d("2026-03-05"));
        assert_eq!(days_beginning_with(d("2028-02-20"), 14), d("2028-03-04"));
        assert_eq!(days_beginning_with(d("2026-12-25"), 14), d("2027-01-07"));
    }

    #[test]
    fn the_office_is_closed_at_weekends_and_on_bank_holidays() {
        let cal = OfficeCalendar {
            bank_holidays: [d("2026-12-25"), d("2026-12-28")].into_iter().collect(),
        };
        assert_eq!(cal.next_business_day(d("2026-11-25")), d("2026-11-25"));
        assert_eq!(cal.next_business_day(d("2026-11-28")), d("2026-11-30"));
        // Christmas Day (Friday), the weekend, then the Boxing Day substitute (Monday).
        assert_eq!(cal.next_business_day(d("2026-12-25")), d("2026-12-29"));
    }
}
