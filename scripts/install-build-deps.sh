#!/usr/bin/env bash
# Installs what building the server needs on a fresh machine: protoc (the etcd client crate
# generates its gRPC code at build time). Does nothing when it is present.
set -euo pipefail
if ! command -v protoc >/dev/null 2>&1; then
  echo "installing protobuf-compiler (protoc, needed to build the etcd client)"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq protobuf-compiler
fi
