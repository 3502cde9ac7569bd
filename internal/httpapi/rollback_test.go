package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/redisstore/redistest"
)

// allMessages reads a room's stored messages through GET …/messages, as a
// client reloading after reset does.
func (e *env) allMessages(roomID, token string, admin bool) []chat.Message {
	e.t.Helper()
	path := "/api/v1/rooms/" + roomID + "/messages?limit=200"
	if admin {
		path = "/api/v1/admin/rooms/" + roomID + "/messages?limit=200"
	}
	r := e.do(req{method: "GET", path: path, token: token})
	want(e.t, r, http.StatusOK, "")
	return decode[struct {
		Messages []chat.Message `json:"messages"`
	}](e.t, r).Messages
}

// wantContents checks the contents of msgs, in seq order from seq 1.
func wantContents(t testing.TB, msgs []chat.Message, want ...string) {
	t.Helper()
	var got []string
	for i, m := range msgs {
		if m.Seq != int64(i+1) {
			t.Fatalf("got seq %d at %d, want %d", m.Seq, i, i+1)
		}
		got = append(got, m.Content)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("got messages %v, want %v", got, want)
	}
}

// TestRollbackResetsStreams restarts a real redis-server from an older dump
// under open streams: the new messages take seqs the clients have seen, and
// a resuming client must be told (reset) instead of skipping them.
func TestRollbackResetsStreams(t *testing.T) {
	t.Parallel()
	real := redistest.StartRealIn(t, t.TempDir())
	e := newEnv(t, real.Addr(), envConfig{WatchBridge: true, PingInterval: 100 * time.Millisecond})
	e.waitSubscribed()
	room, tok := e.mustRoom(nil)
	at := e.adminToken()
	for _, c := range []string{"one", "two", "three"} {
		e.mustSend(room.ID, tok, false, c)
	}
	old := real.Snapshot()

	// Both streams see the messages sent after the dump.
	vs := e.visitorStream(room.ID, tok, nil).ignore("presence")
	wantSeqs(t, expectMessages(t, vs, 3), 1, 3)
	as := e.adminStream(at).ignore("room")
	var seen []chat.Message
	adminLast := ""
	for _, c := range []string{"four", "five", "six", "seven"} {
		seen = append(seen, e.mustSend(room.ID, tok, false, c))
		ev := as.expect("message")
		if message(t, ev).Content != c || ev.ID == "" {
			t.Fatalf("admin stream: got %s (id %q), want %q with an id", ev.Data, ev.ID, c)
		}
		adminLast = ev.ID
	}
	wantSeqs(t, expectMessages(t, vs, 4), 4, 7)
	visitorLast := seen[3] // seq 7

	// Redis comes back with the dump of seq 3; the streams open across the
	// outage end (the bridge subscribed anew).
	real.RestartFrom(old)
	vs.expectEnd(10 * time.Second)
	as.expectEnd(10 * time.Second)
	e.waitSubscribed()

	// (a) Two new messages: the room's last seq (5) is behind the client's 7.
	e.mustSend(room.ID, tok, false, "new four")
	e.mustSend(room.ID, tok, false, "new five")
	vs = e.visitorStream(room.ID, tok, map[string]string{"Last-Event-ID": "7"}).ignore("presence")
	ev := vs.expect("reset")
	var rd struct {
		Room chat.Room `json:"room"`
	}
	if err := json.Unmarshal([]byte(ev.Data), &rd); err != nil || rd.Room.MessageCount != 5 || ev.ID != "5" {
		t.Fatalf("got reset %s (id %q), want the room with messageCount 5 and id 5", ev.Data, ev.ID)
	}
	wantContents(t, e.allMessages(room.ID, tok, false), "one", "two", "three", "new four", "new five")
	// The stream goes on after the room's last seq.
	e.mustSend(room.ID, tok, false, "new six")
	if m := expectMessages(t, vs, 1); m[0] != 6 {
		t.Fatalf("after reset: got seq %d, want 6", m[0])
	}
	vs.close()

	// (b) More new messages than were lost: seq 7 exists again, but holds
	// another message than the one the client saw there.
	e.mustSend(room.ID, tok, false, "new seven")
	e.mustSend(room.ID, tok, false, "new eight")
	vs = e.visitorStream(room.ID, tok, map[string]string{"Last-Event-ID": "7"}).ignore("presence")
	wantSeqs(t, expectMessages(t, vs, 1), 8, 8) // told nothing: it cannot know
	vs.close()
	vs, _ = openStream(t, e.url("/api/v1/rooms/"+room.ID+"/events?lastId="+visitorLast.ID), tok,
		map[string]string{"Last-Event-ID": "7"})
	vs.ignore("presence")
	if ev := vs.expect("reset"); ev.ID != "8" {
		t.Fatalf("got reset id %q, want 8", ev.ID)
	}
	vs.quiet(200 * time.Millisecond) // nothing replayed after the reset
	vs.close()
	wantContents(t, e.allMessages(room.ID, tok, false),
		"one", "two", "three", "new four", "new five", "new six", "new seven", "new eight")

	// The message id that is there resumes as before.
	msgs := e.allMessages(room.ID, tok, false)
	vs, _ = openStream(t, e.url("/api/v1/rooms/"+room.ID+"/events?lastId="+msgs[6].ID), tok,
		map[string]string{"Last-Event-ID": "7"})
	vs.ignore("presence")
	wantSeqs(t, expectMessages(t, vs, 1), 8, 8)
	vs.close()

	// The admin stream: the log lost the id the console last saw.
	s, r := openStream(t, e.url("/api/v1/admin/events"), at, map[string]string{"Last-Event-ID": adminLast})
	if s == nil {
		t.Fatalf("admin stream: got %d %s", r.status, r.body)
	}
	s.expect("ready")
	ev = s.expect("reset")
	if !vectorAfter(ev.ID, adminLast) {
		t.Fatalf("got admin reset id %q, want the log's end, after %q", ev.ID, adminLast)
	}
	s.ignore("room")
	e.mustSend(room.ID, tok, false, "new nine")
	if m := message(t, s.expect("message")); m.Content != "new nine" {
		t.Fatalf("after reset: got %q, want new nine", m.Content)
	}
	s.close()
	wantContents(t, e.allMessages(room.ID, at, true),
		"one", "two", "three", "new four", "new five", "new six", "new seven", "new eight", "new nine")
}

// TestAdminStreamResume: a console that reconnects with the id of the last
// admin event it got gets what it missed, once, in order; an id the log
// does not hold gets reset; a malformed one 400; none behaves as v1.
func TestAdminStreamResume(t *testing.T) {
	t.Parallel()
	forEachRedisCluster(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{})
		e.waitSubscribed()
		at := e.adminToken()
		s := e.adminStream(at)
		room, tok := e.mustRoom(nil)
		s.expect("room")
		e.mustSend(room.ID, tok, false, "one")
		ev := s.expect("message")
		last := ev.ID
		if _, ok := chat.ParseAdminVector(last); !ok {
			t.Fatalf("got admin message id %q, want a vector", last)
		}
		if rv := s.expect("room"); rv.ID != "" {
			t.Fatalf("got id %q on the room of a message, want none", rv.ID)
		}
		s.close()

		// Missed meanwhile: two messages, a block, a new room.
		e.mustSend(room.ID, tok, false, "two")
		e.mustSend(room.ID, at, true, "three")
		want(t, e.do(req{method: "POST", path: "/api/v1/admin/rooms/" + room.ID + "/block", token: at}), http.StatusNoContent, "")
		other, _ := e.mustRoom(nil)

		s, r := openStream(t, e.url("/api/v1/admin/events"), at, map[string]string{"Last-Event-ID": last})
		if s == nil {
			t.Fatalf("admin stream: got %d %s", r.status, r.body)
		}
		s.expect("ready")
		// The room's events in their order; the other room's (in another
		// log, most likely) anywhere: the logs are merged by time only.
		var got []string
		ids := map[string]bool{}
		otherSeen := false
		for len(got) < 5 || !otherSeen {
			ev, ok := s.next(5 * time.Second)
			if !ok {
				t.Fatalf("stream ended in the replay, after %v", got)
			}
			if ev.ID != "" {
				if ids[ev.ID] {
					t.Fatalf("id %q twice", ev.ID)
				}
				ids[ev.ID] = true
			}
			switch ev.Event {
			case "message":
				got = append(got, message(t, ev).Content)
			case "room":
				var rm chat.Room
				_ = json.Unmarshal([]byte(ev.Data), &rm)
				if rm.ID == other.ID {
					otherSeen = true
					continue
				}
				got = append(got, rm.ID+":"+strconv.FormatBool(rm.Blocked))
			default:
				t.Fatalf("replay: got %s %s", ev.Event, ev.Data)
			}
		}
		wantGot := []string{"two", room.ID + ":false", "three", room.ID + ":false", room.ID + ":true"}
		if strings.Join(got, " ") != strings.Join(wantGot, " ") {
			t.Fatalf("got replay %v, want %v", got, wantGot)
		}
		// Then live, nothing twice.
		e.mustSend(room.ID, at, true, "four")
		if m := message(t, s.expect("message")); m.Content != "four" {
			t.Fatalf("live: got %q, want four", m.Content)
		}
		s.expect("room")
		s.quiet(200 * time.Millisecond)
		s.close()

		// A position a log does not hold (trimmed, or a rollback), or the
		// "ms-n" id of a console from before the logs were split: reset,
		// with the logs' end as the id.
		gone, _ := chat.ParseAdminVector(last)
		for i := range gone {
			gone[i] = chat.LogPos{MS: 1}
		}
		for _, id := range []string{gone.String(), "1-0", "1733090000000-0"} {
			s, _ = openStream(t, e.url("/api/v1/admin/events"), at, map[string]string{"Last-Event-ID": id})
			s.expect("ready")
			if ev := s.expect("reset"); !vectorAfter(ev.ID, last) {
				t.Fatalf("Last-Event-ID %s: reset id %q, want the logs' end", id, ev.ID)
			}
			s.close()
		}

		// Malformed: 400, nothing opened.
		_, r = openStream(t, e.url("/api/v1/admin/events"), at, map[string]string{"Last-Event-ID": "7"})
		if r.status != http.StatusBadRequest {
			t.Fatalf("Last-Event-ID 7: got %d, want 400", r.status)
		}
	})
}

// TestAdminStreamCatchesUpAfterABurst: an admin stream whose buffer fills
// in a burst does not end: it reads what it missed from the admin log, so
// every message sent meanwhile reaches the console, and it is counted. On
// the embedded server and on the cluster, where the partitions' logs it
// reads are on three primaries.
func TestAdminStreamCatchesUpAfterABurst(t *testing.T) {
	t.Parallel()
	t.Run("embedded", func(t *testing.T) { testAdminStreamCatchesUp(t, redistest.StartEmbedded(t)) })
	t.Run("cluster", func(t *testing.T) { testAdminStreamCatchesUp(t, redistest.SharedCluster(t).URL()) })
}

func testAdminStreamCatchesUp(t *testing.T, addr string) {
	e := newEnv(t, addr, envConfig{HubBuffer: 2})
	room, tok := e.mustRoom(nil)
	s := e.adminStream(e.adminToken()).ignore("ready", "room", "room.deleted", "presence", "read")
	behind := func() bool {
		m := e.do(req{method: "GET", path: "/metrics", token: testMetricsToken})
		return !strings.Contains(string(m.body), `parley_streams_behind_total{kind="admin"} 0`)
	}
	const n = 30
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for i := range n {
			e.mustSend(room.ID, tok, false, fmt.Sprintf("burst message %d", i))
		}
	}()
	// Far more events at once than the stream can write meanwhile, while
	// the messages are sent.
	burst := make(chan struct{})
	go func() {
		defer close(burst)
		for i := 0; i < 20000 && (i%50 != 0 || !behind()); i++ {
			e.hub.Deliver(chat.Event{Type: chat.EventRoomDeleted, RoomID: "r_x"})
		}
	}()
	got := map[string]bool{}
	for len(got) < n {
		ev, ok := s.next(20 * time.Second)
		if !ok {
			t.Fatalf("the stream ended after %d of %d messages", len(got), n)
		}
		if ev.Event == "message" {
			got[message(t, ev).Content] = true
		}
	}
	<-sent
	<-burst
	if !behind() {
		t.Fatal("metrics: want parley_streams_behind_total{kind=\"admin\"} above 0")
	}
	if m := e.do(req{method: "GET", path: "/metrics", token: testMetricsToken}); !strings.Contains(string(m.body), `parley_streams_dropped_total{kind="admin",reason="slow"} 0`) {
		t.Fatalf("metrics: the admin stream was dropped\n%s", m.body)
	}
}

// vectorAfter tells whether the admin stream id a is a vector past b: at
// least as far in every log, further in one.
func vectorAfter(a, b string) bool {
	va, ok1 := chat.ParseAdminVector(a)
	vb, ok2 := chat.ParseAdminVector(b)
	if !ok1 || !ok2 || len(va) != len(vb) {
		return false
	}
	further := false
	for i := range va {
		if vb[i].After(va[i]) {
			return false
		}
		further = further || va[i].After(vb[i])
	}
	return further
}
