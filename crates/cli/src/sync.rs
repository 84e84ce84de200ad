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
        SyncCmd::Recover {
            server,
            words_file,
            name,
        } => {
            let words = read_words(&words_file)?;
            let r = sync::recover(store, &server, &words, &name, &opts)?;
            out.value_or(
                &json!({ "device_id": r.device_id, "org_id": r.org_id, "fingerprint": r.fingerprint, "org_fingerprint": r.org_fingerprint, "team_keys": r.team_keys, "admin": true }),
                &format!(
                    "This laptop is now the organisation's admin device ({}), with {} team key(s). Fingerprint {}\nOrganisation fingerprint (compare it with another laptop of the organisation): {}\nRevoke the lost laptops from `wardside sync devices`, then sync.",
                    r.device_id, r.team_keys, r.fingerprint, r.org_fingerprint
                ),
            )
        }
        SyncCmd::EnableRecovery { words_file } => {
            let words = read_words(&words_file)?;
            sync::enable_recovery(store, &words, &opts)?;
            out.value_or(
                &json!({ "recovery": "enabled" }),
                "The recovery words can now make a new admin laptop if every admin laptop is lost.",
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
                    let phase = match p.phase {
                        sync::Phase::Pushing => "Sending",
                        sync::Phase::Pulling => "Receiving",
                    };
                    eprint!("\r  {phase} {} of {}   ", p.done, p.total);
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
            // Said once, on the sync that found it (`sync status` keeps it).
            if r.service_restored {
                eprintln!(
                    "wardside: {}",
                    restore_words(store.last_service_restore()?.as_ref())
                );
            }
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
            let restore = store.last_service_restore()?;
            if restore.is_some() {
                text.push_str(&format!("\n{}", restore_words(restore.as_ref())));
            }
            for p in &problems {
                text.push_str(&format!("\nProblem: {}", describe(p)));
            }
            let mut value = serde_json::to_value(&s).unwrap_or_default();
            value["problem_list"] = serde_json::to_value(&problems).unwrap_or_default();
            value["service_restored"] = serde_json::to_value(&restore).unwrap_or_default();
            out.value_or(&value, &text)
        }
        SyncCmd::Teams => {
            let teams = store.sync_teams()?;
            let text = teams
                .iter()
                .map(|t| format!("{}  {}", t.id, t.name.as_deref().unwrap_or("(no name)")))
                .collect::<Vec<_>>()
                .join("\n");
            out.value_or(&serde_json::to_value(&teams).unwrap_or_default(), &text)
        }
        SyncCmd::CreateTeam { name } => {
            let id = sync::create_team(store, &name, &opts)?;
            out.value_or(
                &json!({ "id": id, "name": name }),
                &format!("Team {name} created ({id}); this device is in it."),
            )
        }
        SyncCmd::SetTeamAdmins { device, teams } => {
            sync::set_team_admins(store, device, &teams, &opts)?;
            out.value_or(
                &json!({ "device_id": device, "admin_of": teams }),
                &format!("{device} is now the admin of {} team(s).", teams.len()),
            )
        }
        SyncCmd::SetTeams { device, teams } => {
            sync::set_device_teams(store, device, &teams, &opts)?;
            out.value_or(
                &json!({ "device_id": device, "teams": teams }),
                &format!("{device} is now in {} team(s).", teams.len()),
            )
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

/// What the last restore of the service found and did, in one line.
fn restore_words(r: Option<&wardside_store::sync::ServiceRestore>) -> String {
    let Some(r) = r else {
        return "The sync service was restored from a backup.".to_owned();
    };
    let found = r
        .found_at
        .get(..16)
        .unwrap_or(&r.found_at)
        .replace('T', " ");
    if r.pending {
        format!(
            "Found on {found}: {}. This laptop is still giving back what the service lost; sync again to finish.",
            r.why
        )
    } else {
        format!(
            "Found on {found}: {}. This laptop queued {} of its own changes to send again and gave back {} from other laptops; nothing it holds was lost.",
            r.why, r.resent, r.given_back
        )
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

/// The recovery words from a file (or standard input for `-`), kept in memory only as long as
/// needed. Never echoed, never logged.
fn read_words(path: &std::path::Path) -> Result<zeroize::Zeroizing<String>, Error> {
    let mut words = zeroize::Zeroizing::new(String::new());
    let read = if path.as_os_str() == "-" {
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut words).map(|_| ())
    } else {
        std::fs::File::open(path)
            .and_then(|mut f| std::io::Read::read_to_string(&mut f, &mut words).map(|_| ()))
    };
    read.map_err(|e| {
        Error::Usage(format!(
            "could not read the recovery words from {} ({e})",
            path.display()
        ))
    })?;
    Ok(words)
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
