#!/usr/bin/env bash
# Checks the module's import rules (ARCHITECTURE.md), on non-test and test
# imports alike:
#   - only internal/jose imports github.com/lestrrat-go/jwx;
#   - the protocol packages (par, jar, jarm, dpop, mtlsbound) import no
#     sibling; phantom may import only dpop and mtlsbound among them;
#   - below the root, only examples/, internal/interop and internal/loadtest
#     (programs and tests of the whole module) import the root package, and
#     nothing imports examples/;
#   - github.com/redis/go-redis only in a */redisstore package, examples/ and
#     internal/loadtest.
set -euo pipefail
cd "$(dirname "$0")/.."
M=$(go list -m)
bad=0
fail() { echo "import rule: $*"; bad=1; }
protocol="par jar jarm dpop mtlsbound phantom"
while read -r pkg imports; do
  pkg=${pkg%_test}
  rel=${pkg#"$M"}; rel=${rel#/}; [ -n "$rel" ] || rel=.
  top=${rel%%/*}
  for imp in $imports; do
    case "$imp" in
      github.com/lestrrat-go/jwx*)
        [ "$rel" = internal/jose ] || fail "$rel imports jwx (only internal/jose may)";;
      github.com/redis/go-redis*)
        case "$rel" in */redisstore|*/redisstore/*|examples/*|internal/loadtest) ;; *) fail "$rel imports go-redis (only */redisstore packages, examples/ and internal/loadtest may)";; esac;;
      "$M"/examples|"$M"/examples/*)
        [ "$top" = examples ] || fail "$rel imports ${imp#"$M"/} (nothing imports examples/)";;
      "$M")
        case "$rel" in .|examples/*|internal/interop|internal/loadtest) ;; *) fail "$rel imports the root package (only examples/, internal/interop and internal/loadtest may)";; esac;;
      "$M"/*)
        dep=${imp#"$M"/}; dtop=${dep%%/*}
        case " $protocol " in *" $top "*)
          case " $protocol " in *" $dtop "*)
            [ "$dtop" = "$top" ] && continue
            if [ "$top" = phantom ] && { [ "$dtop" = dpop ] || [ "$dtop" = mtlsbound ]; }; then continue; fi
            fail "$rel imports $dep (protocol packages import no sibling; phantom may use dpop and mtlsbound)";;
          esac;;
        esac;;
    esac
  done
done < <(go list -test -f '{{.ImportPath}} {{join .Imports " "}}' ./... | grep -v '\.test ' | sed 's/ \[[^]]*\]//' | sort -u)
[ $bad = 0 ] && echo "import rules: ok"
exit $bad
