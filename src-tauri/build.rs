// The app's own commands get permissions of their own (allow-<command>), granted to the main
// window in capabilities/default.json: a command not listed here cannot be called at all.
const COMMANDS: &[&str] = &[
    "session_status",
    "create_store",
    "unlock",
    "lock",
    "touch",
    "settings",
    "save_settings",
    "change_passphrase",
    "vocabulary",
    "caseload",
    "due_reminders",
    "caseload_facets",
    "case_view",
    "close_case",
    "add_issue",
    "set_issue_outcome",
    "add_safeguarding",
    "case_audit",
    "add_client",
    "update_client",
    "add_relative",
    "record_consent",
    "add_legal_event",
    "add_activity",
    "amend_note",
    "note_history",
    "save_draft",
    "discard_draft",
    "search",
    "sync_status",
    "sync_enroll",
    "sync_now",
    "sync_inbox",
    "resolve_conflict",
    "dismiss_inbox_item",
    "sync_devices",
    "sync_invite",
    "sync_approve",
    "sync_revoke",
    "export_document",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri build script");
}
