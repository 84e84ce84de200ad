//! Wardside's desktop shell. It owns the window, the session (the unlocked store and when it
//! locks) and the list of commands the UI may call; every rule lives in `wardside-domain` and
//! every read and write in `wardside-store`.
//!
//! It must never keep anything sensitive outside the encrypted store: no webview storage, no
//! files, no logs of content. Keys live only in [`session::Session`] while unlocked.

pub mod checked;
pub mod commands;
pub mod error;
pub mod session;
pub mod settings;

use clap::Parser;
use session::Session;
use settings::SettingsFile;
use std::path::PathBuf;
use tauri::{Builder, Manager, Runtime};

/// Command-line options of the desktop app.
#[derive(Debug, Parser)]
#[command(name = "wardside-app", version, about = "Wardside desktop app")]
pub struct Args {
    /// The encrypted store to open (default: the user's data directory).
    #[arg(long, env = "WARDSIDE_DB")]
    pub db: Option<PathBuf>,
    /// Open a demo store of synthetic people (created on first use, passphrase shown on the
    /// lock screen). Never mixes with a real store.
    #[arg(long, conflicts_with = "db")]
    pub demo: bool,
    /// The organisation's rules file (commencement dates).
    #[arg(long, env = "WARDSIDE_RULES")]
    pub rules: Option<PathBuf>,
}

/// The demo store's published passphrase (override with WARDSIDE_DEMO_PASSPHRASE).
pub const DEMO_PASSPHRASE: &str = "demo store passphrase";

/// Commands and the lock watcher: shared by the real app and the mock-runtime tests.
pub fn app_builder<R: Runtime>(builder: Builder<R>) -> Builder<R> {
    use commands::{
        access, activities, caseload, cases, clients, corrections, export, recover, reports, sync,
        tasks, teams,
    };
    builder
        .invoke_handler(tauri::generate_handler![
            access::session_status,
            access::create_store,
            access::unlock,
            access::lock,
            access::touch,
            access::settings,
            access::save_settings,
            access::change_passphrase,
            access::vocabulary,
            caseload::caseload,
            caseload::due_reminders,
            caseload::caseload_facets,
            caseload::search_people,
            cases::case_view,
            cases::close_case,
            cases::add_issue,
            cases::set_issue_outcome,
            cases::add_safeguarding,
            cases::case_audit,
            clients::add_client,
            clients::likely_duplicates,
            clients::update_client,
            clients::add_relative,
            clients::record_consent,
            clients::add_legal_event,
            activities::add_activity,
            activities::amend_note,
            activities::note_history,
            activities::save_draft,
            activities::discard_draft,
            activities::search,
            corrections::amend_activity,
            corrections::activity_amendments,
            corrections::reopen_case,
            corrections::move_case_commissioner,
            corrections::commissioner_names,
            corrections::refer_again,
            corrections::save_form_draft,
            corrections::form_draft,
            corrections::discard_form_draft,
            corrections::waiting_drafts,
            sync::sync_status,
            sync::sync_enroll,
            recover::sync_recover,
            sync::sync_now,
            sync::sync_inbox,
            sync::resolve_conflict,
            sync::dismiss_inbox_item,
            sync::sync_devices,
            sync::sync_invite,
            sync::sync_approve,
            sync::sync_revoke,
            export::export_document,
            tasks::due_tasks,
            tasks::case_tasks,
            tasks::add_task,
            tasks::update_task,
            tasks::diary,
            export::export_file_names,
            teams::sync_teams,
            teams::move_client,
            teams::create_team,
            teams::set_device_teams,
            reports::report_setup,
            reports::report_return,
            reports::report_cases,
            reports::export_return,
            reports::service_dashboard,
            reports::set_contract,
        ])
        .setup(|app| {
            session::spawn_watcher(app.handle().clone());
            sync::spawn_background_sync(app.handle().clone());
            Ok(())
        })
}

/// Build the session from the arguments: which store, which rules, the demo store if asked.
pub fn session_from(args: &Args) -> Result<Session, String> {
    // One clock for the store and the app; a malformed setting stops here, not silently.
    wardside_store::clock::Clock::from_env().map_err(|e| e.to_string())?;
    let rules =
        wardside_store::config::load_rules(args.rules.as_deref()).map_err(|e| e.to_string())?;
    let settings =
        SettingsFile::load(wardside_store::config::config_dir().map(|d| d.join("settings.json")));
    if args.demo {
        let db = wardside_store::config::demo_db_path()
            .ok_or("could not find a data directory for the demo store")?;
        let pass = std::env::var("WARDSIDE_DEMO_PASSPHRASE").unwrap_or(DEMO_PASSPHRASE.into());
        if !db.exists() {
            create_demo_store(&db, &pass).map_err(|e| e.to_string())?;
        }
        return Ok(Session::new(db, rules, settings, Some(pass)));
    }
    let db = match &args.db {
        Some(db) => db.clone(),
        None => wardside_store::config::default_db_path()
            .ok_or("could not find a data directory for this user; pass --db PATH")?,
    };
    Ok(Session::new(db, rules, settings, None))
}

fn create_demo_store(db: &std::path::Path, pass: &str) -> wardside_store::Result<()> {
    eprintln!(
        "Creating a demo store of 300 synthetic people at {}",
        db.display()
    );
    let mut store = Store::create(db, &wardside_store::Passphrase::new(pass), "Demo Advocate")?;
    let today = commands::today();
    let cfg = wardside_domain::demo::DemoConfig::new(300, 1, today);
    wardside_store::demo::load(&mut store, &cfg, |_| {})?;
    store.lock()
}

use wardside_store::Store;

/// WebKit's browser defaults keep pages and resources cached in memory and on disk, and
/// composite with the GPU; an app of forms and text needs none of it. The document-viewer cache
/// model keeps nothing cached, and software rendering saves ~80 MiB in WebKit's web process
/// (docs/PERFORMANCE.md, app benchmark). `WARDSIDE_WEBKIT_GPU=1` restores WebKit's default.
fn quiet_webview(webview: &tauri::Webview) {
    #[cfg(target_os = "linux")]
    let _ = webview.with_webview(|w| {
        use webkit2gtk::{
            CacheModel, HardwareAccelerationPolicy, SettingsExt, WebContextExt, WebViewExt,
        };
        let view = w.inner();
        if let Some(context) = view.context() {
            context.set_cache_model(CacheModel::DocumentViewer);
        }
        if std::env::var_os("WARDSIDE_WEBKIT_GPU").is_none()
            && let Some(settings) = WebViewExt::settings(&view)
        {
            settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
        }
    });
    #[cfg(not(target_os = "linux"))]
    let _ = webview;
}

/// Start the desktop app.
pub fn run() {
    // Warnings (never content: ids and counts only) on stderr; WARDSIDE_LOG adjusts.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("WARDSIDE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false)
        .init();
    let args = Args::parse();
    let session = match session_from(&args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("wardside-app: {e}");
            std::process::exit(2);
        }
    };
    let app = app_builder(tauri::Builder::default())
        .on_page_load(|webview, _| quiet_webview(webview))
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            if let Some(w) = app.get_webview_window("main") {
                let _ = w.unminimize();
                let _ = w.set_focus();
            }
        }))
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_dialog::init())
        .manage(session)
        .build(tauri::generate_context!());
    match app {
        Ok(app) => app.run(|_, _| {}),
        Err(e) => {
            eprintln!("wardside-app: could not start the window: {e}");
            std::process::exit(1);
        }
    }
}

#[cfg(test)]
mod permission_tests {
    /// Every command the app registers is in build.rs's list and granted to the window: a
    /// command missing from either fails in the app with "not allowed", which the screen can
    /// only show as "Something went wrong".
    #[test]
    fn every_registered_command_is_permitted_and_nothing_else_is() {
        let lib = include_str!("lib.rs");
        let start = lib.find("generate_handler![").expect("the handler list");
        let end = start + lib[start..].find("])").expect("its end");
        let mut registered: Vec<String> = lib[start + "generate_handler![".len()..end]
            .split(',')
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .map(|s| s.rsplit("::").next().unwrap_or(s).to_owned())
            .collect();
        registered.sort();
        let build = include_str!("../build.rs");
        let list = &build[build.find("COMMANDS").expect("COMMANDS")..];
        let list = &list[..list.find("];").expect("the list's end")];
        let mut built: Vec<String> = list
            .split('"')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect();
        built.sort();
        assert_eq!(registered, built, "build.rs's COMMANDS");
        let caps: serde_json::Value =
            serde_json::from_str(include_str!("../capabilities/default.json")).expect("JSON");
        let mut granted: Vec<String> = caps["permissions"]
            .as_array()
            .expect("a list")
            .iter()
            .filter_map(|p| p.as_str()?.strip_prefix("allow-"))
            .map(|p| p.replace('-', "_"))
            .collect();
        granted.sort();
        assert_eq!(registered, granted, "capabilities/default.json");
    }
}
