//! `wardside report contract`: a commissioner's periods, measures and targets.

use crate::args::ContractCmd;
use crate::error::Error;
use crate::output::Out;
use wardside_domain::report::contract::{parse_period, parse_reference, parse_target};
use wardside_store::Store;

pub fn contract(cmd: ContractCmd, store: &mut Store, out: &Out) -> Result<(), Error> {
    match cmd {
        ContractCmd::Show { commissioner } => show(store, out, &commissioner),
        ContractCmd::Set {
            commissioner,
            measures,
            target,
            period,
            reference,
        } => {
            let mut c = store.contract(&commissioner)?;
            if let Some(m) = measures {
                c.measures = if m.iter().any(|k| k.trim() == "all") {
                    Vec::new()
                } else {
                    m.into_iter().map(|k| k.trim().to_owned()).collect()
                };
            }
            for spec in &target {
                match parse_target(spec)? {
                    (key, Some(t)) => c.targets.insert(key, t),
                    (key, None) => c.targets.remove(&key),
                };
            }
            if !period.is_empty() {
                c.periods = if period.iter().any(|p| p.trim() == "quarters") {
                    Vec::new()
                } else {
                    period
                        .iter()
                        .map(|p| parse_period(p))
                        .collect::<Result<_, _>>()?
                };
            }
            if let Some(path) = reference {
                c.reference = parse_reference(&std::fs::read_to_string(&path).map_err(|e| {
                    Error::Usage(format!("could not read {}: {e}", path.display()))
                })?)?;
            }
            store.set_contract(&c)?;
            show(store, out, &commissioner)
        }
        ContractCmd::Remove { commissioner } => {
            if store.remove_contract(&commissioner)? {
                out.done("Contract removed: its returns are for every measure, by quarter.");
                Ok(())
            } else {
                Err(Error::Usage(format!(
                    "no contract is set for '{}'",
                    commissioner.trim()
                )))
            }
        }
    }
}

fn show(store: &Store, out: &Out, commissioner: &str) -> Result<(), Error> {
    let c = store.contract(commissioner)?;
    let today = store.clock().today();
    out.value(&serde_json::json!({
        "contract": c,
        "periods": c.periods_on(today),
    }))
}
