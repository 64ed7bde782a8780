#!/usr/bin/env bash
# THE test command: scripts/test.sh [cargo test args...]
#
# Installs what is missing, brings the loopback test stack up (Synapse,
# Dovecot, Postfix, PostgreSQL; see scripts/stack.sh), runs
# `cargo test --all-targets` against it with CONVENE_STACK_ENV pointing at the
# stack's env file, and takes the stack down again if this script brought it
# up (and no other test.sh run is still using it). Exits with cargo's status.
#
# CONVENE_TEST_THREADS=N   run the tests with N threads (default 4; RUST_TEST_THREADS works too)
# CONVENE_KEEP_STACK=1     leave the stack running afterwards
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
STACK_DIR=${CONVENE_STACK_DIR:-/tmp/convene-stack}

banner() { printf '\n==== %s ====\n' "$*"; }

banner "install dependencies"
./scripts/install-deps.sh

banner "test stack"
stack_was_up=0
if ./scripts/stack.sh status >/dev/null 2>&1; then
  stack_was_up=1
  echo "stack already running; it stays up afterwards"
fi

# shellcheck disable=SC2317  # invoked by the EXIT trap
take_down() {
  [[ $stack_was_up == 0 && ${CONVENE_KEEP_STACK:-0} != 1 ]] || return 0
  # Other test.sh runs hold the users lock shared while their tests run.
  exec 8>&-
  if [[ -e $STACK_DIR/users.lock ]] && ! flock -n -x "$STACK_DIR/users.lock" true; then
    echo "test.sh: another test run is using the stack; leaving it up"
    return 0
  fi
  banner "test stack down"
  ./scripts/stack.sh down || echo "test.sh: warning: stack.sh down failed" >&2
}
trap take_down EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
./scripts/stack.sh up
exec 8>"$STACK_DIR/users.lock"
flock -s 8
CONVENE_STACK_ENV=$(./scripts/stack.sh env)
export CONVENE_STACK_ENV
# The integration tests mostly wait on the servers: four at a time halves the suite's time on
# two cores. (The outage tests serialise themselves.)
export RUST_TEST_THREADS=${CONVENE_TEST_THREADS:-${RUST_TEST_THREADS:-4}}

banner "cargo test --all-targets $*"
status=0
cargo test --all-targets "$@" || status=$?

banner "cargo test exited with status $status"
exit "$status"
