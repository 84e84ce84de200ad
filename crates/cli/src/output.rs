//! Printing: JSON with --json, plain text for people otherwise. Content goes to stdout only,
//! because the user asked for it; progress goes to stderr.

use crate::error::Error;
use chrono::NaiveDate;
use serde::Serialize;
use std::fmt::Display;
use wardside_store::{CaseView, CaseloadRow, SearchHit, StoreInfo};

#[derive(Debug)]
pub struct Out {
    pub json: bool,
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

    pub fn progress(&self, done: usize, total: usize) {
        if !self.json && (done.is_multiple_of(1000) || done == total) {
            eprintln!("  {done}/{total} clients");
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

    pub fn case(&self, v: &CaseView) -> Result<(), Error> {
        if self.json {
            return print_json(v);
        }
        let c = &v.client.record;
        println!("{}", c.name);
        if let Some(s) = &v.current_status {
            println!("  {} since {}", s.label, uk(s.since));
        }
        println!(
            "  {} / {}",
            c.hospital.as_deref().unwrap_or("-"),
            c.ward.as_deref().unwrap_or("-")
        );
        println!(
            "  Case opened {} ({}){}",
            uk(v.case.record.opened_on),
            v.case.record.instruction,
            match &v.case.record.closed {
                Some(cl) => format!(", closed {} ({})", uk(cl.on), cl.reason.label()),
                None => String::new(),
            }
        );
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
