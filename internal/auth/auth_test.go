package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/parley-chat/parley/internal/chat"
)

// memStore is the part of a store that auth needs, kept in memory: these are
// unit tests of the token rules; the Redis side has its own suite.
type memStore struct {
	mu      sync.Mutex
	revoked map[string]time.Time
	admins  map[string]chat.Admin
	down    error // when set, AdminAuth fails with it (the store is down)
}

func newMem() *memStore {
	return &memStore{revoked: map[string]time.Time{}, admins: map[string]chat.Admin{}}
}

func (m *memStore) Revoke(_ context.Context, id string, until time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.revoked[id] = until
	return nil
}
func (m *memStore) IsRevoked(_ context.Context, id string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.revoked[id]
	return ok, nil
}
func (m *memStore) Secret(_ context.Context, c []byte) ([]byte, error) { return c, nil }
func (m *memStore) AdminAuth(ctx context.Context, id, u string) (chat.Admin, bool, error) {
	if m.down != nil {
		return chat.Admin{}, false, m.down
	}
	revoked, _ := m.IsRevoked(ctx, id)
	a, err := m.Admin(ctx, u)
	return a, revoked, err
}
func (m *memStore) Admin(_ context.Context, u string) (chat.Admin, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.admins[u]
	if !ok {
		return chat.Admin{}, chat.ErrAdminUnknown
	}
	return a, nil
}
func (m *memStore) AddAdmin(_ context.Context, a chat.Admin) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.admins[a.Username]; ok {
		return chat.ErrAdminExists
	}
	m.admins[a.Username] = a
	return nil
}
func (m *memStore) AddFirstAdmin(ctx context.Context, a chat.Admin) (bool, error) {
	m.mu.Lock()
	n := len(m.admins)
	m.mu.Unlock()
	if n > 0 {
		return false, nil
	}
	return true, m.AddAdmin(ctx, a)
}
func (m *memStore) UpdateAdmin(_ context.Context, a chat.Admin) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.admins[a.Username] = a
	return nil
}
func (m *memStore) RemoveAdmin(_ context.Context, u string) error { return nil }
func (m *memStore) RemoveAgent(_ context.Context, u string) error { return nil }
func (m *memStore) SetAgent(context.Context, string, chat.AgentChange) (chat.Admin, error) {
	return chat.Admin{}, nil
}
func (m *memStore) Admins(context.Context) ([]chat.Admin, error) { return nil, nil }

var secret = []byte("0123456789abcdef0123456789abcdef")

// newMemWithSam returns a store where the admin sam exists since a day ago.
func newMemWithSam() *memStore {
	m := newMem()
	m.admins["sam"] = chat.Admin{Username: "sam", DisplayName: "Sam", TokensAfter: chat.Time{Time: time.Now().Add(-24 * time.Hour)}}
	return m
}

func mustTokens(t *testing.T, now func() time.Time) *Tokens {
	t.Helper()
	tk, err := NewTokens(secret, newMemWithSam(), time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestAdminAndVisitorTokensNeverInterchange(t *testing.T) {
	ctx := context.Background()
	tk := mustTokens(t, nil)
	admin, _, err := tk.IssueAdmin(chat.Admin{Username: "sam", DisplayName: "Sam"})
	if err != nil {
		t.Fatal(err)
	}
	room := chat.NewRoomID()
	visitor, _, _ := tk.IssueVisitor(room)

	c, err := tk.VerifyAdmin(ctx, admin)
	if err != nil || c.Username != "sam" || c.DisplayName != "Sam" {
		t.Fatalf("admin token: got %+v, %v", c, err)
	}
	if got, err := tk.VerifyVisitor(visitor); err != nil || got != room {
		t.Fatalf("visitor token: got %q, %v; want %q", got, err, room)
	}
	if _, err := tk.VerifyAdmin(ctx, visitor); !errors.Is(err, chat.ErrUnauthorized) {
		t.Errorf("visitor token as admin: got %v, want unauthorized", err)
	}
	if _, err := tk.VerifyVisitor(admin); !errors.Is(err, chat.ErrUnauthorized) {
		t.Errorf("admin token as visitor: got %v, want unauthorized", err)
	}
}

func TestRejectedTokens(t *testing.T) {
	ctx := context.Background()
	tk := mustTokens(t, nil)
	good, _, _ := tk.IssueAdmin(chat.Admin{Username: "sam"})
	parts := strings.Split(good, ".")
	b64 := base64.RawURLEncoding.EncodeToString

	past := mustTokens(t, func() time.Time { return time.Now().Add(-13 * time.Hour) })
	expired, _, _ := past.IssueAdmin(chat.Admin{Username: "sam"})

	other, _ := NewTokens([]byte("another-secret-another-secret-xx"), newMemWithSam(), time.Hour, nil)
	foreign, _, _ := other.IssueAdmin(chat.Admin{Username: "sam"})

	claims := jwt.RegisteredClaims{Issuer: Issuer, Subject: "sam", Audience: jwt.ClaimStrings{AudienceAdmin}, ID: "x",
		ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}
	hs512, _ := jwt.NewWithClaims(jwt.SigningMethodHS512, claims).SignedString(secret)
	noExp := claims
	noExp.ExpiresAt = nil
	noExpTok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, noExp).SignedString(secret)
	wrongIss := claims
	wrongIss.Issuer = "someone"
	wrongIssTok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, wrongIss).SignedString(secret)

	tests := map[string]string{
		"empty":          "",
		"garbage":        "not.a.token",
		"tampered":       parts[0] + "." + b64([]byte(`{"sub":"root","aud":["parley-admin"],"iss":"parley","exp":9999999999,"jti":"x"}`)) + "." + parts[2],
		"alg none":       b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + ".",
		"HS512":          hs512,
		"expired":        expired,
		"other secret":   foreign,
		"no expiry":      noExpTok,
		"wrong issuer":   wrongIssTok,
		"oversized":      strings.Repeat("a", 5000),
		"signature only": parts[0] + "." + parts[1] + ".AAAA",
	}
	for name, tok := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := tk.VerifyAdmin(ctx, tok); !errors.Is(err, chat.ErrUnauthorized) {
				t.Errorf("got %v, want unauthorized", err)
			}
		})
	}
}

func TestRevoke(t *testing.T) {
	ctx := context.Background()
	tk := mustTokens(t, nil)
	tok, _, _ := tk.IssueAdmin(chat.Admin{Username: "sam"})
	c, err := tk.VerifyAdmin(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if err := tk.Revoke(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := tk.VerifyAdmin(ctx, tok); !errors.Is(err, chat.ErrUnauthorized) {
		t.Errorf("after revoke: got %v, want unauthorized", err)
	}
	other, _, _ := tk.IssueAdmin(chat.Admin{Username: "sam"})
	if _, err := tk.VerifyAdmin(ctx, other); err != nil {
		t.Errorf("another token of the same admin: got %v, want valid", err)
	}
}

// A token dies with its account, and with a new password.
func TestAdminTokenFollowsTheAccount(t *testing.T) {
	ctx := context.Background()
	store := newMemWithSam()
	tk, _ := NewTokens(secret, store, time.Hour, nil)
	tok, _, _ := tk.IssueAdmin(chat.Admin{Username: "sam"})
	if _, err := tk.VerifyAdmin(ctx, tok); err != nil {
		t.Fatalf("fresh token: %v", err)
	}
	// A password change moves the account to a new generation, whatever
	// the clock says: the old token dies, one issued after works.
	store.admins["sam"] = chat.Admin{Username: "sam", Generation: 7}
	if _, err := tk.VerifyAdmin(ctx, tok); !errors.Is(err, chat.ErrUnauthorized) {
		t.Errorf("after a password change: got %v, want unauthorized", err)
	}
	if after, _, _ := tk.IssueAdmin(store.admins["sam"]); func() error { _, err := tk.VerifyAdmin(ctx, after); return err }() != nil {
		t.Errorf("a token issued after the change was refused")
	}
	delete(store.admins, "sam")
	fresh, _, _ := tk.IssueAdmin(chat.Admin{Username: "sam"})
	if _, err := tk.VerifyAdmin(ctx, fresh); !errors.Is(err, chat.ErrUnauthorized) {
		t.Errorf("after the account was removed: got %v, want unauthorized", err)
	}
}

// A store that does not answer is a failure (503 at the edge), never a
// "bad token".
func TestVerifyAdminStoreDown(t *testing.T) {
	store := newMemWithSam()
	tk, _ := NewTokens(secret, store, time.Hour, nil)
	tok, _, _ := tk.IssueAdmin(chat.Admin{Username: "sam"})
	store.down = chat.ErrUnavailable
	_, err := tk.VerifyAdmin(context.Background(), tok)
	if err == nil || IsUnauthorized(err) || !errors.Is(err, chat.ErrUnavailable) {
		t.Fatalf("got %v, want the store error", err)
	}
}

func TestShortSecretRefused(t *testing.T) {
	if _, err := NewTokens([]byte("short"), newMem(), 0, nil); err == nil {
		t.Error("got no error for a 5-byte secret")
	}
}

func TestLogin(t *testing.T) {
	ctx := context.Background()
	acc := NewAccounts(newMem())
	acc.cost = 4 // keep the test fast; the cost does not change the rules
	created, pw, err := acc.EnsureFirst(ctx, "", "")
	if err != nil || !created || len(pw) < 16 {
		t.Fatalf("EnsureFirst: got %v %q %v", created, pw, err)
	}
	if again, _, _ := acc.EnsureFirst(ctx, "other", "password123"); again {
		t.Error("EnsureFirst created a second first admin")
	}
	if a, err := acc.Login(ctx, "admin", pw); err != nil || a.Username != "admin" {
		t.Fatalf("Login: got %+v, %v", a, err)
	}
	_, wrong := acc.Login(ctx, "admin", "wrong-password")
	_, unknown := acc.Login(ctx, "nobody", "wrong-password")
	if wrong != chat.ErrBadLogin || unknown != chat.ErrBadLogin {
		t.Errorf("got %v and %v, want the same ErrBadLogin for both", wrong, unknown)
	}
	if err := acc.Add(ctx, "bob", "Bob", "short"); chat.ErrorCode(err) != chat.CodeInvalid {
		t.Errorf("short password: got %v, want invalid_request", err)
	}
	if err := acc.Add(ctx, "bob", "Bob", "long-enough"); err != nil {
		t.Fatal(err)
	}
	if err := acc.SetPassword(ctx, "bob", "another-one"); err != nil {
		t.Fatal(err)
	}
	if _, err := acc.Login(ctx, "bob", "another-one"); err != nil {
		t.Errorf("login with the new password: %v", err)
	}
}

// Tokens issued before generations existed carry no "gen": they keep the
// old time rule while the account has not changed since, and die at its
// first change.
func TestAdminTokenWithoutGeneration(t *testing.T) {
	ctx := context.Background()
	store := newMemWithSam()
	tk, _ := NewTokens(secret, store, time.Hour, nil)
	legacy := func(issued time.Time) string {
		t.Helper()
		c := adminJWT{RegisteredClaims: tk.registered("sam", AudienceAdmin, time.Hour)}
		c.IssuedAt = jwt.NewNumericDate(issued)
		raw, err := tk.sign(c)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	old := legacy(time.Now())
	if _, err := tk.VerifyAdmin(ctx, old); err != nil {
		t.Fatalf("legacy token, account unchanged: got %v, want accepted", err)
	}
	if _, err := tk.VerifyAdmin(ctx, legacy(time.Now().Add(-25*time.Hour))); !errors.Is(err, chat.ErrUnauthorized) {
		t.Errorf("legacy token older than the password: got %v, want unauthorized", err)
	}
	store.admins["sam"] = chat.Admin{Username: "sam", Generation: 1, TokensAfter: store.admins["sam"].TokensAfter}
	if _, err := tk.VerifyAdmin(ctx, old); !errors.Is(err, chat.ErrUnauthorized) {
		t.Errorf("legacy token after a password change: got %v, want unauthorized", err)
	}
}
