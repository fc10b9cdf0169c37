#!/usr/bin/env bash
# etcd for development and tests.
#
#   scripts/etcd.sh install       install Debian's etcd-server (and protoc, which the etcd
#                                 client crate needs at build time) if missing; make sure the
#                                 package's own service is not left running on 2379/2380
#   scripts/etcd.sh start DIR     start a throwaway single-member etcd on free loopback ports,
#                                 data and log in DIR; prints ETCD_ENDPOINTS=... and ETCD_PID=...
#                                 (also written to DIR/env); needs etcd installed
#   scripts/etcd.sh stop DIR      stop the etcd started in DIR
#
# Environment: ETCD_BIN (default: etcd on PATH), ETCD_ARGS (extra etcd flags for start),
# ETCD_START_TIMEOUT (seconds, default 30).
set -euo pipefail

usage() {
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install() {
    local packages=()
    command -v "${ETCD_BIN:-etcd}" >/dev/null 2>&1 || packages+=(etcd-server)
    command -v protoc >/dev/null 2>&1 || packages+=(protobuf-compiler)
    if [ "${#packages[@]}" -gt 0 ]; then
        as_root apt-get update -qq
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${packages[@]}"
    fi
    # The package enables a service on the default ports; tests start their own servers.
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
        as_root systemctl disable --now etcd >/dev/null 2>&1 || true
    fi
    if command -v service >/dev/null 2>&1; then
        as_root service etcd stop >/dev/null 2>&1 || true
    fi
    # Without systemd (containers) the service may have been started by its init script:
    # stop the package user's etcd processes, by pid.
    local pids
    pids=$(pgrep -u etcd -x etcd 2>/dev/null || true)
    if [ -n "$pids" ]; then
        echo "stopping the etcd-server package's etcd (pids $pids)" >&2
        # shellcheck disable=SC2086 # a list of pids
        as_root kill $pids || true
    fi
    "${ETCD_BIN:-etcd}" --version | sed -n 1p  # sed reads all: no SIGPIPE under pipefail
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    local dir=$1
    local bin=${ETCD_BIN:-etcd}
    command -v "$bin" >/dev/null 2>&1 || {
        echo "etcd not found: run scripts/etcd.sh install (or set ETCD_BIN)" >&2
        exit 1
    }
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ -f "$dir/etcd.pid" ] && kill -0 "$(cat "$dir/etcd.pid")" 2>/dev/null; then
        echo "an etcd is already running from $dir (pid $(cat "$dir/etcd.pid"))" >&2
        exit 1
    fi
    local client peer endpoint
    client=$(free_port)
    peer=$(free_port)
    endpoint="http://127.0.0.1:$client"
    # shellcheck disable=SC2086 # ETCD_ARGS is a list of flags
    nohup "$bin" --name=dev --data-dir="$dir/data" \
        --listen-client-urls="$endpoint" --advertise-client-urls="$endpoint" \
        --listen-peer-urls="http://127.0.0.1:$peer" \
        --initial-advertise-peer-urls="http://127.0.0.1:$peer" \
        --initial-cluster="dev=http://127.0.0.1:$peer" --initial-cluster-state=new \
        --logger=zap --log-outputs=stderr ${ETCD_ARGS:-} \
        </dev/null >/dev/null 2>"$dir/etcd.log" &
    local pid=$!
    echo "$pid" >"$dir/etcd.pid"
    local deadline=$((SECONDS + ${ETCD_START_TIMEOUT:-30}))
    until curl -fsS "$endpoint/health" 2>/dev/null | grep '"health":"true"' >/dev/null; do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "etcd exited during start-up; its log ($dir/etcd.log):" >&2
            tail -20 "$dir/etcd.log" >&2
            exit 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "etcd not healthy within ${ETCD_START_TIMEOUT:-30}s; stopping it" >&2
            stop "$dir"
            exit 1
        fi
        sleep 0.1
    done
    printf 'ETCD_ENDPOINTS=%s\nETCD_PID=%s\n' "$endpoint" "$pid" | tee "$dir/env"
}

stop() {
    local dir=$1
    [ -f "$dir/etcd.pid" ] || { echo "no etcd.pid in $dir" >&2; exit 1; }
    local pid
    pid=$(cat "$dir/etcd.pid")
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/etcd.pid"
}

case "${1:-}" in
    install) install ;;
    start) [ $# -eq 2 ] || usage; start "$2" ;;
    stop) [ $# -eq 2 ] || usage; stop "$2" ;;
    *) usage ;;
esac
