package redisstore_test

import (
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/hardened-oauth/hardened/dpop"
	dpopredis "github.com/hardened-oauth/hardened/dpop/redisstore"
	"github.com/hardened-oauth/hardened/phantom"
	"github.com/hardened-oauth/hardened/phantom/redisstore"
)

// Replicas of a gateway share one Redis: the introspection cache, the DPoP
// replay store, and the nonce secret (from SharedSecret at start-up).
func ExampleCache() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"}) // connects on first use
	defer rdb.Close()
	g := &phantom.Gateway{
		IntrospectionURL: "https://as.example.com/introspect",
		Issuer:           "https://as.example.com",
		ClientID:         "gateway",
		JWKSURL:          "https://as.example.com/jwks",
		Cache:            &redisstore.Cache{Client: rdb},
		DPoP: &dpop.Verifier{
			BaseURL: "https://api.example.com",
			Replay:  &dpopredis.Store{Client: rdb},
			// Nonces: &dpop.Nonces{Secrets: [][]byte{secret}}, with
			// secret, _ := redisstore.SharedSecret(ctx, rdb, "phantom:nonce-secret")
		},
	}
	_ = g // g.Wrap(proxy) serves requests
	fmt.Println(redisstore.DefaultPrefix + "<hex SHA-256 of the token>")
	// Output:
	// phantom:token:<hex SHA-256 of the token>
}
