//! Recovering the organisation with its 24 recovery words on this laptop, when every admin
//! laptop is lost: a few lines over [`wardside_sync_client::recover`]. The words go straight to
//! it and are wiped when it returns: never logged, never kept, never in a draft.

use crate::commands::sync::off_runtime;
use crate::error::Result;
use serde::Serialize;
use tauri::{AppHandle, Runtime};
use wardside_sync_client as sync;
use zeroize::Zeroizing;

#[derive(Debug, Clone, Serialize)]
pub struct RecoverView {
    pub device_id: String,
    /// This laptop's fingerprint.
    pub fingerprint: String,
    /// The organisation's fingerprint, the same on every laptop of it.
    pub org_fingerprint: String,
    /// Team keys opened with the words (every epoch of every team).
    pub team_keys: usize,
}

#[tauri::command]
pub async fn sync_recover<R: Runtime>(
    app: AppHandle<R>,
    server: String,
    words: String,
    name: String,
) -> Result<RecoverView> {
    let words = Zeroizing::new(words);
    off_runtime(app, move |_, session| {
        session.with_store_sync(true, |s| {
            let r = sync::recover(
                s,
                &server,
                &words,
                &name,
                &session.sync_options(sync::Options::default()),
            )?;
            Ok(RecoverView {
                device_id: r.device_id.to_string(),
                fingerprint: r.fingerprint,
                org_fingerprint: r.org_fingerprint,
                team_keys: r.team_keys,
            })
        })
    })
    .await
}
