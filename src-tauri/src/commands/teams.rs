//! Teams: which of the organisation's teams this laptop is in, moving a person's record to
//! another of them, and (admins) creating a team and choosing each laptop's teams. Each command
//! is one call into the store or wardside-sync-client.

use super::sync::off_runtime;
use crate::error::Result;
use crate::session::Session;
use tauri::{AppHandle, Runtime, State};
use uuid::Uuid;
use wardside_domain::{ClientId, Team, TeamId, Validate};
use wardside_store::sync::SyncTeam;
use wardside_sync_client as sync;
use wardside_sync_client::Options;

/// This laptop's teams, its first team first (none before it is enrolled).
#[tauri::command(async)]
pub fn sync_teams(session: State<'_, Session>) -> Result<Vec<SyncTeam>> {
    session.with_store(|s| s.sync_teams())
}

/// Move a person's record, every case and note on it, to another team this laptop is in.
/// Returns how many changes go to the new team's members at the next sync.
#[tauri::command(async)]
pub fn move_client(session: State<'_, Session>, id: ClientId, to: TeamId) -> Result<usize> {
    session.with_store(|s| s.write(|w| w.move_client(id, to)))
}

/// Admin: create a team; this laptop joins it. Its name is checked before anything is sent.
#[tauri::command]
pub async fn create_team<R: Runtime>(app: AppHandle<R>, name: String) -> Result<Uuid> {
    let team = Team {
        name: name.trim().to_owned(),
    };
    team.validate()?;
    off_runtime(app, move |_, session| {
        let opts = session.sync_options(Options::default());
        session.with_store_sync(true, |s| sync::create_team(s, &team.name, &opts))
    })
    .await
}

/// Admin: put a laptop in exactly these teams.
#[tauri::command]
pub async fn set_device_teams<R: Runtime>(
    app: AppHandle<R>,
    device: Uuid,
    teams: Vec<Uuid>,
) -> Result<()> {
    off_runtime(app, move |_, session| {
        let opts = session.sync_options(Options::default());
        session.with_store_sync(true, |s| sync::set_device_teams(s, device, &teams, &opts))
    })
    .await
}
