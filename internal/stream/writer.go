package stream

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultWriteTimeout is how long a write may make no progress when Config
// leaves WriteTimeout zero.
const DefaultWriteTimeout = 20 * time.Second

// writeChunk is the most one write hands the connection under one deadline:
// a large burst to a client that reads, if slowly, goes out piece by piece,
// each with the whole write timeout, so the timeout means "no progress"
// rather than "not all of it in time".
const writeChunk = 32 << 10

// sendBuffer is the kernel send buffer of a hijacked stream connection. Left
// to autotuning it grows to megabytes (tcp_wmem's maximum, 4 MB on Linux)
// for a client that stopped reading, and a stalled stream's writes only
// block once that much is queued. A stream needs little: 64 KB (Linux
// doubles it) keeps a chat's bursts flowing at 600 KB/s over a 200 ms round
// trip, and bounds what a stalled client holds in the kernel.
const sendBuffer = 64 << 10

const (
	initialBuf = 512
	maxKeptBuf = 16 << 10
)

// writer writes Server-Sent Events to one response and flushes each. It
// writes either through the handler's response (http.Flusher: HTTP/2, test
// recorders, the hijack switch off) or, on HTTP/1.x, straight to the
// hijacked connection (conn set), which then belongs to the stream's
// goroutine.
type writer struct {
	w    http.ResponseWriter
	rc   *http.ResponseController
	conn net.Conn
	buf  []byte
	// head is the length of the response head at the start of buf, not yet
	// written: it goes out with the first event, in the same write.
	head int
	// timeout bounds each chunk of a write; stalled is set once one did not
	// go out in time: the client stopped reading (or its network did).
	timeout time.Duration
	stalled bool

	// mu guards forced, stalled and the write deadline of the flusher path,
	// so that a forced end is never undone by the next write's deadline.
	mu     sync.Mutex
	forced bool
}

// writeError is a failed write to the client: on a hijacked connection that
// is how a client that went away shows, so it is not logged.
type writeError struct{ err error }

func (e writeError) Error() string { return "write to the client: " + e.err.Error() }
func (e writeError) Unwrap() error { return e.err }

// errForced is the write of a stream that Shutdown ended by force.
var errForced = errors.New("stream: ended by shutdown")

// setHeaders sets the headers of every event stream.
func setHeaders(h http.Header) {
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
}

// flushWriter commits the response as an event stream written through the
// handler. The server's read and write timeouts are lifted for this
// response (they would otherwise cut every stream after a few seconds) and
// each write sets its own deadline. The status is only set: the head goes
// out with the first event.
func flushWriter(w http.ResponseWriter, r *http.Request, timeout time.Duration) *writer {
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})  // not supported by every writer (tests)
	_ = rc.SetWriteDeadline(time.Time{}) // idem
	h := w.Header()
	setHeaders(h)
	if r.ProtoMajor == 1 {
		h.Set("Connection", "keep-alive")
	}
	w.WriteHeader(http.StatusOK)
	return &writer{w: w, rc: rc, buf: make([]byte, 0, initialBuf), timeout: timeout}
}

// hijackWriter takes the connection of an HTTP/1.x request from net/http
// before anything is written, and writes the response head on it: status
// 200, the headers set so far (X-Request-ID, CORS) and the stream's own. The
// body is delimited by the connection's close (Connection: close, neither
// Content-Length nor chunking: valid HTTP/1.1, read incrementally by
// browsers, curl, Go's client and proxies), so each event is written as is.
// It returns nil when the connection cannot be hijacked (HTTP/2, a test
// recorder, a response already started): the caller then streams through
// the handler.
//
// The point is memory: a hijacked stream is one goroutine and its
// connection, without the handler's stack, net/http's buffers and
// background reader, the request and the router's context.
func hijackWriter(w http.ResponseWriter, r *http.Request, timeout time.Duration) *writer {
	if r.ProtoMajor != 1 || written(w) || !hijackable(w) {
		return nil
	}
	h := w.Header()
	setHeaders(h)
	h.Set("Connection", "close")
	h.Del("Content-Length")
	h.Del("Transfer-Encoding")
	h.Del("Keep-Alive")
	if h.Get("Date") == "" {
		h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	}
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return nil
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(sendBuffer)
	}
	wr := &writer{conn: conn, buf: make([]byte, 0, initialBuf), timeout: timeout}
	wr.buf = append(wr.buf, "HTTP/1.1 200 OK\r\n"...)
	hb := headerBuf{b: wr.buf}
	_ = h.Write(&hb) // keys sorted, new lines in values replaced
	wr.buf = append(hb.b, "\r\n"...)
	// The head goes out with the first event (see send).
	wr.head = len(wr.buf)
	return wr
}

// written tells whether the response has started, for the writers that say
// (gin's does).
func written(w http.ResponseWriter) bool {
	ww, ok := w.(interface{ Written() bool })
	return ok && ww.Written()
}

// hijackable tells whether w and every writer it wraps can hijack: a
// wrapper (gin's) has the method whatever it wraps, and would fail when
// what it wraps (a test recorder) has not.
func hijackable(w http.ResponseWriter) bool {
	for {
		if _, ok := w.(http.Hijacker); !ok {
			return false
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return true
		}
		w = u.Unwrap()
	}
}

// headerBuf lets http.Header.Write append to a byte slice.
type headerBuf struct{ b []byte }

func (hb *headerBuf) Write(p []byte) (int, error) { hb.b = append(hb.b, p...); return len(p), nil }

// event writes one event; id > 0 adds an "id:" line. Events added and not
// flushed are dropped.
func (w *writer) event(name string, id int64, data any) error {
	w.begin()
	if err := w.add(name, id, data); err != nil {
		return err
	}
	return w.send()
}

// add appends one event to the buffer without writing it; flush writes
// what was added. Events of one burst so go out in one write. data is JSON,
// which never holds a raw new line, so it fits one "data:" line.
func (w *writer) add(name string, id int64, data any) error {
	var b []byte
	raw, isRaw := data.(JSON)
	if isRaw {
		if raw == "" || strings.ContainsAny(string(raw), "\r\n") {
			return errRawJSON // one data line, or the event would end early
		}
	} else {
		var err error
		if b, err = json.Marshal(data); err != nil {
			return err
		}
	}
	if id > 0 {
		w.buf = append(w.buf, "id: "...)
		w.buf = strconv.AppendInt(w.buf, id, 10)
		w.buf = append(w.buf, '\n')
	}
	w.buf = append(w.buf, "event: "...)
	w.buf = append(w.buf, name...)
	w.buf = append(w.buf, "\ndata: "...)
	if isRaw {
		w.buf = append(w.buf, raw...)
	} else {
		w.buf = append(w.buf, b...)
	}
	w.buf = append(w.buf, "\n\n"...)
	return nil
}

// JSON is an event's data already encoded: one JSON value on one line,
// written as it is (a stored message; see chat.Message.Raw).
type JSON string

// errRawJSON is a JSON that is empty or more than one line.
var errRawJSON = errors.New("stream: raw JSON must be one non-empty line")

// addID is add with an id that is no number (an admin log entry id); ""
// adds no "id:" line.
func (w *writer) addID(name, id string, data any) error {
	n := len(w.buf)
	if id != "" {
		w.buf = append(append(append(w.buf, "id: "...), id...), '\n')
	}
	if err := w.add(name, 0, data); err != nil {
		w.buf = w.buf[:n]
		return err
	}
	return nil
}

// begin empties the buffer for the next write, keeping an unwritten head.
func (w *writer) begin() { w.buf = w.buf[:w.head] }

// flush writes the events added since the last write, if any.
func (w *writer) flush() error {
	if len(w.buf) == w.head {
		return nil
	}
	return w.send()
}

// comment writes a comment line, the keep-alive of proxies.
func (w *writer) comment(text string) error {
	w.begin()
	w.buf = append(append(append(w.buf, ": "...), text...), "\n\n"...)
	return w.send()
}

func (w *writer) send() error {
	defer w.reset()
	for p := w.buf; len(p) > 0; {
		n := min(len(p), writeChunk)
		if err := w.write(p[:n]); err != nil {
			return err
		}
		p = p[n:]
	}
	if w.conn != nil {
		return nil
	}
	// Under the last chunk's deadline.
	if err := w.rc.Flush(); err != nil {
		return w.failed(err)
	}
	return nil
}

// write writes one chunk under its own deadline, and notes a chunk that did
// not go out in time (but not the deadline a forced end sets).
func (w *writer) write(p []byte) error {
	if w.conn != nil {
		_ = w.conn.SetWriteDeadline(time.Now().Add(w.timeout))
		if _, err := w.conn.Write(p); err != nil {
			w.mu.Lock()
			w.stalled = errors.Is(err, os.ErrDeadlineExceeded)
			w.mu.Unlock()
			return writeError{err}
		}
		return nil
	}
	w.mu.Lock()
	if w.forced {
		w.mu.Unlock()
		return errForced
	}
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.timeout))
	w.mu.Unlock()
	if _, err := w.w.Write(p); err != nil {
		return w.failed(err)
	}
	return nil
}

// timedOut tells whether a write ran out of time: the client stalled.
func (w *writer) timedOut() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stalled
}

// failed notes whether a failed write of the flusher path ran out of time,
// unless the deadline was that of a forced end.
func (w *writer) failed(err error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stalled = w.stalled || !w.forced && errors.Is(err, os.ErrDeadlineExceeded)
	return err
}

// force fails the write in progress of a stream written through the
// handler, and every later one: http.Server.Shutdown waits for the handler,
// and a client that stopped reading would hold it until the write deadline.
// The caller makes sure the handler has not returned.
func (w *writer) force() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.forced = true
	_ = w.rc.SetWriteDeadline(time.Now())
}

// close ends a hijacked connection; the stream's goroutine calls it when it
// ends. Data already written still reaches the client before the FIN.
func (w *writer) close() {
	if w.conn != nil {
		_ = w.conn.Close()
	}
}

// reset empties the buffer after a write; one grown by a burst is dropped
// rather than kept for the stream's life.
func (w *writer) reset() {
	w.head = 0
	if cap(w.buf) > maxKeptBuf {
		w.buf = make([]byte, 0, initialBuf)
		return
	}
	w.buf = w.buf[:0]
}
