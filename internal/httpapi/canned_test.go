package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

type cannedList struct {
	Canned []chat.Canned `json:"canned"`
}

type cannedOne struct {
	Canned chat.Canned `json:"canned"`
}

// mustCanned adds a canned reply through the API.
func (e *env) mustCanned(token, shortcut, body string) chat.Canned {
	e.t.Helper()
	r := e.do(req{method: "POST", path: "/api/v1/admin/canned", token: token, body: map[string]string{"shortcut": shortcut, "body": body}})
	want(e.t, r, http.StatusCreated, "")
	return decode[cannedOne](e.t, r).Canned
}

// cannedShortcuts lists the shortcuts GET /api/v1/admin/canned answers, in
// its order, each with its body.
func (e *env) cannedShortcuts(token string) string {
	e.t.Helper()
	r := e.do(req{method: "GET", path: "/api/v1/admin/canned", token: token})
	want(e.t, r, http.StatusOK, "")
	var parts []string
	for _, c := range decode[cannedList](e.t, r).Canned {
		parts = append(parts, c.Shortcut+"="+c.Body)
	}
	return strings.Join(parts, " ")
}

// Create, list (sorted by shortcut), update either field, delete: each
// answer is what was stored, and a second console sees each change.
func TestCannedCRUD(t *testing.T) {
	t.Parallel()
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{})
		tok := e.adminToken()
		if got := e.cannedShortcuts(tok); got != "" {
			t.Fatalf("fresh team: got %q, want no canned replies", got)
		}
		r := e.do(req{method: "POST", path: "/api/v1/admin/canned", token: tok,
			body: map[string]string{"shortcut": " /Hello ", "body": "  Hi {{visitor.name}}, how can I help?\n"}})
		want(t, r, http.StatusCreated, "")
		hello := decode[cannedOne](t, r).Canned
		if !chat.ValidCannedID(hello.ID) || hello.Shortcut != "hello" || hello.Body != "Hi {{visitor.name}}, how can I help?" ||
			hello.CreatedBy != adminUser || time.Since(hello.UpdatedAt.Time) > time.Minute {
			t.Fatalf("created %+v, want hello by %s, trimmed body, now", hello, adminUser)
		}
		e.mustCanned(tok, "bye", "Bye!")
		e.mustCanned(tok, "refund_policy-2", "30 days.")
		if got, want := e.cannedShortcuts(tok), "bye=Bye! hello=Hi {{visitor.name}}, how can I help? refund_policy-2=30 days."; got != want {
			t.Fatalf("list: got %q, want %q", got, want)
		}

		r = e.do(req{method: "PATCH", path: "/api/v1/admin/canned/" + hello.ID, token: tok, body: map[string]string{"body": "Hello!"}})
		want(t, r, http.StatusOK, "")
		if got := decode[cannedOne](t, r).Canned; got.Shortcut != "hello" || got.Body != "Hello!" || got.ID != hello.ID {
			t.Fatalf("PATCH body: got %+v", got)
		}
		r = e.do(req{method: "PATCH", path: "/api/v1/admin/canned/" + hello.ID, token: tok, body: map[string]string{"shortcut": "Greet"}})
		want(t, r, http.StatusOK, "")
		if got, want := e.cannedShortcuts(tok), "bye=Bye! greet=Hello! refund_policy-2=30 days."; got != want {
			t.Fatalf("list after PATCHes: got %q, want %q", got, want)
		}
		// The old shortcut is free again, the new one is taken.
		e.mustCanned(tok, "hello", "Hey")
		want(t, e.do(req{method: "POST", path: "/api/v1/admin/canned", token: tok, body: map[string]string{"shortcut": "GREET", "body": "x"}}),
			http.StatusConflict, "conflict")
		// Its own shortcut, in other letters, is not a clash.
		want(t, e.do(req{method: "PATCH", path: "/api/v1/admin/canned/" + hello.ID, token: tok, body: map[string]string{"shortcut": "greet", "body": "Hello again"}}),
			http.StatusOK, "")

		want(t, e.do(req{method: "DELETE", path: "/api/v1/admin/canned/" + hello.ID, token: tok}), http.StatusNoContent, "")
		want(t, e.do(req{method: "DELETE", path: "/api/v1/admin/canned/" + hello.ID, token: tok}), http.StatusNotFound, "not_found")
		if got, want := e.cannedShortcuts(tok), "bye=Bye! hello=Hey refund_policy-2=30 days."; got != want {
			t.Fatalf("list after DELETE: got %q, want %q", got, want)
		}
		// The deleted one's shortcut can be had again.
		e.mustCanned(tok, "greet", "Welcome")
	})
}

// Bad input is refused with a clear code and changes nothing.
func TestCannedBadInput(t *testing.T) {
	t.Parallel()
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{})
		tok := e.adminToken()
		hi := e.mustCanned(tok, "hi", "Hi there")
		e.mustCanned(tok, "bye", "Bye")
		before := e.cannedShortcuts(tok)
		_, visitorTok := e.mustRoom(map[string]string{"name": "Jane"})

		long := strings.Repeat("a", chat.MaxShortcut+1)
		longBody := strings.Repeat("é", chat.MaxCannedBody+1)
		for _, tc := range []struct {
			name         string
			method, path string
			token        string
			body         any
			status       int
			code         string
		}{
			{"empty shortcut", "POST", "/api/v1/admin/canned", tok, map[string]string{"shortcut": "", "body": "x"}, 400, "invalid_request"},
			{"blank shortcut", "POST", "/api/v1/admin/canned", tok, map[string]string{"shortcut": " / ", "body": "x"}, 400, "invalid_request"},
			{"long shortcut", "POST", "/api/v1/admin/canned", tok, map[string]string{"shortcut": long, "body": "x"}, 400, "invalid_request"},
			{"shortcut with a space", "POST", "/api/v1/admin/canned", tok, map[string]string{"shortcut": "two words", "body": "x"}, 400, "invalid_request"},
			{"shortcut with punctuation", "POST", "/api/v1/admin/canned", tok, map[string]string{"shortcut": "hi!", "body": "x"}, 400, "invalid_request"},
			{"no body", "POST", "/api/v1/admin/canned", tok, map[string]string{"shortcut": "new"}, 400, "invalid_request"},
			{"blank body", "POST", "/api/v1/admin/canned", tok, map[string]string{"shortcut": "new", "body": " \n "}, 400, "invalid_request"},
			{"long body", "POST", "/api/v1/admin/canned", tok, map[string]string{"shortcut": "new", "body": longBody}, 400, "invalid_request"},
			{"control character", "POST", "/api/v1/admin/canned", tok, map[string]string{"shortcut": "new", "body": "a\x00b"}, 400, "invalid_request"},
			{"wrong type", "POST", "/api/v1/admin/canned", tok, map[string]any{"shortcut": 7, "body": "x"}, 400, "invalid_request"},
			{"not an object", "POST", "/api/v1/admin/canned", tok, `["hi"]`, 400, "invalid_request"},
			{"duplicate shortcut", "POST", "/api/v1/admin/canned", tok, map[string]string{"shortcut": "HI", "body": "x"}, 409, "conflict"},
			{"PATCH to a taken shortcut", "PATCH", "/api/v1/admin/canned/" + hi.ID, tok, map[string]string{"shortcut": "bye"}, 409, "conflict"},
			{"PATCH empty body", "PATCH", "/api/v1/admin/canned/" + hi.ID, tok, map[string]string{"body": ""}, 400, "invalid_request"},
			{"PATCH long shortcut", "PATCH", "/api/v1/admin/canned/" + hi.ID, tok, map[string]string{"shortcut": long}, 400, "invalid_request"},
			{"PATCH unknown id", "PATCH", "/api/v1/admin/canned/cr_aaaaaaaaaaaaaaaa", tok, map[string]string{"body": "x"}, 404, "not_found"},
			{"PATCH malformed id", "PATCH", "/api/v1/admin/canned/nope", tok, map[string]string{"body": "x"}, 404, "not_found"},
			{"DELETE unknown id", "DELETE", "/api/v1/admin/canned/cr_aaaaaaaaaaaaaaaa", tok, nil, 404, "not_found"},
			{"visitor token lists", "GET", "/api/v1/admin/canned", visitorTok, nil, 401, "unauthorized"},
			{"visitor token adds", "POST", "/api/v1/admin/canned", visitorTok, map[string]string{"shortcut": "new", "body": "x"}, 401, "unauthorized"},
			{"visitor token changes", "PATCH", "/api/v1/admin/canned/" + hi.ID, visitorTok, map[string]string{"body": "x"}, 401, "unauthorized"},
			{"visitor token deletes", "DELETE", "/api/v1/admin/canned/" + hi.ID, visitorTok, nil, 401, "unauthorized"},
			{"no token", "GET", "/api/v1/admin/canned", "", nil, 401, "unauthorized"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				want(t, e.do(req{method: tc.method, path: tc.path, token: tc.token, body: tc.body}), tc.status, tc.code)
			})
		}
		if got := e.cannedShortcuts(tok); got != before {
			t.Fatalf("bad requests changed the list: got %q, want %q", got, before)
		}
	})
}

// At most chat.MaxCanned canned replies: the next is refused with
// limit_reached, and one can be added again once one is deleted.
func TestCannedLimit(t *testing.T) {
	t.Parallel()
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{})
		tok := e.adminToken()
		var first chat.Canned
		for i := range chat.MaxCanned {
			c := e.mustCanned(tok, fmt.Sprintf("s%03d", i), "body")
			if i == 0 {
				first = c
			}
		}
		want(t, e.do(req{method: "POST", path: "/api/v1/admin/canned", token: tok, body: map[string]string{"shortcut": "extra", "body": "x"}}),
			http.StatusConflict, "limit_reached")
		want(t, e.do(req{method: "DELETE", path: "/api/v1/admin/canned/" + first.ID, token: tok}), http.StatusNoContent, "")
		e.mustCanned(tok, "extra", "x")
		r := e.do(req{method: "GET", path: "/api/v1/admin/canned", token: tok})
		if n := len(decode[cannedList](t, r).Canned); n != chat.MaxCanned {
			t.Fatalf("got %d canned replies, want %d", n, chat.MaxCanned)
		}
	})
}

// Every change reaches the admin streams of every instance as canned.updated
// or canned.deleted, and a console that reconnects gets what it missed.
func TestCannedLive(t *testing.T) {
	t.Parallel()
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{})
		other := newEnv(t, addr, envConfig{Prefix: e.prefix, Secret: e.secret})
		tok := e.adminToken()
		room, visitorTok := e.mustRoom(nil)
		visitor := e.visitorStream(room.ID, visitorTok, nil)
		expectPresence(t, visitor, false)
		here := e.adminStream(tok)
		there := other.adminStream(other.adminToken())
		other.waitSubscribed()

		c := e.mustCanned(tok, "hello", "Hi {{visitor.name}}")
		for _, s := range []*stream{here, there} {
			ev := s.expect("canned.updated")
			var got chat.Canned
			if err := json.Unmarshal([]byte(ev.Data), &got); err != nil || got != c || ev.ID == "" {
				t.Fatalf("got canned.updated %s (id %q, %v), want %+v", ev.Data, ev.ID, err, c)
			}
		}
		r := e.do(req{method: "PATCH", path: "/api/v1/admin/canned/" + c.ID, token: tok, body: map[string]string{"shortcut": "hi"}})
		want(t, r, http.StatusOK, "")
		changed := decode[cannedOne](t, r).Canned
		ev := there.expect("canned.updated")
		var got chat.Canned
		if err := json.Unmarshal([]byte(ev.Data), &got); err != nil || got != changed {
			t.Fatalf("got canned.updated %s, want %+v", ev.Data, changed)
		}
		lastSeen := ev.ID

		want(t, e.do(req{method: "DELETE", path: "/api/v1/admin/canned/" + c.ID, token: tok}), http.StatusNoContent, "")
		if ev := there.expect("canned.deleted"); ev.Data != `{"id":"`+c.ID+`"}` {
			t.Fatalf("got canned.deleted %s, want the id %s", ev.Data, c.ID)
		}
		// A refused change publishes nothing.
		want(t, e.do(req{method: "DELETE", path: "/api/v1/admin/canned/" + c.ID, token: tok}), http.StatusNotFound, "not_found")
		there.quiet(200 * time.Millisecond)

		// The visitors never hear of canned replies.
		for deadline := time.After(100 * time.Millisecond); ; {
			var ev sseEvent
			select {
			case ev = <-visitor.events:
			case <-deadline:
			}
			if ev == (sseEvent{}) {
				break
			}
			if strings.HasPrefix(ev.Event, "canned") || strings.Contains(ev.Data, c.ID) {
				t.Fatalf("the visitor stream got %q %s", ev.Event, ev.Data)
			}
		}

		// Resuming after the PATCH replays the DELETE.
		s, rr := openStream(t, e.url("/api/v1/admin/events"), tok, map[string]string{"Last-Event-ID": lastSeen})
		if s == nil {
			t.Fatalf("resume: got %d %s", rr.status, rr.body)
		}
		s.expect("ready")
		if ev := s.expect("canned.deleted"); !strings.Contains(ev.Data, c.ID) {
			t.Fatalf("replayed %s, want the delete of %s", ev.Data, c.ID)
		}
	})
}
