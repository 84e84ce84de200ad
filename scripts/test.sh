#!/usr/bin/env bash
# Runs every test: formatting, lints, unit and store tests on real encrypted files, the CLI end
# to end, and a small run of the benchmark so it keeps working. CI runs exactly this.
. "$(dirname "$0")/common.sh"
setup

echo "==> cargo fmt --check"
cargo fmt --all -- --check

echo "==> cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -q -- -D warnings

echo "==> cargo test"
cargo test --workspace --locked 2>&1 | tee "$CARGO_TARGET_DIR/test-output.txt"

echo "==> benchmark smoke run (figures meaningless at this size; see docs/PERFORMANCE.md)"
cargo run -q --locked -p wardside-bench -- store --smoke

passed=$(grep -Eo '[0-9]+ passed' "$CARGO_TARGET_DIR/test-output.txt" | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' "$CARGO_TARGET_DIR/test-output.txt" | awk '{s+=$1} END {print s+0}')
echo "tests: $passed passed, $failed failed"
