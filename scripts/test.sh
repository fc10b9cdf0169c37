#!/usr/bin/env bash
# The project's test command (README): installs what the tests need, then runs every
# unit, contract and integration test of the workspace. Integration tests start the real
# binary on 127.0.0.1 and drive it with kube-rs and kubectl.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast "$@"
else
  cargo test --workspace --no-fail-fast "$@"
fi
