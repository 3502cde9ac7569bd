package httpapi_test

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestStreamOnHijackedConnection checks the response of a stream served on a
// hijacked HTTP/1.1 connection: the head carries what the middleware set
// (X-Request-ID, CORS) and the stream's own headers, the body is delimited
// by the connection's close and read event by event, the handler is done
// (its access log line is written) while the stream goes on, and the
// stream's end closes the connection.
func TestStreamOnHijackedConnection(t *testing.T) {
	t.Parallel()
	const site = "https://shop.example.com"
	e := newEnv(t, startEmbedded(t), envConfig{AllowedOrigins: []string{site}})
	room, tok := e.mustRoom(nil)
	s := e.visitorStream(room.ID, tok, map[string]string{"Origin": site, "X-Request-ID": "hijack-test-1"})
	h := s.res.Header
	if got := h.Get("Content-Type"); got != "text/event-stream" {
		t.Errorf("Content-Type %q", got)
	}
	if h.Get("Cache-Control") != "no-cache" || h.Get("X-Accel-Buffering") != "no" {
		t.Errorf("got headers %v", h)
	}
	if got := h.Get("X-Request-ID"); got != "hijack-test-1" {
		t.Errorf("X-Request-ID %q, want the client's", got)
	}
	if got := h.Get("Access-Control-Allow-Origin"); got != site {
		t.Errorf("Access-Control-Allow-Origin %q, want %q", got, site)
	}
	if !s.res.Close || s.res.ContentLength != -1 || len(s.res.TransferEncoding) != 0 {
		t.Errorf("got close %v, length %d, transfer encoding %v: want a body delimited by the connection's close",
			s.res.Close, s.res.ContentLength, s.res.TransferEncoding)
	}
	s.expect("presence")

	// The handler has returned: its request is logged while the stream is open.
	waitFor(t, "the stream's access log line", func() bool {
		for _, line := range strings.Split(e.logs.String(), "\n") {
			if strings.Contains(line, `"msg":"request"`) && strings.Contains(line, "hijack-test-1") &&
				strings.Contains(line, `"status":200`) {
				return true
			}
		}
		return false
	})
	at := e.adminToken()
	for _, text := range []string{"one", "two"} {
		e.mustSend(room.ID, at, true, text)
		if ev := s.expect("message"); !strings.Contains(ev.Data, text) {
			t.Fatalf("got %+v, want %q", ev, text)
		}
	}
	want(t, e.do(req{method: "DELETE", path: "/api/v1/admin/rooms/" + room.ID, token: at}), http.StatusNoContent, "")
	s.expect("room.deleted")
	s.expectEnd(5 * time.Second)
	waitFor(t, "the gauge to come back to 0", func() bool {
		m := e.do(req{method: "GET", path: "/metrics", token: testMetricsToken})
		return bytes.Contains(m.body, []byte(`parley_open_streams{kind="visitor"} 0`))
	})
}

// TestStreamRawHTTP10 reads a stream over a bare connection, as a minimal
// client or a proxy would: the head is a complete HTTP/1.1 response head,
// events arrive while the connection stays open, and closing the
// connection from the client's side frees the stream's slot at once (not
// at the next ping, 20 s away here).
func TestStreamRawHTTP10(t *testing.T) {
	t.Parallel()
	e := newEnv(t, startEmbedded(t), envConfig{StreamsPerToken: 1})
	room, tok := e.mustRoom(nil)
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "GET /api/v1/rooms/"+room.ID+"/events HTTP/1.0\r\nHost: x\r\nAuthorization: Bearer "+tok+"\r\n\r\n")
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || res.ProtoMajor != 1 || !res.Close || res.Header.Get("Date") == "" {
		t.Fatalf("got %s %v", res.Status, res.Header)
	}
	line, err := br.ReadString('\n')
	if err != nil || line != "event: presence\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	// The per-room cap is 1: a second stream waits for this one to go.
	_, r := openStream(t, e.url("/api/v1/rooms/"+room.ID+"/events"), tok, nil)
	want(t, r, http.StatusTooManyRequests, "rate_limited")
	conn.Close()
	waitFor(t, "the slot to be released", func() bool {
		s, _ := openStream(t, e.url("/api/v1/rooms/"+room.ID+"/events"), tok, nil)
		return s != nil
	})
}

// TestStreamWithoutHijack checks the switch: with the hijack off, a stream
// on HTTP/1.1 is an ordinary chunked keep-alive response written through
// net/http, with the same headers and events.
func TestStreamWithoutHijack(t *testing.T) {
	t.Parallel()
	e := newEnv(t, startEmbedded(t), envConfig{NoHijack: true})
	room, tok := e.mustRoom(nil)
	s := e.visitorStream(room.ID, tok, map[string]string{"X-Request-ID": "flusher-test-1"})
	if s.res.Close || len(s.res.TransferEncoding) != 1 || s.res.TransferEncoding[0] != "chunked" {
		t.Errorf("got close %v, transfer encoding %v: want a chunked keep-alive response", s.res.Close, s.res.TransferEncoding)
	}
	h := s.res.Header
	if h.Get("Content-Type") != "text/event-stream" || h.Get("Cache-Control") != "no-cache" ||
		h.Get("X-Accel-Buffering") != "no" || h.Get("X-Request-ID") != "flusher-test-1" {
		t.Errorf("got headers %v", h)
	}
	s.expect("presence")
	e.mustSend(room.ID, e.adminToken(), true, "hello")
	if ev := s.expect("message"); ev.ID != "1" || !strings.Contains(ev.Data, "hello") {
		t.Fatalf("got %+v, want message 1", ev)
	}
}
