#!/usr/bin/env bash
# Installs the real peers the tests run against: Debian's redis-server,
# nginx and wrk, and node-oidc-provider (pinned by
# internal/interop/package-lock.json).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian's packages: redis-server (shared stores), nginx (the gateway's
# auth_request mode), wrk (make load and the gateway benchmarks).
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
if [ ${#need[@]} -gt 0 ]; then
  echo "peers: installing ${need[*]} (Debian)"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq "${need[@]}" >/dev/null
  # The nginx package starts a system service on port 80; the tests start
  # their own on loopback ports, so stop it.
  if command -v systemctl >/dev/null 2>&1; then as_root systemctl stop nginx >/dev/null 2>&1 || true; fi
  as_root pkill -x nginx >/dev/null 2>&1 || true
fi
redis-server --version
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
"$nginx_bin" -v 2>&1
wrk --version 2>&1 | head -1 || true

if [ -f internal/interop/package-lock.json ]; then
  echo "peers: npm ci (node-oidc-provider)"
  npm ci --prefix internal/interop --no-audit --no-fund --loglevel=error
  node -e 'console.log("oidc-provider", require("./internal/interop/node_modules/oidc-provider/package.json").version)'
fi
