#!/usr/bin/env bash
# Install what building and testing convene needs on a fresh Debian 12 machine
# (idempotent, quick when everything is there): C toolchain for -sys crates,
# clippy/rustfmt, then the test stack's servers (scripts/stack.sh install).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

say() { printf 'install-deps: %s\n' "$*"; }

pkgs=()
command -v gcc >/dev/null || pkgs+=(gcc)
command -v g++ >/dev/null || pkgs+=(g++)
command -v make >/dev/null || pkgs+=(make)
command -v pkg-config >/dev/null || pkgs+=(pkg-config)
py=/usr/bin/python3
[[ -x $py ]] || py=$(command -v python3 || true)
if [[ -z $py ]]; then
  pkgs+=(python3 python3-venv)
elif ! "$py" -c 'import venv, ensurepip' 2>/dev/null; then
  pkgs+=(python3-venv)
fi
# The EoI tests run CPython's email test corpus through the parser: some python3 on the
# machine must ship test/test_email/data (pyenv's does; Debian's needs the testsuite package).
has_corpus=0
for cand in python3 /usr/bin/python3 "$HOME"/.pyenv/versions/*/bin/python3; do
  if command -v "$cand" >/dev/null 2>&1 &&
    "$cand" -c 'import test, os, sys; sys.exit(0 if os.path.isdir(os.path.join(os.path.dirname(test.__file__), "test_email", "data")) else 1)' 2>/dev/null; then
    has_corpus=1
    break
  fi
done
((has_corpus)) || pkgs+=(libpython3.11-testsuite)

if ((${#pkgs[@]})); then
  if [[ $(id -u) != 0 ]]; then
    echo "install-deps: missing ${pkgs[*]} and not root; install them first" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  log=$(mktemp /tmp/convene-install-deps.XXXXXX)
  say "apt-get install ${pkgs[*]}"
  if ! { apt-get -q -o DPkg::Lock::Timeout=300 update &&
    apt-get -q -y -o DPkg::Lock::Timeout=300 install --no-install-recommends --no-upgrade "${pkgs[@]}"; } >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "install-deps: apt-get failed (log: $log)" >&2
    exit 1
  fi
  rm -f "$log"
fi

# clippy and rustfmt: best effort (no network, no rustup: carry on).
if command -v cargo >/dev/null; then
  comps=()
  cargo clippy --version >/dev/null 2>&1 || comps+=(clippy)
  cargo fmt --version >/dev/null 2>&1 || comps+=(rustfmt)
  if ((${#comps[@]})); then
    say "rustup component add ${comps[*]}"
    rustup component add "${comps[@]}" >/dev/null 2>&1 || say "warning: could not add ${comps[*]} (offline?); continuing"
  fi
else
  say "warning: cargo not found on PATH"
fi

exec "$ROOT/scripts/stack.sh" install
