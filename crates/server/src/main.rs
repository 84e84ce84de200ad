//! `wardside-server`: the central service.
//!
//!     wardside-server --database sqlite://PATH|postgres://... --listen 127.0.0.1:PORT
//!
//! Serves until stopped (Ctrl+C or SIGTERM). TLS: run behind a reverse proxy that terminates
//! it (docs to follow with enrolment); the service itself speaks HTTP on the given address.

use clap::Parser;
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
    #[arg(long, env = "WARDSIDE_DATABASE")]
    database: String,
    /// Address to listen on.
    #[arg(long, env = "WARDSIDE_LISTEN", default_value = "127.0.0.1:8740")]
    listen: String,
}

async fn serve<S: Storage>(storage: S, listen: &str) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("could not listen on {listen}: {e}"))?;
    eprintln!("wardside-server: listening on {listen}");
    axum::serve(listener, router(Arc::new(AppState::new(storage))))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| format!("the server stopped: {e}"))
}

async fn run(args: Args) -> Result<(), String> {
    if let Some(path) = args.database.strip_prefix("sqlite://") {
        let storage = SqliteStorage::open(std::path::Path::new(path)).map_err(|e| e.to_string())?;
        serve(storage, &args.listen).await
    } else if args.database.starts_with("postgres://") || args.database.starts_with("postgresql://")
    {
        let storage = PostgresStorage::open(&args.database)
            .await
            .map_err(|e| e.to_string())?;
        serve(storage, &args.listen).await
    } else {
        Err("--database must start with sqlite:// or postgres://".into())
    }
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    if let Err(e) = run(args).await {
        eprintln!("wardside-server: {e}");
        std::process::exit(1);
    }
}
