package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/redisstore"
	"github.com/parley-chat/parley/internal/redisstore/redistest"
)

type apiTokenAnswer struct {
	Token struct {
		ID         string       `json:"id"`
		Name       string       `json:"name"`
		Scopes     []chat.Scope `json:"scopes"`
		CreatedAt  *chat.Time   `json:"createdAt"`
		CreatedBy  string       `json:"createdBy"`
		LastUsedAt *chat.Time   `json:"lastUsedAt"`
		Token      string       `json:"token"`
	} `json:"token"`
}

// mustAPIToken creates an API token with the owner's login token.
func (e *env) mustAPIToken(owner, name string, scopes ...string) apiTokenAnswer {
	e.t.Helper()
	r := e.do(req{method: "POST", path: "/api/v1/admin/tokens", token: owner, body: map[string]any{"name": name, "scopes": scopes}})
	want(e.t, r, http.StatusCreated, "")
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		e.t.Fatalf("got Cache-Control %q on the secret's answer, want no-store", cc)
	}
	return decode[apiTokenAnswer](e.t, r)
}

// listAPITokens reads the token list with the owner's login token.
func (e *env) listAPITokens(owner string) []map[string]any {
	e.t.Helper()
	r := e.do(req{method: "GET", path: "/api/v1/admin/tokens", token: owner})
	want(e.t, r, http.StatusOK, "")
	return decode[struct {
		Tokens []map[string]any `json:"tokens"`
	}](e.t, r).Tokens
}

func TestAPITokenScopes(t *testing.T) {
	forEachRedis(t, testAPITokenScopes)
}

func testAPITokenScopes(t *testing.T, addr string) {
	e := newEnv(t, addr, envConfig{})
	owner := e.adminToken()
	room, vtok := e.mustRoom(map[string]string{"name": "Vi"})
	e.mustSend(room.ID, vtok, false, "hello")
	base := "/api/v1/admin/rooms/" + room.ID

	read := e.mustAPIToken(owner, "dashboard", "read")
	if got := read.Token; got.Name != "dashboard" || len(got.Scopes) != 1 || got.Scopes[0] != chat.ScopeRead ||
		got.CreatedBy != adminUser || got.LastUsedAt != nil || got.CreatedAt == nil || !strings.HasPrefix(got.Token, "pat_"+got.ID+"_") {
		t.Fatalf("got token %+v", got)
	}
	reply := e.mustAPIToken(owner, "bot", "reply")
	if s := reply.Token.Scopes; len(s) != 2 || s[0] != chat.ScopeRead || s[1] != chat.ScopeReply {
		t.Fatalf("got scopes %v for reply, want [read reply] (reply implies read)", s)
	}
	manage := e.mustAPIToken(owner, "triage", "manage")

	t.Run("read", func(t *testing.T) {
		tok := read.Token.Token
		want(t, e.do(req{method: "GET", path: "/api/v1/admin/rooms", token: tok}), http.StatusOK, "")
		want(t, e.do(req{method: "GET", path: base + "/messages", token: tok}), http.StatusOK, "")
		want(t, e.do(req{method: "GET", path: base + "/notes", token: tok}), http.StatusOK, "")
		// Opening a room marks it read: a write the visitor sees.
		want(t, e.do(req{method: "GET", path: base, token: tok}), http.StatusForbidden, "forbidden")
		if got := e.mustStoredRoom(room.ID); got.Unread == 0 {
			t.Fatal("a read token's request marked the room read")
		}
		want(t, e.do(req{method: "POST", path: base + "/messages", token: tok, body: map[string]string{"content": "hi"}}), http.StatusForbidden, "forbidden")
		want(t, e.do(req{method: "POST", path: base + "/notes", token: tok, body: map[string]string{"content": "hi"}}), http.StatusForbidden, "forbidden")
		want(t, e.do(req{method: "POST", path: base + "/status", token: tok, body: map[string]string{"status": "resolved"}}), http.StatusForbidden, "forbidden")
		s := e.adminStream(tok)
		defer s.close()
		e.mustSend(room.ID, vtok, false, "seen on the stream")
		if m := message(t, s.ignore("room", "presence").expect("message")); m.Content != "seen on the stream" {
			t.Fatalf("got %q on the read token's stream", m.Content)
		}
	})
	t.Run("reply", func(t *testing.T) {
		tok := reply.Token.Token
		r := e.do(req{method: "POST", path: base + "/messages", token: tok, body: map[string]string{"content": "from the bot", "clientId": "c1"}})
		want(t, r, http.StatusCreated, "")
		if m := decode[struct{ Message chat.Message }](t, r).Message; m.Sender != chat.SenderAdmin || m.Author != adminName {
			t.Fatalf("got message %+v, want one signed by %s", m, adminName)
		}
		want(t, e.do(req{method: "POST", path: base + "/read", token: tok}), http.StatusNoContent, "")
		want(t, e.do(req{method: "GET", path: base, token: tok}), http.StatusOK, "")
		want(t, e.do(req{method: "POST", path: base + "/status", token: tok, body: map[string]string{"status": "resolved"}}), http.StatusForbidden, "forbidden")
		want(t, e.do(req{method: "DELETE", path: base, token: tok}), http.StatusForbidden, "forbidden")
		if got := e.mustStoredRoom(room.ID); got.Status == chat.StatusResolved {
			t.Fatal("a reply token resolved the room")
		}
	})
	t.Run("manage", func(t *testing.T) {
		tok := manage.Token.Token
		want(t, e.do(req{method: "POST", path: base + "/messages", token: tok, body: map[string]string{"content": "no"}}), http.StatusForbidden, "forbidden")
		want(t, e.do(req{method: "POST", path: base + "/status", token: tok, body: map[string]string{"status": "resolved"}}), http.StatusOK, "")
		if got := e.mustStoredRoom(room.ID); got.Status != chat.StatusResolved {
			t.Fatalf("got status %q, want resolved", got.Status)
		}
		want(t, e.do(req{method: "DELETE", path: base, token: tok}), http.StatusNoContent, "")
		if _, err := e.storedRoom(room.ID); err == nil {
			t.Fatal("the room is still stored after the manage token deleted it")
		}
	})
	t.Run("session routes", func(t *testing.T) {
		// No scope reaches the team, webhooks, tokens or one's profile.
		for _, tok := range []string{read.Token.Token, reply.Token.Token, manage.Token.Token} {
			want(t, e.do(req{method: "GET", path: "/api/v1/admin/tokens", token: tok}), http.StatusForbidden, "forbidden")
			want(t, e.do(req{method: "POST", path: "/api/v1/admin/tokens", token: tok, body: map[string]any{"name": "x", "scopes": []string{"read"}}}), http.StatusForbidden, "forbidden")
			want(t, e.do(req{method: "DELETE", path: "/api/v1/admin/tokens/" + read.Token.ID, token: tok}), http.StatusForbidden, "forbidden")
			want(t, e.do(req{method: "POST", path: "/api/v1/admin/agents", token: tok, body: map[string]string{"username": "eve"}}), http.StatusForbidden, "forbidden")
			want(t, e.do(req{method: "PATCH", path: "/api/v1/admin/me", token: tok, body: map[string]string{"displayName": "x"}}), http.StatusForbidden, "forbidden")
			want(t, e.do(req{method: "POST", path: "/api/v1/admin/logout", token: tok}), http.StatusForbidden, "forbidden")
		}
		if n := len(e.listAPITokens(owner)); n != 3 {
			t.Fatalf("got %d tokens, want 3", n)
		}
	})
}

func TestAPITokenOwnerOnly(t *testing.T) {
	e := newEnv(t, redistest.StartReal(t).Addr(), envConfig{})
	owner := e.adminToken()
	tok := e.mustAPIToken(owner, "ci", "read")
	agent := e.agentToken("bob", "Bob")
	want(t, e.do(req{method: "GET", path: "/api/v1/admin/tokens", token: agent}), http.StatusForbidden, "forbidden")
	want(t, e.do(req{method: "POST", path: "/api/v1/admin/tokens", token: agent, body: map[string]any{"name": "x", "scopes": []string{"read"}}}), http.StatusForbidden, "forbidden")
	want(t, e.do(req{method: "DELETE", path: "/api/v1/admin/tokens/" + tok.Token.ID, token: agent}), http.StatusForbidden, "forbidden")
	for _, r := range []req{
		{method: "GET", path: "/api/v1/admin/tokens"},
		{method: "POST", path: "/api/v1/admin/tokens", body: map[string]any{"name": "x", "scopes": []string{"read"}}},
		{method: "DELETE", path: "/api/v1/admin/tokens/" + tok.Token.ID},
	} {
		want(t, e.do(r), http.StatusUnauthorized, "unauthorized")
	}
	if n := len(e.listAPITokens(owner)); n != 1 {
		t.Fatalf("got %d tokens, want 1", n)
	}
}

func TestAPITokenBadInput(t *testing.T) {
	e := newEnv(t, redistest.StartReal(t).Addr(), envConfig{})
	owner := e.adminToken()
	for _, body := range []any{
		map[string]any{"name": "", "scopes": []string{"read"}},
		map[string]any{"name": strings.Repeat("n", chat.MaxAPITokenName+1), "scopes": []string{"read"}},
		map[string]any{"name": "x\u0007", "scopes": []string{"read"}},
		map[string]any{"name": "x", "scopes": []string{}},
		map[string]any{"name": "x"},
		map[string]any{"name": "x", "scopes": []string{"admin"}},
		map[string]any{"name": "x", "scopes": []string{"read", "read"}},
		map[string]any{"name": "x", "scopes": "read"},
	} {
		want(t, e.do(req{method: "POST", path: "/api/v1/admin/tokens", token: owner, body: body}), http.StatusBadRequest, "invalid_request")
	}
	if n := len(e.listAPITokens(owner)); n != 0 {
		t.Fatalf("got %d tokens after bad input, want 0", n)
	}
	for range chat.MaxAPITokens {
		e.mustAPIToken(owner, "t", "read")
	}
	want(t, e.do(req{method: "POST", path: "/api/v1/admin/tokens", token: owner, body: map[string]any{"name": "one more", "scopes": []string{"read"}}}), http.StatusConflict, "limit_reached")
	want(t, e.do(req{method: "DELETE", path: "/api/v1/admin/tokens/nope", token: owner}), http.StatusNotFound, "not_found")
	want(t, e.do(req{method: "DELETE", path: "/api/v1/admin/tokens/aaaaaaaaaaaaaaaa", token: owner}), http.StatusNotFound, "not_found")
}

// TestAPITokenSecretShownOnce: the secret is on the create answer only, not
// on the list, and neither it nor its secret part is anywhere in Redis.
func TestAPITokenSecretShownOnce(t *testing.T) {
	e := newEnv(t, redistest.StartReal(t).Addr(), envConfig{})
	owner := e.adminToken()
	tok := e.mustAPIToken(owner, "ci", "read", "reply")
	secret := tok.Token.Token
	secretPart := secret[strings.LastIndex(secret, "_")+1:]
	// Used once, so lastUsedAt is written too.
	want(t, e.do(req{method: "GET", path: "/api/v1/admin/rooms", token: secret}), http.StatusOK, "")

	list := e.listAPITokens(owner)
	if len(list) != 1 || list[0]["id"] != tok.Token.ID || list[0]["name"] != "ci" {
		t.Fatalf("got list %v", list)
	}
	for _, k := range []string{"token", "hash", "secret"} {
		if _, ok := list[0][k]; ok {
			t.Errorf("the list shows %q: %v", k, list[0])
		}
	}
	lr := e.do(req{method: "GET", path: "/api/v1/admin/tokens", token: owner})
	if strings.Contains(string(lr.body), secretPart) {
		t.Fatal("the list answer holds the secret")
	}

	values := e.allValues()
	if len(values) == 0 {
		t.Fatal("read nothing from Redis")
	}
	for k, v := range values {
		if strings.Contains(v, secretPart) || strings.Contains(k, secretPart) {
			t.Fatalf("key %s holds the secret", k)
		}
	}
	if !strings.Contains(strings.Join(mapValues(values), "\n"), tok.Token.ID) {
		t.Fatal("the token id is in no key: the scan read the wrong place")
	}
}

func mapValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// allValues reads every key of the env's prefix into one string per key
// (a test may SCAN, a request never).
func (e *env) allValues() map[string]string {
	e.t.Helper()
	client, err := redisstore.Connect(redistest.URL(e.addr))
	if err != nil {
		e.t.Fatalf("connect: %v", err)
	}
	defer client.Close()
	ctx := context.Background()
	keys := redistest.Keys(e.t, e.addr, e.prefix+"*")
	out := map[string]string{}
	for _, k := range keys {
		typ, err := client.Type(ctx, k).Result()
		if err != nil {
			e.t.Fatalf("TYPE %s: %v", k, err)
		}
		var parts []string
		switch typ {
		case "string":
			v, _ := client.Get(ctx, k).Result()
			parts = []string{v}
		case "hash":
			for f, v := range client.HGetAll(ctx, k).Val() {
				parts = append(parts, f, v)
			}
		case "set":
			parts = client.SMembers(ctx, k).Val()
		case "list":
			parts = client.LRange(ctx, k, 0, -1).Val()
		case "zset":
			parts = client.ZRange(ctx, k, 0, -1).Val()
		case "stream":
			for _, m := range client.XRange(ctx, k, "-", "+").Val() {
				for f, v := range m.Values {
					parts = append(parts, f, v.(string))
				}
			}
		}
		out[k] = strings.Join(parts, "\n")
	}
	return out
}

// TestAPITokenRevoked: a revoked token is refused at once, on this instance
// and on another over the same Redis, and its open streams on both end.
func TestAPITokenRevoked(t *testing.T) {
	real := redistest.StartReal(t)
	cfg := envConfig{Prefix: uniquePrefix(), Secret: []byte("0123456789abcdef0123456789abcdef")}
	a := newEnv(t, real.Addr(), cfg)
	b := newEnv(t, real.Addr(), cfg)
	a.waitSubscribed()
	b.waitSubscribed()
	owner := a.adminToken()
	tok := a.mustAPIToken(owner, "script", "read")
	other := a.mustAPIToken(owner, "other", "read")
	want(t, b.do(req{method: "GET", path: "/api/v1/admin/rooms", token: tok.Token.Token}), http.StatusOK, "")
	sa := a.adminStream(tok.Token.Token)
	defer sa.close()
	sb := b.adminStream(tok.Token.Token)
	defer sb.close()
	so := b.adminStream(other.Token.Token)
	defer so.close()

	want(t, a.do(req{method: "DELETE", path: "/api/v1/admin/tokens/" + tok.Token.ID, token: owner}), http.StatusNoContent, "")
	want(t, a.do(req{method: "GET", path: "/api/v1/admin/rooms", token: tok.Token.Token}), http.StatusUnauthorized, "unauthorized")
	want(t, b.do(req{method: "GET", path: "/api/v1/admin/rooms", token: tok.Token.Token}), http.StatusUnauthorized, "unauthorized")
	sa.expectEnd(5 * time.Second)
	sb.expectEnd(5 * time.Second)
	// The other token's stream goes on.
	room, vtok := a.mustRoom(map[string]string{"name": "Vi"})
	a.mustSend(room.ID, vtok, false, "still here")
	if m := message(t, so.ignore("room", "presence").expect("message")); m.Content != "still here" {
		t.Fatalf("got %q", m.Content)
	}
	want(t, b.do(req{method: "GET", path: "/api/v1/admin/rooms", token: other.Token.Token}), http.StatusOK, "")
	want(t, a.do(req{method: "DELETE", path: "/api/v1/admin/tokens/" + tok.Token.ID, token: owner}), http.StatusNotFound, "not_found")
	if list := a.listAPITokens(owner); len(list) != 1 || list[0]["id"] != other.Token.ID {
		t.Fatalf("got list %v after the revoke", list)
	}
}

func TestAPITokenLastUsed(t *testing.T) {
	e := newEnv(t, redistest.StartReal(t).Addr(), envConfig{})
	owner := e.adminToken()
	tok := e.mustAPIToken(owner, "ci", "read")
	if used := e.listAPITokens(owner)[0]["lastUsedAt"]; used != nil {
		t.Fatalf("got lastUsedAt %v before any use, want null", used)
	}
	before := time.Now().Add(-time.Second)
	want(t, e.do(req{method: "GET", path: "/api/v1/admin/rooms", token: tok.Token.Token}), http.StatusOK, "")
	raw, _ := e.listAPITokens(owner)[0]["lastUsedAt"].(string)
	used, err := time.Parse(time.RFC3339, raw)
	if err != nil || used.Before(before) || used.After(time.Now().Add(time.Second)) {
		t.Fatalf("got lastUsedAt %q (%v), want about now", raw, err)
	}
	// Within the minute, another use writes nothing new.
	want(t, e.do(req{method: "GET", path: "/api/v1/admin/rooms", token: tok.Token.Token}), http.StatusOK, "")
	if again, _ := e.listAPITokens(owner)[0]["lastUsedAt"].(string); again != raw {
		t.Fatalf("got lastUsedAt %q after a second use within the minute, want %q", again, raw)
	}
}

func TestAPITokenMalformed(t *testing.T) {
	e := newEnv(t, redistest.StartReal(t).Addr(), envConfig{})
	owner := e.adminToken()
	tok := e.mustAPIToken(owner, "ci", "read").Token
	secret := tok.Token
	flipped := []byte(secret)
	if flipped[len(flipped)-1] == 'a' {
		flipped[len(flipped)-1] = 'b'
	} else {
		flipped[len(flipped)-1] = 'a'
	}
	for name, raw := range map[string]string{
		"prefix only":    "pat_",
		"no secret":      "pat_" + tok.ID,
		"short":          secret[:len(secret)-1],
		"long":           secret + "a",
		"upper case":     strings.ToUpper(secret[:4]) + secret[4:],
		"bad character":  secret[:len(secret)-1] + "!",
		"wrong secret":   string(flipped),
		"unknown id":     "pat_aaaaaaaaaaaaaaaa_" + secret[len(secret)-52:],
		"the id's place": "pat_" + secret[len(secret)-52:] + "_" + tok.ID,
	} {
		t.Run(name, func(t *testing.T) {
			want(t, e.do(req{method: "GET", path: "/api/v1/admin/rooms", token: raw}), http.StatusUnauthorized, "unauthorized")
			_, r := openStream(t, e.url("/api/v1/admin/events"), raw, nil)
			want(t, r, http.StatusUnauthorized, "unauthorized")
		})
	}
	want(t, e.do(req{method: "GET", path: "/api/v1/admin/rooms", token: secret}), http.StatusOK, "")
}

// TestAPITokenCreatorGone: the token of an owner who is removed, or made an
// agent, is refused from then on, and its stream ends.
func TestAPITokenCreatorGone(t *testing.T) {
	e := newEnv(t, redistest.StartReal(t).Addr(), envConfig{})
	e.waitSubscribed()
	alice := e.adminToken()
	mk := func(username string) (login, token string) {
		t.Helper()
		r := e.do(req{method: "POST", path: "/api/v1/admin/agents", token: alice,
			body: map[string]string{"username": username, "password": adminPassword, "role": "owner"}})
		want(t, r, http.StatusCreated, "")
		login = e.login(username, adminPassword).Token
		return login, e.mustAPIToken(login, username+"'s script", "read").Token.Token
	}
	t.Run("removed", func(t *testing.T) {
		_, tok := mk("carol")
		s := e.adminStream(tok)
		defer s.close()
		want(t, e.do(req{method: "DELETE", path: "/api/v1/admin/agents/carol", token: alice}), http.StatusNoContent, "")
		want(t, e.do(req{method: "GET", path: "/api/v1/admin/rooms", token: tok}), http.StatusUnauthorized, "unauthorized")
		s.expectEnd(5 * time.Second)
	})
	t.Run("demoted", func(t *testing.T) {
		_, tok := mk("dave")
		s := e.adminStream(tok)
		defer s.close()
		want(t, e.do(req{method: "PATCH", path: "/api/v1/admin/agents/dave", token: alice, body: map[string]string{"role": "agent"}}), http.StatusOK, "")
		want(t, e.do(req{method: "GET", path: "/api/v1/admin/rooms", token: tok}), http.StatusUnauthorized, "unauthorized")
		s.expectEnd(5 * time.Second)
	})
}

// BenchmarkAdminAuth: GET /api/v1/admin/me with a login token and with an
// API token, on the real router and a real Redis (one round trip each: the
// login token's pipelined check, the API token's script).
func BenchmarkAdminAuth(b *testing.B) {
	e := newEnv(b, redistest.StartReal(b).Addr(), envConfig{})
	login := e.adminToken()
	pat := e.mustAPIToken(login, "bench", "read").Token.Token
	for _, c := range []struct{ name, token string }{{"login", login}, {"api-token", pat}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if r := e.do(req{method: "GET", path: "/api/v1/admin/me", token: c.token}); r.status != http.StatusOK {
					b.Fatalf("got %d", r.status)
				}
			}
		})
	}
}

// TestAPITokenStoreDown: with Redis gone, an API token's request and the
// token routes answer 503 store_unavailable, not 401 or 500.
func TestAPITokenStoreDown(t *testing.T) {
	real := redistest.StartReal(t)
	e := newEnv(t, real.Addr(), envConfig{})
	owner := e.adminToken()
	tok := e.mustAPIToken(owner, "ci", "read").Token
	real.Stop()
	want(t, e.do(req{method: "GET", path: "/api/v1/admin/rooms", token: tok.Token}), http.StatusServiceUnavailable, "store_unavailable")
	want(t, e.do(req{method: "GET", path: "/api/v1/admin/tokens", token: owner}), http.StatusServiceUnavailable, "store_unavailable")
}
