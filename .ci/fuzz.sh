#!/usr/bin/env bash
# Runs every Fuzz target of the module for a short time ($1, default 5s).
# The seed corpora already run as ordinary tests; this looks a little further.
set -euo pipefail
cd "$(dirname "$0")/.."
t=${1:-5s}
n=0
log=$(mktemp)
for dir in $(grep -rl --include='*_test.go' '^func Fuzz' . | grep -v node_modules | xargs -r -n1 dirname | sort -u); do
  for f in $(grep -h -o '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go | sed 's/^func //' | sort -u); do
    echo "fuzz: $dir $f ($t)"
    if ! go test -run '^$' -fuzz "^${f}\$" -fuzztime "$t" -fuzzminimizetime 5s "$dir" >"$log" 2>&1; then
      cat "$log"; rm -f "$log"; exit 1
    fi
    n=$((n+1))
  done
done
rm -f "$log"
echo "fuzz: $n targets ran for $t each"
