//! The service's Debian package, built by scripts/package-server.sh from this test's (debug)
//! build of the server: what it installs, its conffile, the hardened unit (checked by
//! `systemd-analyze verify` inside the script), and settings the packaged binary accepts.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

fn tool(name: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn the_server_deb_installs_the_binary_its_settings_and_a_hardened_unit() {
    if !tool("dpkg-deb") {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs on Debian: dpkg-deb must be there"
        );
        eprintln!("packaging test skipped: no dpkg-deb on this machine");
        return;
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = tempfile::tempdir().unwrap();
    let built = Command::new("bash")
        .arg(repo.join("scripts/package-server.sh"))
        .args(["--binary", env!("CARGO_BIN_EXE_wardside-server"), "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&built.stdout).into_owned()
        + &String::from_utf8_lossy(&built.stderr);
    assert!(built.status.success(), "{log}");
    if tool("systemd-analyze") {
        assert!(log.contains("==> systemd-analyze verify"), "{log}");
    }
    let deb = std::fs::read_dir(out.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "deb"))
        .expect("a .deb");
    assert!(
        deb.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("wardside-server_")
    );

    let root = out.path().join("root");
    let control = out.path().join("control");
    for (flag, dir) in [("-x", &root), ("-e", &control)] {
        let ok = Command::new("dpkg-deb")
            .arg(flag)
            .arg(&deb)
            .arg(dir)
            .status()
            .unwrap();
        assert!(ok.success());
    }
    for path in [
        "usr/bin/wardside-server",
        "etc/wardside-server/wardside-server.toml",
        "lib/systemd/system/wardside-server.service",
        "lib/systemd/system/wardside-server-backup.service",
        "lib/systemd/system/wardside-server-backup.timer",
        "usr/share/doc/wardside-server/OPERATIONS.md",
    ] {
        assert!(root.join(path).is_file(), "{path} is in the package");
    }
    let read = |p: &Path| std::fs::read_to_string(p).unwrap();
    assert_eq!(
        read(&control.join("conffiles")).trim(),
        "/etc/wardside-server/wardside-server.toml"
    );
    let fields = read(&control.join("control"));
    assert!(fields.contains("Package: wardside-server"), "{fields}");
    assert!(fields.contains("Depends: libc6 (>= "), "{fields}");
    // The postinst makes the service's own user; settings readable by it and root only.
    let postinst = read(&control.join("postinst"));
    assert!(postinst.contains("useradd --system"), "{postinst}");
    assert!(postinst.contains("chmod 0640 /etc/wardside-server/wardside-server.toml"));

    let unit = read(&root.join("lib/systemd/system/wardside-server.service"));
    for line in [
        "User=wardside-server",
        "StateDirectory=wardside-server",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "PrivateDevices=yes",
        "ProtectKernelTunables=yes",
        "ProtectKernelModules=yes",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
        "CapabilityBoundingSet=\n",
        "SystemCallFilter=@system-service",
        "MemoryDenyWriteExecute=yes",
        "Restart=on-failure",
        "ExecStart=/usr/bin/wardside-server --config /etc/wardside-server/wardside-server.toml",
    ] {
        assert!(unit.contains(line), "the unit has {line:?}");
    }

    // The packaged settings: SQLite in the state directory, on the loopback address; the
    // packaged binary reads them (here with the database moved to a temporary file).
    let settings = root.join("etc/wardside-server/wardside-server.toml");
    let text = read(&settings);
    assert!(text.contains("database = \"sqlite:///var/lib/wardside-server/server.db\""));
    assert!(text.contains("listen = \"127.0.0.1:8740\""));
    let db = format!("sqlite://{}", out.path().join("server.db").display());
    let ran = Command::new(root.join("usr/bin/wardside-server"))
        .arg("--config")
        .arg(&settings)
        .args([
            "--database",
            &db,
            "init-org",
            "--name",
            "Packaged",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
}
