// Package deps pins the module's dependencies while the packages that use
// them are being written. It is removed once every dependency has a user.
package deps

import (
	_ "github.com/lestrrat-go/jwx/v2/jwe"
	_ "github.com/lestrrat-go/jwx/v2/jwk"
	_ "github.com/lestrrat-go/jwx/v2/jws"
	_ "github.com/lestrrat-go/jwx/v2/jwt"
	_ "github.com/redis/go-redis/v9"
	_ "github.com/stretchr/testify/require"
	_ "golang.org/x/oauth2"
)
