package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/parley-chat/parley/internal/chat"
)

var siteSecret = []byte("0123456789abcdef0123456789abcdef")

func TestIdentitySignature(t *testing.T) {
	v := NewIdentities(siteSecret)
	// What the README tells a site's backend to compute.
	m := hmac.New(sha256.New, siteSecret)
	m.Write([]byte("user-42"))
	good := hex.EncodeToString(m.Sum(nil))
	if got := v.Signature("user-42"); got != good {
		t.Fatalf("Signature: got %s, want %s", got, good)
	}
	tests := []struct {
		name, id, sig string
		ok            bool
	}{
		{"lowercase hex", "user-42", good, true},
		{"uppercase hex", "user-42", strings.ToUpper(good), true},
		{"another id", "user-43", good, false},
		{"empty", "user-42", "", false},
		{"truncated", "user-42", good[:62], false},
		{"odd length", "user-42", good[:63], false},
		{"not hex", "user-42", "g" + good[1:], false},
		{"longer", "user-42", good + "00", false},
		{"the id itself", "user-42", "user-42", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := v.VerifySignature(tt.id, tt.sig)
			if tt.ok != (err == nil) {
				t.Fatalf("got %v, want ok=%v", err, tt.ok)
			}
			if err != nil && chat.ErrorCode(err) != chat.CodeUnauthorized {
				t.Errorf("code %s, want unauthorized", chat.ErrorCode(err))
			}
		})
	}
}

func TestIdentityToken(t *testing.T) {
	v := NewIdentities(siteSecret)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	mint := func(method jwt.SigningMethod, key any, c jwt.MapClaims) string {
		t.Helper()
		s, err := jwt.NewWithClaims(method, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	at := func(d time.Duration) int64 { return now.Add(d).Unix() }
	hs := jwt.SigningMethodHS256

	id, err := v.VerifyToken(mint(hs, siteSecret, jwt.MapClaims{"sub": "u1", "name": "Ada", "email": "ada@example.com", "iat": at(0), "exp": at(10 * time.Minute)}), now)
	if err != nil || id != (chat.Identity{ID: "u1", Name: "Ada", Email: "ada@example.com"}) {
		t.Fatalf("good token: got %+v, %v", id, err)
	}
	if _, err := v.VerifyToken(mint(hs, siteSecret, jwt.MapClaims{"sub": "u1", "exp": at(5 * time.Minute)}), now); err != nil {
		t.Errorf("without iat: %v", err)
	}
	if _, err := v.VerifyToken(mint(hs, siteSecret, jwt.MapClaims{"sub": "u1", "iat": at(2 * time.Second), "exp": at(time.Minute)}), now); err != nil {
		t.Errorf("iat within the clock skew: %v", err)
	}

	bad := map[string]string{
		"expired":            mint(hs, siteSecret, jwt.MapClaims{"sub": "u1", "iat": at(-20 * time.Minute), "exp": at(-10 * time.Minute)}),
		"just expired":       mint(hs, siteSecret, jwt.MapClaims{"sub": "u1", "iat": at(-5 * time.Minute), "exp": at(-time.Minute)}),
		"no exp":             mint(hs, siteSecret, jwt.MapClaims{"sub": "u1", "iat": at(0)}),
		"11 minutes":         mint(hs, siteSecret, jwt.MapClaims{"sub": "u1", "iat": at(0), "exp": at(11 * time.Minute)}),
		"11 minutes, no iat": mint(hs, siteSecret, jwt.MapClaims{"sub": "u1", "exp": at(11 * time.Minute)}),
		"iat in the future":  mint(hs, siteSecret, jwt.MapClaims{"sub": "u1", "iat": at(time.Minute), "exp": at(5 * time.Minute)}),
		"nbf in the future":  mint(hs, siteSecret, jwt.MapClaims{"sub": "u1", "nbf": at(time.Minute), "exp": at(5 * time.Minute)}),
		"no sub":             mint(hs, siteSecret, jwt.MapClaims{"iat": at(0), "exp": at(5 * time.Minute)}),
		"wrong secret":       mint(hs, []byte("ffffffffffffffffffffffffffffffff"), jwt.MapClaims{"sub": "u1", "exp": at(5 * time.Minute)}),
		"HS384":              mint(jwt.SigningMethodHS384, siteSecret, jwt.MapClaims{"sub": "u1", "exp": at(5 * time.Minute)}),
		"alg none":           mint(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, jwt.MapClaims{"sub": "u1", "exp": at(5 * time.Minute)}),
		"empty":              "",
		"huge":               strings.Repeat("a", maxTokenLength+1),
	}
	for name, tok := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := v.VerifyToken(tok, now)
			if chat.ErrorCode(err) != chat.CodeUnauthorized {
				t.Fatalf("got %v, want unauthorized", err)
			}
		})
	}
	if _, err := v.VerifyToken(bad["expired"], now); err != errExpired {
		t.Errorf("expired token: got %v, want the expiry message", err)
	}
}
