//! `wardside export ...`: a few lines per subcommand over wardside-export.

use crate::args::ExportCmd;
use crate::error::Error;
use crate::output::Out;
use serde_json::json;
use std::path::{Path, PathBuf};
use wardside_domain::rules::Rules;
use wardside_export::{self as export, Audience, Context, Overwrite, Request};
use wardside_store::Store;

pub fn run(cmd: ExportCmd, store: &mut Store, out: &Out, rules: &Rules) -> Result<(), Error> {
    let (request, path, overwrite, name_in_filename) = match cmd {
        ExportCmd::Pdf {
            client,
            out,
            patient_copy,
            overwrite,
            name_in_filename,
        } => {
            let audience = if patient_copy {
                Audience::Person
            } else {
                Audience::Service
            };
            (
                Request::CaseFile { client, audience },
                out,
                overwrite,
                name_in_filename,
            )
        }
        ExportCmd::Sar {
            client,
            out,
            overwrite,
            name_in_filename,
        } => (
            Request::SubjectAccess {
                client,
                name_in_file: name_in_filename,
            },
            out,
            overwrite,
            name_in_filename,
        ),
        ExportCmd::Hearing {
            case,
            out,
            overwrite,
            name_in_filename,
        } => (Request::Hearing { case }, out, overwrite, name_in_filename),
    };
    let overwrite = if overwrite {
        Overwrite::Replace
    } else {
        Overwrite::Refuse
    };
    let cx = Context::now(store, rules)?;
    let path = export::output_path(store, request, &path, cx.today(), name_in_filename)?;
    let written = export::export_to(store, request, &path, overwrite, &cx)?;
    report(out, &written)
}

/// Said with every export, as the app's export dialog says it.
const UNENCRYPTED: &str = "This file is not encrypted: anyone who can open it can read it. Keep it only as long as needed.";

fn report(out: &Out, written: &[PathBuf]) -> Result<(), Error> {
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let mut lines: Vec<String> = written
        .iter()
        .map(|p| format!("Wrote {} ({} KB)", p.display(), size(p).div_ceil(1024)))
        .collect();
    lines.push(if written.len() == 1 {
        UNENCRYPTED.into()
    } else {
        UNENCRYPTED.replace("This file is", "These files are")
    });
    out.value_or(
        &json!({ "written": written.iter().map(|p| json!({"path": p, "bytes": size(p)})).collect::<Vec<_>>() }),
        &lines.join("\n"),
    )
}
