#!/usr/bin/env bash
# Runs every Fuzz target of the module for a while ($1, default 5s).
# The seed corpora already run as ordinary tests; this looks a little further.
#
# Settings (environment, or make variables of the same name):
#   FUZZJOBS      targets fuzzed at once (default 1)
#   FUZZPARALLEL  workers per target, go test -parallel (default: go's, GOMAXPROCS)
#   FUZZMATCH     extended regexp; only targets whose "dir Target" matches run
#                 (e.g. FUZZMATCH='^\./(dpop|phantom) ')
#   FUZZLOGDIR    keep each target's log there as <dir>_<Target>.log (root for .)
#
# A new crasher (a file go writes under testdata/fuzz/) fails the run, at
# its end: the other targets still run, so one campaign finds them all; a
# failure that leaves no crasher (the fuzzing engine's own worker trouble)
# is printed and retried once. Each target ends with one line
#   fuzz-result: <dir> <Target> <elapsed> <execs> <ok|crasher|failed>
# taken from the engine's own last status line: the figures SECURITY.md
# reports.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--one" ]; then
  # One target: .ci/fuzz.sh --one <time> <dir> <Target>
  t=$2 dir=$3 f=$4
  if [ -n "${FUZZLOGDIR:-}" ]; then
    mkdir -p "$FUZZLOGDIR"
    name=${dir#./}; [ "$name" != . ] || name=root
    log="$FUZZLOGDIR/$(echo "$name" | tr / _)_$f.log"
    : >"$log"
  else
    log=$(mktemp)
  fi
  first=$(mktemp)
  crashers() { { find "$dir/testdata/fuzz/$f" -type f 2>/dev/null || true; } | wc -l; }
  # go test's own -timeout (10m by default) covers the whole binary,
  # fuzzing included: give it the fuzzing time plus 15 minutes.
  timeout=10m
  if [[ $t =~ ^([0-9]+)(s|m|h)$ ]]; then
    case ${BASH_REMATCH[2]} in s) k=1 ;; m) k=60 ;; h) k=3600 ;; esac
    timeout=$((BASH_REMATCH[1] * k + 900))s
  fi
  args=(-run '^$' -fuzz "^$f\$" -fuzztime "$t" -fuzzminimizetime 30s -timeout "$timeout")
  if [ -n "${FUZZPARALLEL:-}" ]; then args+=(-parallel "$FUZZPARALLEL"); fi
  fuzz() {
    echo "# $(date -u +%FT%TZ) commit $(git rev-parse --short HEAD 2>/dev/null || echo none): go test ${args[*]} $dir" >>"$log"
    go test "${args[@]}" "$dir" >>"$log" 2>&1
  }
  result() {
    local last
    last=$(grep -o 'elapsed: [0-9hms.]*, execs: [0-9]*' "$log" | tail -n 1 || true)
    local el=${last#elapsed: }; el=${el%%,*}
    local n=${last##*execs: }
    echo "fuzz-result: $dir $f ${el:-?} ${n:-?} $1"
  }
  echo "fuzz: $dir $f ($t)"
  before=$(crashers)
  if ! fuzz; then
    if [ "$(crashers)" -gt "$before" ]; then
      cat "$log"
      echo "fuzz: $dir $f found a crasher (kept under $dir/testdata/fuzz/$f)"
      result crasher
      [ -n "${FUZZLOGDIR:-}" ] || rm -f "$log"
      rm -f "$first"
      exit 1 # the run goes on (xargs stops only for 255) and fails at its end
    fi
    # The fuzzing engine's own worker trouble: keep the log, retry once,
    # and print it only if the retry fails too, so that a passing retry
    # leaves no "--- FAIL" line behind to read like a failure.
    cp "$log" "$first"
    echo "fuzz: $dir $f: the fuzzing engine failed without a crasher; retrying once"
    if ! fuzz; then
      echo "----- first attempt -----"; cat "$first"
      echo "----- retry -----"; cat "$log"
      result failed
      [ -n "${FUZZLOGDIR:-}" ] || rm -f "$log"
      rm -f "$first"
      exit 1
    fi
    echo "fuzz: $dir $f: the retry passed"
  fi
  result ok
  [ -n "${FUZZLOGDIR:-}" ] || rm -f "$log"
  rm -f "$first"
  exit 0
fi

t=${1:-5s}
jobs=${FUZZJOBS:-1}
targets=$(mktemp)
results=$(mktemp)
trap 'rm -f "$targets" "$results"' EXIT
for dir in $(grep -rl --include='*_test.go' '^func Fuzz' . | grep -v node_modules | xargs -r -n1 dirname | sort -u); do
  for f in $(grep -h -o '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go | sed 's/^func //' | sort -u); do
    echo "$dir $f"
  done
done | { grep -E -- "${FUZZMATCH:-.}" || true; } >"$targets"
n=$(wc -l <"$targets")
if [ "$n" -eq 0 ]; then echo "fuzz: no target matches FUZZMATCH='${FUZZMATCH:-}'"; exit 1; fi
echo "fuzz: $n targets for $t each, $jobs at a time"
rc=0
xargs -P "$jobs" -L 1 bash "$0" --one "$t" <"$targets" | tee "$results" || rc=$?
echo "fuzz: summary (dir, target, elapsed, execs, result)"
grep '^fuzz-result: ' "$results" | sort || true
if [ "$rc" -ne 0 ]; then echo "fuzz: FAILED"; exit 1; fi
echo "fuzz: $n targets ran for $t each"
