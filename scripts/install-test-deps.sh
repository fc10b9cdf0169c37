#!/usr/bin/env bash
# Installs what the tests need on a fresh machine: protoc (build), etcd (the etcd backend
# is tested against a real etcd), kubectl and curl (integration tests drive the server with
# them). Safe to run repeatedly; does nothing when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-build-deps.sh
scripts/etcd.sh install

need_apt=()
command -v kubectl >/dev/null 2>&1 || need_apt+=(kubernetes-client)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing: ${need_apt[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}"
fi
echo "etcd: $(etcd --version 2>/dev/null | sed -n 1p)"
echo "kubectl: $(kubectl version --client 2>/dev/null | sed -n 1p)"
