#!/usr/bin/env bash
# make load: builds examples/gateway and runs internal/loadtest against it
# (wrk, nginx and redis-server from Debian: .ci/peers.sh installs them).
# Loopback only; bounded (about three minutes); prints a summary and exits
# non-zero on any violation. Extra arguments go to the driver, e.g.
# .ci/load.sh -duration 10s -conns 32.
set -euo pipefail
cd "$(dirname "$0")/.."
nginx=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx" ] || { echo "load: nginx is missing (run make peers)"; exit 1; }
for bin in wrk redis-server; do
  command -v "$bin" >/dev/null || { echo "load: $bin is missing (run make peers)"; exit 1; }
done
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
go build -o "$dir/gateway" ./examples/gateway
go build -o "$dir/loadtest" ./internal/loadtest
"$dir/loadtest" -gateway "$dir/gateway" -nginx "$nginx" "$@" 2>&1 | tee "${LOAD_OUT:-load.txt}"
exit "${PIPESTATUS[0]}"
