package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
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
type sseWriter struct {
	w   gin.ResponseWriter
	rc  *http.ResponseController
	buf []byte
}

// startStream commits the response as an event stream. The server's read
// and write timeouts are lifted for this response (they would otherwise cut
// every stream after a few seconds); each write sets its own deadline.
func startStream(c *gin.Context) *sseWriter {
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

// event writes one event; id > 0 adds an "id:" line. data is JSON, which
// never holds a raw new line, so it fits one "data:" line.
func (w *sseWriter) event(name string, id int64, data any) error {
	w.buf = w.buf[:0]
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

// flush writes the events added since the last write, if any.
func (w *sseWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	return w.send()
}

// comment writes a comment line, the keep-alive of proxies.
func (w *sseWriter) comment(text string) error {
	w.buf = append(append(append(w.buf[:0], ": "...), text...), "\n\n"...)
	return w.send()
}

func (w *sseWriter) send() error {
	defer w.reset()
	_ = w.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	if _, err := w.w.Write(w.buf); err != nil {
		return err
	}
	return w.rc.Flush()
}

// reset empties the buffer after a write; one grown by a burst is dropped
// rather than kept for the stream's life.
func (w *sseWriter) reset() {
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
	defer slot.release()
	sub := s.hub.SubscribeRoom(roomID)
	defer sub.Close()

	ctx := c.Request.Context()
	room, online, err := s.streamSetup(ctx, roomID)
	if err != nil {
		s.fail(c, err)
		return
	}
	// A resume point beyond the room's last message (a client bug) would
	// hide every future message; the room's seq is the most a client has.
	after = min(after, room.MessageCount)
	s.metrics.streams.WithLabelValues(streamVisitor).Inc()
	defer s.metrics.streams.WithLabelValues(streamVisitor).Dec()

	w := startStream(c)
	vs := &visitorStream{s: s, w: w, roomID: roomID, last: after, online: online}
	if err := w.event(string(chat.EventPresence), 0, presenceData{AdminsOnline: online}); err != nil {
		return
	}
	if err := vs.replay(ctx); err != nil {
		s.streamEnded(c, err)
		return
	}
	ping := time.NewTicker(s.pingInterval)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-sub.Done():
			return
		case <-slot.closing:
			return
		case <-slot.epoch:
			return
		case <-ping.C:
			if w.comment("ping") != nil {
				return
			}
		case ev := <-sub.Events():
			done, err := vs.deliver(ctx, ev)
			if err != nil {
				s.streamEnded(c, err)
				return
			}
			if done {
				return
			}
		}
	}
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

// streamEnded logs why a stream ended early, unless the client went away.
func (s *Server) streamEnded(c *gin.Context, err error) {
	if c.Request.Context().Err() != nil {
		return
	}
	s.log.LogAttrs(c.Request.Context(), slog.LevelInfo, "stream ended",
		attrRequestID(c), attrRoute(c), attrErr(err))
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
	defer slot.release()
	sub := s.hub.SubscribeAdmin()
	defer sub.Close()
	s.metrics.streams.WithLabelValues(streamAdmin).Inc()
	defer s.metrics.streams.WithLabelValues(streamAdmin).Dec()

	ctx := c.Request.Context()
	w := startStream(c)
	if w.event("ready", 0, readyData{Time: chat.Time{Time: time.Now()}}) != nil {
		return
	}
	ping := time.NewTicker(s.pingInterval)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-sub.Done():
			return
		case <-slot.closing:
			return
		case <-slot.epoch:
			return
		case <-ping.C:
			if !s.adminStillValid(ctx, raw, claims) {
				return
			}
			if w.comment("ping") != nil {
				return
			}
		case ev := <-sub.Events():
			if adminDeliverQueued(w, sub, ev) != nil {
				return
			}
		}
	}
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
	w.buf = w.buf[:0]
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
