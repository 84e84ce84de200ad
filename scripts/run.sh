#!/usr/bin/env bash
# Runs Wardside. Until the desktop app lands this is the command line: it builds `wardside`,
# creates an encrypted demo store with a synthetic caseload (once), and shows the caseload and
# one case. Pass --db PATH to use another store; WARDSIDE_PASSPHRASE overrides the demo one.
. "$(dirname "$0")/common.sh"
setup

cargo build --release -q -p wardside-cli
W="$CARGO_TARGET_DIR/release/wardside"

DB="${WARDSIDE_DB:-$HOME/.local/share/wardside-demo/wardside.db}"
if [ "${1:-}" = "--db" ] && [ -n "${2:-}" ]; then DB="$2"; fi
export WARDSIDE_PASSPHRASE="${WARDSIDE_PASSPHRASE:-demo store passphrase}"

if [ ! -f "$DB" ]; then
  echo "==> creating an encrypted demo store at $DB (passphrase: '$WARDSIDE_PASSPHRASE'; synthetic people only)"
  "$W" --db "$DB" init --advocate "Demo Advocate"
  "$W" --db "$DB" demo --clients 300 --seed 1
fi

echo
echo "==> caseload (first 25 of the open cases)"
"$W" --db "$DB" caseload --limit 25
first_case=$("$W" --db "$DB" caseload --limit 1 --json | sed -n 's/.*"case_id": "\([^"]*\)".*/\1/p' | head -1)
if [ -n "$first_case" ]; then
  echo
  echo "==> case $first_case"
  "$W" --db "$DB" case show "$first_case"
fi
echo
echo "Try: $W --db $DB search tribunal    ($W --help for everything)"
