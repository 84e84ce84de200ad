//! Exports: the case file, the person's own copy, a subject access response and a hearing
//! summary, each saved where the user chooses in the system's save dialog.
//!
//! The dialog is opened from Rust, so the webview itself has no dialog or file permission at
//! all: it can ask for an export, never name a path. The place is asked for first, so a
//! cancelled dialog exports (and audits) nothing.

use crate::error::{AppError, Result};
use crate::session::Session;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_dialog::DialogExt;
use wardside_domain::{CaseId, ClientId};
use wardside_export::{Audience, Context, Overwrite, Request};

/// End-to-end tests cannot drive the system's file dialog: with this set, it is not shown
/// and the export goes to the path it names (a folder for a subject access response).
const TEST_SAVE_AS: &str = "WARDSIDE_E2E_SAVE_AS";

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExportKind {
    CaseFile,
    PatientCopy,
    SubjectAccess,
    Hearing,
}

#[derive(Debug, Serialize)]
pub struct Exported {
    pub paths: Vec<PathBuf>,
}

fn ask_where<R: Runtime>(app: &AppHandle<R>, kind: ExportKind, today: &str) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(TEST_SAVE_AS) {
        return Some(PathBuf::from(p));
    }
    let dialog = app.dialog().file();
    let name = match kind {
        ExportKind::CaseFile => format!("case-file-{today}.pdf"),
        ExportKind::PatientCopy => format!("copy-for-the-person-{today}.pdf"),
        ExportKind::Hearing => format!("hearing-summary-{today}.pdf"),
        ExportKind::SubjectAccess => {
            return dialog
                .set_title("Choose a folder for the subject access response")
                .blocking_pick_folder()
                .and_then(|p| p.into_path().ok());
        }
    };
    dialog
        .set_title("Save the PDF")
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
) -> Result<Option<Exported>> {
    let request = match (kind, case) {
        (ExportKind::CaseFile, _) => Request::CaseFile {
            client,
            audience: Audience::Service,
        },
        (ExportKind::PatientCopy, _) => Request::CaseFile {
            client,
            audience: Audience::Person,
        },
        (ExportKind::SubjectAccess, _) => Request::SubjectAccess { client },
        (ExportKind::Hearing, Some(case)) => Request::Hearing { case },
        (ExportKind::Hearing, None) => {
            return Err(AppError::invalid("A hearing summary is for one case."));
        }
    };
    tauri::async_runtime::spawn_blocking(move || {
        let session = app.state::<Session>();
        let today = super::today();
        let Some(path) = ask_where(&app, kind, &today.format("%Y-%m-%d").to_string()) else {
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
        code: "internal",
        message: "The export stopped unexpectedly; nothing was written. Try again.".into(),
    })?
}
