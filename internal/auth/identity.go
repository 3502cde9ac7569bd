package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/parley-chat/parley/internal/chat"
)

// MaxIdentityTokenLifetime bounds a site's identity token: exp may be at
// most this far after iat (or after now, without iat). A token is a
// short-lived proof minted per page view, not a session.
const MaxIdentityTokenLifetime = 10 * time.Minute

// The unauthorized answers to a bad identity: they say what is wrong, so the
// site's developer sees it in the network panel.
var (
	errBadSignature = chat.Errorf(chat.CodeUnauthorized, "identity.signature is not the HMAC-SHA256 of identity.id under PARLEY_IDENTITY_SECRET")
	errBadIDToken   = chat.Errorf(chat.CodeUnauthorized, "identityToken is not an HS256 JWT signed with PARLEY_IDENTITY_SECRET")
	errExpired      = chat.Errorf(chat.CodeUnauthorized, "identityToken has expired: mint a new one for each page")
	errLongLived    = chat.Errorf(chat.CodeUnauthorized, "identityToken must expire within 10 minutes of being issued")
	errNoSub        = chat.Errorf(chat.CodeUnauthorized, "identityToken has no sub (the user id)")
)

// Identities checks the identities a site's backend signs with the secret it
// shares with Parley (PARLEY_IDENTITY_SECRET): the hex HMAC-SHA256 of a user
// id, or an HS256 JWT with sub, name and email. It implements
// chat.IdentityVerifier.
type Identities struct {
	secret []byte
}

// NewIdentities returns the verifier of secret.
func NewIdentities(secret []byte) *Identities {
	return &Identities{secret: append([]byte(nil), secret...)}
}

// Signature returns the hex HMAC-SHA256 of id, as the site's backend
// computes it (for tests and the docs' example).
func (v *Identities) Signature(id string) string {
	m := hmac.New(sha256.New, v.secret)
	m.Write([]byte(id))
	return hex.EncodeToString(m.Sum(nil))
}

// VerifySignature checks that sig is the hex (either case) HMAC-SHA256 of
// id, in constant time.
func (v *Identities) VerifySignature(id, sig string) error {
	got, err := hex.DecodeString(sig)
	if err != nil || len(got) != sha256.Size {
		return errBadSignature
	}
	m := hmac.New(sha256.New, v.secret)
	m.Write([]byte(id))
	if !hmac.Equal(got, m.Sum(nil)) {
		return errBadSignature
	}
	return nil
}

// identityClaims is what a site's identity token says.
type identityClaims struct {
	jwt.RegisteredClaims
	Name  string `json:"name"`
	Email string `json:"email"`
}

// VerifyToken checks a site's identity token: HS256 only, signed with the
// secret, exp required and in the future, at most MaxIdentityTokenLifetime
// after iat (iat optional, never in the future), nbf honoured; iss and aud
// are not checked. Each bound allows the same small clock skew as Parley's
// own tokens.
func (v *Identities) VerifyToken(raw string, now time.Time) (chat.Identity, error) {
	if len(raw) > maxTokenLength {
		return chat.Identity{}, errBadIDToken
	}
	var c identityClaims
	_, err := jwt.ParseWithClaims(raw, &c, func(*jwt.Token) (any, error) { return v.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(func() time.Time { return now }))
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return chat.Identity{}, errExpired
	case err != nil:
		return chat.Identity{}, errBadIDToken
	}
	from := now
	if c.IssuedAt != nil {
		from = c.IssuedAt.Time
	}
	if c.ExpiresAt.Sub(from) > MaxIdentityTokenLifetime+leeway {
		return chat.Identity{}, errLongLived
	}
	if c.Subject == "" {
		return chat.Identity{}, errNoSub
	}
	return chat.Identity{ID: c.Subject, Name: c.Name, Email: c.Email}, nil
}
