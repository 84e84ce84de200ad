//! Exports: the case file, the person's own copy, a subject access response and a hearing
//! summary, each saved where the user chooses in the system's save dialog.
//!
//! The dialog is opened from Rust, so the webview itself has no dialog or file permission at
//! all: it can ask for an export, never name a path. The place is asked for first, so a
//! cancelled dialog exports (and audits) nothing. The name offered is
//! `wardside_export::suggested_file_name`'s: the person's name only if the user ticked the box.

use crate::error::{AppError, Result};
use crate::session::Session;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use tauri::{AppHandle, Manager, Runtime, State};
use tauri_plugin_dialog::DialogExt;
use wardside_domain::{CaseId, ClientId};
use wardside_export::{Audience, Context, Overwrite, Request};

/// End-to-end tests cannot drive the system's file dialog: with this set, it is not shown
/// and the export goes to the path it names. A folder that exists takes the PDF under the name
/// the dialog would have offered (a subject access response's two files always go in it).
const TEST_SAVE_AS: &str = "WARDSIDE_E2E_SAVE_AS";

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExportKind {
    CaseFile,
    PatientCopy,
    SubjectAccess,
    Hearing,
}

const KINDS: [ExportKind; 4] = [
    ExportKind::CaseFile,
    ExportKind::PatientCopy,
    ExportKind::SubjectAccess,
    ExportKind::Hearing,
];

#[derive(Debug, Serialize)]
pub struct Exported {
    pub paths: Vec<PathBuf>,
}

/// The name each export would be offered under, keyed like [`ExportKind`].
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct FileNames {
    pub case_file: String,
    pub patient_copy: String,
    pub subject_access: String,
    pub hearing: Option<String>,
}

fn request(
    kind: ExportKind,
    client: ClientId,
    case: Option<CaseId>,
    include_name: bool,
) -> Result<Request> {
    Ok(match (kind, case) {
        (ExportKind::CaseFile, _) => Request::CaseFile {
            client,
            audience: Audience::Service,
        },
        (ExportKind::PatientCopy, _) => Request::CaseFile {
            client,
            audience: Audience::Person,
        },
        (ExportKind::SubjectAccess, _) => Request::SubjectAccess {
            client,
            name_in_file: include_name,
        },
        (ExportKind::Hearing, Some(case)) => Request::Hearing { case },
        (ExportKind::Hearing, None) => {
            return Err(AppError::invalid("A hearing summary is for one case."));
        }
    })
}

/// The file names the export dialog shows before anything is saved.
#[tauri::command]
pub fn export_file_names(
    session: State<'_, Session>,
    client: ClientId,
    case: Option<CaseId>,
    include_name: bool,
) -> Result<FileNames> {
    session.with_store_as(|store| {
        let today = Context::now(store, &session.rules)?.today();
        let mut names = FileNames::default();
        for kind in KINDS {
            let Ok(r) = request(kind, client, case, include_name) else {
                continue;
            };
            let name = wardside_export::suggested_file_name(store, r, today, include_name)?;
            match kind {
                ExportKind::CaseFile => names.case_file = name,
                ExportKind::PatientCopy => names.patient_copy = name,
                ExportKind::SubjectAccess => {
                    names.subject_access = name.trim_end_matches(".pdf").to_string()
                }
                ExportKind::Hearing => names.hearing = Some(name),
            }
        }
        Ok::<_, wardside_export::ExportError>(names)
    })
}

fn ask_where<R: Runtime>(app: &AppHandle<R>, kind: ExportKind, name: String) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(TEST_SAVE_AS) {
        let p = PathBuf::from(p);
        return Some(match kind {
            ExportKind::SubjectAccess => p,
            _ if p.is_dir() => p.join(name),
            _ => p,
        });
    }
    let dialog = app.dialog().file();
    if let ExportKind::SubjectAccess = kind {
        return dialog
            .set_title("Choose a folder for the subject access response")
            .blocking_pick_folder()
            .and_then(|p| p.into_path().ok());
    }
    dialog
        .set_title("Save the PDF (it will not be encrypted)")
        .set_file_name(name)
        .add_filter("PDF", &["pdf"])
        .blocking_save_file()
        .and_then(|p| p.into_path().ok())
}

/// Ask where, make the document, write it there. `None` when the dialog was cancelled.
#[tauri::command]
pub async fn export_document<R: Runtime>(
    app: AppHandle<R>,
    kind: ExportKind,
    client: ClientId,
    case: Option<CaseId>,
    include_name: bool,
) -> Result<Option<Exported>> {
    let request = request(kind, client, case, include_name)?;
    tauri::async_runtime::spawn_blocking(move || {
        let session = app.state::<Session>();
        let name = session.with_store_as(|store| {
            let today = Context::now(store, &session.rules)?.today();
            wardside_export::suggested_file_name(store, request, today, include_name)
        })?;
        let Some(path) = ask_where(&app, kind, name) else {
            return Ok(None);
        };
        // The save dialog has already asked before replacing a file (GTK's overwrite
        // confirmation, which rfd turns on; the Windows and macOS save panels ask too). The
        // folder picker asks nothing about the two files a subject access response puts in
        // the folder, so those are never replaced.
        let overwrite = match kind {
            ExportKind::SubjectAccess => Overwrite::Refuse,
            ExportKind::CaseFile | ExportKind::PatientCopy | ExportKind::Hearing => {
                Overwrite::Replace
            }
        };
        session.with_store_as(|store| {
            let cx = Context::now(store, &session.rules)?;
            let paths = wardside_export::export_to(store, request, &path, overwrite, &cx)?;
            Ok::<_, wardside_export::ExportError>(Some(Exported { paths }))
        })
    })
    .await
    .map_err(|_| AppError {
        field: None,
        code: "internal",
        message: "The export stopped unexpectedly; nothing was written. Try again.".into(),
    })?
}
