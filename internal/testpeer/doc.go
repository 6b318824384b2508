// Package testpeer starts the real peers some tests run against (a
// throwaway redis-server, Debian's nginx) on loopback, in one place: the
// binary lookup, the loud "make peers" banner when a peer is missing, the
// process group, and bounded waits for readiness and shutdown.
//
// A missing peer skips the test (a counted --- SKIP naming `make peers`),
// unless peers are required (HARDENED_REQUIRE_PEERS=1 or CI=true), which
// makes it a failure. Only tests import this package; it does not import
// go-redis (redis-server readiness is a raw RESP PING), which only
// */redisstore packages may.
package testpeer
