#!/usr/bin/env bash
# Screenshots of each main screen of the real app under Xvfb, on a demo store of synthetic
# people, into docs/screenshots/ (or the folder given), and the sync screens from the sync
# WebDriver test (a real service on 127.0.0.1). Look at them after a UI change.
. "$(dirname "$0")/common.sh"
setup
build_ui
install_tauri_driver
OUT="$(cd "$(dirname "${1:-docs/screenshots}")" && pwd)/$(basename "${1:-docs/screenshots}")"
cargo build -q --locked -p wardside-app
WARDSIDE_SCREENSHOTS="$OUT" xvfb-run -a -s "-screen 0 1280x800x24" \
  cargo test -q --locked -p wardside-e2e --test screenshots --test sync -- --ignored --test-threads=1
echo "screenshots in $OUT"
