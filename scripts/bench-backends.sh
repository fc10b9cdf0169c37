#!/usr/bin/env bash
# Embedded store vs etcd, same machine, same run (docs/benchmarks.md): for each backend,
# start-up to the first 200 on /readyz (median of 5), idle RSS, creates at 16 connections
# (then 3 rounds of 5,000 more with the CPU time of the API server and etcd),
# GETs, full LISTs and watch fan-out, RSS after. etcd is Debian's etcd-server, started fresh
# on free loopback ports (scripts/etcd.sh). Everything it starts is stopped on exit.
#
#   scripts/bench-backends.sh [--count N]   (default 10000 creates per backend)
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT=10000
while [ $# -gt 0 ]; do
  case "$1" in
    --count) COUNT="${2:?}"; shift ;;
    *) echo "bench-backends.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

scripts/install-build-deps.sh
scripts/etcd.sh install >/dev/null
cargo build --release -p kube-apiserver -p kube-loadtest
BIN="$PWD/target/release/kube-apiserver"
LT="$PWD/target/release/kube-loadtest"
WORK="$(mktemp -d -t kube-bench-backends.XXXXXX)"
SERVER_PID=""

stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
cleanup() {
  stop_server
  scripts/etcd.sh stop "$WORK/etcd" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start DATA_DIR EXTRA_FLAGS...: starts the server and sets READY_MS to the milliseconds
# from spawn to the first 200 on /readyz. Not to be run in a subshell: SERVER_PID must reach
# stop_server.
start() {
  local data="$1"; shift
  mkdir -p "$data"
  PORT="$(free_port)"
  local t0; t0="$(date +%s%N)"
  "$BIN" --data-dir="$data" --secure-port="$PORT" --bind-address=127.0.0.1 "$@" >"$data/log" 2>&1 &
  SERVER_PID=$!
  READY_MS="$("$LT" --server "https://127.0.0.1:$PORT" --insecure-skip-tls-verify --json \
    wait-ready --since-ns "$t0" --pid "$SERVER_PID" --poll-ms 5 --wait 60 | tail -1 |
    python3 -c 'import json,sys; print(round(json.load(sys.stdin)["ready_ms"]))')"
}

# CPU time (user + system) of a process so far, in milliseconds.
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{print int(($14 + $15) * 1000 / hz)}' "/proc/$1/stat"; }
# The same for the etcd started by reset_etcd (0 when there is none).
etcd_cpu_ms() { if [ -n "${ETCD_PID:-}" ]; then cpu_ms "$ETCD_PID"; else echo 0; fi; }

rss_mib() { awk '/^VmRSS:/ {printf "%.1f", $2/1024}' "/proc/$SERVER_PID/status"; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
lt() { "$LT" --kubeconfig "$DATA/admin.kubeconfig" "$@"; }

# backend_flags NAME: the server flags of a backend (etcd: the endpoint started last).
backend_flags() {
  if [ "$1" = etcd ]; then echo "--etcd-servers=$ETCD_ENDPOINTS"; fi
}

bench() {
  local name="$1"
  echo "=============== $name"
  local times=()
  for i in 1 2 3 4 5; do
    if [ "$name" = etcd ]; then reset_etcd; fi
    start "$WORK/$name-start-$i" $(backend_flags "$name")
    times+=("$READY_MS")
    stop_server
  done
  echo "start-up to /readyz 200 (ms): ${times[*]} -> median $(printf '%s\n' "${times[@]}" | median)"
  if [ "$name" = etcd ]; then reset_etcd; fi
  DATA="$WORK/$name"
  start "$DATA" $(backend_flags "$name")
  for _ in $(seq 100); do [ -s "$DATA/admin.kubeconfig" ] && break; sleep 0.05; done
  sleep 1
  echo "idle RSS: $(rss_mib) MiB"
  lt create --count "$COUNT" --concurrency 16 | grep -E "/s|latency" || true
  # Three more rounds into the warm store, each with the CPU time the API server (and etcd)
  # spent on it: the machine is shared, so a rate alone says little; CPU per create does.
  for round in 1 2 3; do
    local s0 e0 s1 e1
    s0="$(cpu_ms "$SERVER_PID")"; e0="$(etcd_cpu_ms)"
    local rate
    rate="$(lt create --count 5000 --concurrency 16 | grep -oE '[0-9]+/s$' || true)"
    s1="$(cpu_ms "$SERVER_PID")"; e1="$(etcd_cpu_ms)"
    echo "create round $round: 5000 at 16: $rate; CPU: API server $((s1 - s0)) ms, etcd $((e1 - e0)) ms"
  done
  lt get --count "$COUNT" --concurrency 16 | grep -E "/s|latency" || true
  lt list --repeat 5 | grep -E "LIST|items" || true
  lt watch --watchers 200 --writes 20 | grep -E "delivery|missed" || true
  echo "RSS after: $(rss_mib) MiB"
  stop_server
}

reset_etcd() {
  scripts/etcd.sh stop "$WORK/etcd" >/dev/null 2>&1 || true
  rm -rf "$WORK/etcd"
  mkdir -p "$WORK/etcd"
  eval "$(scripts/etcd.sh start "$WORK/etcd" | grep -E '^ETCD_(ENDPOINTS|PID)=')"
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); commit $(git rev-parse --short HEAD)"
ETCD_PID=""
bench embedded
bench etcd
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
