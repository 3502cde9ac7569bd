package stream

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// modes are the two ways a stream is written.
var modes = []struct {
	name   string
	hijack bool
}{{"hijack", true}, {"flusher", false}}

// testServer serves one kind of stream from handle, on a real HTTP/1.1
// server, with its registry and hub.
type testServer struct {
	reg *Registry
	hub *chat.Hub
	srv *httptest.Server
}

// newTestServer starts a server whose every request opens a stream of
// room "r" and hands it to handle, started; handle returns when the
// handler should.
func newTestServer(t *testing.T, cfg Config, handle func(st *Stream, sub *chat.Subscription)) *testServer {
	t.Helper()
	if cfg.MaxStreams == 0 {
		cfg.MaxStreams, cfg.PerKey = 10, 10
	}
	ts := &testServer{reg: NewRegistry(cfg), hub: chat.NewHub(64)}
	ts.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, err := ts.reg.Open("room:r", Info{})
		if err != nil {
			http.Error(w, err.Error(), http.StatusTooManyRequests)
			return
		}
		defer st.Release()
		sub := ts.hub.SubscribeRoom("r")
		w.Header().Set("X-Request-ID", "req-1")
		st.Start(w, r, sub)
		handle(st, sub)
	}))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = ts.reg.Shutdown(ctx)
		ts.srv.Close()
		ts.hub.Close()
	})
	return ts
}

// waitFor polls cond until it holds.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestModesWriteTheSameBytes serves the same stream in both modes: the
// client reads the same headers and the same body, byte for byte; only the
// framing of the body differs (delimited by the connection's close, or
// chunked).
func TestModesWriteTheSameBytes(t *testing.T) {
	const want = "event: presence\ndata: {\"adminsOnline\":false}\n\n" +
		"id: 1\nevent: message\ndata: {\"seq\":1}\n\nid: 2\nevent: message\ndata: {\"seq\":2}\n\n" +
		"event: presence\ndata: {\"adminsOnline\":true}\n\n"
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			ts := newTestServer(t, Config{Hijack: m.hijack, PingInterval: time.Hour}, func(st *Stream, _ *chat.Subscription) {
				if st.Event("presence", 0, map[string]bool{"adminsOnline": false}) != nil ||
					st.Add("message", 1, map[string]int{"seq": 1}) != nil ||
					st.Add("message", 2, map[string]int{"seq": 2}) != nil || st.Flush() != nil {
					return
				}
				st.Serve(nil, func(ev chat.Event) bool {
					_ = st.Event("presence", 0, map[string]bool{"adminsOnline": ev.AdminsOnline})
					return true
				})
			})
			res, err := http.Get(ts.srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			br := bufio.NewReader(res.Body)
			first, err := br.ReadString('\n') // the first event is there before any hub event
			if err != nil {
				t.Fatal(err)
			}
			ts.hub.Deliver(chat.Event{Type: chat.EventPresence, AdminsOnline: true})
			rest, err := io.ReadAll(br)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if got := first + string(rest); got != want {
				t.Fatalf("got body\n%q\nwant\n%q", got, want)
			}
			h := res.Header
			if res.StatusCode != 200 || h.Get("Content-Type") != "text/event-stream" || h.Get("Cache-Control") != "no-cache" ||
				h.Get("X-Accel-Buffering") != "no" || h.Get("X-Request-ID") != "req-1" {
				t.Fatalf("got %d %v", res.StatusCode, h)
			}
			chunked := len(res.TransferEncoding) == 1 && res.TransferEncoding[0] == "chunked"
			if m.hijack && (!res.Close || chunked) || !m.hijack && (res.Close || !chunked) {
				t.Fatalf("got close %v, transfer encoding %v in mode %s", res.Close, res.TransferEncoding, m.name)
			}
			waitFor(t, "the stream to end", func() bool { return ts.reg.Len() == 0 })
		})
	}
}

// TestPings checks the ping cadence and stillValid: a ping comment at every
// interval, each followed by the check, and the stream ending when the
// check says no.
func TestPings(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			checks := make(chan int, 10)
			ts := newTestServer(t, Config{Hijack: m.hijack, PingInterval: 20 * time.Millisecond}, func(st *Stream, _ *chat.Subscription) {
				n := 0
				st.Serve(func() bool {
					n++
					checks <- n
					return n < 3
				}, func(chat.Event) bool { return false })
			})
			res, err := http.Get(ts.srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, err := io.ReadAll(res.Body)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if got := string(body); got != strings.Repeat(": ping\n\n", 3) {
				t.Fatalf("got body %q, want three pings", got)
			}
			if len(checks) != 3 {
				t.Fatalf("got %d checks, want 3", len(checks))
			}
		})
	}
}

// TestClientGoneEndsStream checks that a stream ends when its client goes
// away, without waiting for a write (the ping is an hour away).
func TestClientGoneEndsStream(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			ts := newTestServer(t, Config{Hijack: m.hijack, PingInterval: time.Hour}, func(st *Stream, _ *chat.Subscription) {
				if st.Event("ready", 0, 1) == nil {
					st.Serve(nil, func(chat.Event) bool { return false })
				}
			})
			conn, err := net.Dial("tcp", ts.srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			br := bufio.NewReader(conn)
			if _, err := http.ReadResponse(br, nil); err != nil {
				t.Fatal(err)
			}
			if ts.reg.Len() != 1 {
				t.Fatalf("got %d streams open, want 1", ts.reg.Len())
			}
			conn.Close()
			waitFor(t, "the stream to end", func() bool { return ts.reg.Len() == 0 })
		})
	}
}

// TestShutdownEndsStreams checks that Shutdown ends a stream that is idle
// in Serve, and refuses new ones.
func TestShutdownEndsStreams(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			ts := newTestServer(t, Config{Hijack: m.hijack, PingInterval: time.Hour}, func(st *Stream, _ *chat.Subscription) {
				if st.Event("ready", 0, 1) == nil {
					st.Serve(nil, func(chat.Event) bool { return false })
				}
			})
			res, err := http.Get(ts.srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := ts.reg.Shutdown(ctx); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			if body, err := io.ReadAll(res.Body); err != nil || string(body) != "event: ready\ndata: 1\n\n" {
				t.Fatalf("got body %q, %v: want the event, then the end", body, err)
			}
			again, err := http.Get(ts.srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			again.Body.Close()
			if again.StatusCode != http.StatusTooManyRequests { // how this test's handler answers any refusal
				t.Fatalf("got %d after Shutdown, want the stream refused", again.StatusCode)
			}
		})
	}
}

// TestShutdownEndsAStuckStream checks that Shutdown ends a stream blocked
// in a write to a client that stopped reading: the socket buffers fill,
// the write blocks, and only the forced end (not the ask to end, nor the
// write deadline 10 s away) can end it before ctx does.
func TestShutdownEndsAStuckStream(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			big := strings.Repeat("x", 64<<10)
			writing := make(chan struct{})
			drops := &dropLog{}
			ts := newTestServer(t, Config{Hijack: m.hijack, PingInterval: time.Hour, Dropped: drops.add}, func(st *Stream, _ *chat.Subscription) {
				close(writing)
				for st.Event("message", 0, big) == nil {
				}
			})
			conn, err := net.Dial("tcp", ts.srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_, _ = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			<-writing
			time.Sleep(200 * time.Millisecond) // the buffers fill and the write blocks
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := ts.reg.Shutdown(ctx); err != nil {
				t.Fatalf("Shutdown: %v, want the stuck stream ended", err)
			}
			if n := ts.reg.Len(); n != 0 {
				t.Fatalf("got %d streams open after Shutdown, want 0", n)
			}
			if got := drops.String(); got != "" {
				t.Fatalf("got drops %q, want none: a stream ended by Shutdown was not dropped", got)
			}
		})
	}
}

// dropLog records Config.Dropped calls.
type dropLog struct {
	mu    sync.Mutex
	drops []string
}

func (d *dropLog) add(kind Kind, reason string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.drops = append(d.drops, string(kind)+" "+reason)
}

func (d *dropLog) String() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return strings.Join(d.drops, ", ")
}

// TestStalledStreamIsDropped checks that a stream whose write makes no
// progress for the write timeout ends, and is counted as stalled: its
// client stopped reading and the socket buffers are full.
func TestStalledStreamIsDropped(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			big := strings.Repeat("x", 64<<10)
			drops := &dropLog{}
			cfg := Config{Hijack: m.hijack, PingInterval: time.Hour, WriteTimeout: 300 * time.Millisecond, Dropped: drops.add}
			ts := newTestServer(t, cfg, func(st *Stream, _ *chat.Subscription) {
				for st.Event("message", 0, big) == nil {
				}
			})
			conn, err := net.Dial("tcp", ts.srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_, _ = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			waitFor(t, "a stream to open", func() bool { return ts.reg.Len() == 1 })
			waitFor(t, "the stalled stream to end", func() bool { return ts.reg.Len() == 0 })
			if got := drops.String(); got != "visitor stalled" {
				t.Fatalf("got drops %q, want \"visitor stalled\"", got)
			}
		})
	}
}

// TestSlowStreamIsDropped checks that a stream the hub dropped for falling
// behind is counted as slow.
func TestSlowStreamIsDropped(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			drops := &dropLog{}
			busy := make(chan struct{}, 1)
			ts := newTestServer(t, Config{Hijack: m.hijack, PingInterval: time.Hour, Dropped: drops.add}, func(st *Stream, _ *chat.Subscription) {
				if st.Event("ready", 0, 1) != nil { // the head goes out with it
					return
				}
				st.Serve(nil, func(chat.Event) bool {
					select {
					case busy <- struct{}{}:
						time.Sleep(200 * time.Millisecond) // behind: the hub's buffer fills
					default:
					}
					return false
				})
			})
			res, err := http.Get(ts.srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			ev := chat.Event{Type: chat.EventTyping, RoomID: "r", Sender: chat.SenderAdmin}
			ts.hub.Deliver(ev)
			<-busy
			for i := 0; i < 100; i++ {
				ts.hub.Deliver(ev)
			}
			waitFor(t, "the slow stream to end", func() bool { return ts.reg.Len() == 0 })
			if got := drops.String(); got != "visitor slow" {
				t.Fatalf("got drops %q, want \"visitor slow\"", got)
			}
		})
	}
}

// TestShutdownWaitsForCtx checks that Shutdown gives up when ctx ends
// before a stream does, and says so.
func TestShutdownWaitsForCtx(t *testing.T) {
	r := NewRegistry(Config{MaxStreams: 1, PerKey: 1})
	st := mustOpen(t, r, "room:a") // never started: nothing can end it but its Release
	defer st.Release()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.Shutdown(ctx); err != context.Canceled {
		t.Fatalf("got %v, want %v", err, context.Canceled)
	}
}

// pipeHijacker is a response whose connection, once hijacked, is one end of
// a net.Pipe: a write to it blocks until the other end reads, which it
// never does. It stands for a client whose buffers are full.
type pipeHijacker struct {
	*httptest.ResponseRecorder
	conn net.Conn
}

func (p pipeHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return p.conn, bufio.NewReadWriter(bufio.NewReader(p.conn), bufio.NewWriter(p.conn)), nil
}

// TestIdleStalledStreamIsDropped checks that pings are writes like events:
// an idle stream (no event at all) whose client takes no byte is dropped
// by its next ping's write timeout, and counted as stalled.
func TestIdleStalledStreamIsDropped(t *testing.T) {
	drops := &dropLog{}
	reg := NewRegistry(Config{MaxStreams: 1, PerKey: 1, Hijack: true, PingInterval: 50 * time.Millisecond,
		WriteTimeout: 100 * time.Millisecond, Dropped: drops.add})
	hub := chat.NewHub(4)
	defer hub.Close()
	server, client := net.Pipe()
	defer client.Close()
	st, err := reg.Open("room:r", Info{})
	if err != nil {
		t.Fatal(err)
	}
	st.Start(pipeHijacker{httptest.NewRecorder(), server}, httptest.NewRequest("GET", "/", nil), hub.SubscribeRoom("r"))
	st.Serve(nil, func(chat.Event) bool { return false })
	st.Release()
	waitFor(t, "the idle stalled stream to end", func() bool { return reg.Len() == 0 })
	if got := drops.String(); got != "visitor stalled" {
		t.Fatalf("got drops %q, want \"visitor stalled\"", got)
	}
}
