//! The command line, as clap sees it. Parsing only: no rules here.

use chrono::{NaiveDate, NaiveDateTime};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use wardside_domain::rules::{Jurisdiction, Treatment};
use wardside_domain::*;

#[derive(Debug, Parser)]
#[command(
    name = "wardside",
    version,
    about = "Wardside: encrypted, offline case notes for Independent Mental Health Advocates"
)]
pub struct Cli {
    /// The store (database file). Its key file sits beside it as PATH.key.
    #[arg(long, global = true, env = "WARDSIDE_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// Print machine-readable JSON.
    #[arg(long, global = true)]
    pub json: bool,

    /// Your organisation's rules file: commencement dates of the Mental Health Act 2025, the
    /// jurisdiction, extra bank holidays (docs/RULES.md). Default: rules.toml in Wardside's
    /// configuration directory, if there is one.
    #[arg(long, global = true, env = "WARDSIDE_RULES", value_name = "FILE")]
    pub rules: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per process: boxing the big variants would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new encrypted store (never overwrites one).
    Init {
        /// Your name, as it will appear in the audit log.
        #[arg(long, default_value = "Advocate")]
        advocate: String,
    },
    /// Change the passphrase (rewraps the key; the database is not rewritten).
    Passwd {
        /// Also re-key: a new database key and the whole database re-encrypted under it, so an
        /// old copy of the key file with the old passphrase no longer opens it (docs/SECURITY.md).
        /// Needs the store closed everywhere else.
        #[arg(long)]
        rekey: bool,
    },
    /// Mental Health Act rules: eligibility, tribunal windows, renewals (needs no store).
    #[command(subcommand)]
    Rules(RulesCmd),
    #[command(flatten)]
    Store(StoreCommand),
}

/// The commands that work on an unlocked store.
// Parsed once per process: boxing the big variants would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Facts about the store: its id, this device, the schema version, counts.
    Info,
    /// Clients (patients): add, show, update, equality monitoring, relatives.
    #[command(subcommand)]
    Client(ClientCmd),
    /// The caseload: open cases by name, with status and last activity.
    Caseload(CaseloadArgs),
    /// Cases: open, show (with eligibility and reminders), close, audit.
    #[command(subcommand)]
    Case(CaseCmd),
    /// Issues agreed with the patient, and their outcomes.
    #[command(subcommand)]
    Issue(IssueCmd),
    /// The timeline: add an activity, amend its note, see every version.
    #[command(subcommand)]
    Activity(ActivityCmd),
    /// Record an event in a client's legal-status history.
    Legal(LegalArgs),
    /// Record a consent decision (history is kept).
    Consent(ConsentArgs),
    /// Record a referral.
    Referral(ReferralArgs),
    /// Record a safeguarding concern or a breach of confidentiality.
    Safeguarding(SafeguardingArgs),
    /// Search the text of every note.
    Search {
        query: String,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Sync with your organisation's service: enrol this device, invite, approve and revoke
    /// devices (admins), sync now, status.
    #[command(subcommand)]
    Sync(SyncCmd),
    /// PDF exports and subject access: the case file, the person's own copy, a hearing
    /// summary. Only the named file (or folder) is written.
    #[command(subcommand)]
    Export(ExportCmd),
    /// Commissioner returns: the quarterly report for a responsible authority, suppressed for
    /// release, as JSON and CSV; `report measures` lists what each number counts.
    #[command(subcommand)]
    Report(ReportCmd),
    /// Fill a store with a synthetic caseload for demos and benchmarks.
    Demo {
        #[arg(long)]
        clients: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The demo's "today" (default: today). Same seed and day give the same caseload.
        #[arg(long, value_parser = date)]
        as_of: Option<NaiveDate>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReportCmd {
    /// Write the return for a commissioner and period into a folder (docs/REPORTS.md).
    Return {
        /// The commissioner: the responsible authority recorded on the cases.
        #[arg(long)]
        commissioner: String,
        /// The first day of the period.
        #[arg(long, value_parser = date)]
        from: NaiveDate,
        /// The last day of the period.
        #[arg(long, value_parser = date)]
        to: NaiveDate,
        /// The folder to write into (made, private, if it is not there).
        #[arg(long)]
        out: PathBuf,
        /// Which files: pdf, csv, xlsx, json (several with commas; all four if not given).
        #[arg(long, value_delimiter = ',', default_value = "pdf,csv,xlsx,json")]
        format: Vec<wardside_export::report::ReturnFormat>,
        /// Counts from 1 to this are shown as "*" (secondary suppression keeps them hidden).
        #[arg(long, default_value_t = wardside_domain::report::suppress::DEFAULT_THRESHOLD, value_parser = clap::value_parser!(u64).range(1..=50))]
        suppress_below: u64,
        /// Replace files already in the folder.
        #[arg(long)]
        overwrite: bool,
    },
    /// What each measure and table counts.
    Measures,
    /// The commissioners known here: the authorities on cases and referrals, with their
    /// contracts' periods.
    Commissioners,
    /// A commissioner's contract: the periods, measures and targets it asks for.
    #[command(subcommand)]
    Contract(ContractCmd),
    /// Every return run or viewed on this laptop: who, when, which commissioner and period.
    Audit,
}

#[derive(Debug, Subcommand)]
pub enum ContractCmd {
    /// Show the contract (or the default: every measure, by financial-year quarter).
    Show {
        #[arg(long)]
        commissioner: String,
    },
    /// Set the contract; what is not given is as before.
    Set {
        #[arg(long)]
        commissioner: String,
        /// The measures and tables it wants (keys from `report measures`); "all" for every one.
        #[arg(long, value_delimiter = ',')]
        measures: Option<Vec<String>>,
        /// A target on a headline measure: KEY>=N or KEY<=N (repeat for more; KEY= to remove).
        #[arg(long)]
        target: Vec<String>,
        /// A reporting period: "LABEL=FROM..TO" (repeat for more). Replaces the periods set;
        /// "quarters" goes back to financial-year quarters.
        #[arg(long)]
        period: Vec<String>,
        /// A CSV of the people detained in the area (table,code,count) to set beside the
        /// equality tables.
        #[arg(long)]
        reference: Option<PathBuf>,
    },
    /// Remove the contract: its returns go back to the default.
    Remove {
        #[arg(long)]
        commissioner: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClientCmd {
    /// Add a client with their current legal status.
    Add(ClientAddArgs),
    /// Everything held about a client outside their cases.
    Show { id: ClientId },
    /// Change a client's details (only what you pass changes).
    Update(ClientUpdateArgs),
    /// Record equality monitoring (anything left out stays "not stated").
    Equality(EqualityArgs),
    /// Record the nearest relative or nominated person.
    Relative(RelativeArgs),
    /// Move a person's record, with every case and note, to another team (this laptop must be
    /// in both): the new team receives the whole history, the old one nothing more.
    Move {
        id: ClientId,
        #[arg(long)]
        team: uuid::Uuid,
    },
}

#[derive(Debug, Args)]
pub struct ClientAddArgs {
    #[arg(long)]
    pub name: String,
    #[arg(long, value_parser = status)]
    pub status: StatusCode,
    #[arg(long, value_parser = date)]
    pub status_since: NaiveDate,
    #[arg(long, value_parser = date)]
    pub dob: Option<NaiveDate>,
    /// Checked after parsing, so a mistyped number is never echoed back in an error.
    #[arg(long)]
    pub nhs_number: Option<String>,
    #[arg(long)]
    pub hospital: Option<String>,
    #[arg(long)]
    pub ward: Option<String>,
    #[arg(long)]
    pub first_language: Option<String>,
    #[arg(long)]
    pub interpreter: bool,
    /// The team that holds this person's record (an id from `wardside sync teams`); default:
    /// this laptop's first team.
    #[arg(long)]
    pub team: Option<uuid::Uuid>,
}

#[derive(Debug, Args)]
pub struct ClientUpdateArgs {
    pub id: ClientId,
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long, value_parser = date)]
    pub dob: Option<NaiveDate>,
    /// Checked after parsing, so a mistyped number is never echoed back in an error.
    #[arg(long)]
    pub nhs_number: Option<String>,
    #[arg(long)]
    pub hospital: Option<String>,
    #[arg(long)]
    pub ward: Option<String>,
    #[arg(long)]
    pub first_language: Option<String>,
    #[arg(long)]
    pub interpreter: Option<bool>,
    /// s130D(5): the patient asked that the nearest relative not be given information.
    #[arg(long)]
    pub objects_to_relative_being_informed: Option<bool>,
}

#[derive(Debug, Args)]
pub struct EqualityArgs {
    pub id: ClientId,
    /// NHS Data Dictionary ethnic category code (A–S, Z not stated, 99 not known).
    #[arg(long, value_parser = code::<EthnicCategory>)]
    pub ethnicity: Option<EthnicCategory>,
    #[arg(long)]
    pub gender: Option<String>,
    #[arg(long)]
    pub gender_reassignment: Option<bool>,
    #[arg(long)]
    pub sexual_orientation: Option<String>,
    #[arg(long)]
    pub religion: Option<String>,
    #[arg(long)]
    pub disability: Option<bool>,
    #[arg(long)]
    pub marital_status: Option<String>,
    #[arg(long)]
    pub pregnancy_or_maternity: Option<bool>,
}

#[derive(Debug, Args)]
pub struct RelativeArgs {
    pub id: ClientId,
    #[arg(long, value_parser = code::<RelativeRole>)]
    pub role: RelativeRole,
    #[arg(long)]
    pub name: String,
    #[arg(long)]
    pub relationship: Option<String>,
    #[arg(long)]
    pub contact: Option<String>,
}

#[derive(Debug, Args)]
pub struct CaseloadArgs {
    #[arg(long)]
    pub hospital: Option<String>,
    #[arg(long)]
    pub ward: Option<String>,
    #[arg(long, value_parser = status)]
    pub status: Option<StatusCode>,
    #[arg(long)]
    pub advocate: Option<AdvocateId>,
    /// Include closed cases.
    #[arg(long)]
    pub all: bool,
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    #[arg(long, default_value_t = 0)]
    pub offset: usize,
}

#[derive(Debug, Subcommand)]
pub enum CaseCmd {
    /// Open a case for a client.
    Open(CaseOpenArgs),
    /// Everything on a case, the timeline in order, with eligibility and reminders.
    Show {
        id: CaseId,
        /// The day reminders are computed for (default: today).
        #[arg(long, value_parser = date)]
        on: Option<NaiveDate>,
        /// Default: the organisation's (rules file), else england.
        #[arg(long, value_parser = code::<Jurisdiction>)]
        jurisdiction: Option<Jurisdiction>,
    },
    /// Close a case (every issue needs an outcome first).
    Close {
        id: CaseId,
        #[arg(long, value_parser = date)]
        on: Option<NaiveDate>,
        #[arg(long, value_parser = code::<ClosureReason>)]
        reason: ClosureReason,
        #[arg(long)]
        note: Option<String>,
    },
    /// Who did what on the case.
    Audit { id: CaseId },
    /// Move the case to another commissioner (responsible authority) from a day on; the work
    /// before it stays in the earlier commissioner's returns.
    Commissioner {
        id: CaseId,
        /// The new responsible authority.
        #[arg(long, required_unless_present = "none", conflicts_with = "none")]
        to: Option<String>,
        /// No authority is responsible now (the case is listed for fixing in returns).
        #[arg(long)]
        none: bool,
        /// The first day the new authority is responsible (default: today).
        #[arg(long, value_parser = date)]
        from: Option<NaiveDate>,
        /// Why it changed (kept in the case's history).
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, Args)]
pub struct CaseOpenArgs {
    #[arg(long)]
    pub client: ClientId,
    #[arg(long, value_parser = date)]
    pub on: Option<NaiveDate>,
    /// The person cannot instruct: the approach used.
    #[arg(long, value_parser = code::<wardside_domain::case::NonInstructedApproach>, requires = "reason")]
    pub non_instructed: Option<wardside_domain::case::NonInstructedApproach>,
    /// Why the person cannot instruct (with --non-instructed).
    #[arg(long)]
    pub reason: Option<String>,
    /// The responsible local authority or health board (the commissioner).
    #[arg(long)]
    pub authority: Option<String>,
    #[arg(long)]
    pub referral: Option<ReferralId>,
}

#[derive(Debug, Subcommand)]
pub enum IssueCmd {
    /// Add an issue the person wants to work on.
    Add {
        #[arg(long)]
        case: CaseId,
        #[arg(long, value_parser = code::<IssueCategory>)]
        category: IssueCategory,
        #[arg(long)]
        summary: String,
        #[arg(long, value_parser = date)]
        on: Option<NaiveDate>,
    },
    /// Record the outcome of an issue.
    Outcome {
        id: IssueId,
        #[arg(long, value_parser = code::<OutcomeKind>)]
        outcome: OutcomeKind,
        #[arg(long, value_parser = date)]
        on: Option<NaiveDate>,
        #[arg(long)]
        note: Option<String>,
    },
}

#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum ActivityCmd {
    /// Add an activity with its note.
    Add(ActivityAddArgs),
    /// Amend a note: a new version; the old text is kept.
    Amend {
        id: ActivityId,
        /// The new text, or `-` to read it from standard input.
        #[arg(long)]
        text: String,
        #[arg(long)]
        reason: String,
    },
    /// Every version of a note.
    History { id: ActivityId },
}

#[derive(Debug, Args)]
pub struct ActivityAddArgs {
    #[arg(long)]
    pub case: CaseId,
    #[arg(long, value_parser = code::<wardside_domain::activity::ActivityKindCode>)]
    pub kind: wardside_domain::activity::ActivityKindCode,
    #[arg(long, value_parser = datetime)]
    pub at: NaiveDateTime,
    /// The note, or `-` to read it from standard input (keeps it out of the process list).
    #[arg(long)]
    pub text: String,
    #[arg(long)]
    pub duration: Option<u32>,
    /// Keep this entry out of the person's own copy and subject access responses:
    /// third-party, serious-harm or records-material.
    #[arg(long, value_parser = code::<wardside_domain::WithholdReason>)]
    pub withhold: Option<wardside_domain::WithholdReason>,
    /// private-interview: the person's wishes in their own words.
    #[arg(long)]
    pub wishes: Option<String>,
    /// professional-interview: who (name or role).
    #[arg(long)]
    pub professional: Option<String>,
    /// ward-round / cpa-review: a point raised on the person's behalf (repeatable).
    #[arg(long = "point")]
    pub points: Vec<String>,
    /// ward-round / cpa-review / concern: the response.
    #[arg(long)]
    pub response: Option<String>,
    /// tribunal / managers-hearing: the hearing date.
    #[arg(long, value_parser = date)]
    pub hearing_on: Option<NaiveDate>,
    /// tribunal / managers-hearing: the outcome.
    #[arg(long)]
    pub outcome: Option<String>,
    /// concern: who it was raised with.
    #[arg(long)]
    pub raised_with: Option<String>,
    /// concern: when a response is due.
    #[arg(long, value_parser = date)]
    pub response_due: Option<NaiveDate>,
    /// records-request: the record holder.
    #[arg(long)]
    pub record_holder: Option<String>,
    /// records-request: `consent` (the patient consents) or `lacks-capacity` (record holder decides).
    #[arg(long)]
    pub basis: Option<String>,
    /// records-request, lacks-capacity: no attorney, deputy or Court of Protection decision conflicts.
    #[arg(long)]
    pub no_conflicting_decision_checked: bool,
    #[arg(long)]
    pub capacity_assessment: Option<String>,
    #[arg(long)]
    pub holder_decision: Option<String>,
    #[arg(long)]
    pub records_requested: Option<String>,
    #[arg(long, value_parser = date)]
    pub seen_on: Option<NaiveDate>,
    #[arg(long)]
    pub what_was_seen: Option<String>,
    /// records-request: what was seen holds third-party or serious-harm material.
    #[arg(long)]
    pub withhold_from_patient: bool,
    /// rights-information: a topic covered (repeatable).
    #[arg(long = "topic", value_parser = code::<RightsTopic>)]
    pub topics: Vec<RightsTopic>,
    /// contact: phone, email, letter or video.
    #[arg(long, value_parser = code::<ContactMethod>)]
    pub method: Option<ContactMethod>,
    /// contact: who with.
    #[arg(long)]
    pub with_whom: Option<String>,
}

#[derive(Debug, Args)]
pub struct LegalArgs {
    #[arg(long)]
    pub client: ClientId,
    #[arg(long, value_parser = code::<wardside_domain::legal::LegalEventKindCode>)]
    pub event: wardside_domain::legal::LegalEventKindCode,
    #[arg(long, value_parser = date)]
    pub on: NaiveDate,
    /// status-started: the new status.
    #[arg(long, value_parser = status)]
    pub status: Option<StatusCode>,
    /// tribunal-application: patient, nearest-relative or nominated-person.
    #[arg(long, default_value = "patient")]
    pub applicant: String,
    #[arg(long)]
    pub outcome: Option<String>,
    #[arg(long)]
    pub note: Option<String>,
}

#[derive(Debug, Args)]
pub struct ConsentArgs {
    #[arg(long)]
    pub client: ClientId,
    #[arg(long, value_parser = code::<ConsentScope>)]
    pub scope: ConsentScope,
    #[arg(long, value_parser = code::<ConsentState>)]
    pub state: ConsentState,
    #[arg(long, value_parser = date)]
    pub on: Option<NaiveDate>,
    #[arg(long)]
    pub how: Option<String>,
    #[arg(long)]
    pub witness: Option<String>,
    #[arg(long)]
    pub note: Option<String>,
}

#[derive(Debug, Args)]
pub struct ReferralArgs {
    #[arg(long)]
    pub client: ClientId,
    #[arg(long, value_parser = date)]
    pub received: Option<NaiveDate>,
    #[arg(long, value_parser = code::<ReferralSource>)]
    pub source: ReferralSource,
    #[arg(long)]
    pub method: Option<String>,
    #[arg(long)]
    pub referrer: Option<String>,
    /// Treatment under consideration that may make the person eligible.
    #[arg(long, value_parser = code::<Treatment>)]
    pub considering: Option<Treatment>,
    /// Default: the organisation's (rules file), else england.
    #[arg(long, value_parser = code::<Jurisdiction>)]
    pub jurisdiction: Option<Jurisdiction>,
    /// Record the referral as ineligible for this reason instead of the rules engine's answer.
    #[arg(long)]
    pub ineligible_reason: Option<String>,
    /// An informal patient who is an in-patient (Wales: s. 130J).
    #[arg(long, conflicts_with = "out_patient")]
    pub in_patient: bool,
    /// An informal patient who is not an in-patient: in Wales they do not qualify (s. 130J).
    #[arg(long)]
    pub out_patient: bool,
    /// The commissioner (responsible authority) for a referral that opens no case; a case's own
    /// authority counts once it has one.
    #[arg(long)]
    pub responsible_authority: Option<String>,
    /// The person is placed outside the commissioner's area.
    #[arg(long, conflicts_with = "in_area")]
    pub out_of_area: bool,
    /// The person is placed inside the commissioner's area.
    #[arg(long)]
    pub in_area: bool,
}

#[derive(Debug, Subcommand)]
pub enum RulesCmd {
    /// Is a patient with this status a qualifying patient for IMHA, and why.
    Eligibility {
        #[arg(long, value_parser = status)]
        status: StatusCode,
        /// The date to decide for (default: today).
        #[arg(long, value_parser = date)]
        on: Option<NaiveDate>,
        #[arg(long, value_parser = age)]
        age: Option<u32>,
        /// Treatment under consideration: s57 or s58a.
        #[arg(long, value_parser = code::<Treatment>)]
        considering: Option<Treatment>,
        #[arg(long, value_parser = code::<Jurisdiction>)]
        jurisdiction: Option<Jurisdiction>,
        /// An informal patient who is an in-patient (Wales: s. 130J).
        #[arg(long, conflicts_with = "out_patient")]
        in_patient: bool,
        /// An informal patient who is not an in-patient: in Wales they do not qualify (s. 130J).
        #[arg(long)]
        out_patient: bool,
    },
    /// Tribunal application windows opening within three years of the start.
    Tribunal {
        #[arg(long, value_parser = status)]
        status: StatusCode,
        /// The day the status began (for s2, the day of admission).
        #[arg(long, value_parser = date)]
        start: NaiveDate,
        /// Mark the window open on this day (default: today).
        #[arg(long, value_parser = date)]
        on: Option<NaiveDate>,
        #[arg(long, value_parser = code::<Jurisdiction>)]
        jurisdiction: Option<Jurisdiction>,
    },
    /// Expiry and renewal dates, references, managers' hearings, who must tell the patient.
    Renewals {
        #[arg(long, value_parser = status)]
        status: StatusCode,
        #[arg(long, value_parser = date)]
        start: NaiveDate,
        /// For a CTO (or a s. 3 that followed a s. 2): the day of the original admission for
        /// assessment or treatment, which the managers' six-month reference counts from
        /// (s. 68(5)).
        #[arg(long, value_parser = date)]
        admitted: Option<NaiveDate>,
        /// The patient's age (references come sooner for under-18s).
        #[arg(long, value_parser = age)]
        age: Option<u32>,
        #[arg(long, value_parser = code::<Jurisdiction>)]
        jurisdiction: Option<Jurisdiction>,
    },
    /// The 2025 Act provisions that commence by regulations, and the dates set for them.
    Provisions,
}

#[derive(Debug, Args)]
pub struct SafeguardingArgs {
    #[arg(long)]
    pub case: CaseId,
    #[arg(long, value_parser = code::<SafeguardingKind>)]
    pub kind: SafeguardingKind,
    #[arg(long, value_parser = datetime)]
    pub at: NaiveDateTime,
    /// The risk of harm that justified it.
    #[arg(long)]
    pub reason: String,
    /// Who was told.
    #[arg(long)]
    pub told: String,
    /// The manager consulted or informed.
    #[arg(long)]
    pub manager: String,
    /// It was discussed with the person first.
    #[arg(long, conflicts_with = "not_discussed_because")]
    pub discussed_first: bool,
    /// Why it was not discussed with the person first.
    #[arg(long)]
    pub not_discussed_because: Option<String>,
    #[arg(long)]
    pub reference: Option<String>,
    /// Keep this event out of the person's own copy: third-party or serious-harm.
    #[arg(long, value_parser = code::<wardside_domain::WithholdReason>)]
    pub withhold: Option<wardside_domain::WithholdReason>,
}

fn date(s: &str) -> Result<NaiveDate, String> {
    s.parse()
        .map_err(|_| format!("'{s}' is not a date; write it as YYYY-MM-DD, e.g. 2026-11-25"))
}

fn datetime(s: &str) -> Result<NaiveDateTime, String> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").map_err(|_| {
        format!("'{s}' is not a date and time; write it as YYYY-MM-DDTHH:MM, e.g. 2026-11-25T14:30")
    })
}

fn age(s: &str) -> Result<u32, String> {
    s.trim()
        .parse::<u32>()
        .ok()
        .filter(|a| *a <= 130)
        .ok_or_else(|| format!("age '{s}' is out of range; give whole years from 0 to 130"))
}

fn status(s: &str) -> Result<StatusCode, String> {
    s.parse().map_err(|e: ValidationError| e.to_string())
}

fn code<T: std::str::FromStr<Err = ValidationError>>(s: &str) -> Result<T, String> {
    s.parse().map_err(|e: ValidationError| e.to_string())
}

#[derive(Debug, Subcommand)]
pub enum SyncCmd {
    /// Enrol this device with a one-time code from an admin (the organisation's first code
    /// makes this device its admin).
    Enroll {
        /// The service's address, e.g. https://sync.example.org
        #[arg(long)]
        server: String,
        #[arg(long)]
        code: String,
        /// This device's name, as admins will see it.
        #[arg(long)]
        name: String,
        /// First admin only: write the organisation's recovery words to this new file instead
        /// of showing them.
        #[arg(long, value_name = "FILE")]
        recovery_file: Option<PathBuf>,
    },
    /// When every admin laptop is lost: make this laptop (not enrolled yet) the organisation's
    /// admin device with its 24 recovery words, and fetch every team key of every epoch.
    Recover {
        /// The service's address, e.g. https://sync.example.org
        #[arg(long)]
        server: String,
        /// A file holding the 24 words (never on the command line, where other users and the
        /// shell's history see them); `-` reads them from standard input.
        #[arg(long, value_name = "FILE")]
        words_file: PathBuf,
        /// This laptop's name, as the organisation's devices will see it.
        #[arg(long, default_value = "Recovered admin laptop")]
        name: String,
    },
    /// Admin: let the recovery words make a new admin laptop, for an organisation set up before
    /// they could (type them once; nothing of them is kept).
    EnableRecovery {
        /// A file holding the 24 words; `-` reads them from standard input.
        #[arg(long, value_name = "FILE")]
        words_file: PathBuf,
    },
    /// Admin: a one-time code for a new device.
    Invite,
    /// Admin: approve a device after comparing the fingerprint shown on its screen.
    Approve {
        #[arg(long)]
        device: uuid::Uuid,
        #[arg(long)]
        fingerprint: String,
    },
    /// Admin: revoke a device; its team keys move to a new epoch.
    Revoke {
        #[arg(long)]
        device: uuid::Uuid,
    },
    /// Send this device's changes and fetch everyone else's.
    Now,
    /// Last sync, changes not yet synced, conflicts waiting.
    Status,
    /// The organisation's devices.
    Devices,
    /// The teams this device is in.
    Teams,
    /// Admin: create a team (another hospital or contract); this device joins it.
    CreateTeam {
        #[arg(long)]
        name: String,
    },
    /// Organisation admin: make a device the admin of exactly these teams (repeat --team; none:
    /// of no team). A team's admin approves and revokes devices of its teams.
    SetTeamAdmins {
        #[arg(long)]
        device: uuid::Uuid,
        #[arg(long = "team")]
        teams: Vec<uuid::Uuid>,
    },
    /// Admin: put a device in exactly these teams (repeat --team).
    SetTeams {
        #[arg(long)]
        device: uuid::Uuid,
        #[arg(long = "team", required = true)]
        teams: Vec<uuid::Uuid>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ExportCmd {
    /// A client's case file (every case) as PDF.
    Pdf {
        #[arg(long)]
        client: ClientId,
        /// The file, or a folder to put it in under a name with the case's reference and the
        /// date (and the person's name only with --name-in-filename).
        #[arg(long, value_name = "FILE|DIR")]
        out: PathBuf,
        /// The person's own copy: plain words, withheld entries left out with a marker.
        #[arg(long)]
        patient_copy: bool,
        /// Replace FILE if it is already there (never through a symbolic link).
        #[arg(long)]
        overwrite: bool,
        /// Put the person's name in the file name chosen for a folder (off by default: a file
        /// name is seen by anyone who sees the folder).
        #[arg(long)]
        name_in_filename: bool,
    },
    /// A subject access response in DIR: the person's copy as PDF and everything held about
    /// them as JSON, both without withheld entries.
    Sar {
        #[arg(long)]
        client: ClientId,
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Replace the response's two files if they are already in DIR (never through a
        /// symbolic link).
        #[arg(long)]
        overwrite: bool,
        /// Put the person's name in the two files' names (off by default).
        #[arg(long)]
        name_in_filename: bool,
    },
    /// A hearing summary for a tribunal or hospital managers' hearing about one case.
    Hearing {
        #[arg(long)]
        case: CaseId,
        /// The file, or a folder to put it in under a name with the case's reference and the
        /// date (and the person's name only with --name-in-filename).
        #[arg(long, value_name = "FILE|DIR")]
        out: PathBuf,
        /// Replace FILE if it is already there (never through a symbolic link).
        #[arg(long)]
        overwrite: bool,
        /// Put the person's name in the file name chosen for a folder (off by default).
        #[arg(long)]
        name_in_filename: bool,
    },
}
