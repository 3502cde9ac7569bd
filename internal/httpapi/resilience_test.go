package httpapi_test

import (
	"bytes"
	"context"
	"net/http"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/redisstore"
	"github.com/parley-chat/parley/internal/redisstore/redistest"
)

// TestRedisDown stops a real redis-server under a running server: every
// request that needs Redis answers 503 store_unavailable within 2 s, open
// streams end (their clients will resume), and everything recovers when
// Redis is back, without restarting the server.
func TestRedisDown(t *testing.T) {
	t.Parallel()
	real := redistest.StartReal(t)
	e := newEnv(t, real.Addr(), envConfig{WatchBridge: true, PingInterval: 200 * time.Millisecond})
	// A second instance that does not poll the bridge has its streams
	// ended all the same: the bridge's loss ends every subscription of
	// its hub at once (chat.Hub.BridgeDown), so that no stream carries on
	// past the events the outage lost and resumes after them. (Its pings,
	// which re-check the admin token, stay at the default 20 s.)
	keep := newEnv(t, real.Addr(), envConfig{})
	room, tok := e.mustRoom(nil)
	at := e.adminToken()
	vs := e.visitorStream(room.ID, tok, nil)
	expectPresence(t, vs, false)
	as := e.adminStream(at)
	kept := keep.adminStream(keep.adminToken())

	real.Stop()
	vs.expectEnd(5 * time.Second)
	as.expectEnd(5 * time.Second)
	kept.expectEnd(5 * time.Second)

	within2s := &http.Client{Timeout: 2 * time.Second}
	down := []req{
		{method: "POST", path: "/api/v1/rooms"},
		{method: "POST", path: "/api/v1/rooms", token: tok},
		{method: "GET", path: "/api/v1/rooms/" + room.ID, token: tok},
		{method: "GET", path: "/api/v1/rooms/" + room.ID + "/messages", token: tok},
		{method: "POST", path: "/api/v1/rooms/" + room.ID + "/messages", token: tok, body: `{"content":"anyone?"}`},
		{method: "POST", path: "/api/v1/rooms/" + room.ID + "/read", token: tok, body: `{"seq":0}`},
		{method: "POST", path: "/api/v1/rooms/" + room.ID + "/typing", token: tok},
		{method: "DELETE", path: "/api/v1/rooms/" + room.ID, token: tok},
		{method: "GET", path: "/api/v1/rooms/" + room.ID + "/events", token: tok},
		{method: "POST", path: "/api/v1/admin/login", body: map[string]string{"username": adminUser, "password": adminPassword}},
		{method: "GET", path: "/api/v1/admin/rooms", token: at},
		{method: "GET", path: "/api/v1/admin/events", token: at},
		{method: "POST", path: "/api/v1/admin/rooms/" + room.ID + "/messages", token: at, body: `{"content":"hello?"}`},
		{method: "GET", path: "/api/v1/admin/canned", token: at},
		{method: "POST", path: "/api/v1/admin/canned", token: at, body: `{"shortcut":"hi","body":"Hi!"}`},
		{method: "PATCH", path: "/api/v1/admin/canned/cr_aaaaaaaaaaaaaaaa", token: at, body: `{"body":"Hi!"}`},
		{method: "DELETE", path: "/api/v1/admin/canned/cr_aaaaaaaaaaaaaaaa", token: at},
		{method: "POST", path: "/api/v1/visits", body: `{"path":"/"}`},
		{method: "GET", path: "/api/v1/visits"},
		{method: "GET", path: "/readyz"},
	}
	for _, r := range down {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			got := doWithin(t, within2s, e.url(r.path), r)
			want(t, got, http.StatusServiceUnavailable, "store_unavailable")
			if bytes.Contains(got.body, []byte("127.0.0.1")) || bytes.Contains(got.body, []byte("dial")) {
				t.Fatalf("the body tells internals: %s", got.body)
			}
		})
	}
	want(t, e.do(req{method: "GET", path: "/healthz"}), 200, "")
	if m := e.do(req{method: "GET", path: "/metrics", token: testMetricsToken}); !bytes.Contains(m.body, []byte("parley_store_errors_total ")) ||
		bytes.Contains(m.body, []byte("parley_store_errors_total 0\n")) {
		t.Fatalf("store errors were not counted")
	}

	real.Start()
	waitFor(t, "readiness", func() bool { return e.do(req{method: "GET", path: "/readyz"}).status == 200 })
	e.waitSubscribed()
	keep.waitSubscribed()

	// This redis-server keeps nothing across a restart: start afresh (the
	// admin account too, or its token would rightly be refused).
	mustAddAdmin(t, e.store)
	mustAddAdmin(t, keep.store)
	as = e.adminStream(at)
	kept = keep.adminStream(keep.adminToken())
	room, tok = e.mustRoom(nil)
	as.expect("room")
	keep.mustRoom(nil)
	kept.expect("room")
	waitFor(t, "the admin to count as online again", func() bool {
		ok, err := e.svc.AdminsOnline(context.Background())
		return err == nil && ok
	})
	vs = e.visitorStream(room.ID, tok, nil)
	expectPresence(t, vs, true)
	e.mustSend(room.ID, tok, false, "back again")
	as.expect("message")
	e.mustSend(room.ID, at, true, "welcome back")
	wantSeqs(t, expectMessages(t, vs, 2), 1, 2)
}

// doWithin fails when the server does not answer within client's timeout.
func doWithin(t testing.TB, client *http.Client, url string, r req) resp {
	t.Helper()
	start := time.Now()
	defer func() {
		if d := time.Since(start); d > client.Timeout {
			t.Fatalf("answered after %v, want within %v", d, client.Timeout)
		}
	}()
	return doWith(t, client, url, r)
}

// TestBridgeBlip cuts the pub/sub connection only: open streams end, and
// clients that reconnect with Last-Event-ID get what they missed, once.
func TestBridgeBlip(t *testing.T) {
	t.Parallel()
	real := redistest.StartReal(t)
	e := newEnv(t, real.Addr(), envConfig{WatchBridge: true})
	room, tok := e.mustRoom(nil)
	at := e.adminToken()
	vs := e.visitorStream(room.ID, tok, nil)
	expectPresence(t, vs, false)
	e.mustSend(room.ID, at, true, "one")
	wantSeqs(t, expectMessages(t, vs, 1), 1, 1)

	client, err := redisstore.Connect("redis://" + real.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx := context.Background()
	if err := client.ClientKillByFilter(ctx, "TYPE", "pubsub").Err(); err != nil {
		t.Fatalf("client kill: %v", err)
	}
	for _, c := range []string{"two", "three"} {
		if _, _, err := e.svc.SendAdmin(ctx, room.ID, adminName, chat.NewMessage{Content: c}); err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	vs.expectEnd(5 * time.Second)

	// The client reconnects (503 while the bridge is down) and resumes.
	var s *stream
	waitFor(t, "a reconnect", func() bool {
		var r resp
		s, r = openStream(t, e.url("/api/v1/rooms/"+room.ID+"/events"), tok, map[string]string{"Last-Event-ID": "1"})
		if s == nil && r.status != http.StatusServiceUnavailable {
			t.Fatalf("reconnect: got %d %s", r.status, r.body)
		}
		return s != nil
	})
	expectPresence(t, s, false)
	wantSeqs(t, expectMessages(t, s, 2), 2, 3)
	e.mustSend(room.ID, at, true, "four")
	wantSeqs(t, expectMessages(t, s, 1), 4, 4)
	s.quiet(200 * time.Millisecond)
}

// TestStreamsOutliveServerTimeouts runs the server with read and write
// timeouts shorter than a stream's life, as cmd configures it.
func TestStreamsOutliveServerTimeouts(t *testing.T) {
	t.Parallel()
	forEachStreamMode(t, testStreamsOutliveServerTimeouts)
}

func testStreamsOutliveServerTimeouts(t *testing.T, noHijack bool) {
	e := newEnv(t, startEmbedded(t), envConfig{ServerTimeouts: 300 * time.Millisecond, PingInterval: 100 * time.Millisecond, NoHijack: noHijack})
	room, tok := e.mustRoom(nil)
	at := e.adminToken()
	vs := e.visitorStream(room.ID, tok, nil)
	expectPresence(t, vs, false)
	vs.ignore("presence") // the admin stream below brings presence events
	as := e.adminStream(at).ignore("room")
	time.Sleep(1200 * time.Millisecond)
	e.mustSend(room.ID, at, true, "still there?")
	wantSeqs(t, expectMessages(t, vs, 1), 1, 1)
	as.expect("message")
}

// TestShutdownStreams ends every stream, as shutdown does; later streams
// are refused so that clients go to another instance.
func TestShutdownStreams(t *testing.T) {
	t.Parallel()
	forEachStreamMode(t, testShutdownStreams)
}

func testShutdownStreams(t *testing.T, noHijack bool) {
	e := newEnv(t, startEmbedded(t), envConfig{NoHijack: noHijack})
	room, tok := e.mustRoom(nil)
	vs := e.visitorStream(room.ID, tok, nil)
	expectPresence(t, vs, false)
	as := e.adminStream(e.adminToken())
	e.mustShutdownStreams()
	vs.expectEnd(5 * time.Second)
	as.expectEnd(5 * time.Second)
	_, r := openStream(t, e.url("/api/v1/rooms/"+room.ID+"/events"), tok, nil)
	want(t, r, http.StatusServiceUnavailable, "store_unavailable")
	want(t, e.do(req{method: "GET", path: "/api/v1/rooms/" + room.ID, token: tok}), 200, "")
}

// TestStreamsLeaveNoGoroutines opens and closes streams of both kinds, ended
// from both sides, and checks that no goroutine of theirs is left: no stream
// handler, no server connection, no bridge watcher, no test reader. (The
// Redis connection pool may keep the connections it grew meanwhile; those
// are not counted.) It is not parallel: it reads the whole process's
// goroutines.
func TestStreamsLeaveNoGoroutines(t *testing.T) {
	forEachStreamMode(t, testStreamsLeaveNoGoroutines)
}

func testStreamsLeaveNoGoroutines(t *testing.T, noHijack bool) {
	e := newEnv(t, startEmbedded(t), envConfig{WatchBridge: true, PingInterval: 50 * time.Millisecond, NoHijack: noHijack})
	room, tok := e.mustRoom(nil)
	at := e.adminToken()
	want(t, e.do(req{method: "GET", path: "/healthz"}), 200, "")
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	e.client.CloseIdleConnections()
	waitNoStreamGoroutines(t)
	before := runtime.NumGoroutine()

	var streams []*stream
	for i := 0; i < 5; i++ {
		s := e.visitorStream(room.ID, tok, nil)
		s.expect("presence")
		streams = append(streams, s.ignore("presence"))
		// The room's creation may reach the admin streams late.
		streams = append(streams, e.adminStream(at).ignore("room"))
	}
	if n, marked := runtime.NumGoroutine(), len(streamGoroutines()); n < before+20 || marked < 20 {
		t.Fatalf("got %d goroutines (%d marked) with 10 streams open, %d before: the check below would prove nothing", n, marked, before)
	}
	e.mustSend(room.ID, at, true, "to everyone")
	for _, s := range streams {
		s.expect("message")
	}
	time.Sleep(150 * time.Millisecond) // a few pings
	// Half are closed by the client, half by the server.
	for _, s := range streams[:5] {
		s.close()
	}
	e.mustShutdownStreams()
	for _, s := range streams[5:] {
		s.expectEnd(5 * time.Second)
		s.close()
	}
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	e.client.CloseIdleConnections()
	waitNoStreamGoroutines(t)

	if m := e.do(req{method: "GET", path: "/metrics", token: testMetricsToken}); !bytes.Contains(m.body, []byte(`parley_open_streams{kind="admin"} 0`)) ||
		!bytes.Contains(m.body, []byte(`parley_open_streams{kind="visitor"} 0`)) {
		t.Fatalf("the open streams gauge did not come back to 0")
	}
}

// streamGoroutineMarks are frames only a stream, a served connection or a
// test stream reader has on its stack.
var streamGoroutineMarks = []string{
	"parley/internal/httpapi.",
	"parley/internal/stream.",
	"net/http.(*conn).serve",
	"httpapi_test.(*stream).read",
	"net/http.(*persistConn)",
}

// streamGoroutines returns the stacks of the goroutines that carry a mark.
func streamGoroutines() []string {
	var buf bytes.Buffer
	_ = pprof.Lookup("goroutine").WriteTo(&buf, 2)
	var found []string
	for _, g := range strings.Split(buf.String(), "\n\n") {
		for _, m := range streamGoroutineMarks {
			if strings.Contains(g, m) && !strings.Contains(g, "httpapi_test.Test") {
				found = append(found, g)
				break
			}
		}
	}
	return found
}

// waitNoStreamGoroutines waits until no goroutine carries a stream mark.
func waitNoStreamGoroutines(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := streamGoroutines()
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines left:\n%s", len(left), strings.Join(left, "\n\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
