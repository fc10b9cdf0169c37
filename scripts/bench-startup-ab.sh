#!/usr/bin/env bash
# Start-up and idle RSS of one kube-apiserver binary, to compare builds in one run
# (docs/benchmarks.md): 7 starts on fresh data dirs, each timed from spawn to the first 200
# on /readyz (curl, polled every 2 ms), and VmRSS 2 s later; prints the medians.
#   scripts/bench-startup-ab.sh BINARY LABEL
set -uo pipefail
BIN=$1; LABEL=$2
ts=(); rs=()
for i in $(seq 7); do
  D=$(mktemp -d); PORT=$((27000+i))
  start=$(date +%s%N)
  $BIN --secure-port=$PORT --bind-address=127.0.0.1 --data-dir=$D >$D/log 2>&1 &
  PID=$!
  until curl -sk -o /dev/null -w '%{http_code}' https://127.0.0.1:$PORT/readyz 2>/dev/null | grep -q 200; do sleep 0.002; done
  end=$(date +%s%N)
  ts+=($(( (end-start)/1000 )))
  sleep 2
  rs+=($(awk '/VmRSS/ {print $2}' /proc/$PID/status))
  kill $PID; wait $PID 2>/dev/null; rm -rf $D
done
mt=$(printf '%s\n' "${ts[@]}" | sort -n | sed -n 4p); mr=$(printf '%s\n' "${rs[@]}" | sort -n | sed -n 4p)
echo "$LABEL: start to readyz median $(echo "scale=1; $mt/1000" | bc) ms; idle RSS median $(echo "scale=1; $mr/1024" | bc) MiB"
