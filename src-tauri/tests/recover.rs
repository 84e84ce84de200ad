#![allow(clippy::unwrap_used)]
//! The app's `sync_recover` command on Tauri's mock runtime, through the real capability file:
//! mistyped recovery words come back as a plain "invalid" error that echoes none of the words,
//! and nothing is enrolled. (The recovery itself, against a real service, is tested in the
//! sync client and end to end with the CLI.)

use serde_json::{Value, json};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder};
use tauri::webview::{InvokeRequest, WebviewWindow};
use wardside_app::session::Session;
use wardside_app::settings::SettingsFile;
use wardside_domain::rules::Rules;

const PASS: &str = "kettle orbit marmalade lantern";

fn call(window: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
    get_ipc_response(
        window,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|b| b.deserialize::<Value>().unwrap())
}

#[test]
fn mistyped_recovery_words_are_refused_plainly_and_enrol_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let session = Session::new(
        dir.path().join("store").join("wardside.db"),
        Rules::shipped().unwrap(),
        SettingsFile::load(None),
        None,
    );
    let app = wardside_app::app_builder(mock_builder())
        .manage(session)
        .build(tauri::generate_context!())
        .unwrap();
    let window = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    call(
        &window,
        "create_store",
        json!({"advocate": "Ann Advocate", "passphrase": PASS, "confirm": PASS}),
    )
    .unwrap();

    // 24 words, one of them not on the list (the address is never reached).
    let words = ["abandon"; 23].join(" ") + " harbourr";
    let e = call(
        &window,
        "sync_recover",
        json!({"server": "http://127.0.0.1:9", "words": words, "name": "New laptop"}),
    )
    .unwrap_err();
    assert_eq!(e["code"], "invalid", "{e}");
    let message = e["message"].as_str().unwrap();
    assert!(
        message.contains("recovery words are not valid"),
        "{message}"
    );
    assert!(
        !message.contains("harbourr") && !message.contains("abandon"),
        "{message}"
    );
    // Nothing enrolled.
    let status = call(&window, "sync_status", json!({})).unwrap();
    assert!(status["config"].is_null(), "{status}");
}
