package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
)

// Stream kinds, the label of the open-streams gauge.
const (
	streamVisitor = "visitor"
	streamAdmin   = "admin"
)

const (
	// streamWriteTimeout bounds each write to a stream, so that a client
	// that stopped reading cannot hold the handler forever.
	streamWriteTimeout = 10 * time.Second
	// streamStoreTimeout bounds each store call a stream makes.
	streamStoreTimeout = 5 * time.Second
)

// sseWriter writes Server-Sent Events to one response and flushes each.
// Once the stream is set up it writes either through the handler's response
// (HTTP/2, test recorders) or, on HTTP/1.x, straight to the hijacked
// connection (conn set), which then belongs to the stream's goroutine.
type sseWriter struct {
	w    gin.ResponseWriter
	rc   *http.ResponseController
	conn net.Conn
	buf  []byte
	// head is the length of the response head at the start of buf, not yet
	// written: it goes out with the first event, in the same write.
	head int
}

// writeError is a failed write to the client: on a hijacked connection that
// is how a client that went away shows, so it is not logged.
type writeError struct{ err error }

func (e writeError) Error() string { return "write to the client: " + e.err.Error() }
func (e writeError) Unwrap() error { return e.err }

// startStream commits the response as an event stream. On HTTP/1.x it
// hijacks the connection and writes the response head itself (see
// hijackStream); otherwise the server's read and write timeouts are lifted
// for this response (they would otherwise cut every stream after a few
// seconds) and each write sets its own deadline.
func startStream(c *gin.Context) *sseWriter {
	if w := hijackStream(c); w != nil {
		return w
	}
	rc := http.NewResponseController(c.Writer)
	_ = rc.SetReadDeadline(time.Time{})  // not supported by every writer (tests)
	_ = rc.SetWriteDeadline(time.Time{}) // idem
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	if c.Request.ProtoMajor == 1 {
		h.Set("Connection", "keep-alive")
	}
	c.Status(http.StatusOK)
	c.Writer.WriteHeaderNow()
	w := &sseWriter{w: c.Writer, rc: rc, buf: make([]byte, 0, initialBuf)}
	return w
}

// hijackStream takes the connection of an HTTP/1.x request from net/http
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
// background reader, the request and the gin context.
func hijackStream(c *gin.Context) *sseWriter {
	if c.Request.ProtoMajor != 1 || c.Writer.Written() {
		return nil
	}
	u, ok := c.Writer.(interface{ Unwrap() http.ResponseWriter })
	if !ok {
		return nil
	}
	if _, ok := u.Unwrap().(http.Hijacker); !ok {
		return nil
	}
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	h.Set("Connection", "close")
	h.Del("Content-Length")
	h.Del("Transfer-Encoding")
	h.Del("Keep-Alive")
	if h.Get("Date") == "" {
		h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	}
	c.Status(http.StatusOK) // what the access log and metrics see
	conn, _, err := c.Writer.Hijack()
	if err != nil {
		return nil
	}
	w := &sseWriter{conn: conn, buf: make([]byte, 0, initialBuf)}
	w.buf = append(w.buf, "HTTP/1.1 200 OK\r\n"...)
	hb := headerBuf{b: w.buf}
	_ = h.Write(&hb) // keys sorted, new lines in values replaced
	w.buf = append(hb.b, "\r\n"...)
	// The head goes out with the first event (see send).
	w.head = len(w.buf)
	return w
}

// headerBuf lets http.Header.Write append to a byte slice.
type headerBuf struct{ b []byte }

func (hb *headerBuf) Write(p []byte) (int, error) { hb.b = append(hb.b, p...); return len(p), nil }

// close ends a hijacked connection; the stream's goroutine calls it when it
// ends. Data already written still reaches the client before the FIN.
func (w *sseWriter) close() {
	if w.conn != nil {
		_ = w.conn.Close()
	}
}

// event writes one event; id > 0 adds an "id:" line. data is JSON, which
// never holds a raw new line, so it fits one "data:" line.
func (w *sseWriter) event(name string, id int64, data any) error {
	w.begin()
	if err := w.add(name, id, data); err != nil {
		return err
	}
	return w.send()
}

// add appends one event to the buffer without writing it; flush writes
// what was added. Events of one burst so go out in one write.
func (w *sseWriter) add(name string, id int64, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	if id > 0 {
		w.buf = append(w.buf, "id: "...)
		w.buf = strconv.AppendInt(w.buf, id, 10)
		w.buf = append(w.buf, '\n')
	}
	w.buf = append(w.buf, "event: "...)
	w.buf = append(w.buf, name...)
	w.buf = append(w.buf, "\ndata: "...)
	w.buf = append(w.buf, b...)
	w.buf = append(w.buf, "\n\n"...)
	return nil
}

// begin empties the buffer for the next write, keeping an unwritten head.
func (w *sseWriter) begin() { w.buf = w.buf[:w.head] }

// flush writes the events added since the last write, if any.
func (w *sseWriter) flush() error {
	if len(w.buf) == w.head {
		return nil
	}
	return w.send()
}

// comment writes a comment line, the keep-alive of proxies.
func (w *sseWriter) comment(text string) error {
	w.begin()
	w.buf = append(append(append(w.buf, ": "...), text...), "\n\n"...)
	return w.send()
}

func (w *sseWriter) send() error {
	defer w.reset()
	if w.conn != nil {
		_ = w.conn.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
		if _, err := w.conn.Write(w.buf); err != nil {
			return writeError{err}
		}
		return nil
	}
	_ = w.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	if _, err := w.w.Write(w.buf); err != nil {
		return err
	}
	return w.rc.Flush()
}

// reset empties the buffer after a write; one grown by a burst is dropped
// rather than kept for the stream's life.
func (w *sseWriter) reset() {
	w.head = 0
	if cap(w.buf) > maxKeptBuf {
		w.buf = make([]byte, 0, initialBuf)
		return
	}
	w.buf = w.buf[:0]
}

const (
	initialBuf = 512
	maxKeptBuf = 16 << 10
	// maxBatch is how many queued events an admin stream writes at most in
	// one write.
	maxBatch = 32
)

// Wire shapes of the stream events (API.md).
type (
	presenceData struct {
		AdminsOnline bool `json:"adminsOnline"`
	}
	senderData struct {
		Sender chat.Sender `json:"sender"`
	}
	readData struct {
		Sender chat.Sender `json:"sender"`
		Seq    int64       `json:"seq"`
	}
	roomIDData struct {
		RoomID string `json:"roomId"`
	}
	roomTypingData struct {
		RoomID string      `json:"roomId"`
		Sender chat.Sender `json:"sender"`
	}
	readyData struct {
		Time chat.Time `json:"time"`
	}
)

// resumePoint is the seq after which a visitor stream replays: the
// Last-Event-ID header of a reconnecting client wins over ?after=, which
// stays in the URL from the first connection.
func resumePoint(c *gin.Context) (int64, error) {
	if raw := strings.TrimSpace(c.GetHeader("Last-Event-ID")); raw != "" {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 0 {
			return 0, chat.Errorf(chat.CodeInvalid, "Last-Event-ID must be a message seq")
		}
		return n, nil
	}
	n, _, err := queryInt(c, "after", 0, 0, 1<<53-1)
	return n, err
}

// visitorEvents is the visitor's stream of one room. It subscribes to the
// hub before reading the store, so that a message stored meanwhile is either
// replayed or delivered live (and then recognised by its seq): the client
// sees every message once, in seq order.
func (s *Server) visitorEvents(c *gin.Context) {
	roomID := c.Param("id")
	after, err := resumePoint(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	slot, err := s.streams.acquire("room:" + roomID)
	if err != nil {
		s.fail(c, err)
		return
	}
	sub := s.hub.SubscribeRoom(roomID)
	room, online, err := s.streamSetup(c.Request.Context(), roomID)
	if err != nil {
		sub.Close()
		slot.release()
		s.fail(c, err)
		return
	}
	// A resume point beyond the room's last message (a client bug) would
	// hide every future message; the room's seq is the most a client has.
	after = min(after, room.MessageCount)
	r := s.startRun(c, streamVisitor, sub, slot)
	defer r.release()
	vs := &visitorStream{s: s, w: r.w, roomID: roomID, last: after, online: online}
	if err := r.w.event(string(chat.EventPresence), 0, presenceData{AdminsOnline: online}); err != nil {
		return
	}
	if err := vs.replay(r.ctx); err != nil {
		r.ended(err)
		return
	}
	r.serve(nil, func(ev chat.Event) bool {
		done, err := vs.deliver(r.ctx, ev)
		if err != nil {
			r.ended(err)
		}
		return done || err != nil
	})
}

// streamRun is one stream once set up: its writer, subscription and slot,
// and what its log lines need. On a hijacked connection it outlives the
// handler and the gin context, so it holds neither.
type streamRun struct {
	s    *Server
	kind string
	w    *sseWriter
	sub  *chat.Subscription
	slot *streamSlot
	// ctx is the request's context when the handler serves the stream.
	// On a hijacked connection it belongs to no request: cancel ends it,
	// called by the connection's reader when the client goes away, and by
	// finish.
	ctx              context.Context
	cancel           context.CancelFunc
	requestID, route string
	// detached is set once a goroutine of its own runs the stream.
	detached bool
	// connMu guards unwatch, the end of the watch of the connection for the
	// client's hang-up, and stopped, set once the connection is ended.
	connMu  sync.Mutex
	unwatch func()
	stopped bool
}

// startRun commits the response as an event stream (hijacking the
// connection when it can) and counts the stream as open.
func (s *Server) startRun(c *gin.Context, kind string, sub *chat.Subscription, slot *streamSlot) *streamRun {
	w := startStream(c)
	r := &streamRun{s: s, kind: kind, w: w, sub: sub, slot: slot, ctx: c.Request.Context(),
		requestID: c.GetString(ctxRequestID), route: routeLabel(c)}
	if w.conn != nil {
		r.ctx, r.cancel = context.WithCancel(context.Background())
		slot.setStop(r.stopConn)
	}
	s.metrics.streams.WithLabelValues(kind).Inc()
	return r
}

// run runs loop, the idle part of the stream. On a hijacked connection loop
// runs in a goroutine of its own, which then owns the stream, and run
// returns at once, so that the handler (and with it the request) is done.
// That goroutine finishes the stream when loop returns, which every loop
// does on a failed write, on the client closing the connection (see
// watchClient), on its subscription ending or on its slot closing
// (CloseStreams, a bridge epoch). Otherwise loop runs in the handler, whose
// deferred release finishes the stream.
func (r *streamRun) run(loop func()) {
	if r.w.conn == nil {
		loop()
		return
	}
	r.detached = true
	r.watchConn()
	go func() {
		defer r.finish()
		defer r.recoverPanic()
		loop()
	}()
}

// serve runs the idle part of the stream (see run): a ping comment every
// pingInterval, then stillValid (when set) asked, and each hub event
// handed to deliver. It ends when the client goes away, the subscription or
// the slot ends, a ping fails, stillValid says no or deliver says stop.
func (r *streamRun) serve(stillValid func() bool, deliver func(chat.Event) (stop bool)) {
	r.run(func() {
		ping := time.NewTicker(r.s.pingInterval)
		defer ping.Stop()
		for {
			select {
			case <-r.ctx.Done():
				return
			case <-r.sub.Done():
				return
			case <-r.slot.closing:
				return
			case <-r.slot.epoch:
				return
			case <-ping.C:
				// The ping first: a slow check must not delay it past what
				// proxies and clients wait for.
				if r.w.comment("ping") != nil || stillValid != nil && !stillValid() {
					return
				}
			case ev := <-r.sub.Events():
				if deliver(ev) {
					return
				}
			}
		}
	})
}

// release finishes the stream unless run handed it to its own goroutine;
// the handler defers it, so that an early return or a panic frees the
// stream too.
func (r *streamRun) release() {
	if !r.detached {
		r.finish()
	}
}

// recoverPanic logs a panic of a detached stream's goroutine, which no
// middleware covers any more, and ends only that stream.
func (r *streamRun) recoverPanic() {
	if v := recover(); v != nil {
		r.s.log.LogAttrs(context.Background(), slog.LevelError, "panic",
			slog.String("request_id", r.requestID), slog.String("route", r.route),
			slog.String("error", fmt.Sprint(v)), slog.String("stack", string(debug.Stack())))
	}
}

// watchClient reads the hijacked connection until it fails: the client
// closed it (or the stream did, in finish), and the stream ends at once
// rather than at its next write. It is the fallback of connWatcher (one
// goroutine for every connection, Linux only), which costs no goroutine per
// stream. A client has nothing to send on a stream;
// whatever it sends is discarded.
func (r *streamRun) watchClient() {
	defer r.cancel()
	var b [1]byte
	for {
		if _, err := r.w.conn.Read(b[:]); err != nil {
			return
		}
	}
}

// finish releases what the stream holds: its connection when hijacked, its
// subscription, its slot and its place in the gauge.
func (r *streamRun) finish() {
	if r.cancel != nil {
		r.cancel()
	}
	r.stopConn()
	r.sub.Close()
	r.s.metrics.streams.WithLabelValues(r.kind).Dec()
	r.slot.release()
}

// watchConn has the hijacked connection watched for the client's hang-up,
// unless it was ended already.
func (r *streamRun) watchConn() {
	r.connMu.Lock()
	defer r.connMu.Unlock()
	if r.stopped {
		return
	}
	if unwatch, ok := r.s.streams.conns.watch(r.w.conn, r.cancel); ok {
		r.unwatch = unwatch
	} else {
		go r.watchClient()
	}
}

// stopConn ends a hijacked connection, once: its watch first (the
// descriptor may be reused once closed), then the connection itself, which
// fails a write in progress and ends watchClient when that is what watches
// it. finish calls it, and CloseStreams for a stream that does not end in
// time (one blocked in a write to a client that stopped reading).
func (r *streamRun) stopConn() {
	r.connMu.Lock()
	defer r.connMu.Unlock()
	if r.stopped {
		return
	}
	r.stopped = true
	if r.unwatch != nil {
		r.unwatch()
	}
	r.w.close()
}

// ended logs why a stream ended early, unless the client went away.
func (r *streamRun) ended(err error) {
	if r.ctx.Err() != nil || r.w.conn != nil && errors.As(err, new(writeError)) {
		return
	}
	r.s.log.LogAttrs(context.Background(), slog.LevelInfo, "stream ended",
		slog.String("request_id", r.requestID), slog.String("route", r.route), attrErr(err))
}

// streamSetup reads the room (it must exist) and the admins' presence.
func (s *Server) streamSetup(ctx context.Context, roomID string) (chat.Room, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, streamStoreTimeout)
	defer cancel()
	room, err := s.svc.Room(ctx, roomID)
	if err != nil {
		return chat.Room{}, false, err
	}
	online, err := s.svc.AdminsOnline(ctx)
	return room, online, err
}

// visitorStream is the state of one visitor stream.
type visitorStream struct {
	s      *Server
	w      *sseWriter
	roomID string
	// last is the highest seq the client has (sent here, or the resume
	// point).
	last   int64
	online bool
}

// replay sends every stored message after last, page by page.
func (vs *visitorStream) replay(ctx context.Context) error {
	for {
		sctx, cancel := context.WithTimeout(ctx, streamStoreTimeout)
		msgs, more, err := vs.s.svc.Messages(sctx, vs.roomID, chat.MessageQuery{After: vs.last, Limit: chat.MaxLimit})
		cancel()
		if err != nil {
			return err
		}
		before := vs.last
		for i := range msgs {
			if err := vs.message(&msgs[i]); err != nil {
				return err
			}
		}
		if !more || vs.last == before {
			return nil
		}
	}
}

func (vs *visitorStream) message(m *chat.Message) error {
	if m.Seq <= vs.last {
		return nil
	}
	if err := vs.w.event(string(chat.EventMessage), m.Seq, m); err != nil {
		return err
	}
	vs.last = m.Seq
	return nil
}

// deliver sends one hub event; done means the stream is over.
func (vs *visitorStream) deliver(ctx context.Context, ev chat.Event) (done bool, err error) {
	w := vs.w
	switch ev.Type {
	case chat.EventMessage:
		if ev.Message == nil || ev.Message.Seq <= vs.last {
			return false, nil // replayed already
		}
		if ev.Message.Seq > vs.last+1 {
			// Publishes of concurrent sends can arrive out of order: fetch
			// what is missing so the client still gets seq order, no gap.
			if err := vs.replay(ctx); err != nil {
				return true, err
			}
		}
		return false, vs.message(ev.Message)
	case chat.EventTyping:
		return false, w.event(string(ev.Type), 0, senderData{Sender: ev.Sender})
	case chat.EventRead:
		return false, w.event(string(ev.Type), 0, readData{Sender: ev.Sender, Seq: ev.Seq})
	case chat.EventPresence:
		if ev.AdminsOnline == vs.online {
			return false, nil
		}
		vs.online = ev.AdminsOnline
		return false, w.event(string(ev.Type), 0, presenceData{AdminsOnline: ev.AdminsOnline})
	case chat.EventRoomDeleted:
		_ = w.event(string(ev.Type), 0, roomIDData{RoomID: ev.RoomID})
		return true, nil
	}
	return false, nil
}

// adminEvents is the admins' stream of every room. It carries no ids: the
// console re-reads its room list when it reconnects.
func (s *Server) adminEvents(c *gin.Context) {
	claims := adminClaims(c)
	raw := bearer(c)
	slot, err := s.streams.acquire("admin:" + claims.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	sub := s.hub.SubscribeAdmin()
	r := s.startRun(c, streamAdmin, sub, slot)
	defer r.release()
	if r.w.event("ready", 0, readyData{Time: chat.Time{Time: time.Now()}}) != nil {
		return
	}
	r.serve(func() bool { return s.adminStillValid(r.ctx, raw, claims) },
		func(ev chat.Event) bool { return adminDeliverQueued(r.w, sub, ev) != nil })
}

// adminStillValid ends an admin stream whose token expired or was revoked
// (logout) since it was opened. A store failure keeps the stream: the token
// was good, and the store being down is not the admin's fault.
func (s *Server) adminStillValid(ctx context.Context, raw string, claims auth.AdminClaims) bool {
	if !time.Now().Before(claims.ExpiresAt) {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, streamStoreTimeout)
	defer cancel()
	_, err := s.tokens.VerifyAdmin(ctx, raw)
	return err == nil || !errors.Is(err, chat.ErrUnauthorized)
}

// adminDeliverQueued writes ev and whatever else is already queued on sub
// (up to maxBatch events) in one write.
func adminDeliverQueued(w *sseWriter, sub *chat.Subscription, ev chat.Event) error {
	w.begin()
	if err := adminAdd(w, ev); err != nil {
		return err
	}
drain:
	for n := 1; n < maxBatch; n++ {
		select {
		case ev = <-sub.Events():
			if err := adminAdd(w, ev); err != nil {
				return err
			}
		default:
			break drain
		}
	}
	return w.flush()
}

// adminAdd adds the events an admin stream shows for one hub event: a
// message comes with its room, in the same write.
func adminAdd(w *sseWriter, ev chat.Event) error {
	switch ev.Type {
	case chat.EventMessage:
		if ev.Message == nil {
			return nil
		}
		if err := w.add(string(chat.EventMessage), 0, ev.Message); err != nil {
			return err
		}
		if ev.Room != nil {
			return w.add(string(chat.EventRoom), 0, ev.Room)
		}
	case chat.EventRoom:
		if ev.Room != nil {
			return w.add(string(chat.EventRoom), 0, ev.Room)
		}
	case chat.EventTyping:
		return w.add(string(ev.Type), 0, roomTypingData{RoomID: ev.RoomID, Sender: ev.Sender})
	case chat.EventRoomDeleted:
		return w.add(string(ev.Type), 0, roomIDData{RoomID: ev.RoomID})
	}
	return nil
}
