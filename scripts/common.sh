# Shared by scripts/run.sh and scripts/test.sh: install what a fresh Debian 12 machine lacks,
# and share one cargo target directory outside the clone so repeat runs are fast.
set -euo pipefail

# Debian packages the build and tests need: the toolchain's C side, Tauri's WebKitGTK and its
# helpers, Xvfb and WebKitWebDriver for the end-to-end tests, fonts so text renders, and
# imagemagick/poppler for looking at screens and PDFs, libfaketime to run the tests on another day.
APT_PACKAGES=(build-essential pkg-config perl make ca-certificates curl file
  libwebkit2gtk-4.1-dev libxdo-dev libssl-dev libayatana-appindicator3-dev librsvg2-dev
  xvfb xauth webkit2gtk-driver fonts-noto-core imagemagick xdotool poppler-utils faketime)

need_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_apt_packages() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing Debian packages: ${missing[*]}"
    need_root apt-get update -qq
    need_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

install_node() {
  if ! command -v npm >/dev/null 2>&1; then
    echo "==> installing Node.js and npm (Debian)"
    need_root apt-get update -qq
    need_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm
  fi
}

# The UI's npm packages (exactly the lockfile's), then the built UI in ui/dist, which the app
# embeds at compile time: the Rust build needs it first.
build_ui() {
  if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
    echo "==> npm ci (ui/)"
    (cd ui && npm ci --no-audit --no-fund --loglevel=error)
  fi
  echo "==> building the UI"
  (cd ui && npm run --silent build -- --logLevel warn)
}

# tauri-driver (WebDriver for Tauri apps) in a tools folder beside the shared target dir.
install_tauri_driver() {
  local tools="$HOME/.cache/wardside/tools"
  if [ ! -x "$tools/bin/tauri-driver" ]; then
    echo "==> installing tauri-driver 2.1.0"
    cargo install -q tauri-driver --locked --version 2.1.0 --root "$tools"
  fi
  export PATH="$tools/bin:$PATH"
}

# The machine's PostgreSQL (installed, not started, on CI): start it and give the server's
# storage tests a fresh database. Exports WARDSIDE_TEST_POSTGRES.
start_postgres() {
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "==> PostgreSQL is not installed: its storage suite will be skipped"
    return
  fi
  need_root pg_ctlcluster 15 main start 2>/dev/null || true
  local psql=(psql -v ON_ERROR_STOP=1 -q)
  as_postgres() { if [ "$(id -u)" -eq 0 ]; then su postgres -c "$1"; else sudo -u postgres sh -c "$1"; fi; }
  as_postgres "${psql[*]} -tc \"SELECT 1 FROM pg_roles WHERE rolname = 'wardside_test'\" | grep -q 1 ||
    ${psql[*]} -c \"CREATE ROLE wardside_test LOGIN PASSWORD 'wardside-test'\""
  # Restore tests make (and drop) databases of their own.
  as_postgres "${psql[*]} -c 'ALTER ROLE wardside_test CREATEDB'"
  as_postgres "${psql[*]} -c 'DROP DATABASE IF EXISTS wardside_test' -c 'CREATE DATABASE wardside_test OWNER wardside_test'"
  export WARDSIDE_TEST_POSTGRES="postgres://wardside_test:wardside-test@127.0.0.1:5432/wardside_test"
}

install_rust() {
  if ! command -v cargo >/dev/null 2>&1; then
    [ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
  fi
  if ! command -v cargo >/dev/null 2>&1; then
    echo "==> installing Rust (rustup, stable)"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --component clippy,rustfmt
    . "$HOME/.cargo/env"
  fi
}

setup() {
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
  install_apt_packages
  install_node
  install_rust
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/wardside/target}"
  export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
  # CI builds once per run: cargo's incremental caches would only grow the shared target dir
  # (by gigabytes a run).
  if [ "${CI:-}" = true ]; then
    export CARGO_INCREMENTAL=0
  fi
  mkdir -p "$CARGO_TARGET_DIR"
  free_disk
}

# The shared target dir keeps every version of every test binary and cargo's incremental
# caches; over weeks it fills the disk, and a run that runs out of space fails for no fault of
# the code. Below 20 GB free, clear what cargo can rebuild: the incremental caches and files not
# touched for a day.
free_disk() {
  local avail
  avail=$(df -Pk "$CARGO_TARGET_DIR" | awk 'NR==2 {print $4}')
  if [ "${avail:-0}" -lt $((20 * 1024 * 1024)) ]; then
    echo "==> less than 20 GB free: clearing cargo's incremental caches and files unused for a day"
    rm -rf "$CARGO_TARGET_DIR"/debug/incremental "$CARGO_TARGET_DIR"/release/incremental
    find "$CARGO_TARGET_DIR"/debug/deps "$CARGO_TARGET_DIR"/release/deps -maxdepth 1 -type f \
      -atime +1 -delete 2>/dev/null || true
  fi
}
