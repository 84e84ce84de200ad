//! Statutory period arithmetic on UK calendar dates (never instants, so no clock change or UTC
//! midnight can move a deadline), and the days the tribunal office is closed.

use chrono::{Datelike, Days, Months, NaiveDate, Weekday};
use std::collections::BTreeSet;

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
