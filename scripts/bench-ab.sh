#!/usr/bin/env bash
# Compares kube-apiserver builds in one run (docs/benchmarks.md), alternating them (in
# reverse order every other round), each on a fresh embedded store per round:
#   - 5,000 ConfigMap creates and 10,000 GETs at 16 connections (server CPU of the creates);
#   - 10,000 Pod creates at 16, spread over 1,000 node names;
#   - full LISTs of those 10,000 Pods as compact JSON, protobuf and pretty JSON, and LISTs
#     of one node's Pods by field selector (curl);
#   - 1,000 watchers each pinned to its node (fieldSelector=spec.nodeName=node-i, as
#     kubelets watch) and 300 Pod creates spread over the nodes: delivery latency and the
#     server's CPU during the watch phase;
#   - 1,000 unfiltered watchers of ConfigMaps and 20 creates (fan-out).
# Prints each round's figures, then the median of the rounds per build and the ratio of the
# last build to the first.
#   scripts/bench-ab.sh [--rounds N] [--loadtest BIN] LABEL=BINARY LABEL=BINARY...
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=2
LT=target/release/kube-loadtest
BUILDS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS="$2"; shift ;;
    --loadtest) LT="$2"; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *=*) BUILDS+=("$1") ;;
    *) echo "bench-ab.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
[ "${#BUILDS[@]}" -ge 1 ] || { echo "bench-ab.sh: name at least one LABEL=BINARY" >&2; exit 2; }
[ -x "$LT" ] || { echo "bench-ab.sh: no kube-loadtest at $LT (cargo build --release -p kube-loadtest)" >&2; exit 2; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

WORK="$(mktemp -d -t bench-ab.XXXXXX)"
RESULTS="$WORK/results.tsv"
PID=""
stop() {
  [ -n "$PID" ] || return 0
  kill -TERM "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
  PID=""
}
trap 'stop; cp "$RESULTS" target/bench-ab.tsv 2>/dev/null || true; rm -rf "$WORK"' EXIT

cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$PID/stat"; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# field JSON PATH: a figure from kube-loadtest's last line of JSON.
field() { tail -1 "$1" | python3 -c "import json,sys; v=json.load(sys.stdin)
for k in sys.argv[1].split('.'): v=v[k]
print(v)" "$2"; }
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" | tee -a "$RESULTS"; }

port=27300
for round in $(seq "$ROUNDS"); do
  # Odd rounds in the order given, even rounds reversed (A B, B A, ...): neither build
  # always runs right after the other.
  order=("${BUILDS[@]}")
  if [ $((round % 2)) = 0 ]; then
    order=(); for ((i = ${#BUILDS[@]} - 1; i >= 0; i--)); do order+=("${BUILDS[$i]}"); done
  fi
  for build in "${order[@]}"; do
    label="${build%%=*}"; bin="${build#*=}"
    D="$WORK/data"; rm -rf "$D"; mkdir -p "$D"
    port=$((port + 1))
    "$bin" --secure-port=$port --bind-address=127.0.0.1 --data-dir="$D" >"$WORK/server.log" 2>&1 &
    PID=$!
    "$LT" --server "https://127.0.0.1:$port" --insecure-skip-tls-verify wait-ready --pid "$PID" >/dev/null
    for _ in $(seq 100); do [ -s "$D/admin.kubeconfig" ] && break; sleep 0.05; done
    lt() { "$LT" --kubeconfig "$D/admin.kubeconfig" --json "$@" >"$WORK/out.json" || {
      echo "bench-ab.sh: kube-loadtest $* failed:" >&2; tail -20 "$WORK/out.json" >&2; exit 1; }; }

    c0="$(cpu_s)"
    lt create --count 5000 --concurrency 16
    c1="$(cpu_s)"
    record "$label" "$round" "configmap creates/s" "$(field "$WORK/out.json" create.per_second)"
    record "$label" "$round" "server CPU s per 5,000 creates" "$(awk -v a="$c0" -v b="$c1" 'BEGIN {print b - a}')"
    lt get --count 10000 --concurrency 16
    record "$label" "$round" "GETs/s" "$(field "$WORK/out.json" get.per_second)"

    lt -n pods create --pods --count 10000 --nodes 1000 --concurrency 16
    record "$label" "$round" "pod creates/s" "$(field "$WORK/out.json" create.per_second)"
    URL="https://127.0.0.1:$port/api/v1/namespaces/pods/pods"
    for case in "compact JSON|application/json|" \
                "protobuf|application/vnd.kubernetes.protobuf|" \
                "pretty JSON|application/json|?pretty=true"; do
      IFS='|' read -r name accept query <<<"$case"
      out="$(for _ in 1 2 3 4 5; do
        curl -sk --cert "$D/pki/admin.crt" --key "$D/pki/admin.key" -H "Accept: $accept" \
          -A bench --fail -o /dev/null -w '%{time_total} %{size_download}\n' "$URL$query"
      done)"
      record "$label" "$round" "LIST 10,000 pods, $name, ms" "$(awk '{print $1 * 1000}' <<<"$out" | median)"
      record "$label" "$round" "LIST 10,000 pods, $name, MiB" "$(awk 'END {printf "%.2f", $2 / 1048576}' <<<"$out")"
    done
    # One node's pods (what a kubelet lists): 10 of the 10,000.
    out="$(for _ in 1 2 3 4 5; do
      curl -sk --cert "$D/pki/admin.crt" --key "$D/pki/admin.key" -H "Accept: application/json" \
        -A bench --fail -o /dev/null -w '%{time_total}\n' "$URL?fieldSelector=spec.nodeName%3Dnode-00007"
    done)"
    record "$label" "$round" "LIST one node's pods (fieldSelector), ms" "$(awk '{print $1 * 1000}' <<<"$out" | median)"

    c0="$(cpu_s)"
    lt -n pods watch --per-node --watchers 1000 --writes 300 --interval 10 --settle 20
    c1="$(cpu_s)"
    record "$label" "$round" "per-node watch p50 ms" "$(field "$WORK/out.json" watch.latency_ms.p50)"
    record "$label" "$round" "per-node watch p99 ms" "$(field "$WORK/out.json" watch.latency_ms.p99)"
    record "$label" "$round" "per-node watch from sending, p50 ms" "$(field "$WORK/out.json" watch.from_send_ms.p50)"
    record "$label" "$round" "per-node watch from sending, p99 ms" "$(field "$WORK/out.json" watch.from_send_ms.p99)"
    record "$label" "$round" "per-node watch missed" "$(field "$WORK/out.json" watch.missed)"
    record "$label" "$round" "per-node watch server CPU s" "$(awk -v a="$c0" -v b="$c1" 'BEGIN {print b - a}')"

    c0="$(cpu_s)"
    lt watch --watchers 1000 --writes 20 --interval 100
    c1="$(cpu_s)"
    record "$label" "$round" "fan-out 1,000 watchers p50 ms" "$(field "$WORK/out.json" watch.latency_ms.p50)"
    record "$label" "$round" "fan-out 1,000 watchers p99 ms" "$(field "$WORK/out.json" watch.latency_ms.p99)"
    record "$label" "$round" "fan-out from sending, p99 ms" "$(field "$WORK/out.json" watch.from_send_ms.p99)"
    record "$label" "$round" "fan-out server CPU s" "$(awk -v a="$c0" -v b="$c1" 'BEGIN {print b - a}')"
    stop
  done
done

echo "== medians over $ROUNDS rounds (last build / first build)"
python3 - "$RESULTS" "${BUILDS[@]%%=*}" <<'EOF'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
labels = sys.argv[2:]
metrics = list(dict.fromkeys(r[2] for r in rows))
print("\t".join(["figure"] + labels + ["ratio"]))
for m in metrics:
    med = [statistics.median(float(r[3]) for r in rows if r[0] == l and r[2] == m) for l in labels]
    ratio = f"{med[-1] / med[0]:.2f}" if med[0] else "-"
    print("\t".join([m] + [f"{v:g}" for v in med] + [ratio]))
EOF
