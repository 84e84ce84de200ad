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
    let (request, path, overwrite) = match cmd {
        ExportCmd::Pdf {
            client,
            out,
            patient_copy,
            overwrite,
        } => {
            let audience = if patient_copy {
                Audience::Person
            } else {
                Audience::Service
            };
            (Request::CaseFile { client, audience }, out, overwrite)
        }
        ExportCmd::Sar {
            client,
            out,
            overwrite,
        } => (Request::SubjectAccess { client }, out, overwrite),
        ExportCmd::Hearing {
            case,
            out,
            overwrite,
        } => (Request::Hearing { case }, out, overwrite),
    };
    let overwrite = if overwrite {
        Overwrite::Replace
    } else {
        Overwrite::Refuse
    };
    let cx = Context::now(store, rules)?;
    let written = export::export_to(store, request, &path, overwrite, &cx)?;
    report(out, &written)
}

fn report(out: &Out, written: &[PathBuf]) -> Result<(), Error> {
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let lines: Vec<String> = written
        .iter()
        .map(|p| format!("Wrote {} ({} KB)", p.display(), size(p).div_ceil(1024)))
        .collect();
    out.value_or(
        &json!({ "written": written.iter().map(|p| json!({"path": p, "bytes": size(p)})).collect::<Vec<_>>() }),
        &lines.join("\n"),
    )
}
