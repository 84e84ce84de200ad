//! `wardside export ...`: a few lines per subcommand over wardside-export.

use crate::args::ExportCmd;
use crate::error::Error;
use crate::output::Out;
use serde_json::json;
use std::path::{Path, PathBuf};
use wardside_domain::rules::Rules;
use wardside_export::{self as export, Audience, Context, Request};
use wardside_store::Store;

pub fn run(cmd: ExportCmd, store: &mut Store, out: &Out, rules: &Rules) -> Result<(), Error> {
    let (request, path) = match cmd {
        ExportCmd::Pdf {
            client,
            out,
            patient_copy,
        } => {
            let audience = if patient_copy {
                Audience::Person
            } else {
                Audience::Service
            };
            (Request::CaseFile { client, audience }, out)
        }
        ExportCmd::Sar { client, out } => (Request::SubjectAccess { client }, out),
        ExportCmd::Hearing { case, out } => (Request::Hearing { case }, out),
    };
    let cx = Context::now(store, rules)?;
    let written = export::export_to(store, request, &path, &cx)?;
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
