//! What the command-line tests share: the real `wardside` and `wardside-server` binaries, a
//! service on 127.0.0.1, and a laptop's store driven through the CLI.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

pub const PASS: &str = "plum kettle harbour";

/// The server binary beside ours; built if this test runs on its own.
pub fn server_bin() -> PathBuf {
    let ours = PathBuf::from(env!("CARGO_BIN_EXE_wardside"));
    let bin = ours.with_file_name("wardside-server");
    if !bin.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "wardside-server", "--bin", "wardside-server"])
            .status()
            .unwrap();
        assert!(status.success(), "building wardside-server failed");
    }
    bin
}

/// A running `wardside-server` on a SQLite file in a test's folder.
pub struct Service {
    pub child: Child,
    pub url: String,
    pub db: String,
    pub file: PathBuf,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn service(dir: &Path) -> Service {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    service_at(dir, port)
}

/// The service on a given port (started again after a restore, where the laptops expect it).
pub fn service_at(dir: &Path, port: u16) -> Service {
    std::fs::create_dir_all(dir).unwrap();
    let file = dir.join("server.db");
    let db = format!("sqlite://{}", file.display());
    let mut child = Command::new(server_bin())
        .args(["--database", &db, "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Service {
                child,
                url,
                db,
                file,
            };
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("wardside-server did not start");
}

/// A laptop: its store, driven through the real `wardside` binary.
pub struct Device {
    pub db: PathBuf,
}

impl Device {
    pub fn new(dir: &Path, name: &str) -> Device {
        let d = Device {
            db: dir.join(name).join("wardside.db"),
        };
        let out = d.run(&["init", "--advocate", name]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        d
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_wardside"));
        c.arg("--db")
            .arg(&self.db)
            .args(args)
            .env("WARDSIDE_PASSPHRASE", PASS)
            .env_remove("WARDSIDE_DB")
            .env_remove("WARDSIDE_RULES")
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// A person with `status` (and any more `client add` arguments) and an open case: (client
    /// id, case id).
    pub fn client_with_case(&self, name: &str, status: &str, more: &[&str]) -> (String, String) {
        let mut args = vec![
            "client",
            "add",
            "--name",
            name,
            "--status",
            status,
            "--status-since",
            "2026-11-01",
            "--json",
        ];
        args.extend_from_slice(more);
        let client = self.json(&args)["id"].as_str().unwrap().to_owned();
        let case = self.json(&["case", "open", "--client", &client, "--json"])["id"]
            .as_str()
            .unwrap()
            .to_owned();
        (client, case)
    }

    /// A private interview with `text` as its note.
    pub fn note(&self, case: &str, text: &str) {
        self.json(&[
            "activity",
            "add",
            "--case",
            case,
            "--kind",
            "private-interview",
            "--at",
            "2026-11-21T10:30",
            "--text",
            text,
            "--json",
        ]);
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{args:?}: not JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }
}
