package hardened

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/jar"
)

// checkEncryption validates Config.EncryptRequestObject against the fields
// that need no metadata: encrypted request objects are signed ones, so
// they need Key and a request object.
func (c *Config) checkEncryption() error {
	if !c.EncryptRequestObject {
		return nil
	}
	switch {
	case c.Key == nil:
		return configErr("EncryptRequestObject", "needs Key: a request object is signed, then encrypted")
	case c.InsecureUnsignedRequest:
		return configErr("EncryptRequestObject", "set together with InsecureUnsignedRequest, which sends no request object")
	}
	return nil
}

// checkEncryptionMetadata reports whether the metadata allows encrypted
// request objects: the server's encryption keys are in its jwks_uri.
func (c *Config) checkEncryptionMetadata(st *state) error {
	if c.EncryptRequestObject && st.keys == nil {
		return fmt.Errorf("%w: jwks_uri (EncryptRequestObject needs the server's encryption keys)", ErrMissingEndpoint)
	}
	return nil
}

// requestObject builds the request object of an authorization request:
// signed with Key, then, with EncryptRequestObject, encrypted to the
// server (RFC 9101 §6.1). The encryption keys are read from the server's
// jwks_uri through the same key set as the ID token keys, so a login
// fetches it once, and a rotated key is picked up when the set is
// refetched.
func (c *Config) requestObject(ctx context.Context, st *state, params url.Values) (*jar.RequestObject, error) {
	if !c.EncryptRequestObject {
		return st.jar.Build(params)
	}
	enc, err := requestObjectEncryption(ctx, st)
	if err != nil {
		return nil, err
	}
	jc := *st.jar
	jc.Encryption = enc
	ro, err := jc.Build(params)
	if errors.Is(err, jar.ErrEncryption) {
		// The server's metadata and keys admit no algorithm or key this
		// module implements: retrying cannot help.
		return nil, fmt.Errorf("%w: request object encryption: %w", ErrInvalidConfig, err)
	}
	return ro, err
}

// keySet is the part of the server's remote key set that lists its keys.
type keySet interface {
	Keys(ctx context.Context) ([]*jose.JWK, error)
}

// requestObjectEncryption returns the server's request object encryption:
// the RSA and EC keys of its jwks_uri whose use is "enc" or absent, with
// its request_object_encryption_alg_values_supported and
// request_object_encryption_enc_values_supported. A set without such a key
// wraps [ErrInvalidConfig]: the Config asks for something the server does
// not offer.
func requestObjectEncryption(ctx context.Context, st *state) (*jar.Encryption, error) {
	ks, ok := st.keys.(keySet)
	if !ok {
		return nil, fmt.Errorf("%w: jwks_uri (EncryptRequestObject needs the server's encryption keys)", ErrMissingEndpoint)
	}
	set, err := ks.Keys(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: jwks_uri: %w", ErrRequestFailed, err)
	}
	doc, err := jose.MarshalJWKSet(set)
	if err != nil {
		return nil, fmt.Errorf("%w: jwks_uri: %w", ErrInvalidResponse, err)
	}
	// jar decides which keys may encrypt (type, use, size, curve), from
	// the set as the server published it (no private members: they were
	// refused when the set was fetched).
	keys, err := jar.ParseEncryptionKeys(doc)
	if err != nil {
		return nil, fmt.Errorf("%w: jwks_uri: %w", ErrInvalidResponse, err)
	}
	if len(keys) == 0 {
		return nil, configErr("EncryptRequestObject", "the server's jwks_uri has no RSA or EC encryption key")
	}
	return &jar.Encryption{
		Keys:               keys,
		AlgValuesSupported: st.md.RequestObjectEncryptionAlgValuesSupported,
		EncValuesSupported: st.md.RequestObjectEncryptionEncValuesSupported,
	}, nil
}
