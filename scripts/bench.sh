#!/usr/bin/env bash
# The bench: every figure of the README's "Measured" table, beside its target, with the peers
# (maubot 0.6.0, matrix-reminder-bot 0.4.0) measured in the same run on the same Synapse, then
# the resilience report.
#
#   scripts/bench.sh [--no-peers] [--no-storm] [--outages] [--quick] [-- BENCH.PY OPTIONS]
#
#   --no-peers   skip maubot and matrix-reminder-bot (no PyPI install)
#   --no-storm   skip the crash storm (20 kills over 1,000 mails)
#   --outages    also run tests/outage (stops Synapse and Postfix for a minute each: not while
#                others use the stack)
#   --quick      small numbers everywhere (a smoke run of the harness, not figures)
#
# Builds `cargo build --release` once (convene and the in-process `bench` binary); the crash
# storm and the resilience tests run as debug tests (they are correctness, not figures). The
# peers live in throwaway virtualenvs under ~/.cache/convene/bench-peers (CONVENE_BENCH_PEERS),
# never in the repository. The output is also written to $CONVENE_STACK_DIR/bench-last.md.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

peers=1 storm=1 outages=0 quick=0
extra=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --no-peers) peers=0 ;;
    --no-storm) storm=0 ;;
    --outages) outages=1 ;;
    --quick) quick=1 ;;
    --) shift; extra+=("$@"); break ;;
    *) echo "bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

banner() { printf '\n==== %s ====\n' "$*" >&2; }

banner "stack"
./scripts/stack.sh up >&2
ENV_FILE=$(./scripts/stack.sh env)
export CONVENE_STACK_ENV=$ENV_FILE
# shellcheck disable=SC1090
STACK_DIR=$(. "$ENV_FILE"; echo "$CONVENE_STACK_DIR")
VENV=${CONVENE_VENV:-${HOME:-/root}/.cache/convene/venv}
PY=$VENV/bin/python

banner "build (release, once)"
cargo build --release --bins >&2

PEERS=${CONVENE_BENCH_PEERS:-${HOME:-/root}/.cache/convene/bench-peers}
if [[ $peers == 1 ]]; then
  banner "peers (throwaway virtualenvs in $PEERS)"
  mkdir -p "$PEERS"
  if [[ ! -x $PEERS/maubot/bin/python ]] || ! "$PEERS/maubot/bin/python" -c 'import maubot' 2>/dev/null; then
    python3 -m venv "$PEERS/maubot"
    "$PEERS/maubot/bin/pip" install -q 'maubot==0.6.0' >&2
  fi
  if [[ ! -x $PEERS/reminder/bin/matrix-reminder-bot ]]; then
    python3 -m venv "$PEERS/reminder"
    "$PEERS/reminder/bin/pip" install -q 'matrix-reminder-bot==0.4.0' >&2
  fi
else
  extra+=(--no-peers)
fi
if [[ $quick == 1 ]]; then
  extra+=(--samples 5 --mails 10 --burst 40 --backlog 500 --corpus 500 --reminders 4000 --firings 5 --fire-after 70)
fi

OUT=$STACK_DIR/bench-last.md
banner "figures"
{
  echo "# convene bench, $(date -u +%Y-%m-%dT%H:%MZ), $(git rev-parse --short HEAD)$(git diff --quiet || echo '+changes')"
  echo
  echo "Machine: $(nproc) cores, load average at start $(cut -d' ' -f1-3 /proc/loadavg); Synapse $("$PY" -c 'import synapse; print(synapse.__version__)' 2>/dev/null || echo '?')."
  "$PY" scripts/bench/bench.py --peers-dir "$PEERS" --json "$STACK_DIR/bench-last.json" "${extra[@]}"
} | tee "$OUT"

banner "resilience"
report=()
if [[ $storm == 1 ]]; then
  kills=20 mails=1000
  [[ $quick == 1 ]] && kills=5 mails=150
  if CONVENE_STORM_KILLS=$kills CONVENE_STORM_MAILS=$mails \
      cargo test --test it storm -- --nocapture >"$STACK_DIR/bench-storm.log" 2>&1; then
    report+=("| crash storm: $kills SIGKILLs over $mails mails and commands | passed: $(grep -o 'crash storm: [0-9]* mails once.*' "$STACK_DIR/bench-storm.log" | tail -1) |")
  else
    report+=("| crash storm: $kills SIGKILLs over $mails mails | **FAILED** (log: $STACK_DIR/bench-storm.log) |")
  fi
fi
if [[ $outages == 1 ]]; then
  if cargo test --test outage -- --nocapture --test-threads=1 >"$STACK_DIR/bench-outage.log" 2>&1; then
    while IFS= read -r line; do report+=("| outage | $line |"); done < <(grep -E '^(postfix|synapse|dovecot|postgres) ' "$STACK_DIR/bench-outage.log")
    report+=("| outages (tests/outage) | passed |")
  else
    report+=("| outages (tests/outage) | **FAILED** (log: $STACK_DIR/bench-outage.log) |")
  fi
else
  report+=("| outages (tests/outage: Synapse and Postfix down a minute, Dovecot restarted, PostgreSQL connections dropped) | in \`cargo test\`; here with --outages |")
fi
# The DST reminder tests (the 2026 Europe/Brussels changes): run and listed by name.
dst=$(cargo test --lib calendar:: -- --list 2>/dev/null | grep -E ': test$' | sed 's/: test$//' |
  grep -E 'spring_change|autumn_change|gaps_resolve|folds|skipped_or_repeated|exactly_once' || true)
for t in $dst; do
  if cargo test --lib "$t" -- --exact >/dev/null 2>&1; then r=passed; else r="**FAILED**"; fi
  report+=("| DST: $t | $r |")
done
{
  echo
  echo "## Resilience"
  echo
  echo "| test | result |"
  echo "|---|---|"
  printf '%s\n' "${report[@]}"
} | tee -a "$OUT"
echo >&2
echo "bench: written to $OUT" >&2
