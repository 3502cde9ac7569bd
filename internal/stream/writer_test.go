package stream

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// recordingConn is a hijacked connection that keeps each write.
type recordingConn struct {
	net.Conn
	writes []string
}

func (c *recordingConn) Write(p []byte) (int, error) {
	c.writes = append(c.writes, string(p))
	return len(p), nil
}

func (c *recordingConn) SetWriteDeadline(time.Time) error { return nil }

// recordingResponse is a response that keeps what each flush wrote.
type recordingResponse struct {
	*httptest.ResponseRecorder
	flushed []string
	sent    int
}

func (r *recordingResponse) Flush() {
	body := r.Body.String()
	r.flushed = append(r.flushed, body[r.sent:])
	r.sent = len(body)
}

// TestEncoderFraming checks the bytes of each kind of write, in both
// writers: an event with and without id, a comment, a burst of added events
// in one write, a flush with nothing added writing nothing.
func TestEncoderFraming(t *testing.T) {
	steps := func(w *writer) {
		mustWrite(t, w.event("message", 7, map[string]any{"seq": 7, "content": "a\nb"}))
		mustWrite(t, w.event("typing", 0, map[string]string{"sender": "admin"}))
		mustWrite(t, w.comment("ping"))
		mustWrite(t, w.add("message", 0, map[string]int{"seq": 8}))
		mustWrite(t, w.add("room", 0, map[string]string{"id": "r_1"}))
		mustWrite(t, w.flush())
		mustWrite(t, w.flush())
	}
	want := []string{
		"id: 7\nevent: message\ndata: {\"content\":\"a\\nb\",\"seq\":7}\n\n",
		"event: typing\ndata: {\"sender\":\"admin\"}\n\n",
		": ping\n\n",
		"event: message\ndata: {\"seq\":8}\n\nevent: room\ndata: {\"id\":\"r_1\"}\n\n",
	}

	t.Run("hijack", func(t *testing.T) {
		conn := &recordingConn{}
		w := &writer{conn: conn}
		steps(w)
		if got := strings.Join(conn.writes, "|"); got != strings.Join(want, "|") {
			t.Fatalf("got writes\n%q\nwant\n%q", conn.writes, want)
		}
	})
	t.Run("flusher", func(t *testing.T) {
		res := &recordingResponse{ResponseRecorder: httptest.NewRecorder()}
		w := flushWriter(res, httptest.NewRequest("GET", "/", nil), time.Second)
		steps(w)
		if got := strings.Join(res.flushed, "|"); got != strings.Join(want, "|") {
			t.Fatalf("got flushes\n%q\nwant\n%q", res.flushed, want)
		}
		if res.Code != http.StatusOK || res.Header().Get("Content-Type") != "text/event-stream" {
			t.Fatalf("got %d %v, want 200 and an event stream", res.Code, res.Header())
		}
	})
}

// TestHeadGoesWithFirstEvent checks that the response head of a hijacked
// stream is written with its first event, in one write, and only once.
func TestHeadGoesWithFirstEvent(t *testing.T) {
	conn := &recordingConn{}
	head := "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"
	w := &writer{conn: conn, buf: []byte(head), head: len(head)}
	mustWrite(t, w.flush()) // nothing added: nothing written, the head kept
	mustWrite(t, w.event("ready", 0, 1))
	mustWrite(t, w.comment("ping"))
	want := []string{head + "event: ready\ndata: 1\n\n", ": ping\n\n"}
	if strings.Join(conn.writes, "|") != strings.Join(want, "|") {
		t.Fatalf("got writes %q, want %q", conn.writes, want)
	}
}

// TestBurstBufferIsDropped checks that a buffer grown by a large write is
// not kept for the stream's life.
func TestBurstBufferIsDropped(t *testing.T) {
	w := &writer{conn: &recordingConn{}}
	mustWrite(t, w.event("message", 1, strings.Repeat("x", 4*maxKeptBuf)))
	if cap(w.buf) > maxKeptBuf {
		t.Fatalf("got a kept buffer of %d bytes, want at most %d", cap(w.buf), maxKeptBuf)
	}
	mustWrite(t, w.event("message", 2, "small"))
	if c := w.conn.(*recordingConn); !bytes.HasPrefix([]byte(c.writes[len(c.writes)-1]), []byte("id: 2\n")) {
		t.Fatalf("got %q after the burst", c.writes[len(c.writes)-1])
	}
}

// TestLargeWriteGoesInChunks checks that a burst is handed to the
// connection in pieces of at most writeChunk, each under a deadline of its
// own, so a client that reads slowly but steadily is not taken for stalled.
func TestLargeWriteGoesInChunks(t *testing.T) {
	conn := &recordingConn{}
	w := &writer{conn: conn}
	payload := strings.Repeat("y", 3*writeChunk)
	mustWrite(t, w.event("message", 1, payload))
	if len(conn.writes) < 4 {
		t.Fatalf("got %d writes, want the burst in chunks", len(conn.writes))
	}
	for i, c := range conn.writes {
		if len(c) > writeChunk {
			t.Fatalf("write %d: got %d bytes, want at most %d", i, len(c), writeChunk)
		}
	}
	if got := strings.Join(conn.writes, ""); got != "id: 1\nevent: message\ndata: \""+payload+"\"\n\n" {
		t.Fatalf("got %d bytes in all, want the event whole", len(got))
	}
}

func mustWrite(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatalf("write: %v", err)
	}
}
