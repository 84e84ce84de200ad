#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer, via cargo-fuzz) of every parser of remote or file input:
# each target in fuzz/ runs for a bounded time, one after another, and the script says which
# found something. Not part of CI (CI runs the property tests over the same parsers,
# crates/*/tests/fuzz_props.rs); run it by hand after changing a parser.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default: 60 seconds, every target)
#
# Each target starts from its seeds in fuzz/seeds/TARGET (committed: a few bytes that pick a
# genuine sample or a kind of input) and its corpus in fuzz/corpus/TARGET (grown by each run, not
# committed; delete it to start again). A crash, a hang
# (more than 10 s for one input) or an input that needs more than 2 GB is saved in
# fuzz/artifacts/TARGET, and `cargo fuzz run TARGET -s none -a THAT_FILE` replays it.
#
# Built on the stable toolchain: `--sanitizer none` (no AddressSanitizer, which needs nightly;
# the crates forbid unsafe code, so what libFuzzer looks for here is panics, overflows, hangs
# and runaway memory) and `-a` (debug assertions and overflow checks on, in an optimised build).
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and a C++ compiler for libFuzzer itself.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(wire_json envelope trust_log key_grant key_file rules_toml request hlc_codes)
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "==> installing cargo-fuzz"
  cargo install --locked cargo-fuzz
fi

# The fuzz build has its own flags: keep it apart from the workspace's target directory
# (fuzz/target unless FUZZ_TARGET_DIR says otherwise).
export CARGO_TARGET_DIR=${FUZZ_TARGET_DIR:-$PWD/fuzz/target}

echo "==> building the fuzz targets"
cargo fuzz build -s none -a

found=()
for t in "${targets[@]}"; do
  echo "==> fuzzing $t for ${seconds}s"
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  if ! cargo fuzz run "$t" -s none -a "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
    -print_final_stats=1 2>&1 | tee "fuzz/artifacts/$t/last-run.log" | grep -E '^(#[0-9]+ +DONE|Done|stat::|==[0-9]+== ERROR|SUMMARY|thread .* panicked)'; then
    :
  fi
  if grep -qE '^(==[0-9]+== ERROR|SUMMARY: libFuzzer)|panicked at' "fuzz/artifacts/$t/last-run.log"; then
    found+=("$t")
  fi
done

if [ ${#found[@]} -gt 0 ]; then
  echo "!!! found something: ${found[*]} (see fuzz/artifacts/)"
  exit 1
fi
echo "no crash, hang or runaway memory in ${#targets[@]} targets x ${seconds}s"
