# hardened: build, test and fuzz targets. `make test` is what CI runs.
GO       ?= go
FUZZTIME ?= 5s
GOFILES   = $(shell find . -name '*.go' -not -path './internal/interop/node_modules/*')

.PHONY: test fmt vet boundaries race fuzz-smoke fuzz bench load demo peers

## test: everything CI checks: formatting, vet, the jwx import boundary,
## the race-enabled test suite (no skips allowed when peers are required)
## and a short run of every fuzz target.
test: fmt vet boundaries race fuzz-smoke

fmt:
	@out=$$(gofmt -l $(GOFILES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

## boundaries: the import rules of ARCHITECTURE.md (jwx only in internal/jose,
## no protocol package imports a sibling, phantom only dpop and mtlsbound, ...).
boundaries:
	bash .ci/imports.sh

race:
	bash .ci/gotest.sh -race ./...

## fuzz-smoke: every Fuzz target for FUZZTIME (seed corpora also run in `race`).
fuzz-smoke:
	bash .ci/fuzz.sh $(FUZZTIME)

## fuzz: longer fuzzing, e.g. make fuzz FUZZTIME=5m. The campaign in
## SECURITY.md: make fuzz FUZZTIME=10m FUZZJOBS=2 FUZZPARALLEL=1 FUZZLOGDIR=fuzzlogs
## (FUZZMATCH='regexp on "dir Target"' runs a part of it; see .ci/fuzz.sh).
export FUZZJOBS FUZZPARALLEL FUZZMATCH FUZZLOGDIR
fuzz:
	bash .ci/fuzz.sh $(FUZZTIME)

## bench: the benchmarks behind BENCHMARKS.md, BENCHCOUNT runs each (enough
## for benchstat), raw output in BENCHOUT, then benchstat's summary of it.
BENCHCOUNT ?= 6
BENCHOUT   ?= bench.txt
BENCHPKGS   = ./internal/jose ./dpop ./jarm ./mtlsbound ./phantom .
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count $(BENCHCOUNT) $(BENCHPKGS) | tee $(BENCHOUT)
	$(GO) run golang.org/x/perf/cmd/benchstat@latest $(BENCHOUT)

## load: wrk and a DPoP driver against examples/gateway beside a plain proxy
## and nginx, then the introspection endpoint and Redis killed, slowed,
## broken during load (loopback only, a few minutes; needs make peers).
## Summary in LOAD_OUT (load.txt); non-zero exit on any violation.
load:
	bash .ci/load.sh

## demo: the end-to-end demo against the embedded authorization server.
demo:
	$(GO) run ./examples/fapi2

## peers: install the real test peers (Redis from Debian, node-oidc-provider from npm).
peers:
	bash .ci/peers.sh
