//! A bare Tauri window: the baseline the app benchmark compares start time and memory with.

fn main() {
    if let Err(e) = tauri::Builder::default().run(tauri::generate_context!()) {
        eprintln!("wardside-bare-window: {e}");
        std::process::exit(1);
    }
}
