// Package strictjson is the module's one parser policy for JSON from the
// wire (RFC 8259, https://datatracker.ietf.org/doc/html/rfc8259): JOSE
// headers, JWKs and JWK Sets, JWT and introspection claims, "cnf" objects,
// authorization server metadata and PAR responses all go through it.
//
// # Policy
//
// A document is accepted only when it is one well-formed JSON value, with
// nothing but whitespace around it, and
//
//   - every string is valid UTF-8 and holds no escaped surrogate that is
//     not half of a pair ("\ud800"): encoding/json replaces both with
//     U+FFFD, so two different strings would decode to the same one
//     (RFC 8259 §8.2, https://datatracker.ietf.org/doc/html/rfc8259#section-8.2);
//   - arrays and objects nest at most [MaxDepth] deep;
//   - no object holds two members whose names are equal under Unicode
//     simple case folding, escapes decoded: not "alg" twice, nor "kid"
//     and "KID", nor "kid" and "\u212Aid" (KELVIN SIGN, which folds to
//     "k");
//   - with a [Schema], no member spells an expected name in another case
//     ([ErrCase]).
//
// # Why
//
// The documents carry security decisions that more than one parser reads:
// the issuer's library writes a token, ours verifies it, a gateway or an
// auditing tool reads it again. Wherever two parsers may resolve the same
// bytes differently, an attacker can make one document mean two things
// (a parser differential):
//
//   - {"alg":"none","alg":"ES256"}: RFC 7515 §4
//     (https://datatracker.ietf.org/doc/html/rfc7515#section-4) lets a
//     parser keep the first or the last duplicate, or reject; one library
//     checks ES256 while another acts on none. Rejecting is the only
//     answer every reader agrees with.
//   - {"kid":"a","\u212Aid":"b"} or {"ISS":"evil"}: encoding/json fills a
//     struct field from any member whose name matches it ignoring case,
//     with Unicode folding, where jwx and most other libraries see an
//     unknown member. Rejecting names equal under folding in one object
//     closes that door whatever the caller decodes into, and a [Schema]
//     closes it for a lone case variant of an expected name.
//   - invalid UTF-8 and unpaired surrogates: decoded to U+FFFD by some
//     parsers, kept or rejected by others.
//   - deep nesting: a stack or time bomb for recursive parsers, never
//     needed by a protocol document.
//
// A caller compares member names exactly (string(name) == "cnf"), never
// ignoring case.
//
// # Use
//
//   - [Check] and [CheckObject] validate a document;
//   - [EachMember] walks the members of a top-level object (name and raw
//     value) after checking them;
//   - [Kind], [Unquote], [String], [Bool], [NumericDate] and [IsNull] read
//     raw values;
//   - [Reader] is a pull reader that applies the same policy without
//     allocating on small documents, for hot paths (DPoP proofs);
//   - [UnmarshalStrict] checks data against the schema of a Go type, then
//     decodes it with encoding/json.
//
// Errors wrap the sentinels of this package ([ErrSyntax], [ErrDuplicate],
// ...); callers wrap them in their own ("%w: %w"). Error text never
// contains any part of the input: at most an expected member name.
package strictjson
