//! Printing: JSON with --json, plain text for people otherwise. Content goes to stdout only,
//! because the user asked for it; progress goes to stderr.

use crate::error::Error;
use chrono::NaiveDate;
use serde::Serialize;
use std::fmt::Display;
use std::io::IsTerminal;
use wardside_domain::StatusCode;
use wardside_domain::rules::{Eligibility, GUIDANCE, ProvisionStatus, Renewals, TribunalWindow};
use wardside_store::{CaseView, CaseloadRow, Guidance, SearchHit, StoreInfo};

#[derive(Debug)]
pub struct Out {
    pub json: bool,
}

/// See [`Out::fraction`].
#[derive(Debug)]
pub struct Fraction {
    label: &'static str,
    quiet: bool,
    terminal: bool,
    /// The last percentage (on a terminal) or tenth (otherwise) printed.
    shown: Option<u32>,
}

impl Fraction {
    /// `done` runs from 0 to 1.
    pub fn update(&mut self, done: f32) {
        if self.quiet {
            return;
        }
        // A percentage: the cast cannot overflow after the clamp.
        let percent = (done.clamp(0.0, 1.0) * 100.0).floor() as u32;
        if self.terminal {
            if self.shown != Some(percent) {
                eprint!("\r{}: {percent:>3}%", self.label);
                self.shown = Some(percent);
            }
        } else {
            let tenth = percent / 10;
            if self.shown.is_none_or(|shown| tenth > shown) {
                eprintln!("{}: {}%", self.label, tenth * 10);
                self.shown = Some(tenth);
            }
        }
    }

    /// End the line a terminal was showing.
    pub fn finish(&mut self) {
        if self.terminal && self.shown.is_some() {
            eprintln!();
        }
    }
}

fn uk(d: NaiveDate) -> String {
    d.format("%-d %b %Y").to_string()
}

fn print_json(v: &impl Serialize) -> Result<(), Error> {
    let s = serde_json::to_string_pretty(v)
        .map_err(|e| Error::Usage(format!("could not format output: {e}")))?;
    println!("{s}");
    Ok(())
}

impl Out {
    pub fn id(&self, id: impl Display) -> Result<(), Error> {
        if self.json {
            return print_json(&serde_json::json!({ "id": id.to_string() }));
        }
        println!("{id}");
        Ok(())
    }

    pub fn done(&self, message: &str) {
        if self.json {
            println!("{}", serde_json::json!({ "ok": true }));
        } else {
            println!("{message}");
        }
    }

    pub fn info(&self, info: &StoreInfo, message: &str) {
        if self.json {
            let _ = print_json(info);
        } else {
            println!("{message}");
            println!("Keep the passphrase safe: it cannot be recovered from this device alone.");
        }
    }

    /// Progress of a long operation as a percentage on stderr (never any content): nothing
    /// with --json, updated in place on a terminal, otherwise one line per tenth.
    pub fn fraction(&self, label: &'static str) -> Fraction {
        Fraction {
            label,
            quiet: self.json,
            terminal: std::io::stderr().is_terminal(),
            shown: None,
        }
    }

    pub fn progress(&self, done: usize, total: usize) {
        if !self.json && (done.is_multiple_of(1000) || done == total) {
            eprintln!("  {done}/{total} clients");
        }
    }

    /// JSON with --json, otherwise a sentence for people.
    pub fn value_or(&self, v: &serde_json::Value, text: &str) -> Result<(), Error> {
        if self.json {
            print_json(v)
        } else {
            println!("{text}");
            Ok(())
        }
    }

    pub fn value(&self, v: &serde_json::Value) -> Result<(), Error> {
        print_json(v)
    }

    pub fn caseload(&self, rows: &[CaseloadRow]) -> Result<(), Error> {
        if self.json {
            return print_json(&serde_json::json!({ "cases": rows }));
        }
        if rows.is_empty() {
            println!("No cases.");
            return Ok(());
        }
        println!(
            "{:<28} {:<18} {:<30} {:<14} {:<12} Last activity",
            "Name", "Status", "Hospital", "Ward", "Opened"
        );
        for r in rows {
            let status = r.status.map(|s| s.code()).unwrap_or("-");
            let last = r
                .last_activity
                .as_deref()
                .and_then(|s| s.get(..10))
                .and_then(|s| s.parse().ok())
                .map(uk)
                .unwrap_or_else(|| "none".into());
            println!(
                "{:<28} {:<18} {:<30} {:<14} {:<12} {}",
                truncate(&r.name, 28),
                status,
                truncate(r.hospital.as_deref().unwrap_or("-"), 30),
                truncate(r.ward.as_deref().unwrap_or("-"), 14),
                uk(r.opened_on),
                last
            );
        }
        Ok(())
    }

    pub fn hits(&self, hits: &[SearchHit]) -> Result<(), Error> {
        if self.json {
            return print_json(&serde_json::json!({ "hits": hits }));
        }
        if hits.is_empty() {
            println!("No notes match.");
        }
        for h in hits {
            println!(
                "{}  case {}  activity {}\n    {}\n",
                h.at,
                h.case,
                h.activity,
                h.snippet.replace('\n', " ")
            );
        }
        Ok(())
    }

    pub fn eligibility(&self, e: &Eligibility) -> Result<(), Error> {
        if self.json {
            return print_json(e);
        }
        println!(
            "{}\n{}\nSource: {}\n{GUIDANCE}",
            if e.eligible {
                "Eligible for an IMHA."
            } else {
                "Not eligible for an IMHA."
            },
            e.reason,
            e.source
        );
        Ok(())
    }

    pub fn windows(
        &self,
        status: StatusCode,
        w: &[TribunalWindow],
        on: NaiveDate,
        not_yet_in_force: Option<NaiveDate>,
    ) -> Result<(), Error> {
        let none = match not_yet_in_force {
            Some(from) => format!(
                "{}: no tribunal application rule was in force for a status beginning then; the rules for it begin on {}.",
                status.label(),
                uk(from)
            ),
            None => format!(
                "{}: the Act gives no tribunal application right for this status.",
                status.label()
            ),
        };
        if self.json {
            let windows: Vec<_> = w
                .iter()
                .map(|w| {
                    let mut v = serde_json::to_value(w).unwrap_or_default();
                    v["open_on_day"] = (w.opens <= on && on <= w.closes).into();
                    v
                })
                .collect();
            let mut v = serde_json::json!({
                "status": status, "windows": windows, "guidance": GUIDANCE
            });
            if w.is_empty() {
                v["note"] = none.into();
            }
            return print_json(&v);
        }
        if w.is_empty() {
            println!("{none}");
        }
        for w in w {
            let who = match w.applicant {
                wardside_domain::rules::WindowApplicant::Patient => "patient",
                wardside_domain::rules::WindowApplicant::NearestRelative => "nearest relative",
                wardside_domain::rules::WindowApplicant::NominatedPerson => "nominated person",
            };
            println!(
                "{:<17} {} to {}{}{}",
                who,
                uk(w.opens),
                uk(w.closes),
                if w.extended {
                    " (moved to the next business day)"
                } else {
                    ""
                },
                if w.opens <= on && on <= w.closes {
                    "  <- open"
                } else {
                    ""
                }
            );
            if let Some(n) = &w.note {
                println!("{:<17} {n}", "");
            }
        }
        if let Some(first) = w.first() {
            println!("Source: {}", first.source);
        }
        println!("{GUIDANCE}");
        Ok(())
    }

    pub fn renewals(&self, r: &Renewals) -> Result<(), Error> {
        if self.json {
            return print_json(r);
        }
        println!("{}", r.note);
        for p in &r.periods {
            println!("  period {:>2}: {} to {}", p.number, uk(p.from), uk(p.to));
        }
        if let Some(s) = &r.managers_hearing_on_renewal {
            println!("The hospital managers must consider each renewal ({s}).");
        }
        for x in &r.references {
            println!(
                "Reference by {} due {}, {} ({}).",
                x.by.replacen("The ", "the ", 1),
                uk(x.due),
                x.condition,
                x.source
            );
        }
        if let Some(n) = &r.references_note {
            println!("{n}");
        }
        if let Some(i) = &r.inform {
            println!(
                "Must tell the patient about IMHA: {} ({}).",
                i.who, i.source
            );
        }
        if let Some(s) = &r.source {
            println!("Source: {s}");
        }
        println!("{GUIDANCE}");
        Ok(())
    }

    pub fn provisions(&self, p: &[ProvisionStatus]) -> Result<(), Error> {
        if self.json {
            return print_json(&serde_json::json!({ "provisions": p }));
        }
        for p in p {
            let when = p
                .commences
                .map(|d| format!("in force from {}", uk(d)))
                .unwrap_or_else(|| "not in force (no date set)".into());
            println!("{:<34} {}\n    {} ({})", p.key, when, p.title, p.source);
        }
        Ok(())
    }

    pub fn case(&self, v: &CaseView, g: &Guidance, on: NaiveDate) -> Result<(), Error> {
        if self.json {
            let mut value = serde_json::to_value(v).unwrap_or_default();
            value["eligibility"] = serde_json::to_value(&g.eligibility).unwrap_or_default();
            value["reminders"] = serde_json::to_value(&g.reminders).unwrap_or_default();
            return print_json(&value);
        }
        let c = &v.client.record;
        println!("{}", c.name);
        // The status on the day the reminders are for (`case show --on`), from the history.
        let history: Vec<_> = v.legal_history.iter().map(|e| e.record.clone()).collect();
        match wardside_domain::legal::status_on(&history, on) {
            Some((status, since)) => println!("  {} since {}", status.label(), uk(since)),
            None => println!("  No legal status recorded on {}", uk(on)),
        }
        println!(
            "  {}",
            if g.eligibility.eligible {
                "Eligible for an IMHA"
            } else {
                "Not eligible for an IMHA"
            }
        );
        match (c.hospital.as_deref(), c.ward.as_deref()) {
            (None, None) => {}
            (h, w) => println!("  {} / {}", h.unwrap_or("-"), w.unwrap_or("-")),
        }
        println!(
            "  Case opened {} ({}){}",
            uk(v.case.record.opened_on),
            v.case.record.instruction,
            match &v.case.record.closed {
                Some(cl) => format!(", closed {} ({})", uk(cl.on), cl.reason.label()),
                None => String::new(),
            }
        );
        if !g.reminders.is_empty() {
            println!("\nReminders ({})", GUIDANCE.trim_end_matches('.'));
            for r in &g.reminders {
                println!("  - {} [{}]", r.text, r.source);
            }
        }
        if !v.issues.is_empty() {
            println!("\nIssues");
            for i in &v.issues {
                let outcome = i
                    .record
                    .outcome
                    .as_ref()
                    .map(|o| o.kind.label())
                    .unwrap_or("open");
                println!(
                    "  - {} ({}): {}",
                    i.record.summary,
                    i.record.category.label(),
                    outcome
                );
            }
        }
        println!("\nTimeline");
        for t in &v.timeline {
            let amended = if t.versions > 1 {
                format!(" (amended, {} versions)", t.versions)
            } else {
                String::new()
            };
            println!(
                "  {}  {}{}",
                t.activity.at.format("%-d %b %Y %H:%M"),
                t.kind_label,
                amended
            );
            for line in t.text.lines() {
                println!("      {line}");
            }
        }
        Ok(())
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        s.chars().take(n - 1).chain(['…']).collect()
    }
}
