package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// API tokens look like "pat_" + id (16 of a-z2-7) + "_" + secret (52 of
// a-z2-7: 32 random bytes, 256 bits). The prefix tells them from a login JWT
// (which starts with "eyJ") before any work; only the SHA-256 of the secret
// is stored, and a guess is compared with it in constant time. SHA-256 is
// enough for a secret of 256 random bits: nobody can search that space, so
// a slow hash would only slow every request down.
const (
	APITokenPrefix = "pat_"
	apiSecretLen   = 52
	apiTokenLen    = len(APITokenPrefix) + 16 + 1 + apiSecretLen
	touchEvery     = time.Minute
)

var apiSecretEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// IsAPIToken tells whether raw has the API tokens' prefix (it may still be
// malformed).
func IsAPIToken(raw string) bool { return strings.HasPrefix(raw, APITokenPrefix) }

// APITokens creates, lists, revokes and verifies API tokens.
type APITokens struct {
	store chat.APITokenStore
	now   func() time.Time
}

// NewAPITokens returns APITokens over store; now may be nil for time.Now.
func NewAPITokens(store chat.APITokenStore, now func() time.Time) *APITokens {
	if now == nil {
		now = time.Now
	}
	return &APITokens{store: store, now: now}
}

// Create makes a token for the owner creator and returns it with its
// secret, which is shown this once. chat.CodeInvalid, CodeLimitReached.
func (a *APITokens) Create(ctx context.Context, creator string, in chat.NewAPIToken) (chat.APIToken, error) {
	scopes, err := in.Normalize()
	if err != nil {
		return chat.APIToken{}, err
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return chat.APIToken{}, fmt.Errorf("auth: api token: %w", err)
	}
	secret := apiSecretEncoding.EncodeToString(b[:])
	t := chat.APIToken{
		ID: chat.NewAPITokenID(), Name: in.Name, Scopes: scopes, CreatedBy: creator,
		CreatedAt: chat.TimeFromMillis(a.now().UnixMilli()), Hash: hashSecret(secret),
	}
	if err := a.store.AddAPIToken(ctx, t, chat.MaxAPITokens); err != nil {
		return chat.APIToken{}, fmt.Errorf("auth: create api token: %w", err)
	}
	t.Secret = APITokenPrefix + t.ID + "_" + secret
	t.Hash = ""
	return t, nil
}

// List returns every token, without secrets or hashes.
func (a *APITokens) List(ctx context.Context) ([]chat.APIToken, error) {
	list, err := a.store.APITokens(ctx)
	if err != nil {
		return nil, fmt.Errorf("auth: api tokens: %w", err)
	}
	return list, nil
}

// Revoke deletes a token at once, on every instance. chat.ErrAPITokenUnknown.
func (a *APITokens) Revoke(ctx context.Context, id string) error {
	if !chat.ValidAPITokenID(id) {
		return chat.ErrAPITokenUnknown
	}
	if err := a.store.RevokeAPIToken(ctx, id); err != nil {
		return fmt.Errorf("auth: revoke api token: %w", err)
	}
	return nil
}

// Verify checks an API token: well formed, stored, the secret's hash equal,
// its creator still an owner. It returns the claims of the creator limited
// to the token's scopes, chat.ErrUnauthorized, or a store error. It records
// the last use when the stored one is a minute old or more.
func (a *APITokens) Verify(ctx context.Context, raw string) (AdminClaims, error) {
	id, secret, ok := splitAPIToken(raw)
	if !ok {
		return AdminClaims{}, chat.ErrUnauthorized
	}
	t, adm, err := a.store.APITokenAuth(ctx, id)
	switch {
	case errors.Is(err, chat.ErrAPITokenUnknown), errors.Is(err, chat.ErrAdminUnknown):
		return AdminClaims{}, chat.ErrUnauthorized
	case err != nil:
		return AdminClaims{}, fmt.Errorf("auth: verify api token: %w", err)
	}
	got := hashSecret(secret)
	if subtle.ConstantTimeCompare([]byte(got), []byte(t.Hash)) != 1 {
		return AdminClaims{}, chat.ErrUnauthorized
	}
	if chat.RoleOf(string(adm.Role)) != chat.RoleOwner {
		return AdminClaims{}, chat.ErrUnauthorized // demoted since: the token died with the right
	}
	now := a.now()
	if t.LastUsedAt == nil || now.Sub(t.LastUsedAt.Time) >= touchEvery {
		// A failed write is not the request's failure: the stored time
		// stays old, so the next request tries again.
		_ = a.store.TouchAPIToken(ctx, id, chat.TimeFromMillis(now.UnixMilli()))
	}
	name := adm.DisplayName
	if name == "" {
		name = adm.Username
	}
	return AdminClaims{
		ID: chat.APITokenStreamID(id), Username: adm.Username, DisplayName: name, Role: chat.RoleOwner,
		// An API token does not expire: revocation ends it.
		ExpiresAt: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC),
		APIToken:  id, Scopes: t.Scopes,
	}, nil
}

// splitAPIToken returns the id and the secret of a well-formed token.
func splitAPIToken(raw string) (id, secret string, ok bool) {
	if len(raw) != apiTokenLen || !IsAPIToken(raw) {
		return "", "", false
	}
	id, secret, ok = strings.Cut(raw[len(APITokenPrefix):], "_")
	if !ok || !chat.ValidAPITokenID(id) || len(secret) != apiSecretLen {
		return "", "", false
	}
	for i := 0; i < len(secret); i++ {
		if b := secret[i]; !(b >= 'a' && b <= 'z' || b >= '2' && b <= '7') {
			return "", "", false
		}
	}
	return id, secret, true
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Allows tells whether the claims may use a route that API tokens reach
// with scope need ("" = a console session's route only). A login token
// may use every route; an API token those of a scope it holds.
func (c AdminClaims) Allows(need chat.Scope) bool {
	if c.APIToken == "" {
		return true
	}
	if need == "" {
		return false
	}
	for _, s := range c.Scopes {
		if s == need {
			return true
		}
	}
	return false
}
