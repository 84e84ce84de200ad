//! Helpers for driving the real desktop app through WebDriver: start `tauri-driver` (which
//! starts WebKitWebDriver, which starts the app) with a private home, data and cache directory
//! per run, connect, and always stop the driver again, even when a test fails.

use fantoccini::{Client, ClientBuilder, Locator};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

/// Where the app keeps everything during one run: its store, and the webview's own data and
/// cache directories (checked for leaks afterwards).
#[derive(Debug)]
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> std::io::Result<Self> {
        Ok(Sandbox {
            dir: tempfile::Builder::new().prefix("wardside-e2e").tempdir()?,
        })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn db(&self) -> PathBuf {
        self.path().join("data/wardside/wardside.db")
    }

    /// Every file under the sandbox whose bytes contain `needle`.
    pub fn files_containing(&self, needle: &[u8]) -> Vec<PathBuf> {
        fn walk(dir: &Path, needle: &[u8], out: &mut Vec<PathBuf>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, needle, out);
                } else if let Ok(bytes) = std::fs::read(&p)
                    && bytes.windows(needle.len()).any(|w| w == needle)
                {
                    out.push(p);
                }
            }
        }
        let mut out = Vec::new();
        walk(self.path(), needle, &mut out);
        out
    }

    /// Every file the run left, for the report.
    pub fn list(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                if e.path().is_dir() {
                    walk(&e.path(), out);
                } else {
                    out.push(e.path());
                }
            }
        }
        let mut out = Vec::new();
        walk(self.path(), &mut out);
        out.sort();
        out
    }

    /// How many files the run left, for the report.
    pub fn file_count(&self) -> usize {
        fn walk(dir: &Path) -> usize {
            std::fs::read_dir(dir)
                .map(|es| {
                    es.flatten()
                        .map(|e| {
                            if e.path().is_dir() {
                                walk(&e.path())
                            } else {
                                1
                            }
                        })
                        .sum()
                })
                .unwrap_or(0)
        }
        walk(self.path())
    }
}

/// A running tauri-driver; killed when dropped.
#[derive(Debug)]
pub struct Driver {
    child: Child,
    pub port: u16,
}

impl Driver {
    pub fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(4444)
}

/// `tauri-driver` from PATH or `$TAURI_DRIVER`, the app using the sandbox's default store.
pub fn start_driver(sandbox: &Sandbox) -> std::io::Result<Driver> {
    start_driver_with(sandbox, None)
}

/// The same, with the app opening the store at `db`.
pub fn start_driver_with(sandbox: &Sandbox, db: Option<&Path>) -> std::io::Result<Driver> {
    start_driver_env(sandbox, db, &[])
}

/// The same, with extra environment for the app (e.g. where an export is saved, since the
/// system's file dialog cannot be driven).
pub fn start_driver_env(
    sandbox: &Sandbox,
    db: Option<&Path>,
    env: &[(&str, &std::ffi::OsStr)],
) -> std::io::Result<Driver> {
    let port = free_port();
    let native = free_port();
    let exe = std::env::var("TAURI_DRIVER").unwrap_or_else(|_| "tauri-driver".into());
    let home = sandbox.path().join("home");
    std::fs::create_dir_all(&home)?;
    let child = Command::new(exe)
        .args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native.to_string(),
        ])
        .env("HOME", &home)
        .env("XDG_DATA_HOME", sandbox.path().join("data"))
        .env("XDG_CONFIG_HOME", sandbox.path().join("config"))
        .env("XDG_CACHE_HOME", sandbox.path().join("cache"))
        .env("XDG_RUNTIME_DIR", sandbox.path().join("run"))
        .env_remove("WARDSIDE_DB")
        .env_remove("WARDSIDE_RULES")
        .envs(db.map(|p| ("WARDSIDE_DB", p.as_os_str().to_owned())))
        .envs(env.iter().map(|(k, v)| (*k, v.to_owned())))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    std::fs::create_dir_all(sandbox.path().join("run"))?;
    Ok(Driver { child, port })
}

/// The app binary under test: `$WARDSIDE_APP`, else the workspace's debug build.
pub fn app_binary() -> PathBuf {
    if let Ok(p) = std::env::var("WARDSIDE_APP") {
        return PathBuf::from(p);
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("debug/wardside-app")
}

/// Start the app (a new WebDriver session) and wait until it answers.
pub async fn launch(driver: &Driver) -> Result<Client, String> {
    launch_binary(driver, &app_binary()).await
}

/// Start a given Tauri binary through the driver.
pub async fn launch_binary(driver: &Driver, binary: &Path) -> Result<Client, String> {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "tauri:options".into(),
        serde_json::json!({"application": binary}),
    );
    caps.insert("browserName".into(), "wry".into());
    let url = format!("http://127.0.0.1:{}", driver.port);
    let mut last = String::new();
    for _ in 0..100 {
        match ClientBuilder::new(hyper_connector())
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(c) => return Ok(c),
            Err(e) => {
                last = e.to_string();
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    Err(format!("could not start the app through {url}: {last}"))
}

fn hyper_connector() -> hyper_util::client::legacy::connect::HttpConnector {
    hyper_util::client::legacy::connect::HttpConnector::new()
}

/// Wait for an element by CSS selector.
pub async fn find(c: &Client, css: &str) -> Result<fantoccini::elements::Element, String> {
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css(css))
        .await
        .map_err(|e| format!("{css}: {e}"))
}

/// Wait until the page's text contains `text`.
pub async fn wait_for_text(c: &Client, text: &str) -> Result<(), String> {
    for _ in 0..150 {
        let body = c
            .find(Locator::Css("body"))
            .await
            .map_err(|e| e.to_string())?
            .text()
            .await
            .map_err(|e| e.to_string())?;
        if body.contains(text) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("the page never showed {text:?}"))
}

/// Run axe-core on the page; returns the serious and critical violations as
/// "rule-id: help (n nodes)" lines.
pub async fn axe(c: &Client, axe_source: &str) -> Result<Vec<String>, String> {
    c.execute(&format!("{axe_source}\n;return typeof axe;"), vec![])
        .await
        .map_err(|e| format!("injecting axe-core: {e}"))?;
    let out = c
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               axe.run(document, { resultTypes: ["violations"], runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"] } })
                 .then(r => done(r.violations
                    .filter(v => v.impact === "serious" || v.impact === "critical")
                    .map(v => v.id + ": " + v.help + " (" + v.nodes.length + " nodes: " + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", ") + ")")))
                 .catch(e => done(["axe failed: " + e]));"#,
            vec![],
        )
        .await
        .map_err(|e| format!("running axe-core: {e}"))?;
    Ok(out
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default())
}

/// Replace an input's text, as typed.
pub async fn type_into(c: &Client, css: &str, text: &str) {
    let el = find(c, css).await.expect("the field is there");
    el.clear().await.ok();
    el.send_keys(text)
        .await
        .unwrap_or_else(|e| panic!("typing into {css}: {e}"));
}

/// Click an element once it is there.
pub async fn click(c: &Client, css: &str) {
    find(c, css)
        .await
        .expect("the element is there")
        .click()
        .await
        .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
}

/// Keys sent to whatever has focus, as a person would press them.
pub async fn press(c: &Client, keys: &str) {
    c.active_element()
        .await
        .expect("something has focus")
        .send_keys(keys)
        .await
        .unwrap_or_else(|e| panic!("pressing keys: {e}"));
}

/// Choose a legal status in New client's status picker (a combobox): type, then Enter takes
/// the first match.
pub async fn pick_status(c: &Client, css: &str, typed: &str) {
    use fantoccini::key::Key;
    type_into(c, css, typed).await;
    find(c, &format!("{css}-list li[role=option]"))
        .await
        .expect("the status list offers a match");
    find(c, css)
        .await
        .expect("the status picker is there")
        .send_keys(&char::from(Key::Enter).to_string())
        .await
        .unwrap_or_else(|e| panic!("choosing a status: {e}"));
}

/// A key chord with Control held.
pub fn ctrl(k: char) -> String {
    use fantoccini::key::Key;
    format!("{}{k}{}", char::from(Key::Control), char::from(Key::Null))
}

// ---- processes (for killing the app mid-draft and for the benchmark) ----

/// The fields of `/proc/PID/stat` after the command name.
pub fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may contain spaces.
    let close = s.rfind(')')?;
    Some(s[close + 2..].split(' ').map(str::to_owned).collect())
}

fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        if let Some(p) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok())
            && stat_fields(p).and_then(|f| f.get(1).and_then(|pp| pp.parse::<u32>().ok()))
                == Some(pid)
        {
            out.push(p);
        }
    }
    out
}

/// Every process below `pid`.
pub fn descendants(pid: u32) -> Vec<u32> {
    let mut out = vec![];
    let mut stack = vec![pid];
    while let Some(p) = stack.pop() {
        for c in children(p) {
            out.push(c);
            stack.push(c);
        }
    }
    out
}

/// The process running `binary` under the driver.
pub fn find_process(driver_pid: u32, binary: &Path) -> Option<u32> {
    let want = std::fs::canonicalize(binary).ok()?;
    descendants(driver_pid)
        .into_iter()
        .find(|p| std::fs::read_link(format!("/proc/{p}/exe")).ok().as_deref() == Some(&want))
}

/// Kill the app as a crash would (SIGKILL: no handler, no clean-up).
pub fn kill_hard(pid: u32) {
    let _ = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status();
}

/// axe-core's script, from the UI's npm packages.
pub fn axe_source() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../ui/node_modules/axe-core/axe.min.js"
    );
    std::fs::read_to_string(path).expect("axe-core is installed with the UI's npm packages")
}

/// Run axe-core on the page and add its serious and critical violations to `report`, each
/// marked with the screen it was found on.
pub async fn check_axe(c: &Client, screen: &str, report: &mut Vec<String>) {
    for v in axe(c, &axe_source()).await.expect("axe runs") {
        report.push(format!("{screen}: {v}"));
    }
}

/// Run a script in the page and return what it returns.
pub async fn js(c: &Client, script: &str) -> serde_json::Value {
    c.execute(script, vec![])
        .await
        .unwrap_or_else(|e| panic!("running {script}: {e}"))
}

/// The text of an element once it is there.
pub async fn text_of(c: &Client, css: &str) -> String {
    find(c, css)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .text()
        .await
        .unwrap_or_else(|e| panic!("reading {css}: {e}"))
}

/// The current value of a form field.
pub async fn value(c: &Client, css: &str) -> String {
    find(c, css)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .prop("value")
        .await
        .unwrap_or_else(|e| panic!("reading {css}: {e}"))
        .unwrap_or_default()
}

/// Wait (up to 5 s) until nothing matches `css`; false if something still does.
pub async fn gone(c: &Client, css: &str) -> bool {
    for _ in 0..50 {
        if c.find(Locator::Css(css)).await.is_err() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// The id of the element that has focus ("" when it has none).
pub async fn focused_id(c: &Client) -> String {
    js(
        c,
        "return document.activeElement && document.activeElement.id",
    )
    .await
    .as_str()
    .unwrap_or("")
    .to_owned()
}

/// Click the button whose words contain `words`, from the top of the page (so the sticky
/// header never covers it).
pub async fn click_button(c: &Client, words: &str) {
    js(c, "window.scrollTo(0, 0)").await;
    let xpath = format!("//button[contains(normalize-space(.), \"{words}\")]");
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::XPath(&xpath))
        .await
        .unwrap_or_else(|e| panic!("a button saying {words:?}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("clicking {words:?}: {e}"));
}

/// Type the passphrase on the lock screen and press Enter.
pub async fn unlock(c: &Client, pass: &str) {
    type_into(c, "#passphrase", pass).await;
    press(c, &char::from(fantoccini::key::Key::Enter).to_string()).await;
}

/// Fill a coded-list select (the forms' `Choices`), scrolled to the middle first (the header is
/// sticky, and WebKitWebDriver refuses an option of a select it cannot see whole).
pub async fn choose(c: &Client, css: &str, code: &str) {
    let select = find(c, css).await.unwrap_or_else(|e| panic!("{e}"));
    c.execute(
        "arguments[0].scrollIntoView({ block: 'center' }); return null;",
        vec![serde_json::to_value(&select).unwrap_or_default()],
    )
    .await
    .unwrap_or_else(|e| panic!("scrolling to {css}: {e}"));
    select
        .select_by_value(code)
        .await
        .unwrap_or_else(|e| panic!("choosing {code} in {css}: {e}"));
}

/// Press a page form's save button (New client, Sync) scrolled to the middle first: the header
/// is sticky and a long form puts the button under it.
pub async fn save_client(c: &Client) {
    js(
        c,
        "document.querySelector('form.form button[type=submit]').scrollIntoView({ block: 'center' }); return null;",
    )
    .await;
    click(c, "form.form button[type=submit]").await;
}

/// A screenshot to look at, once the page has settled: `<name>.png` in the folder
/// `$WARDSIDE_SCREENSHOTS` names (else `wardside-e2e-shots` in the temporary directory).
/// Returns where it was written.
pub async fn screenshot(c: &Client, name: &str) -> PathBuf {
    let dir = std::env::var_os("WARDSIDE_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("wardside-e2e-shots"));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    // WebKitWebDriver takes the picture at the page's next paint: on a page where nothing moves
    // (no caret blinking) that can be minutes away, so something invisible is painted shortly.
    js(
        c,
        "const d = document.createElement('div');
         d.style.cssText = 'position:fixed;left:0;top:0;width:1px;height:1px;opacity:0.01;pointer-events:none';
         document.body.appendChild(d);
         setTimeout(() => d.remove(), 800);
         return null;",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let png = c
        .screenshot()
        .await
        .unwrap_or_else(|e| panic!("taking a screenshot: {e}"));
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, png).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    path
}
