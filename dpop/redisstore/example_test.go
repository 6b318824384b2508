package redisstore_test

import (
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/hardened-oauth/hardened/dpop"
	"github.com/hardened-oauth/hardened/dpop/redisstore"
)

// Every replica of a resource server shares one Redis for replay
// detection.
func ExampleStore() {
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
	defer rdb.Close()
	v := &dpop.Verifier{
		BaseURL: "https://api.example.com",
		Replay:  &redisstore.Store{Client: rdb},
	}
	fmt.Println(v.Algs())
	// Output: ES256 PS256 EdDSA
}
