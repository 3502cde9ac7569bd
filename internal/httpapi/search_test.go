package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/redisstore"
	"github.com/parley-chat/parley/internal/redisstore/redistest"
)

type searchAnswer struct {
	Results []struct {
		Room  chat.Room        `json:"room"`
		Match chat.SearchMatch `json:"match"`
	} `json:"results"`
	More bool `json:"more"`
}

// search runs GET /api/v1/admin/search as the admin and returns the answer.
func (e *env) search(at, q string, limit ...string) searchAnswer {
	e.t.Helper()
	path := "/api/v1/admin/search?q=" + url.QueryEscape(q)
	if len(limit) > 0 {
		path += "&limit=" + limit[0]
	}
	r := e.do(req{method: "GET", path: path, token: at})
	want(e.t, r, http.StatusOK, "")
	return decode[searchAnswer](e.t, r)
}

// ids returns the room ids of an answer, in its order.
func (a searchAnswer) ids() []string {
	out := make([]string, 0, len(a.Results))
	for _, r := range a.Results {
		out = append(out, r.Room.ID)
	}
	return out
}

// searchKeysWith returns the search index keys (the env's search:* and
// room terms keys) that still hold roomID; a test may SCAN, a request never.
func (e *env) searchKeysWith(roomID string) []string {
	e.t.Helper()
	client, err := redisstore.Connect(redistest.URL(e.addr))
	if err != nil {
		e.t.Fatalf("connect: %v", err)
	}
	defer client.Close()
	ctx := context.Background()
	var out []string
	keys := redistest.Keys(e.t, e.addr, e.prefix+"search:*")
	for _, k := range keys {
		if _, err := client.ZScore(ctx, k, roomID).Result(); err == nil {
			out = append(out, strings.TrimPrefix(k, e.prefix))
		}
	}
	if n, _ := client.Exists(ctx, e.prefix+"room:{"+roomID+"}:terms").Result(); n == 1 {
		out = append(out, "room:{"+roomID+"}:terms")
	}
	return out
}

func TestSearch(t *testing.T) {
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{})
		at := e.adminToken()

		priya, pt := e.mustRoom(map[string]string{"name": "Priya Sharma", "email": "priya.s@example.com"})
		e.mustSend(priya.ID, pt, false, "Hello, my parcel with tracking number 12345 has not arrived.")
		time.Sleep(3 * time.Millisecond)
		jose, jt := e.mustRoom(map[string]string{"name": "José Álvarez"})
		e.mustSend(jose.ID, jt, false, "Mi pedido no ha llegado, ¿dónde está el paquete? parcel")
		time.Sleep(3 * time.Millisecond)
		kenji, kt := e.mustRoom(map[string]string{})
		e.mustSend(kenji.ID, kt, false, "東京タワーに行きたいです")
		e.mustSend(kenji.ID, at, true, "안녕하세요, 무엇을 도와드릴까요?")
		long := strings.Repeat("Lorem ipsum dolor sit amet, consectetur adipiscing elit. ", 6) +
			"The invoice for the refund is attached. " + strings.Repeat("Sed do eiusmod tempor incididunt ut labore. ", 6)
		time.Sleep(3 * time.Millisecond)
		e.mustSend(priya.ID, at, true, long)

		t.Run("hits", func(t *testing.T) {
			for _, tc := range []struct {
				q    string
				want []string
				kind string
			}{
				{"parcel", []string{jose.ID, priya.ID}, chat.MatchMessage}, // newest first
				{"PARCEL 12345", []string{priya.ID}, chat.MatchMessage},
				{"the parcel", []string{jose.ID, priya.ID}, chat.MatchMessage}, // the commonest words are skipped
				{"pri", []string{priya.ID}, chat.MatchVisitor},                 // a prefix of the name as it is typed
				{"sharm", []string{priya.ID}, chat.MatchVisitor},               // of any word of it
				{"priya.s@example.com", []string{priya.ID}, ""},                // the email as a whole
				{"jose", []string{jose.ID}, chat.MatchVisitor},                 // accents folded
				{"dónde paquete", []string{jose.ID}, chat.MatchMessage},
				{"東京", []string{kenji.ID}, chat.MatchMessage}, // CJK bigrams
				{"タワー", []string{kenji.ID}, chat.MatchMessage},
				{"안녕", []string{kenji.ID}, chat.MatchMessage},
				{"invoice refund", []string{priya.ID}, chat.MatchMessage},
				{"parcel nowhere", []string{}, ""}, // every word must match
				{"parc", []string{}, ""},           // message words match whole
				{"a", []string{}, ""},              // nothing to look for
				{"zzzunknown", []string{}, ""},
			} {
				got := e.search(at, tc.q)
				if ids := got.ids(); !slices.Equal(ids, tc.want) {
					t.Errorf("q=%q: got rooms %v, want %v (%+v)", tc.q, ids, tc.want, got)
					continue
				}
				if tc.kind != "" && got.Results[0].Match.Kind != tc.kind {
					t.Errorf("q=%q: got match %+v, want kind %s", tc.q, got.Results[0].Match, tc.kind)
				}
			}
		})

		t.Run("match", func(t *testing.T) {
			got := e.search(at, "tracking")
			m := got.Results[0].Match
			if m.Text != "Hello, my parcel with tracking number 12345 has not arrived." || m.Seq != 1 ||
				m.Sender != chat.SenderVisitor || m.CreatedAt == nil {
				t.Errorf("got match %+v, want the visitor's first message whole", m)
			}
			if r := got.Results[0].Room; r.VisitorName != "Priya Sharma" || r.MessageCount != 2 {
				t.Errorf("got room %+v, want Priya's with its 2 messages", r)
			}
			m = e.search(at, "invoice").Results[0].Match
			if !strings.HasPrefix(m.Text, "…") || !strings.HasSuffix(m.Text, "…") || !strings.Contains(m.Text, "The invoice for the refund") ||
				len([]rune(m.Text)) > chat.SnippetRunes+2 || m.Sender != chat.SenderAdmin || m.Author != adminName || m.Seq != 2 {
				t.Errorf("got match %+v, want a snippet of the admin's long reply around \"invoice\"", m)
			}
			if m := e.search(at, "priya").Results[0].Match; m.Text != "Priya Sharma · priya.s@example.com" {
				t.Errorf("got match %+v, want the visitor's name and email", m)
			}
		})

		t.Run("limit", func(t *testing.T) {
			got := e.search(at, "parcel", "1")
			if !slices.Equal(got.ids(), []string{jose.ID}) || !got.More {
				t.Errorf("got %v more=%v, want the newest room and more", got.ids(), got.More)
			}
			if got := e.search(at, "parcel", "2"); len(got.Results) != 2 || got.More {
				t.Errorf("got %v more=%v, want both rooms and no more", got.ids(), got.More)
			}
		})

		t.Run("fill visitor", func(t *testing.T) {
			// A visitor who gives a name later is found by it.
			r := e.do(req{method: "POST", path: "/api/v1/rooms", token: kt,
				body: map[string]string{"name": "Kenji Watanabe", "email": "kenji@example.jp"}})
			want(t, r, http.StatusOK, "")
			if got := e.search(at, "watan"); !slices.Equal(got.ids(), []string{kenji.ID}) {
				t.Errorf("got %v, want the room whose visitor gave that name", got.ids())
			}
			if got := e.search(at, "kenji@example.jp"); !slices.Equal(got.ids(), []string{kenji.ID}) {
				t.Errorf("got %v, want the room whose visitor gave that email", got.ids())
			}
		})

		t.Run("bad input", func(t *testing.T) {
			vt := pt
			for _, tc := range []struct {
				name   string
				r      req
				status int
				code   string
			}{
				{"no q", req{method: "GET", path: "/api/v1/admin/search", token: at}, 400, "invalid_request"},
				{"empty q", req{method: "GET", path: "/api/v1/admin/search?q=", token: at}, 400, "invalid_request"},
				{"blank q", req{method: "GET", path: "/api/v1/admin/search?q=%20%20", token: at}, 400, "invalid_request"},
				{"long q", req{method: "GET", path: "/api/v1/admin/search?q=" + strings.Repeat("a", 201), token: at}, 400, "invalid_request"},
				{"control in q", req{method: "GET", path: "/api/v1/admin/search?q=a%00b", token: at}, 400, "invalid_request"},
				{"limit 0", req{method: "GET", path: "/api/v1/admin/search?q=parcel&limit=0", token: at}, 400, "invalid_request"},
				{"limit 51", req{method: "GET", path: "/api/v1/admin/search?q=parcel&limit=51", token: at}, 400, "invalid_request"},
				{"limit -1", req{method: "GET", path: "/api/v1/admin/search?q=parcel&limit=-1", token: at}, 400, "invalid_request"},
				{"limit abc", req{method: "GET", path: "/api/v1/admin/search?q=parcel&limit=abc", token: at}, 400, "invalid_request"},
				{"no token", req{method: "GET", path: "/api/v1/admin/search?q=parcel"}, 401, "unauthorized"},
				{"visitor token", req{method: "GET", path: "/api/v1/admin/search?q=parcel", token: vt}, 401, "unauthorized"},
			} {
				want(t, e.do(tc.r), tc.status, tc.code)
			}
			if got := e.search(at, strings.Repeat("a", 200)); len(got.Results) != 0 {
				t.Errorf("got %v for 200 letters, want nothing", got.ids())
			}
		})

		t.Run("delete", func(t *testing.T) {
			// The admin deletes one room, the visitor the other.
			want(t, e.do(req{method: "DELETE", path: "/api/v1/admin/rooms/" + jose.ID, token: at}), http.StatusNoContent, "")
			if got := e.search(at, "parcel"); !slices.Equal(got.ids(), []string{priya.ID}) {
				t.Errorf("after the admin's delete: got %v, want only the room left", got.ids())
			}
			if got := e.search(at, "jose"); len(got.Results) != 0 {
				t.Errorf("after the admin's delete: got %v for its visitor's name, want nothing", got.ids())
			}
			want(t, e.do(req{method: "DELETE", path: "/api/v1/rooms/" + kenji.ID, token: kt}), http.StatusNoContent, "")
			for _, q := range []string{"東京", "kenji", "안녕"} {
				if got := e.search(at, q); len(got.Results) != 0 {
					t.Errorf("after the visitor's delete: got %v for %q, want nothing", got.ids(), q)
				}
			}
			for _, id := range []string{jose.ID, kenji.ID} {
				if left := e.searchKeysWith(id); len(left) != 0 {
					t.Errorf("the deleted room %s is still in %v", id, left)
				}
			}
			if left := e.searchKeysWith(priya.ID); len(left) == 0 {
				t.Error("the room left is in no search key")
			}
		})
	})
}

// TestSearchExpiry proves that a room that expired is not found, and that
// the sweeper takes it out of the whole index.
func TestSearchExpiry(t *testing.T) {
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{})
		at := e.adminToken()
		old, ot := e.mustRoom(map[string]string{"name": "Olga Old"})
		e.mustSend(old.ID, ot, false, "Where is my refund for order 777?")
		live, lt := e.mustRoom(map[string]string{"name": "Liam Live"})
		e.mustSend(live.ID, lt, false, "Refund please")
		if got := e.search(at, "refund"); len(got.Results) != 2 {
			t.Fatalf("got %v, want both rooms", got.ids())
		}

		// The room's keys run out as its TTL would make them (its terms
		// hash outlives it by the grace).
		client, err := redisstore.Connect(redistest.URL(e.addr))
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		ctx := context.Background()
		room := e.prefix + "room:{" + old.ID + "}"
		if err := client.Del(ctx, room, room+":msgs", room+":dedup", room+":senders").Err(); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{"refund", "olga", "777 order"} {
			if got := e.search(at, q); slices.Contains(got.ids(), old.ID) {
				t.Errorf("q=%q: got %v, want the expired room left out", q, got.ids())
			}
		}
		if got := e.search(at, "refund"); !slices.Equal(got.ids(), []string{live.ID}) {
			t.Errorf("got %v, want the live room", got.ids())
		}

		// Sweeping now finds nothing to do; once the TTL (1 h) has passed,
		// the expired room leaves every key and the live one stays.
		if n, err := e.store.SweepSearch(ctx, time.Now(), 100); err != nil || n != 0 {
			t.Fatalf("sweep now: got %d, %v, want 0 rooms", n, err)
		}
		if left := e.searchKeysWith(old.ID); len(left) == 0 {
			t.Fatal("before the sweep: the expired room is in no key; the test proves nothing")
		}
		later := time.Now().Add(time.Hour + time.Minute)
		if n, err := e.store.SweepSearch(ctx, later, 100); err != nil || n != 1 {
			t.Fatalf("sweep after the TTL: got %d, %v, want 1 room", n, err)
		}
		if left := e.searchKeysWith(old.ID); len(left) != 0 {
			t.Errorf("after the sweep: the expired room is still in %v", left)
		}
		if got := e.search(at, "liam refund"); !slices.Equal(got.ids(), []string{live.ID}) {
			t.Errorf("after the sweep: got %v, want the live room", got.ids())
		}
		// The live room was put back for when it expires: sweeping again
		// at the same time finds nothing.
		if n, err := e.store.SweepSearch(ctx, later, 100); err != nil || n != 0 {
			t.Errorf("second sweep: got %d, %v, want 0", n, err)
		}
		if left := e.searchKeysWith(live.ID); !slices.ContainsFunc(left, func(k string) bool {
			return strings.HasPrefix(k, "search:{") && strings.HasSuffix(k, "}:rooms") // its partition's
		}) {
			t.Errorf("the live room left the sweeper's index: %v", left)
		}
	})
}

// TestSearchNotes proves that a note's words find its room and show the
// note, for agents; and that they never find it through the visitor.
func TestSearchNotes(t *testing.T) {
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{})
		at := e.adminToken()
		room, rt := e.mustRoom(map[string]string{"name": "Nina"})
		e.mustSend(room.ID, rt, false, "Hi")
		for _, content := range []string{"Called her back, no answer", "VIP customer: escalate to billing"} {
			want(t, e.do(req{method: "POST", path: "/api/v1/admin/rooms/" + room.ID + "/notes", token: at, body: map[string]string{"content": content}}), http.StatusCreated, "")
		}
		got := e.search(at, "escalate billing")
		if !slices.Equal(got.ids(), []string{room.ID}) {
			t.Fatalf("got %v, want the room of the note", got.ids())
		}
		if m := got.Results[0].Match; m.Kind != chat.MatchNote || m.Text != "VIP customer: escalate to billing" || m.Author != adminName {
			t.Errorf("got match %+v, want the second note by %s", m, adminName)
		}
		if m := e.search(at, "answer").Results[0].Match; m.Text != "Called her back, no answer" {
			t.Errorf("got match %+v, want the first note", m)
		}
		want(t, e.do(req{method: "GET", path: "/api/v1/admin/search?q=escalate", token: rt}), http.StatusUnauthorized, "unauthorized")
		want(t, e.do(req{method: "DELETE", path: "/api/v1/admin/rooms/" + room.ID, token: at}), http.StatusNoContent, "")
		if got := e.search(at, "escalate"); len(got.Results) != 0 {
			t.Errorf("after delete: got %v, want nothing", got.ids())
		}
	})
}
