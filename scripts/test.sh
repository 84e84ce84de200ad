#!/usr/bin/env bash
# Runs every test: the UI's type check and unit tests, formatting, lints, unit and store tests
# on real encrypted files, the app's commands on Tauri's mock runtime, the CLI end to end, and a
# small run of the benchmark so it keeps working; then the real app through WebDriver. CI runs exactly this.
. "$(dirname "$0")/common.sh"
setup

build_ui
echo "==> UI type check and unit tests"
(cd ui && npm run --silent check && npx vitest run --reporter=dot 2>&1 | tee "$CARGO_TARGET_DIR/ui-test-output.txt")

echo "==> cargo fmt --check"
cargo fmt --all -- --check

echo "==> cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -q -- -D warnings

start_postgres
echo "==> cargo test"
cargo test --workspace --locked 2>&1 | tee "$CARGO_TARGET_DIR/test-output.txt"

echo "==> the desktop app end to end (WebDriver: tauri-driver + WebKitWebDriver under Xvfb)"
install_tauri_driver
cargo build -q --locked -p wardside-app
xvfb-run -a -s "-screen 0 1280x800x24" cargo test -q --locked -p wardside-e2e --test app --test sync -- --ignored --test-threads=1 2>&1 |
  tee -a "$CARGO_TARGET_DIR/test-output.txt"

echo "==> benchmark smoke run (figures meaningless at this size; see docs/PERFORMANCE.md)"
cargo run -q --locked -p wardside-bench -- store --smoke
cargo run -q --locked -p wardside-bench -- sync --smoke
cargo run -q --locked -p wardside-bench -- pdf --smoke

# cargo prints "test result: ok. N passed; N failed"; Vitest prints "Tests  N passed (N)".
strip() { sed 's/\x1b\[[0-9;]*m//g' "$@"; }
count() {
  { strip "$CARGO_TARGET_DIR/test-output.txt" | grep '^test result'; strip "$CARGO_TARGET_DIR/ui-test-output.txt" | grep -E '^ *Tests '; } |
    grep -Eo "[0-9]+ $1" | awk '{s+=$1} END {print s+0}'
}
echo "tests: $(count passed) passed, $(count failed) failed"
