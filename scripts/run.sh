#!/usr/bin/env bash
# Runs Wardside: installs what a fresh Debian 12 machine lacks, builds the UI and the desktop
# app, and starts it. The first run asks for your name and a passphrase and creates the
# encrypted store in ~/.local/share/wardside/.
#
#   scripts/run.sh            your own store
#   scripts/run.sh --demo     a demo store of 300 synthetic people (created on first use; its
#                             passphrase is shown on the lock screen)
#   scripts/run.sh --db PATH  another store
. "$(dirname "$0")/common.sh"
setup
build_ui

echo "==> building the app (release)"
cargo build --release -q -p wardside-app -p wardside-cli
APP="$CARGO_TARGET_DIR/release/wardside-app"

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "No display: run this from a desktop session (or under xvfb-run to test)." >&2
  echo "The app is built at $APP; the command line is $CARGO_TARGET_DIR/release/wardside." >&2
  exit 1
fi
echo "==> starting Wardside"
exec "$APP" "$@"
