//! The commands the UI may call, one module per area. Each is a few lines: take the session,
//! call the store or the domain, return. Rules live in the crates, not here.

pub mod access;
pub mod activities;
pub mod caseload;
pub mod cases;
pub mod clients;
pub mod export;
pub mod sync;

use wardside_domain::rules::period::uk_date_at;

/// Today in the UK: what legal deadlines and "opened on" defaults are measured from.
pub(crate) fn today() -> chrono::NaiveDate {
    uk_date_at(chrono::Utc::now())
}
