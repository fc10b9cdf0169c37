#!/usr/bin/env bash
# Benchmarks our kube-apiserver with kube-loadtest (docs/benchmarks.md):
#   start-up time to the first 200 on /readyz (from process spawn; fresh data dir, and
#   restarts on an existing one), idle RSS, the `all` scenarios over HTTP/1.1 and HTTP/2,
#   1,000 watchers, RSS holding 10,000 and 50,000 small ConfigMaps, full LISTs of 50,000
#   and RSS after them.
# Everything runs on 127.0.0.1; every server it starts is stopped on exit, failure or ^C.
#
#   scripts/bench.sh            full run (1 to 3 minutes on 2 cores)
#   scripts/bench.sh --quick    a much smaller run (under a minute)
#   scripts/bench.sh --out DIR  keep the JSON results there (default target/bench/<time>)
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=0
OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --out) OUT="${2:?--out needs a directory}"; shift ;;
    --out=*) OUT="${1#--out=}" ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

if [ "$QUICK" = 1 ]; then
  STARTS=3; ROUNDS=1; ALL_ARGS=(--count 500 --watchers 20 --writes 10)
  WATCHERS=200; WATCH_WRITES=10; FIRST=1000; TOTAL=5000; LISTS=3
else
  STARTS=5; ROUNDS=3; ALL_ARGS=()
  WATCHERS=1000; WATCH_WRITES=20; FIRST=10000; TOTAL=50000; LISTS=5
fi
OUT="${OUT:-target/bench/$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"

echo "== building release binaries"
cargo build --release -p kube-apiserver -p kube-loadtest
SERVER_BIN="$PWD/target/release/kube-apiserver"
LT="$PWD/target/release/kube-loadtest"

WORK="$(mktemp -d -t kube-bench.XXXXXX)"
SERVER_PID=""

stop_server() {
  local pid="$SERVER_PID"
  SERVER_PID=""
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

on_exit() {
  local rc=$?
  stop_server
  rm -rf "$WORK"
  if [ "$rc" != 0 ]; then
    echo "bench.sh: FAILED (exit $rc); results so far in $OUT" >&2
  fi
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Many watch connections: raise the open-file limit as far as allowed (both processes
# inherit it).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# A loopback port below the kernel's ephemeral range (so that no client connection of this
# run can be holding it) on which nothing listens.
free_port() {
  local port low
  low="$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)"
  [ "$low" -gt 12000 ] || low=32768
  for _ in $(seq 100); do
    port=$(( (RANDOM % (low - 11000)) + 10000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  echo "bench.sh: no free port found" >&2
  return 1
}

PORT=""
DATA=""
READY_MS=""
# start_server DIR [keep]: spawns the server on a free port with DIR as data dir (emptied
# first unless `keep`) and waits for /readyz; sets READY_MS to the milliseconds from spawn to
# the first 200. Tries another port if the server exits (a port taken meanwhile). Not to be
# run in a subshell: SERVER_PID must reach stop_server.
start_server() {
  DATA="$1"
  local t0 attempt state
  for attempt in 1 2 3; do
    [ "${2:-}" = keep ] || rm -rf "$DATA"
    mkdir -p "$DATA"
    PORT="$(free_port)"
    t0="$(date +%s%N)"
    "$SERVER_BIN" --data-dir="$DATA" --secure-port="$PORT" --bind-address=127.0.0.1 \
      >"$DATA/server.log" 2>&1 &
    SERVER_PID=$!
    if "$LT" --server "https://127.0.0.1:$PORT" --insecure-skip-tls-verify --json \
        wait-ready --since-ns "$t0" --pid "$SERVER_PID" --poll-ms 5 --wait 60 \
        >"$WORK/ready.json"; then
      sleep 0.2
      # Still ours? (A server that failed to bind has exited; another may own the port.)
      state="$(awk '{print $3}' "/proc/$SERVER_PID/stat" 2>/dev/null || true)"
      if [ -n "$state" ] && [ "$state" != Z ]; then
        break
      fi
    fi
    echo "bench.sh: the server did not become ready (attempt $attempt); its log:" >&2
    tail -5 "$DATA/server.log" >&2
    stop_server
    [ "$attempt" != 3 ] || return 1
  done
  for _ in $(seq 200); do
    [ -s "$DATA/admin.kubeconfig" ] && break
    sleep 0.05
  done
  READY_MS="$(tail -1 "$WORK/ready.json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ready_ms"])')"
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status"; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$SERVER_PID/status"; }
# Server CPU time (user + system) in seconds.
cpu_s() {
  awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$SERVER_PID/stat"
}

# lt NAME ARGS...: runs kube-loadtest against the current server, shows its lines, keeps
# the JSON line in $OUT/NAME.json.
lt() {
  local name="$1"
  shift
  echo "== $name: kube-loadtest $*"
  "$LT" --kubeconfig "$DATA/admin.kubeconfig" --json "$@" | tee "$WORK/out.txt"
  tail -1 "$WORK/out.txt" >"$OUT/$name.json"
}

record() { echo "\"$1\": $2," >>"$WORK/figures"; }
: >"$WORK/figures"
COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git status --porcelain 2>/dev/null | sed -n 1p)" ]; then COMMIT="$COMMIT+changes"; fi
record commit "\"$COMMIT\""
record cpus "$(nproc)"
record load_before "\"$(cut -d' ' -f1-3 /proc/loadavg)\""

echo "== start-up: $STARTS starts, each on a fresh data dir, spawn to first 200 on /readyz"
STARTUPS=()
for i in $(seq "$STARTS"); do
  start_server "$WORK/start-$i"
  echo "start $i: ${READY_MS} ms"
  STARTUPS+=("$READY_MS")
  stop_server
done
record startup_ms "[$(IFS=,; echo "${STARTUPS[*]}")]"
echo "== restarts: $STARTS starts on the data dir of the last start"
RESTARTS=()
for i in $(seq "$STARTS"); do
  start_server "$WORK/start-$STARTS" keep
  echo "restart $i: ${READY_MS} ms"
  RESTARTS+=("$READY_MS")
  stop_server
done
record restart_ms "[$(IFS=,; echo "${RESTARTS[*]}")]"

echo "== server 1: the scenarios"
start_server "$WORK/scenarios"
echo "server pid $SERVER_PID on 127.0.0.1:$PORT"
sleep 2
record idle_rss_kb "$(rss_kb)"
echo "idle RSS: $(rss_kb) kB"
for r in $(seq "$ROUNDS"); do
  lt "all-http1-$r" all "${ALL_ARGS[@]}"
done
lt all-http2 --http2 all "${ALL_ARGS[@]}"
lt watch-many watch --watchers "$WATCHERS" --writes "$WATCH_WRITES" --interval 100
record rss_after_scenarios_kb "$(rss_kb)"
echo "RSS after the scenarios: $(rss_kb) kB"
stop_server

echo "== server 2: memory holding $FIRST and $TOTAL ConfigMaps, LISTs of $TOTAL"
start_server "$WORK/memory"
echo "server pid $SERVER_PID on 127.0.0.1:$PORT"
sleep 2
record idle_rss_2_kb "$(rss_kb)"
echo "idle RSS: $(rss_kb) kB"
cpu0="$(cpu_s)"
lt create-first create --count "$FIRST" --concurrency 16 --size 100
cpu1="$(cpu_s)"
record rss_first_kb "$(rss_kb)"
echo "RSS holding $FIRST ConfigMaps: $(rss_kb) kB"
lt create-rest create --count "$((TOTAL - FIRST))" --concurrency 16 --size 100
cpu2="$(cpu_s)"
record rss_total_kb "$(rss_kb)"
echo "RSS holding $TOTAL ConfigMaps: $(rss_kb) kB"
record create_cpu_s "[$(awk -v a="$cpu0" -v b="$cpu1" -v c="$cpu2" 'BEGIN {print b - a "," c - b}')]"

lt list-full list --repeat "$LISTS"
record rss_after_lists_kb "$(rss_kb)"
echo "RSS after $LISTS full LISTs of $TOTAL: $(rss_kb) kB"
lt list-paginated list --repeat 2 --limit 500
lt list-rv0 list --repeat "$LISTS" --resource-version 0
lt list-http2 --http2 list --repeat "$LISTS"
record rss_after_more_lists_kb "$(rss_kb)"
record peak_rss_kb "$(hwm_kb)"
echo "RSS after $((2 * LISTS + 2)) more LISTs: $(rss_kb) kB (peak $(hwm_kb) kB)"
stop_server
record load_after "\"$(cut -d' ' -f1-3 /proc/loadavg)\""

{
  echo "{"
  cat "$WORK/figures"
  echo "\"quick\": $([ "$QUICK" = 1 ] && echo true || echo false), \"first\": $FIRST, \"total\": $TOTAL, \"watchers\": $WATCHERS, \"lists\": $LISTS, \"rounds\": $ROUNDS"
  echo "}"
} >"$OUT/figures.json"

python3 - "$OUT" <<'EOF'
import json, os, statistics, sys
out = sys.argv[1]
def load(name):
    with open(os.path.join(out, name + ".json")) as f:
        return json.load(f)
f = load("figures")
rounds = [load(f"all-http1-{r}") for r in range(1, f["rounds"] + 1)]
h2, many = load("all-http2"), load("watch-many")["watch"]
med = statistics.median
c1, c2 = load("create-first")["create"], load("create-rest")["create"]
full, pag, rv0, lh2 = (load(n)["list"] for n in ("list-full", "list-paginated", "list-rv0", "list-http2"))
mb = lambda kb: kb / 1024
lat = lambda p: f'p50 {p["latency_ms"]["p50"]:.2f} ms, p99 {p["latency_ms"]["p99"]:.2f} ms'
print()
print("== summary" + (" (QUICK run: smaller numbers)" if f["quick"] else "") + f' of {f["commit"]} on {f["cpus"]} CPUs')
s = f["startup_ms"]
print(f'start-up to /readyz 200: median {statistics.median(s):.1f} ms (runs: {", ".join(f"{x:.1f}" for x in s)}); target < 100 ms')
r = f["restart_ms"]
print(f'restart on an existing data dir: median {statistics.median(r):.1f} ms (runs: {", ".join(f"{x:.1f}" for x in r)})')
print(f'idle RSS: {mb(f["idle_rss_kb"]):.1f} MiB and {mb(f["idle_rss_2_kb"]):.1f} MiB (two servers); target < 30 MB')
def median_of(phase, *path):
    vals = []
    for r in rounds:
        v = r[phase]
        for k in path:
            v = v[k]
        vals.append(v)
    return med(vals), vals
cr, crs = median_of("create", "per_second")
print(f'HTTP/1.1, {len(rounds)} round(s) of `all`, medians: create {cr:.0f}/s (rounds: {", ".join(f"{x:.0f}" for x in crs)}), '
      f'p50 {median_of("create", "latency_ms", "p50")[0]:.2f} ms, p99 {median_of("create", "latency_ms", "p99")[0]:.2f} ms; '
      f'get {median_of("get", "per_second")[0]:.0f}/s, p99 {median_of("get", "latency_ms", "p99")[0]:.2f} ms')
print(f'target: creates >= 2x upstream (~1,900/s at 16 connections, p99 46 ms) = 3,800/s: ratio to upstream {cr / 1900:.1f}x')
for name, r in [(f"HTTP/1.1 round {i + 1}", x) for i, x in enumerate(rounds)] + [("HTTP/2", h2)]:
    c, g = r["create"], r["get"]
    print(f'{name}: create {c["per_second"]:.0f}/s ({c["requested"]} at {c["concurrency"]}; {lat(c)}); '
          f'get {g["per_second"]:.0f}/s ({lat(g)})')
    print(f'{name}: list of {r["list"]["items_per_list"]:.0f}: {lat(r["list"])}; '
          f'watch {r["watch"]["watchers"]}x{r["watch"]["writes"]}: {lat(r["watch"])}, missed {r["watch"]["missed"]}')
print(f'RSS after the scenarios above: {mb(f["rss_after_scenarios_kb"]):.1f} MiB')
print(f'create {c1["requested"]} into a new store: {c1["per_second"]:.0f}/s ({lat(c1)}), server CPU {f["create_cpu_s"][0]:.1f} s')
print(f'create {c2["requested"]} more: {c2["per_second"]:.0f}/s ({lat(c2)}), server CPU {f["create_cpu_s"][1]:.1f} s')
print(f'RSS holding {f["first"]}: {mb(f["rss_first_kb"]):.1f} MiB; holding {f["total"]}: {mb(f["rss_total_kb"]):.1f} MiB; target < 200 MB at 50,000')
print(f'full LIST of {full["items_per_list"]:.0f} ({full["bytes_per_list"]/1e6:.1f} MB): {lat(full)}, {full["mb_per_s"]:.0f} MB/s; target < 100 ms at 50,000')
print(f'  paginated (limit 500): {lat(pag)} per whole LIST; resourceVersion=0: {lat(rv0)}; over HTTP/2: {lat(lh2)}')
print(f'RSS after {f["lists"]} full LISTs: {mb(f["rss_after_lists_kb"]):.1f} MiB; after more: {mb(f["rss_after_more_lists_kb"]):.1f} MiB; '
      f'peak {mb(f["peak_rss_kb"]):.1f} MiB; target: no growth from LISTs')
print(f'{many["watchers"]} watchers x {many["writes"]} writes: delivery {lat(many)}, from sending the write '
      f'p99 {many["from_send_ms"]["p99"]:.2f} ms, missed {many["missed"]}; target p99 < 100 ms at 1,000 watchers')
print(f'load average (1, 5, 15 min) before: {f["load_before"]}, after: {f["load_after"]} '
      f'(the run itself adds about 1; more means other work shared the CPUs)')
print(f'results: {out}')
EOF
