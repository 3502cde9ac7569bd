// Package auth issues and verifies Parley's signed tokens and checks admin
// passwords. Admin and visitor tokens are JWTs with different audiences; a
// token of one audience is never accepted for the other.
package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/parley-chat/parley/internal/chat"
)

// Token audiences and issuer.
const (
	Issuer           = "parley"
	AudienceAdmin    = "parley-admin"
	AudienceVisitor  = "parley-visitor"
	AdminTokenTTL    = 12 * time.Hour
	minSecretLength  = 32
	maxTokenLength   = 4096
	defaultVisitorTL = 365 * 24 * time.Hour
	// leeway is the clock skew allowed on exp, iat and nbf.
	leeway = 5 * time.Second
)

// AdminClaims is what an admin token says.
type AdminClaims struct {
	ID          string
	Username    string
	DisplayName string
	// Role is the account's role as stored when the token was checked (on
	// this request): a role change holds from the next request on.
	Role      chat.Role
	ExpiresAt time.Time
	// APIToken is the id of the API token the request came with ("" for
	// a login token), Scopes what that token may do (see Allows).
	APIToken string
	Scopes   []chat.Scope
}

type adminJWT struct {
	Name string `json:"name,omitempty"`
	// Gen is the account's generation at issue (chat.Admin.Generation);
	// nil in tokens issued before generations existed.
	Gen *int64 `json:"gen,omitempty"`
	jwt.RegisteredClaims
}

// Store is what Tokens needs from storage: revoked token ids, and the admin
// accounts, so a token dies with its account or with a new password.
type Store interface {
	chat.TokenStore
	// AdminAuth returns, in one round trip, the account username (its
	// generation and role among the rest) and whether
	// the token id tokenID was revoked. It returns chat.ErrAdminUnknown when
	// the account does not exist (revoked is still reported), or a store
	// error.
	AdminAuth(ctx context.Context, tokenID, username string) (adm chat.Admin, revoked bool, err error)
}

// Tokens signs and verifies tokens with one HMAC secret.
type Tokens struct {
	secret     []byte
	store      Store
	now        func() time.Time
	visitorTTL time.Duration
	parsers    map[string]*jwt.Parser
	visitors   *visitorCache
}

// NewTokens returns a Tokens signing with secret (at least 32 bytes). store
// keeps revoked token ids. visitorTTL is the visitor token lifetime (the room
// TTL); 0 means a year. now may be nil for time.Now.
func NewTokens(secret []byte, store Store, visitorTTL time.Duration, now func() time.Time) (*Tokens, error) {
	if len(secret) < minSecretLength {
		return nil, fmt.Errorf("auth: secret must be at least %d bytes", minSecretLength)
	}
	if now == nil {
		now = time.Now
	}
	if visitorTTL <= 0 {
		visitorTTL = defaultVisitorTL
	}
	parser := func(audience string) *jwt.Parser {
		return jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithIssuer(Issuer),
			jwt.WithAudience(audience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(leeway),
			jwt.WithTimeFunc(now),
		)
	}
	return &Tokens{
		secret: secret, store: store, now: now, visitorTTL: visitorTTL,
		parsers:  map[string]*jwt.Parser{AudienceAdmin: parser(AudienceAdmin), AudienceVisitor: parser(AudienceVisitor)},
		visitors: newVisitorCache(visitorCacheGeneration),
	}, nil
}

func (t *Tokens) sign(claims jwt.Claims) (string, error) {
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.secret)
	if err != nil {
		return "", fmt.Errorf("auth: sign: %w", err)
	}
	return s, nil
}

func (t *Tokens) registered(subject, audience string, ttl time.Duration) jwt.RegisteredClaims {
	now := t.now()
	return jwt.RegisteredClaims{
		ID:        chat.NewTokenID(),
		Issuer:    Issuer,
		Subject:   subject,
		Audience:  jwt.ClaimStrings{audience},
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}
}

// IssueAdmin returns a 12-hour admin token for a, valid while the account
// stays at a.Generation.
func (t *Tokens) IssueAdmin(a chat.Admin) (string, time.Time, error) {
	gen := a.Generation
	c := adminJWT{Name: a.DisplayName, Gen: &gen, RegisteredClaims: t.registered(a.Username, AudienceAdmin, AdminTokenTTL)}
	s, err := t.sign(c)
	return s, c.ExpiresAt.Time, err
}

// IssueVisitor returns a visitor token bound to one room.
func (t *Tokens) IssueVisitor(roomID string) (string, time.Time, error) {
	c := t.registered(roomID, AudienceVisitor, t.visitorTTL)
	s, err := t.sign(c)
	return s, c.ExpiresAt.Time, err
}

func (t *Tokens) parse(raw, audience string, claims jwt.Claims) error {
	if raw == "" || len(raw) > maxTokenLength {
		return chat.ErrUnauthorized
	}
	tok, err := t.parsers[audience].ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return t.secret, nil })
	if err != nil || !tok.Valid {
		return chat.ErrUnauthorized
	}
	return nil
}

// VerifyAdmin checks an admin token, including that it was not revoked, that
// its account still exists and that the account is still at the generation
// the token was issued under (no password change, no removal since). It
// returns chat.ErrUnauthorized, or a store error.
func (t *Tokens) VerifyAdmin(ctx context.Context, raw string) (AdminClaims, error) {
	var c adminJWT
	if err := t.parse(raw, AudienceAdmin, &c); err != nil {
		return AdminClaims{}, err
	}
	if c.ID == "" || c.Subject == "" {
		return AdminClaims{}, chat.ErrUnauthorized
	}
	// One round trip for both checks: they are on every admin request.
	adm, revoked, err := t.store.AdminAuth(ctx, c.ID, c.Subject)
	switch {
	case err != nil && !errors.Is(err, chat.ErrAdminUnknown):
		return AdminClaims{}, fmt.Errorf("auth: verify admin: %w", err)
	case revoked, errors.Is(err, chat.ErrAdminUnknown):
		return AdminClaims{}, chat.ErrUnauthorized
	case c.Gen != nil && *c.Gen != adm.Generation:
		return AdminClaims{}, chat.ErrUnauthorized
	case c.Gen == nil && (adm.Generation != 0 || c.IssuedAt == nil || c.IssuedAt.Time.Before(adm.TokensAfter.Truncate(time.Second))):
		// A token from before generations: good only while the account has
		// not changed since they exist, and under the old time rule.
		return AdminClaims{}, chat.ErrUnauthorized
	}
	name := adm.DisplayName
	if name == "" {
		name = c.Subject
	}
	return AdminClaims{ID: c.ID, Username: c.Subject, DisplayName: name, Role: chat.RoleOf(string(adm.Role)), ExpiresAt: c.ExpiresAt.Time}, nil
}

// VerifyVisitor checks a visitor token and returns the room it is bound to.
// It returns chat.ErrUnauthorized. Tokens that verified are remembered (see
// visitorCache): the answer is the same, without the signature check.
func (t *Tokens) VerifyVisitor(raw string) (string, error) {
	now := t.now()
	if room, ok := t.visitors.get(raw, now); ok {
		return room, nil
	}
	room, e, err := t.verifyVisitor(raw)
	if err != nil {
		return "", err
	}
	t.visitors.put(raw, e)
	return room, nil
}

// verifyVisitor checks a visitor token without the cache, and returns the
// window in which the token is valid.
func (t *Tokens) verifyVisitor(raw string) (string, visitorEntry, error) {
	var c jwt.RegisteredClaims
	if err := t.parse(raw, AudienceVisitor, &c); err != nil {
		return "", visitorEntry{}, err
	}
	if !chat.ValidRoomID(c.Subject) {
		return "", visitorEntry{}, chat.ErrUnauthorized
	}
	// The same bounds the parser checks: now < exp+leeway, now >= iat-leeway
	// and now >= nbf-leeway (exp is required; iat and nbf are optional).
	e := visitorEntry{roomID: c.Subject, until: c.ExpiresAt.Add(leeway)}
	for _, d := range []*jwt.NumericDate{c.IssuedAt, c.NotBefore} {
		if d != nil && d.Add(-leeway).After(e.from) {
			e.from = d.Add(-leeway)
		}
	}
	return c.Subject, e, nil
}

// Revoke refuses an admin token from now until it would have expired.
func (t *Tokens) Revoke(ctx context.Context, c AdminClaims) error {
	if err := t.store.Revoke(ctx, c.ID, c.ExpiresAt); err != nil {
		return fmt.Errorf("auth: revoke: %w", err)
	}
	return nil
}

// IsUnauthorized tells whether err means "bad token" rather than a failure.
func IsUnauthorized(err error) bool {
	return errors.Is(err, chat.ErrUnauthorized)
}
