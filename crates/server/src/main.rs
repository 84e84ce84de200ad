//! `wardside-server`: the central service.
//!
//!     wardside-server --database sqlite://PATH|postgres://... --listen 127.0.0.1:PORT [--metrics-listen 127.0.0.1:PORT]
//!     wardside-server --database URL init-org --name NAME --json
//!     wardside-server --config wardside-server.toml
//!
//! Settings: flags, then `WARDSIDE_DATABASE` / `WARDSIDE_LISTEN`, then the file. Serves until
//! stopped (Ctrl+C or SIGTERM, finishing requests in flight). TLS: run it behind a reverse proxy
//! that terminates TLS; the service itself speaks HTTP on the given address.

use clap::{Parser, Subcommand};
use std::sync::Arc;
use wardside_server::http::{AppState, router};
use wardside_server::storage::Storage;
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
    config: Option<std::path::PathBuf>,
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
}

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
    }
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
        let storage = SqliteStorage::open(std::path::Path::new(path)).map_err(|e| e.to_string())?;
        act(storage, &args, listen, metrics).await
    } else if database.starts_with("postgres://") || database.starts_with("postgresql://") {
        let storage = PostgresStorage::open(database)
            .await
            .map_err(|e| e.to_string())?;
        act(storage, &args, listen, metrics).await
    } else {
        Err("--database must start with sqlite:// or postgres://".into())
    }
}

#[tokio::main]
async fn main() {
    // One line per request on stderr; RUST_LOG adjusts (default info).
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    let args = Args::parse();
    if let Err(e) = run(args).await {
        eprintln!("wardside-server: {e}");
        std::process::exit(1);
    }
}
