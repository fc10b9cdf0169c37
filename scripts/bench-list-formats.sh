#!/usr/bin/env bash
# Times full LISTs of N ConfigMaps in the formats clients ask for: compact JSON (client-go,
# kubectl), protobuf (client-go's default for built-in kinds) and pretty JSON (curl and
# browsers, `?pretty=true`), against our release build on the embedded store, and prints
# the median of each with the server's RSS before and after (docs/benchmarks.md).
#   scripts/bench-list-formats.sh [N] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-50000}"
ROUNDS="${2:-7}"
scripts/install-build-deps.sh >/dev/null
cargo build --release -q -p kube-apiserver -p kube-loadtest
DIR="$(mktemp -d)"
PORT=26443
./target/release/kube-apiserver --secure-port=$PORT --bind-address=127.0.0.1 \
  --data-dir="$DIR" >"$DIR/server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$DIR"' EXIT
KC="$DIR/admin.kubeconfig"
LT=./target/release/kube-loadtest
for _ in $(seq 100); do [ -s "$KC" ] && break; sleep 0.1; done
"$LT" wait-ready --kubeconfig "$KC" >/dev/null
"$LT" create --kubeconfig "$KC" -n bench --count "$N" --concurrency 16 --http2 >/dev/null
rss() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$PID/status"; }
URL="https://127.0.0.1:$PORT/api/v1/namespaces/bench/configmaps"
curl_list() { # accept, query
  curl -sk --cert "$DIR/pki/admin.crt" --key "$DIR/pki/admin.key" -H "Accept: $1" \
    -A "bench" --fail -o /dev/null -w '%{time_total} %{size_download}\n' "$URL$2"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "LIST of $N ConfigMaps, $ROUNDS rounds each; RSS before: $(rss) MiB"
for case in "compact JSON|application/json|" \
            "protobuf|application/vnd.kubernetes.protobuf|" \
            "pretty JSON|application/json|?pretty=true"; do
  IFS='|' read -r name accept query <<<"$case"
  out="$(for _ in $(seq "$ROUNDS"); do curl_list "$accept" "$query"; done)"
  t="$(awk '{print $1 * 1000}' <<<"$out" | median)"
  size="$(awk 'END {printf "%.1f", $2 / 1048576}' <<<"$out")"
  echo "$name: median ${t} ms, ${size} MiB; RSS after: $(rss) MiB"
done
