//! The one place errors become what the user sees: one line on stderr, a non-zero exit, no
//! backtrace and no record content (store and domain messages never carry any).

use std::process::ExitCode;
use wardside_domain::ValidationError;
use wardside_store::StoreError;

#[derive(Debug)]
pub enum Error {
    Store(StoreError),
    Invalid(ValidationError),
    /// A message for the user that says what to do.
    Usage(String),
    Io(std::io::Error),
    Sync(wardside_sync_client::SyncError),
    Export(wardside_export::ExportError),
    /// A sync finished, but found this many problems a person must look at (exit code 3).
    Problems(usize),
}

impl From<wardside_export::ExportError> for Error {
    fn from(e: wardside_export::ExportError) -> Self {
        match e {
            wardside_export::ExportError::Store(e) => Error::Store(e),
            other => Error::Export(other),
        }
    }
}

impl From<wardside_sync_client::SyncError> for Error {
    fn from(e: wardside_sync_client::SyncError) -> Self {
        match e {
            wardside_sync_client::SyncError::Store(e) => Error::Store(e),
            other => Error::Sync(other),
        }
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Error::Store(e)
    }
}

impl From<ValidationError> for Error {
    fn from(e: ValidationError) -> Self {
        Error::Invalid(e)
    }
}

impl From<wardside_domain::rules::RulesError> for Error {
    fn from(e: wardside_domain::rules::RulesError) -> Self {
        Error::Store(e.into())
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

impl Error {
    pub fn message(&self) -> String {
        let msg = match self {
            Error::Store(e) => e.to_string(),
            Error::Invalid(e) => e.to_string(),
            Error::Usage(m) => m.clone(),
            Error::Io(e) => format!("could not read or write: {e}"),
            Error::Sync(e) => e.to_string(),
            // The export crate cannot know how a person agrees to replace a file; here, a flag.
            Error::Export(e @ wardside_export::ExportError::Exists { .. }) => {
                format!("{e}. Choose another --out, or add --overwrite to replace it")
            }
            Error::Export(e) => e.to_string(),
            Error::Problems(n) => format!(
                "the sync finished, but found {n} problem(s) to look at (above, and in `wardside sync status`)"
            ),
        };
        msg.replace('\n', " ")
    }

    pub fn report(&self) -> ExitCode {
        eprintln!("wardside: error: {}", self.message());
        match self {
            Error::Problems(_) => ExitCode::from(3),
            _ => ExitCode::FAILURE,
        }
    }
}

/// clap's own errors, as one line. `--help` and `--version` print as usual.
pub fn usage(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
        _ => {
            let rendered = e.render().to_string();
            let mut lines = rendered.lines().map(str::trim).skip_while(|l| l.is_empty());
            let mut first = lines
                .next()
                .unwrap_or("invalid command line")
                .trim_start_matches("error: ")
                .trim_end_matches('.')
                .to_owned();
            // "the following required arguments were not provided:" names them on the lines
            // after: one line must say which.
            if first.ends_with(':') {
                let named: Vec<&str> = lines.take_while(|l| !l.is_empty()).collect();
                first = format!("{} {}", first, named.join(", "));
            }
            eprintln!("wardside: error: {first}; see `wardside --help`");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_line_and_say_what_to_do() {
        let e = Error::Store(StoreError::WrongPassphrase);
        assert!(e.message().contains("try again"));
        let e = Error::Usage("first\nsecond".into());
        assert_eq!(e.message(), "first second");
    }
}
