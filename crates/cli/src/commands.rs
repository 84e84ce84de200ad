//! One function per subcommand: turn arguments into domain values, call the store, print.

use crate::args::*;
use crate::error::Error;
use crate::output::Out;
use crate::passphrase;
use chrono::NaiveDate;
use std::io::Read;
use std::path::PathBuf;
use wardside_domain::activity::ActivityKindCode;
use wardside_domain::legal::{Applicant, LegalEventKindCode};
use wardside_domain::rules::{EligibilityQuery, Jurisdiction, Rules};
use wardside_domain::*;
use wardside_store::{CaseloadFilter, Store};

fn default_db() -> Result<PathBuf, Error> {
    wardside_store::config::default_db_path().ok_or_else(|| {
        Error::Usage("could not find a data directory for this user; pass --db PATH".into())
    })
}

/// The shipped rules plus the organisation's file: `--rules FILE`, else `rules.toml` in the
/// configuration directory if present.
fn load_rules(path: Option<PathBuf>) -> Result<Rules, Error> {
    Ok(wardside_store::config::load_rules(path.as_deref())?)
}

/// Today in the UK, by the one clock the store uses too ([`wardside_store::clock::CLOCK_ENV`],
/// checked when the command starts).
fn today() -> NaiveDate {
    wardside_store::clock::Clock::from_env()
        .unwrap_or_default()
        .today()
}

/// `--text -` reads the note from standard input, keeping it out of the process list.
fn text_arg(text: String) -> Result<String, Error> {
    if text == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        Ok(s.trim_end_matches('\n').to_owned())
    } else {
        Ok(text)
    }
}

pub fn run(cli: Cli) -> Result<(), Error> {
    let out = Out { json: cli.json };
    // One clock for every command and the store; a malformed setting stops here.
    wardside_store::clock::Clock::from_env().map_err(|e| Error::Usage(e.to_string()))?;
    // Only commands that use a store look for one: the rules need none.
    let db = || cli.db.clone().map_or_else(default_db, Ok);
    match cli.command {
        Command::Init { advocate } => {
            let db = db()?;
            let pass = passphrase::for_new_store()?;
            let store = Store::create(&db, &pass, &advocate)?;
            out.info(
                &store.info()?,
                &format!("Created an encrypted store at {}", db.display()),
            );
            Ok(())
        }
        Command::Passwd { rekey } => {
            let db = db()?;
            if !db.exists() {
                return Err(wardside_store::StoreError::NoStore(db).into());
            }
            let old = passphrase::current()?;
            // Check the old passphrase before asking for a new one.
            Store::unlock(&db, &old)?.lock()?;
            let new = passphrase::replacement()?;
            if rekey {
                let mut shown = out.fraction("Re-encrypting the database");
                let done = Store::rekey(&db, &old, &new, |f| shown.update(f));
                shown.finish();
                done?;
                out.done(
                    "Re-keyed: the database was re-encrypted under a new key, and the key file holds it under the new passphrase. Old key files no longer open it; old backups of the database are unchanged.",
                );
            } else {
                Store::change_passphrase(&db, &old, &new)?;
                out.done("Passphrase changed. The database itself was not rewritten.");
            }
            Ok(())
        }
        Command::Rules(cmd) => rules(cmd, &load_rules(cli.rules)?, &out),
        // The definitions need no store.
        Command::Store(StoreCommand::Report(ReportCmd::Measures)) => report_measures(&out),
        Command::Store(command) => {
            let db = db()?;
            let pass = passphrase::current()?;
            let mut store = Store::unlock(&db, &pass)?;
            drop(pass);
            run_unlocked(command, &mut store, &out, cli.rules)
        }
    }
}

/// What each number in a return counts (needs no store).
fn report_measures(out: &Out) -> Result<(), Error> {
    out.value_or(
        &serde_json::to_value(wardside_domain::report::MEASURES).unwrap_or_default(),
        wardside_export::report::definitions().trim_end(),
    )
}

/// A start date the rules can answer for: the Act is of 1983, and dates far ahead are typing
/// mistakes.
fn check_rules_date(what: &str, d: NaiveDate) -> Result<NaiveDate, Error> {
    use chrono::Datelike;
    if !(1983..=2200).contains(&d.year()) {
        return Err(Error::Usage(format!(
            "{what} {d} is outside 1983-2200; give the date the status began as YYYY-MM-DD"
        )));
    }
    Ok(d)
}

fn rules(cmd: RulesCmd, rules: &Rules, out: &Out) -> Result<(), Error> {
    let j = |given: Option<Jurisdiction>| given.unwrap_or(rules.jurisdiction());
    if let RulesCmd::Eligibility {
        status,
        in_patient,
        out_patient,
        ..
    } = &cmd
        && (*in_patient || *out_patient)
        && *status != StatusCode::Informal
    {
        return Err(Error::Usage(format!(
            "--in-patient and --out-patient are for an informal patient (s. 130J); {} is not informal",
            status.code()
        )));
    }
    match cmd {
        RulesCmd::Eligibility {
            status,
            on,
            age,
            considering,
            jurisdiction,
            in_patient,
            out_patient,
        } => out.eligibility(&rules.eligibility(&EligibilityQuery {
            status,
            on: on.unwrap_or_else(today),
            age,
            considering,
            jurisdiction: j(jurisdiction),
            inpatient: in_patient.then_some(true).or(out_patient.then_some(false)),
        })?),
        RulesCmd::Tribunal {
            status,
            start,
            on,
            jurisdiction,
        } => {
            let start = check_rules_date("--start", start)?;
            let windows = rules.tribunal_windows(status, start, j(jurisdiction));
            let later = rules.tribunal_rules_from(status, j(jurisdiction));
            out.windows(
                status,
                &windows,
                on.unwrap_or_else(today),
                later.filter(|from| windows.is_empty() && *from > start),
            )
        }
        RulesCmd::Renewals {
            status,
            start,
            admitted,
            age,
            jurisdiction,
        } => {
            let start = check_rules_date("--start", start)?;
            if let Some(a) = admitted {
                if !matches!(status, StatusCode::S17A | StatusCode::S3) {
                    return Err(Error::Usage(format!(
                        "--admitted is the original admission for a CTO (s17a) or a s3 that followed a s2 or s4 (s. 68(5)); it does not apply to {}",
                        status.code()
                    )));
                }
                if a > start {
                    return Err(Error::Usage(format!(
                        "--admitted {a} is after --start {start}: the admission for assessment or treatment comes first"
                    )));
                }
            }
            out.renewals(&rules.renewals_admitted(status, start, admitted, age, j(jurisdiction))?)
        }
        RulesCmd::Provisions => out.provisions(&rules.provisions()),
    }
}

fn run_unlocked(
    command: StoreCommand,
    store: &mut Store,
    out: &Out,
    rules_file: Option<PathBuf>,
) -> Result<(), Error> {
    match command {
        StoreCommand::Info => {
            let info = store.info()?;
            let (clients, open_cases, activities) = store.counts()?;
            out.value(&serde_json::json!({"store": info, "clients": clients, "open_cases": open_cases, "activities": activities}))
        }
        StoreCommand::Client(cmd) => client(cmd, store, out),
        StoreCommand::Caseload(a) => {
            let filter = CaseloadFilter {
                hospital: a.hospital,
                ward: a.ward,
                status: a.status,
                advocate: a.advocate,
                include_closed: a.all,
                ..CaseloadFilter::default()
            };
            out.caseload(&store.caseload(&filter, a.offset, a.limit)?)
        }
        StoreCommand::Case(cmd) => case(cmd, store, out, rules_file),
        StoreCommand::Issue(IssueCmd::Add {
            case,
            category,
            summary,
            on,
        }) => {
            let issue = Issue {
                case_id: case,
                category,
                summary,
                opened_on: on.unwrap_or_else(today),
                outcome: None,
            };
            out.id(store.write(|w| w.add_issue(&issue))?)
        }
        StoreCommand::Issue(IssueCmd::Outcome {
            id,
            outcome,
            on,
            note,
        }) => {
            store.write(|w| {
                w.set_issue_outcome(
                    id,
                    IssueOutcome {
                        kind: outcome,
                        on: on.unwrap_or_else(today),
                        note,
                    },
                )
            })?;
            out.id(id)
        }
        StoreCommand::Activity(cmd) => activity(cmd, store, out),
        StoreCommand::Legal(a) => {
            let kind = legal_kind(&a)?;
            let event = LegalEvent {
                client_id: a.client,
                on: a.on,
                kind,
                note: a.note,
            };
            out.id(store.write(|w| w.add_legal_event(&event))?)
        }
        StoreCommand::Consent(a) => {
            let consent = Consent {
                client_id: a.client,
                scope: a.scope,
                state: a.state,
                on: a.on.unwrap_or_else(today),
                how: a.how,
                witness: a.witness,
                note: a.note,
            };
            out.id(store.write(|w| w.record_consent(&consent))?)
        }
        StoreCommand::Referral(a) => {
            let mut referral = Referral {
                client_id: a.client,
                received_on: a.received.unwrap_or_else(today),
                source: a.source,
                method: a.method,
                referrer: a.referrer,
                eligible: None,
                eligibility_reason: None,
                eligibility_source: None,
                inpatient: a
                    .in_patient
                    .then_some(true)
                    .or(a.out_patient.then_some(false)),
                responsible_authority: a.responsible_authority,
                out_of_area: a.out_of_area.then_some(true).or(a.in_area.then_some(false)),
            };
            match a.ineligible_reason {
                Some(reason) => referral.record_not_eligible(reason),
                None => {
                    let rules = load_rules(rules_file)?;
                    let j = a.jurisdiction.unwrap_or(rules.jurisdiction());
                    let e = store.eligibility_of(
                        a.client,
                        referral.received_on,
                        a.considering,
                        a.in_patient
                            .then_some(true)
                            .or(a.out_patient.then_some(false)),
                        &rules,
                        j,
                    )?;
                    referral.record_eligibility(&e);
                }
            }
            out.id(store.write(|w| w.add_referral(&referral))?)
        }
        StoreCommand::Safeguarding(a) => {
            let event = SafeguardingEvent {
                case_id: a.case,
                kind: a.kind,
                at: a.at,
                reason: a.reason,
                who_was_told: a.told,
                discussed_with_person_first: a.discussed_first,
                why_not_discussed: a.not_discussed_because,
                manager: a.manager,
                reference: a.reference,
                withheld: a.withhold,
            };
            out.id(store.write(|w| w.add_safeguarding(&event))?)
        }
        StoreCommand::Search { query, limit } => out.hits(&store.search(&query, limit)?),
        StoreCommand::Sync(cmd) => crate::sync::run(cmd, store, out),
        StoreCommand::Export(cmd) => crate::export::run(cmd, store, out, &load_rules(rules_file)?),
        // Answered before the store is unlocked (see `run`); here for completeness.
        StoreCommand::Report(ReportCmd::Measures) => report_measures(out),
        StoreCommand::Report(ReportCmd::Return {
            commissioner,
            from,
            to,
            out: dir,
            format,
            suppress_below,
            overwrite,
        }) => {
            let rules = load_rules(rules_file)?;
            let overwrite = if overwrite {
                wardside_export::Overwrite::Replace
            } else {
                wardside_export::Overwrite::Refuse
            };
            let wardside_export::report::Released {
                ret,
                files,
                overlapping,
            } = wardside_export::report::release_return(
                store,
                &commissioner,
                from,
                to,
                &rules,
                suppress_below,
                &format,
                &dir,
                overwrite,
            )?;
            if !overlapping.is_empty() {
                eprintln!(
                    "wardside: returns for {} were released before for overlapping periods ({}); numbers starred in one can be worked out by subtracting the other, so send only periods that do not overlap (docs/REPORTS.md)",
                    ret.commissioner,
                    overlapping
                        .iter()
                        .map(|w| format!("{} to {}", w.from, w.to))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            if !ret.unassigned.is_empty() {
                eprintln!(
                    "wardside: {} referral(s) or case(s) in or before the period have no responsible authority and are in no return; fix them (ids): {}",
                    ret.unassigned.len(),
                    ret.unassigned
                        .iter()
                        .map(|u| u.case.map_or_else(
                            || u.referral
                                .map(|r| format!("referral {r}"))
                                .unwrap_or_default(),
                            |c| format!("case {c}")
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            out.value(&serde_json::json!({
                "written": files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
                // For the manager to follow up (ids and dates only; never in the files).
                "missed_first_contact_target": ret.missed_target,
                "unassigned": ret.unassigned,
            }))
        }
        StoreCommand::Report(ReportCmd::Commissioners) => {
            let today = store.clock().today();
            let list: Vec<serde_json::Value> = store
                .commissioners()?
                .into_iter()
                .map(|c| {
                    serde_json::json!({
                        "commissioner": c.contract.commissioner,
                        "cases": c.cases,
                        "contract": c.has_contract,
                        "periods": c.contract.periods_on(today),
                    })
                })
                .collect();
            out.value(&serde_json::json!({ "commissioners": list }))
        }
        StoreCommand::Report(ReportCmd::Contract(cmd)) => crate::report::contract(cmd, store, out),
        StoreCommand::Report(ReportCmd::Audit) => {
            out.value(&serde_json::json!({ "entries": store.report_audit()? }))
        }
        StoreCommand::Demo {
            clients,
            seed,
            as_of,
        } => {
            let cfg =
                wardside_domain::demo::DemoConfig::new(clients, seed, as_of.unwrap_or_else(today));
            let summary =
                wardside_store::demo::load(store, &cfg, |done| out.progress(done, clients))?;
            out.value(&serde_json::to_value(summary).unwrap_or_default())
        }
    }
}

fn client(cmd: ClientCmd, store: &mut Store, out: &Out) -> Result<(), Error> {
    match cmd {
        ClientCmd::Add(a) => {
            let mut c = Client::named(a.name);
            c.dob = a.dob;
            c.nhs_number = a.nhs_number.as_deref().map(str::parse).transpose()?;
            c.hospital = a.hospital;
            c.ward = a.ward;
            c.first_language = a.first_language;
            c.interpreter_needed = a.interpreter;
            c.team = a.team.map(TeamId);
            let id = store.write(|w| {
                let id = w.add_client(&c)?;
                w.add_legal_event(&LegalEvent {
                    client_id: id,
                    on: a.status_since,
                    kind: LegalEventKind::StatusStarted { status: a.status },
                    note: None,
                })?;
                Ok(id)
            })?;
            out.id(id)
        }
        ClientCmd::Move { id, team } => {
            let carried = store.write(|w| w.move_client(id, TeamId(team)))?;
            out.value_or(
                &serde_json::json!({ "id": id, "team": team, "carried": carried }),
                &format!(
                    "Moved to team {team}: {carried} changes go to its members at the next sync."
                ),
            )
        }
        ClientCmd::Show { id } => {
            out.value(&serde_json::to_value(store.client_view(id)?).unwrap_or_default())
        }
        ClientCmd::Update(a) => {
            let mut c: Client = store.get(a.id.0)?;
            c.name = a.name.unwrap_or(c.name);
            c.dob = a.dob.or(c.dob);
            c.nhs_number = a
                .nhs_number
                .as_deref()
                .map(str::parse)
                .transpose()?
                .or(c.nhs_number);
            c.hospital = a.hospital.or(c.hospital);
            c.ward = a.ward.or(c.ward);
            c.first_language = a.first_language.or(c.first_language);
            c.interpreter_needed = a.interpreter.unwrap_or(c.interpreter_needed);
            c.objects_to_relative_being_informed = a
                .objects_to_relative_being_informed
                .unwrap_or(c.objects_to_relative_being_informed);
            store.write(|w| w.update_client(a.id, &c))?;
            out.id(a.id)
        }
        ClientCmd::Equality(a) => {
            let mut c: Client = store.get(a.id.0)?;
            let e = &mut c.equality;
            e.ethnic_category = a.ethnicity.unwrap_or(e.ethnic_category);
            e.gender = a.gender.or(e.gender.take());
            e.gender_reassignment = a.gender_reassignment.or(e.gender_reassignment);
            e.sexual_orientation = a.sexual_orientation.or(e.sexual_orientation.take());
            e.religion = a.religion.or(e.religion.take());
            e.disability = a.disability.or(e.disability);
            e.marital_status = a.marital_status.or(e.marital_status.take());
            e.pregnancy_or_maternity = a.pregnancy_or_maternity.or(e.pregnancy_or_maternity);
            c.equality.validate()?;
            store.write(|w| w.update_client(a.id, &c))?;
            out.id(a.id)
        }
        ClientCmd::Relative(a) => {
            let r = Relative {
                client_id: a.id,
                role: a.role,
                name: a.name,
                relationship: a.relationship,
                contact: a.contact,
                ceased_on: None,
            };
            out.id(store.write(|w| w.add_relative(&r))?)
        }
    }
}

fn case(
    cmd: CaseCmd,
    store: &mut Store,
    out: &Out,
    rules_file: Option<PathBuf>,
) -> Result<(), Error> {
    match cmd {
        CaseCmd::Open(a) => {
            let mut c = Case::opened(a.client, a.on.unwrap_or_else(today));
            c.referral_id = a.referral;
            c.responsible_authority = a.authority;
            if let Some(approach) = a.non_instructed {
                c.instruction = Instruction::NonInstructed {
                    approach,
                    reason: a.reason.unwrap_or_default(),
                };
            }
            out.id(store.write(|w| w.open_case(&c))?)
        }
        CaseCmd::Show {
            id,
            on,
            jurisdiction,
        } => {
            let rules = load_rules(rules_file)?;
            let view = store.case_view(id)?;
            let j = jurisdiction.unwrap_or(rules.jurisdiction());
            let day = on.unwrap_or_else(today);
            out.case(&view, &view.guidance(&rules, day, j)?, day)
        }
        CaseCmd::Close {
            id,
            on,
            reason,
            note,
        } => {
            store.write(|w| {
                w.close_case(
                    id,
                    CaseClosure {
                        on: on.unwrap_or_else(today),
                        reason,
                        note,
                    },
                )
            })?;
            out.id(id)
        }
        CaseCmd::Audit { id } => {
            out.value(&serde_json::json!({ "entries": store.audit_for_case(id)? }))
        }
        CaseCmd::Commissioner {
            id,
            to,
            none: _,
            from,
            reason,
        } => out.id(store.move_case_commissioner(
            id,
            to.as_deref(),
            from.unwrap_or_else(today),
            &reason,
        )?),
    }
}

fn activity(cmd: ActivityCmd, store: &mut Store, out: &Out) -> Result<(), Error> {
    match cmd {
        ActivityCmd::Add(a) => {
            let kind = activity_kind(&a)?;
            let activity = Activity {
                case_id: a.case,
                at: a.at,
                duration_minutes: a.duration,
                kind,
                withheld: a.withhold,
            };
            let text = text_arg(a.text)?;
            out.id(store.write(|w| w.add_activity(&activity, &text))?)
        }
        ActivityCmd::Amend { id, text, reason } => {
            let text = text_arg(text)?;
            let version = store.write(|w| w.amend_note(id, &text, &reason))?;
            out.value(&serde_json::json!({ "id": id, "version": version }))
        }
        ActivityCmd::History { id } => {
            out.value(&serde_json::json!({ "versions": store.note_history(id)? }))
        }
    }
}

fn activity_kind(a: &ActivityAddArgs) -> Result<ActivityKind, Error> {
    let need = |v: &Option<String>, flag: &str, kind: ActivityKindCode| {
        v.clone()
            .ok_or_else(|| Error::Usage(format!("{} needs {flag}", kind.code())))
    };
    Ok(match a.kind {
        ActivityKindCode::PrivateInterview => ActivityKind::PrivateInterview {
            wishes: a.wishes.clone(),
        },
        ActivityKindCode::ProfessionalInterview => ActivityKind::ProfessionalInterview {
            professional: need(&a.professional, "--professional NAME-OR-ROLE", a.kind)?,
        },
        ActivityKindCode::WardRound => ActivityKind::WardRound {
            points_raised: a.points.clone(),
            response: a.response.clone(),
        },
        ActivityKindCode::CpaReview => ActivityKind::CpaReview {
            points_raised: a.points.clone(),
            response: a.response.clone(),
        },
        ActivityKindCode::Tribunal => ActivityKind::Tribunal {
            hearing_on: a.hearing_on,
            outcome: a.outcome.clone(),
        },
        ActivityKindCode::ManagersHearing => ActivityKind::ManagersHearing {
            hearing_on: a.hearing_on,
            outcome: a.outcome.clone(),
        },
        ActivityKindCode::Concern => ActivityKind::Concern {
            raised_with: need(&a.raised_with, "--raised-with WHO", a.kind)?,
            response_due: a.response_due,
            response: a.response.clone(),
        },
        ActivityKindCode::RecordsRequest => {
            let basis = match need(
                &a.basis,
                "--basis consent|lacks-capacity (s130B(4))",
                a.kind,
            )?
            .as_str()
            {
                "consent" => RecordsBasis::PatientConsent,
                "lacks-capacity" => RecordsBasis::LacksCapacityRecordHolderDecision {
                    capacity_assessment: a.capacity_assessment.clone(),
                    no_conflicting_decision_checked: a.no_conflicting_decision_checked,
                    holder_decision: a.holder_decision.clone(),
                },
                other => {
                    return Err(Error::Usage(format!(
                        "unknown records basis '{other}'; use consent or lacks-capacity"
                    )));
                }
            };
            ActivityKind::RecordsRequest {
                record_holder: need(&a.record_holder, "--record-holder WHO", a.kind)?,
                basis,
                records_requested: a.records_requested.clone(),
                seen_on: a.seen_on,
                what_was_seen: a.what_was_seen.clone(),
                withhold_from_patient: a.withhold_from_patient,
            }
        }
        ActivityKindCode::RightsInformation => ActivityKind::RightsInformation {
            topics: a.topics.iter().copied().collect(),
        },
        ActivityKindCode::Contact => ActivityKind::Contact {
            method: a.method.ok_or_else(|| {
                Error::Usage("contact needs --method phone|email|letter|video".into())
            })?,
            with_whom: a.with_whom.clone(),
        },
        ActivityKindCode::Other => ActivityKind::Other,
    })
}

fn legal_kind(a: &LegalArgs) -> Result<LegalEventKind, Error> {
    Ok(match a.event {
        LegalEventKindCode::StatusStarted => LegalEventKind::StatusStarted {
            status: a
                .status
                .ok_or_else(|| Error::Usage("status-started needs --status CODE".into()))?,
        },
        LegalEventKindCode::Renewed => LegalEventKind::Renewed,
        LegalEventKindCode::TribunalApplication => LegalEventKind::TribunalApplication {
            applicant: match a.applicant.as_str() {
                "patient" => Applicant::Patient,
                "nearest-relative" => Applicant::NearestRelative,
                "nominated-person" => Applicant::NominatedPerson,
                other => {
                    return Err(Error::Usage(format!(
                        "unknown applicant '{other}'; use patient, nearest-relative or nominated-person"
                    )));
                }
            },
        },
        LegalEventKindCode::ApplicationWithdrawn => LegalEventKind::ApplicationWithdrawn,
        LegalEventKindCode::TribunalHearing => LegalEventKind::TribunalHearing {
            outcome: a.outcome.clone(),
        },
        LegalEventKindCode::ManagersHearing => LegalEventKind::ManagersHearing {
            outcome: a.outcome.clone(),
        },
        LegalEventKindCode::Reference => LegalEventKind::Reference,
        LegalEventKindCode::Recalled => LegalEventKind::Recalled,
        LegalEventKindCode::BarringReport => LegalEventKind::BarringReport,
        LegalEventKindCode::CtoRevoked => LegalEventKind::CtoRevoked {
            status: a.status.ok_or_else(|| {
                Error::Usage(
                    "cto-revoked needs --status CODE: the section the CTO was made under (usually s3)"
                        .into(),
                )
            })?,
        },
        LegalEventKindCode::NearestRelativeDisplaced => LegalEventKind::NearestRelativeDisplaced,
        LegalEventKindCode::Ended => LegalEventKind::Ended,
    })
}
