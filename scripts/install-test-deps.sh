#!/usr/bin/env bash
# Installs what the tests need on a fresh machine: kubectl (if the image has none).
# Safe to run repeatedly; does nothing when everything is present.
set -euo pipefail

need_apt=()
command -v kubectl >/dev/null 2>&1 || need_apt+=(kubernetes-client)

if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${need_apt[@]}"
fi
kubectl version --client 2>/dev/null | head -1 || true
