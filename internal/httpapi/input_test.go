package httpapi_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// TestBadInput sends every kind of bad input API.md names and checks the
// status, the code, and that nothing was stored.
func TestBadInput(t *testing.T) {
	t.Parallel()
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{})
		room, token := e.mustRoom(nil)
		at := e.adminToken()
		msgs := "/api/v1/rooms/" + room.ID + "/messages"
		adminMsgs := "/api/v1/admin/rooms/" + room.ID + "/messages"
		tooBig := `{"content": "` + strings.Repeat("a", 16<<10) + `"}` // over 16 KiB

		// state is what a rejected request must leave unchanged.
		type state struct {
			rooms    int
			messages int64
			read     int64
			visits   int64
		}
		snapshot := func() state {
			r := e.mustStoredRoom(room.ID)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			vc, err := e.svc.VisitCount(ctx)
			if err != nil {
				t.Fatalf("visit count: %v", err)
			}
			return state{rooms: e.roomCount(), messages: r.MessageCount, read: r.VisitorReadSeq, visits: vc.Total}
		}
		e.mustSend(room.ID, at, true, "an admin message, so reads could move")
		before := snapshot()

		cases := []struct {
			name   string
			r      req
			status int
			code   string
		}{
			// Bodies.
			{"body over the limit", req{method: "POST", path: msgs, token: token, body: tooBig}, 413, "payload_too_large"},
			{"body over the limit, chunked", req{method: "POST", path: msgs, token: token, body: chunked(tooBig)}, 413, "payload_too_large"},
			{"room body over the limit", req{method: "POST", path: "/api/v1/rooms", body: `{"name":"` + strings.Repeat("a", 17<<10) + `"}`}, 413, "payload_too_large"},
			{"invalid UTF-8", req{method: "POST", path: msgs, token: token, body: []byte("{\"content\": \"caf\xe9\"}")}, 400, "invalid_request"},
			{"malformed JSON", req{method: "POST", path: msgs, token: token, body: `{"content": "hi"`}, 400, "invalid_request"},
			{"trailing data", req{method: "POST", path: msgs, token: token, body: `{"content": "hi"} {"content": "again"}`}, 400, "invalid_request"},
			{"not an object", req{method: "POST", path: msgs, token: token, body: `["hi"]`}, 400, "invalid_request"},
			{"null", req{method: "POST", path: msgs, token: token, body: `null`}, 400, "invalid_request"},
			{"no body", req{method: "POST", path: msgs, token: token}, 400, "invalid_request"},
			{"content of the wrong type", req{method: "POST", path: msgs, token: token, body: `{"content": 42}`}, 400, "invalid_request"},
			{"content missing", req{method: "POST", path: msgs, token: token, body: `{}`}, 400, "invalid_request"},
			{"content empty", req{method: "POST", path: msgs, token: token, body: `{"content": ""}`}, 400, "invalid_request"},
			{"content white space", req{method: "POST", path: msgs, token: token, body: `{"content": " \n\t "}`}, 400, "invalid_request"},
			{"content 2001 characters", req{method: "POST", path: msgs, token: token, body: map[string]string{"content": strings.Repeat("é", 2001)}}, 400, "invalid_request"},
			{"content with a control character", req{method: "POST", path: msgs, token: token, body: map[string]string{"content": "a\x00b"}}, 400, "invalid_request"},
			{"clientId 65 characters", req{method: "POST", path: msgs, token: token, body: map[string]string{"content": "hi", "clientId": strings.Repeat("c", 65)}}, 400, "invalid_request"},
			{"clientId with spaces", req{method: "POST", path: msgs, token: token, body: map[string]string{"content": "hi", "clientId": "a b"}}, 400, "invalid_request"},
			{"admin content empty", req{method: "POST", path: adminMsgs, token: at, body: `{"content": "  "}`}, 400, "invalid_request"},
			{"admin content 2001", req{method: "POST", path: adminMsgs, token: at, body: map[string]string{"content": strings.Repeat("x", 2001)}}, 400, "invalid_request"},

			// Room creation fields.
			{"name 81 characters", req{method: "POST", path: "/api/v1/rooms", body: map[string]string{"name": strings.Repeat("n", 81)}}, 400, "invalid_request"},
			{"name of the wrong type", req{method: "POST", path: "/api/v1/rooms", body: `{"name": ["x"]}`}, 400, "invalid_request"},
			{"bad email", req{method: "POST", path: "/api/v1/rooms", body: map[string]string{"email": "not-an-email"}}, 400, "invalid_request"},
			{"email 255 characters", req{method: "POST", path: "/api/v1/rooms", body: map[string]string{"email": strings.Repeat("e", 243) + "@example.com"}}, 400, "invalid_request"},
			{"page 2049 characters", req{method: "POST", path: "/api/v1/rooms", body: map[string]string{"page": "https://example.com/" + strings.Repeat("p", 2029)}}, 400, "invalid_request"},
			{"page not http", req{method: "POST", path: "/api/v1/rooms", body: map[string]string{"page": "javascript:alert(1)"}}, 400, "invalid_request"},
			{"room body not an object", req{method: "POST", path: "/api/v1/rooms", body: `"jane"`}, 400, "invalid_request"},

			// Read marks.
			{"read without seq", req{method: "POST", path: "/api/v1/rooms/" + room.ID + "/read", token: token, body: `{}`}, 400, "invalid_request"},
			{"read seq null", req{method: "POST", path: "/api/v1/rooms/" + room.ID + "/read", token: token, body: `{"seq": null}`}, 400, "invalid_request"},
			{"read seq negative", req{method: "POST", path: "/api/v1/rooms/" + room.ID + "/read", token: token, body: `{"seq": -1}`}, 400, "invalid_request"},
			{"read seq fractional", req{method: "POST", path: "/api/v1/rooms/" + room.ID + "/read", token: token, body: `{"seq": 1.5}`}, 400, "invalid_request"},
			{"read seq string", req{method: "POST", path: "/api/v1/rooms/" + room.ID + "/read", token: token, body: `{"seq": "1"}`}, 400, "invalid_request"},

			// Visits.
			{"visit path 1025 characters", req{method: "POST", path: "/api/v1/visits", body: map[string]string{"path": "/" + strings.Repeat("p", 1024)}}, 400, "invalid_request"},
			{"visit path relative", req{method: "POST", path: "/api/v1/visits", body: map[string]string{"path": "blog"}}, 400, "invalid_request"},
			{"visitorId 65 characters", req{method: "POST", path: "/api/v1/visits", body: map[string]string{"path": "/", "visitorId": strings.Repeat("v", 65)}}, 400, "invalid_request"},
			{"visit path of the wrong type", req{method: "POST", path: "/api/v1/visits", body: `{"path": 1}`}, 400, "invalid_request"},

			// Query parameters.
			{"limit 0", req{method: "GET", path: msgs + "?limit=0", token: token}, 400, "invalid_request"},
			{"limit 201", req{method: "GET", path: msgs + "?limit=201", token: token}, 400, "invalid_request"},
			{"limit abc", req{method: "GET", path: msgs + "?limit=abc", token: token}, 400, "invalid_request"},
			{"limit empty", req{method: "GET", path: msgs + "?limit=", token: token}, 400, "invalid_request"},
			{"after negative", req{method: "GET", path: msgs + "?after=-1", token: token}, 400, "invalid_request"},
			{"after abc", req{method: "GET", path: msgs + "?after=abc", token: token}, 400, "invalid_request"},
			{"before negative", req{method: "GET", path: msgs + "?before=-1", token: token}, 400, "invalid_request"},
			{"after and before", req{method: "GET", path: msgs + "?after=1&before=5", token: token}, 400, "invalid_request"},
			{"after 0 and before", req{method: "GET", path: msgs + "?after=0&before=5", token: token}, 400, "invalid_request"},
			{"before 0", req{method: "GET", path: msgs + "?before=0", token: token}, 400, "invalid_request"},
			{"after beyond the largest seq", req{method: "GET", path: msgs + "?after=9007199254740992", token: token}, 400, "invalid_request"},
			{"limit huge", req{method: "GET", path: msgs + "?limit=99999999999999", token: token}, 400, "invalid_request"},
			{"admin limit 201", req{method: "GET", path: adminMsgs + "?limit=201", token: at}, 400, "invalid_request"},
			{"rooms limit 0", req{method: "GET", path: "/api/v1/admin/rooms?limit=0", token: at}, 400, "invalid_request"},
			{"rooms limit abc", req{method: "GET", path: "/api/v1/admin/rooms?limit=abc", token: at}, 400, "invalid_request"},
			{"rooms filter", req{method: "GET", path: "/api/v1/admin/rooms?filter=read", token: at}, 400, "invalid_request"},
			{"rooms filter empty", req{method: "GET", path: "/api/v1/admin/rooms?filter=", token: at}, 400, "invalid_request"},
			{"rooms limit 201", req{method: "GET", path: "/api/v1/admin/rooms?limit=201", token: at}, 400, "invalid_request"},
			{"rooms cursor", req{method: "GET", path: "/api/v1/admin/rooms?cursor=%21%21not-a-cursor", token: at}, 400, "invalid_request"},
			{"days 0", req{method: "GET", path: "/api/v1/admin/visits?days=0", token: at}, 400, "invalid_request"},
			{"days 366", req{method: "GET", path: "/api/v1/admin/visits?days=366", token: at}, 400, "invalid_request"},
			{"days abc", req{method: "GET", path: "/api/v1/admin/visits?days=abc", token: at}, 400, "invalid_request"},
			{"days negative", req{method: "GET", path: "/api/v1/admin/visits?days=-1", token: at}, 400, "invalid_request"},

			// Ids and paths.
			{"malformed id", req{method: "GET", path: "/api/v1/admin/rooms/not-a-room", token: at}, 400, "invalid_request"},
			{"malformed id on send", req{method: "POST", path: "/api/v1/admin/rooms/r_UPPER/messages", token: at, body: `{"content":"x"}`}, 400, "invalid_request"},
			{"malformed id, visitor", req{method: "GET", path: "/api/v1/rooms/r_x", token: token}, 400, "invalid_request"},
			{"unknown room", req{method: "GET", path: "/api/v1/admin/rooms/" + chat.NewRoomID(), token: at}, 404, "room_not_found"},
			{"unknown room send", req{method: "POST", path: "/api/v1/admin/rooms/" + chat.NewRoomID() + "/messages", token: at, body: `{"content":"x"}`}, 404, "room_not_found"},
			{"unknown room block", req{method: "POST", path: "/api/v1/admin/rooms/" + chat.NewRoomID() + "/block", token: at}, 404, "room_not_found"},
			{"unknown room delete", req{method: "DELETE", path: "/api/v1/admin/rooms/" + chat.NewRoomID(), token: at}, 404, "room_not_found"},
			{"unknown room typing", req{method: "POST", path: "/api/v1/admin/rooms/" + chat.NewRoomID() + "/typing", token: at}, 404, "room_not_found"},
			{"unknown path", req{method: "GET", path: "/api/v1/nothing"}, 404, "not_found"},
			{"unknown method", req{method: "PUT", path: "/api/v1/rooms"}, 404, "not_found"},
			{"trailing slash", req{method: "GET", path: "/api/v1/visits/"}, 404, "not_found"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := e.do(tc.r)
				want(t, r, tc.status, tc.code)
				if got := r.header.Get("Content-Type"); got != "application/json; charset=utf-8" {
					t.Fatalf("got Content-Type %q, want JSON", got)
				}
				if after := snapshot(); after != before {
					t.Fatalf("a rejected request changed the store: got %+v, want %+v", after, before)
				}
			})
		}

		// The bounds themselves are accepted.
		e.mustSend(room.ID, token, false, strings.Repeat("é", 2000))
		e.mustRoom(map[string]string{"name": strings.Repeat("n", 80), "email": strings.Repeat("e", 242) + "@example.com",
			"page": "https://example.com/" + strings.Repeat("p", 2028)})
		want(t, e.do(req{method: "POST", path: "/api/v1/visits", body: map[string]string{"path": "/" + strings.Repeat("p", 1023), "visitorId": strings.Repeat("v", 64)}}), 200, "")
		want(t, e.do(req{method: "GET", path: msgs + "?limit=200&after=0", token: token}), 200, "")
		want(t, e.do(req{method: "GET", path: "/api/v1/admin/visits?days=365", token: at}), 200, "")
		want(t, e.do(req{method: "GET", path: "/api/v1/admin/visits?days=1", token: at}), 200, "")
		want(t, e.do(req{method: "GET", path: msgs + "?before=9007199254740991&limit=1", token: token}), 200, "")
		want(t, e.do(req{method: "GET", path: "/api/v1/admin/rooms?filter=unread&limit=200", token: at}), 200, "")
		want(t, e.do(req{method: "POST", path: msgs, token: token, body: `{"content": "unknown fields are ignored", "extra": {"a": [1]}}`}), 201, "")
	})
}

// chunked hides a body's length, so the server only finds out it is too large
// while reading.
func chunked(s string) io.Reader { return io.MultiReader(strings.NewReader(s)) }
