//! Exports: case files, the person's own copy, subject access bundles and hearing summaries,
//! typeset as tagged PDF/A with typst used as a library (templates and fonts compiled in).
//!
//! The flow is the same for each: the store gathers the record and writes the audit entry
//! (`wardside_store::export`); [`model`] decides what the document says for its reader; the
//! template in `templates/document.typ` lays it out; [`write_output`] puts the bytes in the
//! one file the user named: private, never through a symbolic link, never over a file the user
//! did not agree to replace. Nothing else is written anywhere: no temporary files, no copies.
//! [`filename`] names the file: without the person's name unless the user asked for it.
//!
//! Paper is read long after it is printed: no document says "in 2 days", only dates; and the
//! person's own copy is in plain words, without the Act's sections or case law ([`plain`]).

mod file;
pub mod filename;
mod hearing;
pub mod model;
mod plain;
pub mod report;
mod sar;
mod timeline;
mod world;

use chrono::NaiveDate;
use std::path::{Path, PathBuf};
use typst::foundations::Datetime;
use typst_pdf::{PdfOptions, PdfStandard, PdfStandards};
use wardside_domain::rules::{Jurisdiction, Rules};
use wardside_domain::{Case, CaseId, Client, ClientId};
use wardside_store::Store;
use wardside_store::export::{ClientRecord, ExportKind};

pub use file::{Overwrite, write_output, write_subject_access};
pub use filename::{FileKind, Naming, file_name, file_stem, short_reference};
pub use model::{Audience, Doc, Generated};

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] wardside_store::StoreError),
    #[error(transparent)]
    Rules(#[from] wardside_domain::rules::RulesError),
    /// A fault in a template (ours, not the user's data): the messages are typst's.
    #[error("the document could not be typeset: {0}")]
    Typeset(String),
    #[error("could not write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The shells add how to agree to replace it (a flag, a dialog).
    #[error("{path} already exists and was left as it is; nothing was written")]
    Exists { path: PathBuf },
    #[error(
        "{path} is a symbolic link, and an export is never written through one; nothing was written. Name the file itself, or another"
    )]
    Symlink { path: PathBuf },
    #[error(
        "{path} is not a file (a folder, a pipe or a socket); nothing was written. Name a file"
    )]
    NotAFile { path: PathBuf },
    #[error("could not prepare the document's data: {0}")]
    Data(#[from] serde_json::Error),
}

pub type Result<T, E = ExportError> = std::result::Result<T, E>;

/// Typeset a document as a tagged PDF/A-2a file (archival, with its structure for screen
/// readers; title and language set).
pub fn render_pdf(doc: &Doc) -> Result<Vec<u8>> {
    let data = serde_json::to_vec(doc)?;
    let today = Datetime::from_ymd(
        doc.date.year,
        u8::try_from(doc.date.month).unwrap_or(1),
        u8::try_from(doc.date.day).unwrap_or(1),
    )
    .ok_or_else(|| ExportError::Typeset("the document date is not a date".into()))?;
    typeset(&world::DocWorld::new(data, today))
}

/// Compile a world's template to a tagged PDF/A-2a file: every document and the commissioner's
/// return go through here.
pub(crate) fn typeset(world: &world::DocWorld) -> Result<Vec<u8>> {
    let compiled = typst::compile::<typst_layout::PagedDocument>(world);
    let result = compiled
        .output
        .map_err(|errors| diagnostics(&errors))
        .and_then(|document| {
            let standards = PdfStandards::new(&[PdfStandard::A_2a])
                .map_err(|e| ExportError::Typeset(e.message().to_string()))?;
            typst_pdf::pdf(
                &document,
                &PdfOptions {
                    standards,
                    tagged: true,
                    ..PdfOptions::default()
                },
            )
            .map_err(|errors| diagnostics(&errors))
        });
    // typst memoises layout between compilations; an app that exports now and then should not
    // keep every past document's layout in memory.
    typst::comemo::evict(2);
    result
}

fn diagnostics(errors: &[typst::diag::SourceDiagnostic]) -> ExportError {
    ExportError::Typeset(
        errors
            .iter()
            .map(|e| e.message.to_string())
            .collect::<Vec<_>>()
            .join("; "),
    )
}

/// Drop typst's memoised layouts (benchmarks: so a repeated export is measured as new work).
pub fn clear_caches() {
    typst::comemo::evict(0);
}

/// Characters of `text` that none of the bundled fonts can draw.
pub fn uncovered(text: &str) -> Vec<char> {
    world::uncovered(text)
}

/// The reminders on a client's open case, worked out on `today` (none if every case is closed).
pub fn reminders_for(
    record: &ClientRecord,
    rules: &Rules,
    today: NaiveDate,
    jurisdiction: Jurisdiction,
) -> Vec<wardside_domain::rules::Reminder> {
    if record.cases.iter().all(|k| k.case.record.closed.is_some()) {
        return Vec::new();
    }
    let events: Vec<_> = record
        .legal_history
        .iter()
        .map(|e| e.record.clone())
        .collect();
    let age = record
        .client
        .record
        .dob
        .and_then(|dob| wardside_domain::client::age_on(dob, today));
    rules.reminders(&events, today, age, jurisdiction)
}

/// What an export needs besides the store: who is exporting, when, and the rules for dates.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub generated: Generated,
    pub rules: &'a Rules,
    pub jurisdiction: Jurisdiction,
}

impl<'a> Context<'a> {
    /// An export made now (UK time) by the store's user, under `rules`.
    pub fn now(store: &Store, rules: &'a Rules) -> Result<Context<'a>> {
        Ok(Context {
            generated: Generated {
                by: store.info()?.user,
                at: store.clock().uk_now(),
            },
            rules,
            jurisdiction: rules.jurisdiction(),
        })
    }

    /// The day of the export (UK time).
    pub fn today(&self) -> NaiveDate {
        self.generated.at.date()
    }
}

/// One export a user asked for.
#[derive(Debug, Clone, Copy)]
pub enum Request {
    /// The case file (`Service`) or the person's own copy (`Person`): one PDF.
    CaseFile {
        client: ClientId,
        audience: Audience,
    },
    /// A subject access response: a PDF and a JSON file in a folder, named with the person's
    /// name only if `name_in_file` (the user asked).
    SubjectAccess {
        client: ClientId,
        name_in_file: bool,
    },
    /// A hearing summary for one case: one PDF.
    Hearing { case: CaseId },
}

impl Request {
    pub fn file_kind(&self) -> FileKind {
        match self {
            Request::CaseFile {
                audience: Audience::Service,
                ..
            } => FileKind::CaseFile,
            Request::CaseFile {
                audience: Audience::Person,
                ..
            } => FileKind::PatientCopy,
            Request::SubjectAccess { .. } => FileKind::SubjectAccess,
            Request::Hearing { .. } => FileKind::Hearing,
        }
    }
}

/// The name an export is offered under (for a subject access response, the stem its two
/// files share is this without `.pdf`): the case's short reference (the client's open case for
/// a whole case file) and the day, and the person's name only if `include_name`. Reads no
/// content and writes no audit entry: nothing is exported yet.
pub fn suggested_file_name(
    store: &Store,
    request: Request,
    on: NaiveDate,
    include_name: bool,
) -> Result<String> {
    let (client, case) = match request {
        Request::CaseFile { client, .. } | Request::SubjectAccess { client, .. } => {
            (client, store.open_case_of(client)?)
        }
        Request::Hearing { case } => (store.get::<Case>(case.0)?.client_id, Some(case)),
    };
    let person = if include_name {
        store.get::<Client>(client.0)?.name
    } else {
        String::new()
    };
    Ok(file_name(&Naming {
        kind: request.file_kind(),
        person: &person,
        case,
        on,
        include_name,
    }))
}

/// Where an export named `out` goes: a PDF asked for into an existing folder is put in it under
/// its [`suggested_file_name`]; any other `out` is the file (or, for a subject access
/// response, the folder) itself.
pub fn output_path(
    store: &Store,
    request: Request,
    out: &Path,
    on: NaiveDate,
    include_name: bool,
) -> Result<PathBuf> {
    match request {
        Request::CaseFile { .. } | Request::Hearing { .. } if out.is_dir() => {
            Ok(out.join(suggested_file_name(store, request, on, include_name)?))
        }
        _ => Ok(out.to_path_buf()),
    }
}

fn subject_access_stem(store: &Store, request: Request, on: NaiveDate) -> Result<String> {
    let include_name = matches!(
        request,
        Request::SubjectAccess {
            name_in_file: true,
            ..
        }
    );
    let name = suggested_file_name(store, request, on, include_name)?;
    Ok(name.trim_end_matches(".pdf").to_string())
}

/// Make what was asked for and write it to `out` (a file, or for subject access a folder),
/// and nowhere else, replacing a file already there only if `overwrite` says the person agreed
/// ([`write_output`]). Returns the files written. A refusal because of what is at `out` comes
/// before anything is made or audited.
pub fn export_to(
    store: &mut Store,
    request: Request,
    out: &Path,
    overwrite: Overwrite,
    cx: &Context<'_>,
) -> Result<Vec<PathBuf>> {
    let pdf = match request {
        Request::SubjectAccess { client, .. } => {
            let stem = subject_access_stem(store, request, cx.today())?;
            for path in file::subject_access_paths(out, &stem) {
                file::check_target(&path, overwrite)?;
            }
            let sar = subject_access(store, client, cx)?;
            return Ok(write_subject_access(out, &sar, &stem, overwrite)?.to_vec());
        }
        Request::CaseFile { client, audience } => {
            file::check_target(out, overwrite)?;
            case_file_pdf(store, client, audience, cx)?
        }
        Request::Hearing { case } => {
            file::check_target(out, overwrite)?;
            hearing_pdf(store, case, cx)?
        }
    };
    write_output(out, &pdf, overwrite)?;
    Ok(vec![out.to_path_buf()])
}

/// The case file of a client (every case), for the service or as the person's own copy.
pub fn case_file_pdf(
    store: &mut Store,
    client: ClientId,
    audience: Audience,
    cx: &Context<'_>,
) -> Result<Vec<u8>> {
    let kind = match audience {
        Audience::Service => ExportKind::CaseFile,
        Audience::Person => ExportKind::PatientCopy,
    };
    let record = store.client_record(client, kind)?;
    let reminders = reminders_for(&record, cx.rules, cx.today(), cx.jurisdiction);
    render_pdf(&model::case_file(
        &record,
        &reminders,
        audience,
        &cx.generated,
    ))
}

/// A subject access response: the person's copy as PDF and everything held about them as
/// JSON, both with withheld items left out (and marked).
#[derive(Debug)]
pub struct SubjectAccess {
    pub pdf: Vec<u8>,
    pub json: Vec<u8>,
}

pub fn subject_access(
    store: &mut Store,
    client: ClientId,
    cx: &Context<'_>,
) -> Result<SubjectAccess> {
    let record = store.client_record(client, ExportKind::SubjectAccess)?;
    let reminders = reminders_for(&record, cx.rules, cx.today(), cx.jurisdiction);
    let pdf = render_pdf(&model::case_file(
        &record,
        &reminders,
        Audience::Person,
        &cx.generated,
    ))?;
    let json = serde_json::to_vec_pretty(&sar::bundle(&record, &cx.generated))?;
    Ok(SubjectAccess { pdf, json })
}

/// A hearing summary for one case.
pub fn hearing_pdf(store: &mut Store, case: CaseId, cx: &Context<'_>) -> Result<Vec<u8>> {
    let record = store.case_record(case, ExportKind::HearingSummary)?;
    render_pdf(&model::hearing_summary(&record, cx.today(), &cx.generated))
}
