package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
)

// forge signs claims with the env's secret and any method and header.
func forge(t testing.TB, method jwt.SigningMethod, key any, claims jwt.Claims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

// unsigned builds an "alg: none" token.
func unsigned(claims any) string {
	enc := base64.RawURLEncoding
	h, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
	c, _ := json.Marshal(claims)
	return enc.EncodeToString(h) + "." + enc.EncodeToString(c) + "."
}

// withHeader re-signs claims with HS256 under a header that claims another
// algorithm, as an algorithm-confusion attack would.
func withHeader(secret []byte, alg string, claims any) string {
	enc := base64.RawURLEncoding
	h, _ := json.Marshal(map[string]string{"alg": alg, "typ": "JWT"})
	c, _ := json.Marshal(claims)
	signing := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	sig, _ := jwt.SigningMethodHS256.Sign(signing, secret)
	return signing + "." + enc.EncodeToString(sig)
}

// tamper changes one character of a token's payload.
func tamper(tok string) string {
	parts := strings.Split(tok, ".")
	p := []byte(parts[1])
	i := len(p) / 2
	if p[i] == 'A' {
		p[i] = 'B'
	} else {
		p[i] = 'A'
	}
	parts[1] = string(p)
	return strings.Join(parts, ".")
}

func TestAuthBoundaries(t *testing.T) {
	t.Parallel()
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{})
		roomA, tokA := e.mustRoom(nil)
		roomB, tokB := e.mustRoom(nil)
		at := e.adminToken()
		now := time.Now()

		visitorClaims := func(room string) jwt.RegisteredClaims {
			return jwt.RegisteredClaims{
				ID: "x", Issuer: auth.Issuer, Subject: room, Audience: jwt.ClaimStrings{auth.AudienceVisitor},
				IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
			}
		}
		adm, err := e.store.Admin(context.Background(), adminUser)
		if err != nil {
			t.Fatal(err)
		}
		// With the account's generation, as a login issues it.
		adminClaims := struct {
			Gen int64 `json:"gen"`
			jwt.RegisteredClaims
		}{adm.Generation, jwt.RegisteredClaims{
			ID: "y", Issuer: auth.Issuer, Subject: adminUser, Audience: jwt.ClaimStrings{auth.AudienceAdmin},
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
		}}
		past := func() time.Time { return now.Add(-13 * time.Hour) }
		oldTokens, err := auth.NewTokens(e.secret, e.store, time.Hour, past)
		if err != nil {
			t.Fatal(err)
		}
		expiredVisitor, _, _ := oldTokens.IssueVisitor(roomA.ID)
		expiredAdmin, _, _ := oldTokens.IssueAdmin(chat.Admin{Username: adminUser, DisplayName: adminName})
		otherSecret := bytes.Repeat([]byte("k"), 32)

		visitorPath := "/api/v1/rooms/" + roomA.ID
		adminPath := "/api/v1/admin/rooms"
		cases := []struct {
			name   string
			r      req
			status int
			code   string
		}{
			{"visitor B on A's room", req{method: "GET", path: visitorPath, token: tokB}, 403, "forbidden"},
			{"visitor B sends to A's room", req{method: "POST", path: visitorPath + "/messages", token: tokB, body: `{"content":"hi"}`}, 403, "forbidden"},
			{"visitor B deletes A's room", req{method: "DELETE", path: visitorPath, token: tokB}, 403, "forbidden"},
			{"no token", req{method: "GET", path: visitorPath}, 401, "unauthorized"},
			{"not a bearer", req{method: "GET", path: visitorPath, header: map[string]string{"Authorization": "Basic " + tokA}}, 401, "unauthorized"},
			{"admin token as visitor", req{method: "GET", path: visitorPath, token: at}, 401, "unauthorized"},
			{"visitor token on admin route", req{method: "GET", path: adminPath, token: tokA}, 401, "unauthorized"},
			{"visitor token on admin room", req{method: "GET", path: "/api/v1/admin/rooms/" + roomA.ID, token: tokA}, 401, "unauthorized"},
			{"no token on admin route", req{method: "GET", path: adminPath}, 401, "unauthorized"},
			{"tampered visitor token", req{method: "GET", path: visitorPath, token: tamper(tokA)}, 401, "unauthorized"},
			{"tampered admin token", req{method: "GET", path: adminPath, token: tamper(at)}, 401, "unauthorized"},
			{"alg none visitor", req{method: "GET", path: visitorPath, token: unsigned(visitorClaims(roomA.ID))}, 401, "unauthorized"},
			{"alg none admin", req{method: "GET", path: adminPath, token: unsigned(adminClaims)}, 401, "unauthorized"},
			{"HS512 visitor", req{method: "GET", path: visitorPath, token: forge(t, jwt.SigningMethodHS512, e.secret, visitorClaims(roomA.ID))}, 401, "unauthorized"},
			{"HS512 admin", req{method: "GET", path: adminPath, token: forge(t, jwt.SigningMethodHS512, e.secret, adminClaims)}, 401, "unauthorized"},
			{"RS256 header admin", req{method: "GET", path: adminPath, token: withHeader(e.secret, "RS256", adminClaims)}, 401, "unauthorized"},
			{"RS256 header visitor", req{method: "GET", path: visitorPath, token: withHeader(e.secret, "RS256", visitorClaims(roomA.ID))}, 401, "unauthorized"},
			{"other secret", req{method: "GET", path: adminPath, token: forge(t, jwt.SigningMethodHS256, otherSecret, adminClaims)}, 401, "unauthorized"},
			{"expired visitor", req{method: "GET", path: visitorPath, token: expiredVisitor}, 401, "unauthorized"},
			{"expired admin", req{method: "GET", path: adminPath, token: expiredAdmin}, 401, "unauthorized"},
			{"visitor token of another audience", req{method: "GET", path: adminPath, token: forge(t, jwt.SigningMethodHS256, e.secret, visitorClaims(roomA.ID))}, 401, "unauthorized"},
			{"logout with a visitor token", req{method: "POST", path: "/api/v1/admin/logout", token: tokA}, 401, "unauthorized"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := e.do(tc.r)
				want(t, r, tc.status, tc.code)
				if strings.Contains(string(r.body), "jwt") || strings.Contains(string(r.body), "signature") {
					t.Fatalf("the body tells too much: %s", r.body)
				}
			})
		}
		// The properly signed forgeries (right secret, right method) do work,
		// so the refusals above are about the method, not the claims.
		want(t, e.do(req{method: "GET", path: visitorPath, token: forge(t, jwt.SigningMethodHS256, e.secret, visitorClaims(roomA.ID))}), 200, "")
		want(t, e.do(req{method: "GET", path: adminPath, token: forge(t, jwt.SigningMethodHS256, e.secret, adminClaims)}), 200, "")
		if n := e.mustStoredRoom(roomA.ID).MessageCount; n != 0 {
			t.Fatalf("visitor B wrote %d messages to A's room", n)
		}
		_ = roomB

		// Logout revokes exactly that token.
		r := e.do(req{method: "POST", path: "/api/v1/admin/login", body: map[string]string{"username": adminUser, "password": adminPassword}})
		want(t, r, 200, "")
		session := decode[struct{ Token string }](t, r).Token
		want(t, e.do(req{method: "POST", path: "/api/v1/admin/logout", token: session}), 204, "")
		for _, p := range []string{adminPath, "/api/v1/admin/rooms/" + roomA.ID, "/api/v1/admin/visits"} {
			want(t, e.do(req{method: "GET", path: p, token: session}), 401, "unauthorized")
		}
		want(t, e.do(req{method: "POST", path: "/api/v1/admin/logout", token: session}), 401, "unauthorized")
		want(t, e.do(req{method: "GET", path: adminPath, token: at}), 200, "")
	})
}

// TestLoginAnswers checks that a wrong password and an unknown user get the
// same answer.
func TestLoginAnswers(t *testing.T) {
	t.Parallel()
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{})
		login := func(user, pw string) resp {
			return e.do(req{method: "POST", path: "/api/v1/admin/login", body: map[string]string{"username": user, "password": pw}})
		}
		wrong := login(adminUser, "wrong password")
		unknown := login("mallory", "wrong password")
		want(t, wrong, http.StatusUnauthorized, "unauthorized")
		want(t, unknown, http.StatusUnauthorized, "unauthorized")
		if !bytes.Equal(wrong.body, unknown.body) {
			t.Fatalf("wrong password answers %s, unknown user %s: want the same", wrong.body, unknown.body)
		}
		want(t, login(" "+adminUser+" ", adminPassword), http.StatusOK, "")
		want(t, e.do(req{method: "POST", path: "/api/v1/admin/login", body: `{"username": "alice"}`}), http.StatusBadRequest, "invalid_request")
		want(t, e.do(req{method: "POST", path: "/api/v1/admin/login", body: `{"username": 1, "password": "x"}`}), http.StatusBadRequest, "invalid_request")
		if strings.Contains(e.logs.String(), adminPassword) {
			t.Fatalf("the log holds the password")
		}
	})
}
