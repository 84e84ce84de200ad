//! `wardside export ...`: a few lines per subcommand over wardside-export.

use crate::args::ExportCmd;
use crate::error::Error;
use crate::output::Out;
use serde_json::json;
use std::path::{Path, PathBuf};
use wardside_domain::rules::Rules;
use wardside_export::{self as export, Audience, Context, Generated};
use wardside_store::Store;

pub fn run(cmd: ExportCmd, store: &mut Store, out: &Out, rules: &Rules) -> Result<(), Error> {
    let cx = Context {
        generated: Generated {
            by: store.info()?.user,
            at: wardside_domain::rules::period::uk_time_at(chrono::Utc::now()),
        },
        rules,
        jurisdiction: rules.jurisdiction(),
    };
    let written = match cmd {
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
            let pdf = export::case_file_pdf(store, client, audience, &cx)?;
            export::write_output(&out, &pdf)?;
            vec![out]
        }
        ExportCmd::Sar { client, out } => {
            let sar = export::subject_access(store, client, &cx)?;
            export::write_subject_access(&out, &sar, cx.generated.at.date())?.to_vec()
        }
        ExportCmd::Hearing { case, out } => {
            let pdf = export::hearing_pdf(store, case, &cx)?;
            export::write_output(&out, &pdf)?;
            vec![out]
        }
    };
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
