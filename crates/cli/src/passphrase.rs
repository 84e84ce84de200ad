//! Where passphrases come from: the environment (for scripts) or a prompt without echo.

use crate::error::Error;
use std::io::IsTerminal;
use wardside_store::Passphrase;

const ENV: &str = "WARDSIDE_PASSPHRASE";
const ENV_NEW: &str = "WARDSIDE_NEW_PASSPHRASE";

fn prompt(label: &str) -> Result<Passphrase, Error> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::Usage(format!(
            "no passphrase: set {ENV} or run wardside in a terminal to be asked for it"
        )));
    }
    rpassword::prompt_password(label)
        .map(Passphrase::new)
        .map_err(Error::Io)
}

/// The passphrase of an existing store.
pub fn current() -> Result<Passphrase, Error> {
    match std::env::var(ENV) {
        Ok(p) => Ok(Passphrase::new(p)),
        Err(_) => prompt("Passphrase: "),
    }
}

/// A new passphrase, typed twice when prompted. `env` names the variable scripts use.
fn new_from(env: &str) -> Result<Passphrase, Error> {
    if let Ok(p) = std::env::var(env) {
        return Ok(Passphrase::new(p));
    }
    eprintln!(
        "Choose a passphrase of at least 10 characters. It cannot be recovered from this device if forgotten."
    );
    let first = prompt("New passphrase: ")?;
    let second = prompt("Type it again: ")?;
    if !first.matches(&second) {
        return Err(Error::Usage(
            "the two passphrases differ; nothing was changed, try again".into(),
        ));
    }
    Ok(first)
}

/// The passphrase for a store being created.
pub fn for_new_store() -> Result<Passphrase, Error> {
    new_from(ENV)
}

/// The replacement passphrase for `passwd`.
pub fn replacement() -> Result<Passphrase, Error> {
    new_from(ENV_NEW)
}
