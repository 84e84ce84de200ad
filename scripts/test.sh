#!/usr/bin/env bash
# Runs every test: the UI's type check and unit tests, formatting, lints, unit and store tests
# on real encrypted files, the app's commands on Tauri's mock runtime, the CLI end to end, the
# domain, store and CLI tests again with the machine's clock two years ahead (no test may depend
# on the day it runs), the real app through WebDriver, and a small run of each benchmark so they
# keep working. CI runs exactly this.
#
# Every stage runs even when an earlier one failed (cargo with --no-fail-fast), so one failure
# never hides another; the script still exits non-zero if anything failed.
. "$(dirname "$0")/common.sh"
setup

failed=()
# Run a stage; remember its name if it fails, and go on.
stage() {
  local name=$1
  shift
  echo "==> $name"
  if ! "$@"; then
    echo "!!! FAILED: $name"
    failed+=("$name")
  fi
}

: >"$CARGO_TARGET_DIR/test-output.txt"
: >"$CARGO_TARGET_DIR/ui-test-output.txt"

build_ui
ui_tests() {
  (cd ui && npm run --silent check && npx vitest run --reporter=dot 2>&1 | tee "$CARGO_TARGET_DIR/ui-test-output.txt")
}
stage "UI type check and unit tests" ui_tests

stage "cargo fmt --check" cargo fmt --all -- --check

stage "cargo clippy -D warnings" cargo clippy --workspace --all-targets --locked -q -- -D warnings

start_postgres
cargo_tests() {
  cargo test --workspace --locked --no-fail-fast 2>&1 | tee -a "$CARGO_TARGET_DIR/test-output.txt"
}
stage "cargo test" cargo_tests

# The machine's clock two years ahead (libfaketime, for the test processes and what they start,
# not for cargo): the tests set the one clock Wardside reads (WARDSIDE_NOW) or measure from it,
# so they must pass unchanged.
later_tests() {
  local lib
  lib=$(dpkg -L libfaketime 2>/dev/null | grep -m1 'libfaketime.so.1$')
  if [ -z "$lib" ]; then
    echo "libfaketime is not installed"
    return 1
  fi
  echo "(running with the clock at $(FAKETIME="+730d" LD_PRELOAD="$lib" date -u +%F))"
  local ok=0
  export FAKETIME="+730d" FAKETIME_DONT_FAKE_MONOTONIC=1
  export CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER="env LD_PRELOAD=$lib"
  cargo test --locked --no-fail-fast -p wardside-domain -p wardside-store 2>&1 |
    tee -a "$CARGO_TARGET_DIR/test-output.txt" || ok=1
  cargo test --locked --no-fail-fast -p wardside-cli --test cli --test cli_report 2>&1 |
    tee -a "$CARGO_TARGET_DIR/test-output.txt" || ok=1
  cargo test --locked --no-fail-fast -p wardside-export 2>&1 |
    tee -a "$CARGO_TARGET_DIR/test-output.txt" || ok=1
  unset FAKETIME FAKETIME_DONT_FAKE_MONOTONIC CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER
  return $ok
}
stage "domain, store, CLI and export tests two years from today" later_tests

e2e_tests() {
  install_tauri_driver &&
    cargo build -q --locked -p wardside-app &&
    xvfb-run -a -s "-screen 0 1280x800x24" cargo test -q --locked --no-fail-fast -p wardside-e2e --test app --test forms --test tasks --test find --test export --test sync --test teams --test big_sync --test rules --test reports -- --ignored --test-threads=1 2>&1 |
    tee -a "$CARGO_TARGET_DIR/test-output.txt"
}
stage "the desktop app end to end (WebDriver: tauri-driver + WebKitWebDriver under Xvfb)" e2e_tests

# Figures are meaningless at this size; see docs/PERFORMANCE.md.
stage "benchmark smoke run: store" cargo run -q --locked -p wardside-bench -- store --smoke
stage "benchmark smoke run: sync" cargo run -q --locked -p wardside-bench -- sync --smoke
stage "benchmark smoke run: pdf" cargo run -q --locked -p wardside-bench -- pdf --smoke
stage "benchmark smoke run: report" cargo run -q --locked -p wardside-bench -- report --smoke

# cargo prints "test result: ok. N passed; N failed"; Vitest prints "Tests  N passed (N)".
strip() { sed 's/\x1b\[[0-9;]*m//g' "$@"; }
count() {
  { strip "$CARGO_TARGET_DIR/test-output.txt" | grep '^test result'; strip "$CARGO_TARGET_DIR/ui-test-output.txt" | grep -E '^ *Tests '; } |
    grep -Eo "[0-9]+ $1" | awk '{s+=$1} END {print s+0}'
}
echo "tests: $(count passed) passed, $(count failed) failed"
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED stages:"
  printf '  - %s\n' "${failed[@]}"
  exit 1
fi
echo "every stage passed"
