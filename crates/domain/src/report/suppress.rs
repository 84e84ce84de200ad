//! Small-number suppression before a return leaves the laptop.
//!
//! Primary: a count from 1 to the threshold (7 by default) could identify a person, so it is
//! shown as "*". Secondary: a table whose total is published must not let one suppressed cell
//! be worked out as the total minus the rest, so while exactly one cell of a table is
//! suppressed, the smallest other non-zero cell is suppressed too. Zero is never suppressed (it
//! reveals nobody). Rates computed over fewer people than the threshold are withheld as well.

use serde::{Serialize, Serializer};
use std::collections::BTreeMap;

/// Counts of 1..=this are suppressed unless a manager's view asks for exact numbers.
pub const DEFAULT_THRESHOLD: u64 = 7;

/// One published cell: a count, or "*".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    Count(u64),
    Suppressed,
}

impl Serialize for Cell {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Cell::Count(n) => s.serialize_u64(*n),
            Cell::Suppressed => s.serialize_str("*"),
        }
    }
}

impl Cell {
    /// As written in a CSV or on the page.
    pub fn text(&self) -> String {
        match self {
            Cell::Count(n) => n.to_string(),
            Cell::Suppressed => "*".into(),
        }
    }
}

/// A published one-way table: code -> cell, in code order.
pub type Table = BTreeMap<String, Cell>;

/// Apply primary and secondary suppression to exact counts (`threshold` 0: no suppression, for
/// the manager's own "not for release" view).
pub fn suppress_table(counts: &BTreeMap<String, u64>, threshold: u64) -> Table {
    suppress_table_with(counts, threshold, |_| false)
}

/// As [`suppress_table`], with the non-zero cells `forced` picks starred from the start: cells
/// whose total another table starred (the reasons a referral was not eligible, when the number
/// not eligible is starred), so that total cannot be rebuilt from them.
pub fn suppress_table_with(
    counts: &BTreeMap<String, u64>,
    threshold: u64,
    forced: impl Fn(&str) -> bool,
) -> Table {
    let mut out: Table = counts
        .iter()
        .map(|(k, &n)| {
            let cell = if n >= 1 && (n <= threshold || (threshold > 0 && forced(k))) {
                Cell::Suppressed
            } else {
                Cell::Count(n)
            };
            (k.clone(), cell)
        })
        .collect();
    if threshold == 0 {
        return out;
    }
    // Secondary: the table's total is published (or is a headline measure), so the starred
    // cells together are known. One starred cell alone is the total minus the others; several
    // whose sum is at most the threshold can be pinned down too (each is at least 1). Star the
    // smallest shown non-zero cell until neither is so.
    loop {
        let starred: Vec<u64> = out
            .iter()
            .filter(|(_, c)| **c == Cell::Suppressed)
            .map(|(k, _)| counts[k])
            .collect();
        let sum: u64 = starred.iter().sum();
        if starred.is_empty() || (starred.len() >= 2 && sum > threshold) {
            break;
        }
        let smallest = out
            .iter()
            .filter_map(|(k, c)| match c {
                Cell::Count(n) if *n > 0 => Some((*n, k.clone())),
                _ => None,
            })
            .min();
        match smallest {
            Some((_, key)) => {
                out.insert(key, Cell::Suppressed);
            }
            None => break,
        }
    }
    out
}

/// Headline counts tied by a sum anyone can do (open at the start + opened - closed = open at
/// the end): while exactly one is starred it is that sum of the others, so the smallest other
/// non-zero one that `may_star` allows is starred too.
pub fn suppress_linked<'k>(
    values: &[(&'k str, u64)],
    threshold: u64,
    may_star: impl Fn(&str) -> bool,
) -> BTreeMap<&'k str, Cell> {
    let mut out: BTreeMap<&str, Cell> = values
        .iter()
        .map(|&(k, n)| (k, suppress_count(n, threshold)))
        .collect();
    if threshold == 0 {
        return out;
    }
    let starred = out.values().filter(|c| **c == Cell::Suppressed).count();
    if starred == 1
        && let Some(&(k, _)) = values
            .iter()
            .filter(|&&(k, n)| n > 0 && out[k] != Cell::Suppressed && may_star(k))
            .min_by_key(|&&(_, n)| n)
    {
        out.insert(k, Cell::Suppressed);
    }
    out
}

/// Free text used as a table's keys (a hospital's name, a religion in the person's words):
/// before release, a value held by no more than `threshold` people is folded into "other", so
/// a rare answer's words never leave the laptop.
pub fn fold_rare(counts: &BTreeMap<String, u64>, threshold: u64) -> BTreeMap<String, u64> {
    if threshold == 0 {
        return counts.clone();
    }
    let mut out = BTreeMap::new();
    for (k, &n) in counts {
        let key = if n <= threshold && k != "not known" && k != "not recorded" {
            "other"
        } else {
            k.as_str()
        };
        *out.entry(key.to_owned()).or_insert(0) += n;
    }
    out
}

/// A single published count (a headline measure).
pub fn suppress_count(n: u64, threshold: u64) -> Cell {
    if n >= 1 && n <= threshold {
        Cell::Suppressed
    } else {
        Cell::Count(n)
    }
}

/// A rate or a median is withheld when fewer than `threshold + 1` people are behind it.
pub fn rate_allowed(people: u64, threshold: u64) -> bool {
    threshold == 0 || people > threshold
}

/// A share `part` of `of` may be published only if neither the part nor the rest is a small
/// number: with the denominator known, a percentage gives both away.
pub fn share_allowed(part: u64, of: u64, threshold: u64) -> bool {
    let small = |n: u64| n >= 1 && n <= threshold;
    threshold == 0 || (rate_allowed(of, threshold) && !small(part) && !small(of - part.min(of)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
        pairs.iter().map(|(k, n)| (k.to_string(), *n)).collect()
    }

    #[test]
    fn counts_of_one_to_seven_are_starred_eight_and_zero_are_not() {
        let t = suppress_table(
            &table(&[("a", 7), ("b", 8), ("c", 0), ("d", 1), ("e", 20)]),
            7,
        );
        assert_eq!(t["a"], Cell::Suppressed);
        assert_eq!(t["d"], Cell::Suppressed);
        assert_eq!(t["b"], Cell::Count(8));
        assert_eq!(t["c"], Cell::Count(0));
        assert_eq!(t["e"], Cell::Count(20));
        assert_eq!(
            serde_json::to_value(&t).unwrap(),
            serde_json::json!({"a": "*", "b": 8, "c": 0, "d": "*", "e": 20})
        );
    }

    #[test]
    fn a_lone_suppressed_cell_takes_the_smallest_other_with_it() {
        // Total 31 is published: "a" alone would be 31 - 8 - 20 = 3.
        let t = suppress_table(&table(&[("a", 3), ("b", 8), ("c", 20)]), 7);
        assert_eq!(t["a"], Cell::Suppressed);
        assert_eq!(t["b"], Cell::Suppressed, "secondary");
        assert_eq!(t["c"], Cell::Count(20));
        // Two suppressed whose sum (5, the total less the rest) is itself small: one more.
        let t = suppress_table(&table(&[("a", 3), ("b", 2), ("c", 20)]), 7);
        assert_eq!(t["c"], Cell::Suppressed);
        // Two suppressed adding up to more than 7: nothing more.
        let t = suppress_table(&table(&[("a", 3), ("b", 6), ("c", 20)]), 7);
        assert_eq!(t["c"], Cell::Count(20));
        // Zero cells are not used for secondary suppression: they reveal nothing.
        let t = suppress_table(&table(&[("a", 3), ("z", 0), ("c", 20)]), 7);
        assert_eq!((t["z"], t["c"]), (Cell::Count(0), Cell::Suppressed));
    }

    #[test]
    fn starred_cells_whose_sum_is_small_take_more_with_them() {
        // {1, 1, 9}: the two starred cells sum to 2 = total - 9, so each is 1: star the 9 too.
        let t = suppress_table(&table(&[("a", 1), ("b", 1), ("c", 9), ("d", 20)]), 7);
        assert_eq!(
            (t["a"], t["b"], t["c"]),
            (Cell::Suppressed, Cell::Suppressed, Cell::Suppressed)
        );
        assert_eq!(t["d"], Cell::Count(20));
        // A table whose cells are all small: all starred.
        let t = suppress_table(&table(&[("a", 1), ("b", 2)]), 7);
        assert!(t.values().all(|c| *c == Cell::Suppressed));
    }

    #[test]
    fn rare_free_text_is_folded_into_other_before_release() {
        let f = fold_rare(
            &table(&[
                ("Riverside", 9),
                ("Ward of A Person", 1),
                ("quaker", 2),
                ("not known", 3),
            ]),
            7,
        );
        assert_eq!(
            f,
            table(&[("Riverside", 9), ("other", 3), ("not known", 3)])
        );
        assert_eq!(fold_rare(&table(&[("x", 1)]), 0), table(&[("x", 1)]));
    }

    #[test]
    fn a_share_is_withheld_when_either_side_is_small() {
        assert!(!share_allowed(9, 11, 7), "2 missed would be known");
        assert!(share_allowed(10, 20, 7));
        assert!(share_allowed(20, 20, 7), "none missed reveals nobody");
        assert!(!share_allowed(5, 30, 7));
    }

    #[test]
    fn a_starred_headline_is_not_left_as_the_sum_of_the_others() {
        // 20 + 17 - 3 = 34: the 3 closed would be the others' sum.
        let v = [("start", 20), ("opened", 17), ("closed", 3), ("end", 34)];
        let out = suppress_linked(&v, 7, |k| k != "closed");
        assert_eq!(out["closed"], Cell::Suppressed);
        assert_eq!(out["opened"], Cell::Suppressed, "the smallest other");
        assert_eq!(
            (out["start"], out["end"]),
            (Cell::Count(20), Cell::Count(34))
        );
        // Two starred already: nothing more.
        let v = [("start", 2), ("opened", 3), ("closed", 0), ("end", 5)];
        let out = suppress_linked(&v, 7, |_| true);
        assert_eq!(out["closed"], Cell::Count(0));
        assert_eq!(suppress_linked(&v, 0, |_| true)["start"], Cell::Count(2));
    }

    #[test]
    fn the_managers_own_view_shows_exact_numbers() {
        let t = suppress_table(&table(&[("a", 3), ("b", 8)]), 0);
        assert_eq!((t["a"], t["b"]), (Cell::Count(3), Cell::Count(8)));
        assert!(rate_allowed(3, 0));
        assert!(!rate_allowed(7, 7));
        assert!(rate_allowed(8, 7));
    }
}
