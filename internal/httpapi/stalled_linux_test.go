package httpapi_test

import (
	"encoding/json"
	"io"
	"net"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/redisstore/redistest"
)

// TestStalledStreamsAreDropped opens admin streams whose clients send the
// request and never read (a 4 KB receive buffer), and a few healthy ones,
// then sends messages, each reaching every admin stream. The stalled
// streams' buffers fill, their writes make no progress, and each is closed
// after the write timeout and counted as stalled; the healthy streams get
// every message meanwhile. Their delivery p99 (from before the send to the
// event's arrival) is logged, not asserted.
func TestStalledStreamsAreDropped(t *testing.T) {
	t.Parallel()
	forEachStreamMode(t, testStalledStreamsAreDropped)
}

func testStalledStreamsAreDropped(t *testing.T, noHijack bool) {
	addr := ""
	if redistest.Installed() {
		addr = redistest.StartReal(t).Addr() // the embedded server's Lua would dominate the latency
	} else {
		addr = startEmbedded(t)
	}
	stalled, healthy := 200, 3
	if raceEnabled {
		stalled = 60
	}
	const writeTimeout = time.Second
	e := newEnv(t, addr, envConfig{MaxAdminStreams: stalled + healthy, WriteTimeout: writeTimeout, NoHijack: noHijack})
	metric := func(name string) int {
		t.Helper()
		m := regexp.MustCompile(regexp.QuoteMeta(name) + ` (\d+)`).FindSubmatch(e.do(req{method: "GET", path: "/metrics", token: testMetricsToken}).body)
		if m == nil {
			t.Fatalf("no %s in /metrics", name)
		}
		n, _ := strconv.Atoi(string(m[1]))
		return n
	}
	const openAdmin = `parley_open_streams{kind="admin"}`
	const droppedStalled = `parley_streams_dropped_total{kind="admin",reason="stalled"}`

	// The stalled clients: five streams per token (the per-token cap).
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	conns := make([]net.Conn, stalled)
	var token string
	for i := range conns {
		if i%5 == 0 {
			token = e.adminToken()
		}
		conn, err := d.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_, _ = io.WriteString(conn, "GET /api/v1/admin/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+token+"\r\n\r\n")
		conns[i] = conn
	}
	waitFor(t, "the stalled streams to open", func() bool { return metric(openAdmin) == stalled })
	heap := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapInuse >> 20
	}
	heapOpen := heap()

	// The healthy ones record when each message arrives.
	var (
		mu        sync.Mutex
		latencies []time.Duration
	)
	for i := 0; i < healthy; i++ {
		s := e.adminStream(e.adminToken())
		go func() {
			for ev := range s.events {
				if ev.Event != "message" {
					continue
				}
				var m chat.Message
				if err := json.Unmarshal([]byte(ev.Data), &m); err != nil {
					continue
				}
				sent, err := strconv.ParseInt(strings.SplitN(m.Content, " ", 2)[0], 10, 64)
				if err != nil {
					continue
				}
				mu.Lock()
				latencies = append(latencies, time.Since(time.Unix(0, sent)))
				mu.Unlock()
			}
		}()
	}

	// Send until every stalled stream is gone: each message is ~4 KB on
	// every admin stream (the message, and its room with the last message).
	room, tok := e.mustRoom(nil)
	pad := strings.Repeat("x", chat.MaxContent-40)
	start, sent := time.Now(), 0
	for metric(openAdmin) > healthy {
		if time.Since(start) > 60*time.Second {
			t.Fatalf("after %v and %d messages, %d stalled streams still open, want every one dropped",
				time.Since(start), sent, metric(openAdmin)-healthy)
		}
		e.mustSend(room.ID, tok, false, strconv.FormatInt(time.Now().UnixNano(), 10)+" "+pad)
		sent++
		time.Sleep(20 * time.Millisecond)
	}
	took := time.Since(start)
	heapDropped := heap()
	if got := metric(droppedStalled); got != stalled {
		t.Fatalf("got %s %d, want %d", droppedStalled, got, stalled)
	}
	const line = `"level":"WARN","msg":"stream dropped","kind":"admin","reason":"stalled"`
	if n := strings.Count(e.logs.String(), line); n != stalled {
		t.Fatalf("got %d log lines %s, want %d", n, line, stalled)
	}
	// Each stalled client gets what its buffers held, then the end of its
	// connection (not a read that waits forever).
	for i, conn := range conns {
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.Copy(io.Discard, conn); err != nil && !isReset(err) {
			t.Fatalf("stalled client %d: %v, want its connection closed", i, err)
		}
	}

	// Healthy streams got every message, in spite of the stalled ones.
	waitFor(t, "the healthy streams to get every message", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(latencies) == healthy*sent
	})
	mu.Lock()
	slices.Sort(latencies)
	p50, p99 := latencies[len(latencies)/2], latencies[len(latencies)*99/100]
	mu.Unlock()
	t.Logf("%d stalled streams dropped %v after the first of %d messages (write timeout %v); healthy delivery p50 %v, p99 %v over %d deliveries; heap in use %d MB with them open, %d MB once dropped",
		stalled, took.Round(time.Millisecond), sent, writeTimeout, p50, p99, healthy*sent, heapOpen, heapDropped)
}

func isReset(err error) bool { return err != nil && strings.Contains(err.Error(), "connection reset") }
