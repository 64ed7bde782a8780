#!/usr/bin/env bash
# Idle memory of a running convene: scripts/measure-pss.sh [PID] [SECONDS]
# Waits SECONDS (default 30) for start-up work to settle, then prints PSS and RSS from
# /proc/PID/smaps_rollup. Without PID, measures the demo daemon (scripts/demo.sh --keep).
set -euo pipefail
pid=${1:-$(pgrep -f 'convene --config .*/demo/convene.toml run' | head -1)}
[[ -n $pid ]] || { echo "no convene process (run scripts/demo.sh --keep first)"; exit 1; }
sleep "${2:-30}"
awk '/^Pss:/ {pss=$2} /^Rss:/ {rss=$2} END {printf "convene pid '"$pid"': PSS %.1f MiB, RSS %.1f MiB\n", pss/1024, rss/1024}' "/proc/$pid/smaps_rollup"
