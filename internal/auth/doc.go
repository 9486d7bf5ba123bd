// Package auth hashes and verifies passwords and signs and checks tokens.
//
// # Format
//
// [Hash] returns an argon2id hash in the PHC string format
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// with a random 16-byte salt and a 32-byte key, both in unpadded standard
// base64. The cost (19 MiB of memory, two passes, one lane) follows the
// OWASP password storage recommendation for argon2id.
//
// # Verifying
//
// [Verify] reads the parameters back from the stored string, so hashes made
// with other costs keep verifying after the defaults change. It also accepts
// bcrypt hashes ($2a$, $2b$, $2y$) so that users imported from another system
// can log in. The comparison of derived keys is constant-time. A malformed
// stored string, or one whose cost is beyond the limits below, never verifies.
//
// # Limits
//
// A stored argon2id hash may ask for at most 256 MiB of memory, 16 passes and
// 16 lanes, and a bcrypt hash for a cost of at most 14 (about a second);
// anything above is treated as malformed rather than computed.
//
// # Tokens
//
// [Tokens] signs and checks JSON Web Tokens with HS256 (github.com/golang-jwt/jwt/v5).
// The secret must be at least [MinSecretBytes] bytes: there is no built-in
// default. Sign always sets "iat" and "exp" (rounded up to the second, so a
// token lives at least its ttl); Check accepts only HS256, requires "exp",
// refuses a token issued in the future and reports an expired token with
// [ErrTokenExpired], anything else with [ErrTokenInvalid]. A "Bearer " prefix
// is stripped, so an Authorization header can be checked as it is.
package auth
