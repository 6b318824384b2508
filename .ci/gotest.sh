#!/usr/bin/env bash
# Runs go test with the given flags and packages. When peers are required
# (CI=true or HARDENED_REQUIRE_PEERS=1) a skipped test is a failure: a test
# that did not run proves nothing.
set -uo pipefail
cd "$(dirname "$0")/.."
if [ "${CI:-}" = true ]; then export HARDENED_REQUIRE_PEERS=1; fi
log=$(mktemp)
# -count=1: a peer installed since the last run (make peers) must be seen;
# go test caches results, including a skip for a peer that was missing.
go test -count=1 -v "$@" >"$log" 2>&1
status=$?
# Summary: package results and anything that failed or skipped.
grep -E '^(ok|FAIL|---|panic:)|^\s+--- (FAIL|SKIP)|SKIPPED' "$log" | grep -v -- '--- PASS' || true
pass=$(grep -cE '^\s*--- PASS' "$log" || true)
fail=$(grep -cE '^\s*--- FAIL' "$log" || true)
skip=$(grep -cE '^\s*--- SKIP' "$log" || true)
if [ $status -ne 0 ]; then
  echo "----- full go test output (failure) -----"
  cat "$log"
fi
rm -f "$log"
echo "tests: $pass passed, $fail failed, $skip skipped"
if [ $status -ne 0 ]; then exit $status; fi
if [ "${HARDENED_REQUIRE_PEERS:-}" = 1 ] && [ "$skip" -gt 0 ]; then
  echo "FAIL: $skip test(s) skipped while peers are required"
  exit 1
fi
