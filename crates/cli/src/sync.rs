//! `wardside sync ...`: a few lines per subcommand over wardside-sync-client.

use crate::args::SyncCmd;
use crate::error::Error;
use crate::output::Out;
use serde_json::json;
use std::io::Write;
use wardside_store::Store;
use wardside_sync_client as sync;

pub fn run(cmd: SyncCmd, store: &mut Store, out: &Out) -> Result<(), Error> {
    let opts = sync::Options::default();
    match cmd {
        SyncCmd::Enroll {
            server,
            code,
            name,
            recovery_file,
        } => {
            let e = sync::enroll(store, &server, &code, &name, &opts)?;
            let status = e.status.as_str();
            if let Some(r) = &e.recovery {
                show_recovery(&r.words(), recovery_file.as_deref())?;
            }
            out.value_or(
                &json!({ "device_id": e.device_id, "fingerprint": e.fingerprint, "status": status }),
                &if status == "pending" {
                    format!(
                        "Enrolled as {}. Waiting for an admin: read them this fingerprint: {}\nOrganisation fingerprint (the same on every device of it): {}",
                        e.device_id, e.fingerprint, e.org_fingerprint
                    )
                } else {
                    format!(
                        "Enrolled as {} ({status}). Fingerprint {}\nOrganisation fingerprint: {}",
                        e.device_id, e.fingerprint, e.org_fingerprint
                    )
                },
            )
        }
        SyncCmd::Invite => {
            let code = sync::invite(store, &opts)?;
            out.value_or(
                &json!({ "code": code }),
                &format!("One-time code for the new device (valid 7 days): {code}"),
            )
        }
        SyncCmd::Approve {
            device,
            fingerprint,
        } => {
            sync::approve(store, device, &fingerprint, &opts)?;
            out.value_or(
                &json!({ "device_id": device, "status": "approved" }),
                &format!("Approved {device}; it has been given the team keys."),
            )
        }
        SyncCmd::Revoke { device } => {
            let r = sync::revoke(store, device, &opts)?;
            let epochs: Vec<u32> = r.new_epochs.iter().map(|k| k.epoch).collect();
            out.value_or(
                &json!({ "device_id": device, "status": "revoked", "new_epochs": epochs }),
                &format!(
                    "Revoked {device}. Team keys moved to a new epoch; it cannot read anything written from now on."
                ),
            )
        }
        SyncCmd::Now => {
            let r = sync::sync_with_progress(store, &opts, &mut |p| {
                if !out.json && p.total > 1000 {
                    eprint!("\r  {:?} {}/{}   ", p.phase, p.done, p.total);
                }
            })?;
            out.value_or(
                // Exactly these four (scripts rely on the form); problems go to stderr and the
                // exit code.
                &json!({ "pushed": r.pushed, "pulled": r.pulled, "conflicts": r.conflicts, "unsynced": r.unsynced }),
                &format!(
                    "Synced: {} sent, {} received, {} to look at, {} not yet synced.",
                    r.pushed, r.pulled, r.conflicts, r.unsynced
                ),
            )?;
            // Something a person must know about: said on stderr, and the exit code says so.
            if r.problems.is_empty() {
                Ok(())
            } else {
                for p in &r.problems {
                    eprintln!("wardside: sync problem: {}", describe(p));
                }
                Err(Error::Problems(r.problems.len()))
            }
        }
        SyncCmd::Status => {
            let s = store.sync_summary()?;
            let problems = store.sync_problems()?;
            let mut text = if s.enrolled {
                format!(
                    "Last sync: {}. {} changes not yet synced; {} conflicts and {} other items to look at.",
                    s.last_sync.as_deref().unwrap_or("never"),
                    s.unsynced,
                    s.conflicts,
                    s.inbox
                )
            } else {
                "This device is not enrolled with a sync service.".to_owned()
            };
            if let Some(fp) = store
                .sync_config()?
                .and_then(|c| sync::org_fingerprint_of(&c))
            {
                text.push_str(&format!(
                    "\nOrganisation fingerprint (the same on every laptop of it): {fp}"
                ));
            }
            for p in &problems {
                text.push_str(&format!("\nProblem: {}", describe(p)));
            }
            let mut value = serde_json::to_value(&s).unwrap_or_default();
            value["problem_list"] = serde_json::to_value(&problems).unwrap_or_default();
            out.value_or(&value, &text)
        }
        SyncCmd::Devices => {
            let list = sync::devices(store, &opts)?;
            let text = list
                .iter()
                .map(|d| {
                    format!(
                        "{}  {:<24} {:?}  {}",
                        d.device_id, d.name, d.status, d.fingerprint
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            out.value_or(&serde_json::to_value(&list).unwrap_or_default(), &text)
        }
    }
}

/// A problem in one line: what, from which device and where in its history.
fn describe(p: &wardside_store::sync::SyncProblem) -> String {
    let mut s = String::new();
    if let Some(d) = p.device_id {
        s.push_str(&format!("device {d}"));
        match (p.seq_from, p.seq_to) {
            (Some(a), Some(b)) if a == b => s.push_str(&format!(", op {a}")),
            (Some(a), Some(b)) => s.push_str(&format!(", ops {a}–{b}")),
            _ => {}
        }
        s.push_str(": ");
    }
    s.push_str(&p.detail);
    s
}

/// The recovery words, once: into a new private file the admin chose, or on the terminal.
fn show_recovery(words: &str, file: Option<&std::path::Path>) -> Result<(), Error> {
    match file {
        Some(path) => {
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            let mut f = opts.open(path).map_err(|e| {
                Error::Usage(format!(
                    "could not create {} for the recovery words ({e}); nothing was overwritten",
                    path.display()
                ))
            })?;
            writeln!(f, "{words}")?;
            eprintln!(
                "The organisation's recovery words are in {}. Print them, store them like a key to the building, and delete the file.",
                path.display()
            );
        }
        None => {
            eprintln!(
                "RECOVERY WORDS for your organisation (shown once; anyone holding them can read its records):"
            );
            eprintln!("  {words}");
            eprintln!(
                "Write them down and keep them locked away. Wardside cannot show them again."
            );
        }
    }
    Ok(())
}
