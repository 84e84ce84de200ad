//! Sync: enrolment, sync now (with progress), the conflict inbox, and devices for admins. Each
//! command is a few lines over wardside-sync-client and the store.

use crate::error::{AppError, Result};
use crate::session::Session;
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, Runtime, State};
use wardside_domain::ActivityId;
use wardside_store::sync::{InboxItem, NoteConflict, SyncConfig, SyncProblem, SyncSummary};
use wardside_sync_client as sync;
use wardside_sync_client::{Options, Progress};

/// The event carrying a long sync's progress.
pub const PROGRESS_EVENT: &str = "sync-progress";
/// The event sent after a background sync (its payload is [`SyncView`]).
pub const STATUS_EVENT: &str = "sync-status";

#[derive(Debug, Clone, Serialize)]
pub struct SyncView {
    pub summary: SyncSummary,
    pub config: Option<SyncConfig>,
    /// What the last sync found wrong, by device and sequence.
    pub problems: Vec<SyncProblem>,
    /// The organisation's fingerprint, from the root key pinned at enrolment.
    pub org_fingerprint: Option<String>,
    /// The last restore of the sync service this laptop found, and what it did.
    pub service_restored: Option<wardside_store::sync::ServiceRestore>,
}

/// Read on the person's handle: the counts show while a sync runs on its own.
pub fn view(session: &Session) -> Result<SyncView> {
    session.with_store_quiet(|s| {
        let config = s.sync_config()?;
        Ok(SyncView {
            summary: s.sync_summary()?,
            org_fingerprint: config.as_ref().and_then(sync::org_fingerprint_of),
            config,
            problems: s.sync_problems()?,
            service_restored: s.last_service_restore()?,
        })
    })
}

#[tauri::command(async)]
pub fn sync_status(session: State<'_, Session>) -> Result<SyncView> {
    view(&session)
}

/// Network calls run on a blocking thread of their own: the sync client's HTTP is blocking, and
/// must not block (or run inside) the async runtime's workers.
pub(crate) async fn off_runtime<R: Runtime, T: Send + 'static>(
    app: AppHandle<R>,
    f: impl FnOnce(&AppHandle<R>, &Session) -> Result<T> + Send + 'static,
) -> Result<T> {
    tauri::async_runtime::spawn_blocking(move || f(&app, &app.state::<Session>()))
        .await
        .map_err(|_| AppError {
            field: None,
            code: "internal",
            message: "Sync stopped unexpectedly; nothing was lost. Try again.".into(),
        })?
}

#[derive(Debug, Clone, Serialize)]
pub struct EnrolView {
    pub device_id: String,
    pub fingerprint: String,
    /// The organisation's fingerprint, the same on every device of it.
    pub org_fingerprint: String,
    pub status: &'static str,
    pub admin: bool,
    /// The organisation's recovery words: first admin only, shown once.
    pub recovery_words: Option<String>,
}

#[tauri::command]
pub async fn sync_enroll<R: Runtime>(
    app: AppHandle<R>,
    server: String,
    code: String,
    name: String,
) -> Result<EnrolView> {
    off_runtime(app, move |_, session| {
        session.with_store_sync(true, |s| {
            let e = sync::enroll(
                s,
                &server,
                &code,
                &name,
                &session.sync_options(Options::default()),
            )?;
            Ok(EnrolView {
                device_id: e.device_id.to_string(),
                fingerprint: e.fingerprint,
                org_fingerprint: e.org_fingerprint,
                status: e.status.as_str(),
                admin: e.admin,
                recovery_words: e.recovery.map(|r| r.words().to_string()),
            })
        })
    })
    .await
}

/// What a running sync is doing, for every screen's sync line: `starting`, `sending`,
/// `receiving`, then `done` (with or without an error) when it ends.
#[derive(Debug, Clone, Copy, Serialize)]
struct ProgressView {
    phase: &'static str,
    done: u64,
    total: u64,
}

fn emit_phase<R: Runtime>(app: &AppHandle<R>, phase: &'static str, done: u64, total: u64) {
    let _ = app.emit(PROGRESS_EVENT, ProgressView { phase, done, total });
}

fn emit_progress<R: Runtime>(app: &AppHandle<R>, p: Progress) {
    let phase = match p.phase {
        sync::Phase::Pushing => "sending",
        sync::Phase::Pulling => "receiving",
    };
    emit_phase(app, phase, p.done, p.total);
}

/// One sync on the sync's own handle, telling every screen as it starts, moves and ends (the
/// counts after it too).
fn sync_and_tell<R: Runtime>(
    app: &AppHandle<R>,
    session: &Session,
    by_person: bool,
    opts: &Options,
) -> Result<sync::SyncReport> {
    let out = session.with_store_sync(by_person, |s| {
        // Only once it runs: a sync waiting for another must not hide that one's progress.
        emit_phase(app, "starting", 0, 0);
        sync::sync_with_progress(s, opts, &mut |p| emit_progress(app, p))
    });
    emit_phase(app, "done", 0, 0);
    if let Ok(v) = view(session) {
        let _ = app.emit(STATUS_EVENT, v);
    }
    out
}

#[tauri::command]
pub async fn sync_now<R: Runtime>(app: AppHandle<R>) -> Result<sync::SyncReport> {
    off_runtime(app, |app, session| {
        let opts = session.sync_options(Options::default());
        sync_and_tell(app, session, true, &opts)
    })
    .await
}

#[derive(Debug, Clone, Serialize)]
pub struct InboxView {
    pub conflicts: Vec<NoteConflict>,
    pub items: Vec<InboxItem>,
}

#[tauri::command(async)]
pub fn sync_inbox(session: State<'_, Session>) -> Result<InboxView> {
    session.with_store(|s| {
        Ok(InboxView {
            conflicts: s.note_conflicts()?,
            items: s.sync_inbox()?,
        })
    })
}

/// Resolving a conflict is a new version whose parents are every conflicting version.
#[tauri::command(async)]
pub fn resolve_conflict(
    session: State<'_, Session>,
    activity: ActivityId,
    text: String,
) -> Result<()> {
    session.with_store(|s| {
        s.write(|w| w.amend_note(activity, &text, "Resolved versions saved on two devices"))
            .map(|_| ())
    })
}

#[tauri::command(async)]
pub fn dismiss_inbox_item(session: State<'_, Session>, id: i64) -> Result<()> {
    session.with_store(|s| s.dismiss_inbox_item(id).map(|_| ()))
}

#[tauri::command]
pub async fn sync_devices<R: Runtime>(
    app: AppHandle<R>,
) -> Result<Vec<wardside_sync::protocol::DeviceInfo>> {
    off_runtime(app, |_, session| {
        let opts = session.sync_options(Options::default());
        session.with_store_sync(true, |s| sync::devices(s, &opts))
    })
    .await
}

#[tauri::command]
pub async fn sync_invite<R: Runtime>(app: AppHandle<R>) -> Result<String> {
    off_runtime(app, |_, session| {
        let opts = session.sync_options(Options::default());
        session.with_store_sync(true, |s| sync::invite(s, &opts))
    })
    .await
}

#[tauri::command]
pub async fn sync_approve<R: Runtime>(
    app: AppHandle<R>,
    device: uuid::Uuid,
    fingerprint: String,
) -> Result<()> {
    off_runtime(app, move |_, session| {
        let opts = session.sync_options(Options::default());
        session.with_store_sync(true, |s| sync::approve(s, device, &fingerprint, &opts))
    })
    .await
}

#[tauri::command]
pub async fn sync_revoke<R: Runtime>(app: AppHandle<R>, device: uuid::Uuid) -> Result<()> {
    off_runtime(app, move |_, session| {
        let opts = session.sync_options(Options::default());
        session.with_store_sync(true, |s| sync::revoke(s, device, &opts).map(|_| ()))
    })
    .await
}

/// Sync in the background every minute while unlocked and enrolled, and tell the UI. One quick
/// attempt each time: offline is normal on a ward, and the next minute tries again.
pub fn spawn_background_sync<R: Runtime>(app: AppHandle<R>) {
    let opts = Options {
        retry: sync::Retry {
            attempts: 1,
            ..sync::Retry::default()
        },
        ..Options::default()
    };
    let _ = std::thread::Builder::new()
        .name("wardside-background-sync".into())
        .spawn(move || {
            loop {
                std::thread::sleep(std::time::Duration::from_secs(60));
                let session = app.state::<Session>();
                if !session.is_unlocked() {
                    continue;
                }
                let enrolled = session
                    .with_store_quiet(|s| Ok(s.sync_config()?))
                    .ok()
                    .flatten()
                    .is_some_and(|c| c.status == "approved" || c.status == "pending");
                if !enrolled {
                    continue;
                }
                let opts = session.sync_options(opts.clone());
                let _ = sync_and_tell(&app, &session, false, &opts);
            }
        });
}
