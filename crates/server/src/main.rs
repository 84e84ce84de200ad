//! `wardside-server`: the central service.
//!
//!     wardside-server --database sqlite://PATH|postgres://... --listen 127.0.0.1:PORT [--metrics-listen 127.0.0.1:PORT]
//!     wardside-server --database URL init-org --name NAME --json
//!     wardside-server --config wardside-server.toml
//!     wardside-server --database sqlite://PATH backup --out FILE
//!     wardside-server --database sqlite://PATH restore --from FILE
//!     wardside-server --database URL mark-restored
//!
//! Settings: flags, then `WARDSIDE_DATABASE` / `WARDSIDE_LISTEN`, then the file. Serves until
//! stopped (Ctrl+C or SIGTERM, finishing requests in flight). TLS: run it behind a reverse proxy
//! that terminates TLS; the service itself speaks HTTP on the given address. Logs go to stderr,
//! as text or (`--log-format json`) one JSON object per line. The runbook: docs/OPERATIONS.md.

use clap::{Parser, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use wardside_server::http::{AppState, router};
use wardside_server::storage::Storage;
use wardside_server::storage::backup::{self, ServingLock};
use wardside_server::storage::postgres::PostgresStorage;
use wardside_server::storage::sqlite::SqliteStorage;

#[derive(Debug, Parser)]
#[command(
    name = "wardside-server",
    version,
    about = "Wardside's central sync service"
)]
struct Args {
    /// sqlite://PATH (one file) or postgres://USER:PASSWORD@HOST/DB
    #[arg(long, env = "WARDSIDE_DATABASE", hide_env_values = true)]
    database: Option<String>,
    /// Address to listen on (default 127.0.0.1:8740).
    #[arg(long, env = "WARDSIDE_LISTEN")]
    listen: Option<String>,
    /// Serve Prometheus `/metrics` on this address only (none by default): keep it off the
    /// address devices reach.
    #[arg(long, env = "WARDSIDE_METRICS_LISTEN")]
    metrics_listen: Option<String>,
    /// A TOML file with `database`, `listen` and `metrics_listen`.
    #[arg(long, env = "WARDSIDE_CONFIG")]
    config: Option<PathBuf>,
    /// How log lines look: `text` (default) or `json` (one object per line, for a collector).
    #[arg(long, env = "WARDSIDE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create an organisation and print the one-time code its first (admin) device enrols with.
    InitOrg {
        #[arg(long)]
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Write a consistent copy of the SQLite database to FILE, while the service runs.
    /// (PostgreSQL: use pg_dump or point-in-time recovery; see docs/OPERATIONS.md.)
    Backup {
        #[arg(long)]
        out: PathBuf,
    },
    /// Replace the SQLite database with a backup (stop the service first); devices then see a
    /// new storage generation and give back what the backup lacks.
    Restore {
        #[arg(long)]
        from: PathBuf,
    },
    /// Give the storage a new generation: the step after restoring it by other means (PostgreSQL's
    /// pg_restore or point-in-time recovery, or a file copied back), before starting the service.
    MarkRestored,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

const POSTGRES_BACKUP: &str = "backup and restore work on a SQLite database; for PostgreSQL use pg_dump (or point-in-time recovery) and pg_restore, then run `wardside-server mark-restored` (docs/OPERATIONS.md, \"PostgreSQL\")";

async fn act<S: Storage>(
    storage: S,
    args: &Args,
    listen: &str,
    metrics_listen: Option<&str>,
) -> Result<(), String> {
    match &args.command {
        None => serve(storage, listen, metrics_listen).await,
        Some(Command::InitOrg { name, json }) => {
            let org = wardside_server::init_org(&storage, name)
                .await
                .map_err(|e| e.to_string())?;
            if *json {
                println!(
                    "{}",
                    serde_json::to_string(&org).map_err(|e| e.to_string())?
                );
            } else {
                println!(
                    "Organisation {} created.\nEnrolment code for its first (admin) device: {}\nThe code works once, for 7 days.",
                    org.org_id, org.enrolment_code
                );
            }
            Ok(())
        }
        Some(Command::MarkRestored) => {
            let old = storage.generation().await.map_err(|e| e.to_string())?;
            let new = storage.new_generation().await.map_err(|e| e.to_string())?;
            println!(
                "Storage generation changed from {old} to {new}.\nStart the service: each device will notice at its next sync that the service was restored, and give back what it lacks."
            );
            Ok(())
        }
        // Handled before the storage is opened (SQLite) or refused (PostgreSQL).
        Some(Command::Backup { .. } | Command::Restore { .. }) => Err(POSTGRES_BACKUP.into()),
    }
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

fn backup_sqlite(db: &Path, out: &Path) -> Result<(), String> {
    let s = backup::backup(db, out).map_err(|e| e.to_string())?;
    println!(
        "Backed up {} to {}: {} organisation(s), {} op(s), {} (schema {}).\nRestore it with: wardside-server --database sqlite://{} restore --from {}",
        db.display(),
        out.display(),
        s.organisations,
        s.ops,
        megabytes(s.bytes),
        s.schema,
        db.display(),
        out.display()
    );
    Ok(())
}

async fn restore_sqlite(db: &Path, from: &Path) -> Result<(), String> {
    let r = backup::restore(db, from, chrono::Utc::now())
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "Restored {} from {}: {} organisation(s), {} op(s) (schema {}).",
        db.display(),
        from.display(),
        r.summary.organisations,
        r.summary.ops,
        r.summary.schema
    );
    if let Some(kept) = &r.kept {
        println!("The database it replaced is kept as {}.", kept.display());
    }
    let was = r
        .old_generation
        .map_or_else(|| "none".to_owned(), |g| g.to_string());
    println!(
        "New storage generation: {} (the backup's was {was}).\nStart the service: each device will notice at its next sync that the service was restored, and give back what the backup lacks.",
        r.new_generation
    );
    Ok(())
}

async fn serve<S: Storage>(
    storage: S,
    listen: &str,
    metrics_listen: Option<&str>,
) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("could not listen on {listen}: {e}"))?;
    let state = Arc::new(AppState::new(storage));
    if let Some(addr) = metrics_listen {
        let metrics = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("could not listen on {addr}: {e}"))?;
        tracing::info!(listen = addr, "metrics listening");
        let app = wardside_server::http::metrics_router(state.clone());
        tokio::spawn(async move {
            let _ = axum::serve(metrics, app)
                .with_graceful_shutdown(stopped())
                .await;
        });
    }
    tracing::info!(listen, "wardside-server listening");
    axum::serve(wardside_server::http::nodelay(listener), router(state))
        .with_graceful_shutdown(stopped())
        .await
        .map_err(|e| format!("the server stopped: {e}"))
}

/// Ctrl+C or SIGTERM.
async fn stopped() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

async fn run(args: Args) -> Result<(), String> {
    use wardside_server::config::{ConfigFile, Settings};
    let file = match &args.config {
        Some(path) => ConfigFile::read(path).map_err(|e| e.to_string())?,
        None => ConfigFile::default(),
    };
    let settings = Settings::resolve(
        file,
        args.database.clone(),
        args.listen.clone(),
        args.metrics_listen.clone(),
    )
    .map_err(|e| e.to_string())?;
    let database = settings.database.as_str();
    let listen = settings.listen.as_str();
    let metrics = settings.metrics_listen.as_deref();
    if let Some(path) = database.strip_prefix("sqlite://") {
        let path = Path::new(path);
        match &args.command {
            Some(Command::Backup { out }) => return backup_sqlite(path, out),
            Some(Command::Restore { from }) => return restore_sqlite(path, from).await,
            _ => {}
        }
        // While serving, `restore` refuses to replace the file under the service.
        let _serving = match args.command {
            None => Some(ServingLock::take(path).map_err(|e| e.to_string())?),
            Some(_) => None,
        };
        let storage = SqliteStorage::open(path).map_err(|e| e.to_string())?;
        act(storage, &args, listen, metrics).await
    } else if database.starts_with("postgres://") || database.starts_with("postgresql://") {
        if matches!(
            args.command,
            Some(Command::Backup { .. } | Command::Restore { .. })
        ) {
            return Err(POSTGRES_BACKUP.into());
        }
        let storage = PostgresStorage::open(database)
            .await
            .map_err(|e| e.to_string())?;
        act(storage, &args, listen, metrics).await
    } else {
        Err("--database must start with sqlite:// or postgres://".into())
    }
}

/// One line per request on stderr, as text or JSON; RUST_LOG adjusts (default info).
fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let fmt = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false);
    match format {
        LogFormat::Text => fmt.init(),
        // The event's fields at the top level of each object, beside time, level and target.
        LogFormat::Json => fmt.json().flatten_event(true).init(),
    }
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    init_logging(args.log_format);
    if let Err(e) = run(args).await {
        eprintln!("wardside-server: {e}");
        std::process::exit(1);
    }
}
