package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// badEmails are addresses a parser may take but that are not plain
// addresses: each would put something other than an address into the
// console's mailto: link.
var badEmails = map[string]string{
	"smuggled bcc":      "jane@example.com?bcc=attacker%40evil.example&subject=hi",
	"query":             "jane@example.com?subject=hi",
	"ampersand":         "jane&x@example.com",
	"percent":           "jane%40evil.example@example.com",
	"slash":             "jane/x@example.com",
	"space":             "jane doe@example.com",
	"quoted local part": `"jane doe"@example.com`,
	"quote":             "jane'@example.com",
	"angle brackets":    "<jane@example.com>",
	"display name":      "Jane <jane@example.com>",
	"two at signs":      "jane@evil.example@example.com",
	"comment":           "jane@example.com (Jane)",
	"no domain dot":     "jane@localhost",
	"too long":          strings.Repeat("a", 243) + "@example.com",
}

// TestEmailPlainAddressOnly sends each bad form at room creation and when a
// returning visitor fills in their details: every one is refused with 400
// invalid_request, and nothing is stored.
func TestEmailPlainAddressOnly(t *testing.T) {
	t.Parallel()
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{})
		room, token := e.mustRoom(map[string]string{"name": "Jane"})
		for name, email := range badEmails {
			t.Run(name, func(t *testing.T) {
				before := e.roomCount()
				r := e.do(req{method: "POST", path: "/api/v1/rooms", body: map[string]string{"email": email}})
				want(t, r, http.StatusBadRequest, "invalid_request")
				r = e.do(req{method: "POST", path: "/api/v1/rooms", token: token, body: map[string]string{"email": email}})
				want(t, r, http.StatusBadRequest, "invalid_request")
				if got := e.roomCount(); got != before {
					t.Fatalf("got %d rooms, want %d", got, before)
				}
				if got := e.mustStoredRoom(room.ID).VisitorEmail; got != "" {
					t.Fatalf("got stored email %q, want none", got)
				}
			})
		}
		// A plain address still goes through, and is filled in on resume.
		r := e.do(req{method: "POST", path: "/api/v1/rooms", token: token, body: map[string]string{"email": "jane.doe+chat@example.co.uk"}})
		want(t, r, http.StatusOK, "")
		if got := e.mustStoredRoom(room.ID).VisitorEmail; got != "jane.doe+chat@example.co.uk" {
			t.Fatalf("got stored email %q, want the plain address", got)
		}
	})
}
