#!/usr/bin/env bash
# Installs the real peers the tests run against: Debian's redis-server and
# node-oidc-provider (pinned by internal/interop/package-lock.json).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v redis-server >/dev/null 2>&1; then
  echo "peers: installing redis-server (Debian)"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq redis-server >/dev/null
fi
redis-server --version

if [ -f internal/interop/package-lock.json ]; then
  echo "peers: npm ci (node-oidc-provider)"
  npm ci --prefix internal/interop --no-audit --no-fund --loglevel=error
  node -e 'console.log("oidc-provider", require("./internal/interop/node_modules/oidc-provider/package.json").version)'
fi
