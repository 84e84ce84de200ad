#!/usr/bin/env bash
# Builds the Debian package of the desktop app (release, stripped):
#   $CARGO_TARGET_DIR/release/bundle/deb/Wardside_<version>_amd64.deb
# AppImage bundling downloads tools from the internet, so only .deb is built here.
# Then the central service's .deb (scripts/package-server.sh):
#   $CARGO_TARGET_DIR/release/wardside-server_<version>_<arch>.deb
. "$(dirname "$0")/common.sh"
setup
build_ui
echo "==> tauri build --bundles deb"
ui/node_modules/.bin/tauri build --bundles deb --ci
ls -l "$CARGO_TARGET_DIR"/release/bundle/deb/*.deb

# The central service's package (wardside-server_<version>_<arch>.deb, beside the app's).
bash scripts/package-server.sh
