//! The commands the UI may call, one module per area. Each is a few lines: take the session,
//! call the store or the domain, return. Rules live in the crates, not here.

pub mod access;
pub mod activities;
pub mod caseload;
pub mod cases;
pub mod clients;
pub mod corrections;
pub mod export;
pub mod recover;
pub mod reports;
pub mod sync;
pub mod tasks;
pub mod teams;

/// Today in the UK: what legal deadlines and "opened on" defaults are measured from. The same
/// clock as the store's ([`wardside_store::clock::CLOCK_ENV`], checked when the app starts).
pub(crate) fn today() -> chrono::NaiveDate {
    wardside_store::clock::Clock::from_env()
        .unwrap_or_default()
        .today()
}
