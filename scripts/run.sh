#!/usr/bin/env bash
# The README's run command: builds the server (installing protoc first if missing) and runs
# it. With no arguments it uses the embedded store in its default data directory and writes
# an admin kubeconfig there; any kube-apiserver flags may be passed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-build-deps.sh
exec cargo run --release -p kube-apiserver -- "$@"
