# Shared by scripts/run.sh and scripts/test.sh: install what a fresh Debian 12 machine lacks,
# and share one cargo target directory outside the clone so repeat runs are fast.
set -euo pipefail

# Debian packages the build and tests need. Later parts of Wardside add theirs here.
APT_PACKAGES=(build-essential pkg-config perl make ca-certificates curl)

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
  install_rust
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/wardside/target}"
  export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
  mkdir -p "$CARGO_TARGET_DIR"
}
