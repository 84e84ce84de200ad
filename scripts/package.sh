#!/usr/bin/env bash
# Builds the Debian package of the desktop app (release, stripped):
#   $CARGO_TARGET_DIR/release/bundle/deb/Wardside_<version>_amd64.deb
# AppImage bundling downloads tools from the internet, so only .deb is built here.
. "$(dirname "$0")/common.sh"
setup
build_ui
echo "==> tauri build --bundles deb"
ui/node_modules/.bin/tauri build --bundles deb --ci
ls -l "$CARGO_TARGET_DIR"/release/bundle/deb/*.deb
