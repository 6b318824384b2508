#!/usr/bin/env bash
# Runs every Fuzz target of the module for a short time ($1, default 5s).
# The seed corpora already run as ordinary tests; this looks a little further.
# A new crasher (a file go writes under testdata/fuzz/) fails at once; a
# failure that leaves no crasher (the fuzzing engine's own worker trouble)
# is printed and retried once.
set -euo pipefail
cd "$(dirname "$0")/.."
t=${1:-5s}
n=0
log=$(mktemp)
first=$(mktemp)
crashers() { { find "$1/testdata/fuzz/$2" -type f 2>/dev/null || true; } | wc -l; }
fuzz() { go test -run '^$' -fuzz "^$2\$" -fuzztime "$t" -fuzzminimizetime 5s "$1" >"$log" 2>&1; }
for dir in $(grep -rl --include='*_test.go' '^func Fuzz' . | grep -v node_modules | xargs -r -n1 dirname | sort -u); do
  for f in $(grep -h -o '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go | sed 's/^func //' | sort -u); do
    echo "fuzz: $dir $f ($t)"
    before=$(crashers "$dir" "$f")
    if ! fuzz "$dir" "$f"; then
      if [ "$(crashers "$dir" "$f")" -gt "$before" ]; then
        cat "$log"
        echo "fuzz: $dir $f found a crasher (kept under $dir/testdata/fuzz/$f)"; rm -f "$log"; exit 1
      fi
      # The fuzzing engine's own worker trouble: keep the log, retry once,
      # and print it only if the retry fails too, so that a passing retry
      # leaves no "--- FAIL" line behind to read like a failure.
      cp "$log" "$first"
      echo "fuzz: $dir $f: the fuzzing engine failed without a crasher; retrying once"
      if ! fuzz "$dir" "$f"; then
        echo "----- first attempt -----"; cat "$first"
        echo "----- retry -----"; cat "$log"; rm -f "$log" "$first"; exit 1
      fi
      echo "fuzz: $dir $f: the retry passed"
    fi
    n=$((n+1))
  done
done
rm -f "$log" "$first"
echo "fuzz: $n targets ran for $t each"
