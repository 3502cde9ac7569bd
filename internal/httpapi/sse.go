package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/stream"
)

// Stream kinds, the label of the open-streams gauge.
const (
	streamVisitor = string(stream.Visitor)
	streamAdmin   = string(stream.Admin)
)

// streamStoreTimeout bounds each store call a stream makes.
const streamStoreTimeout = 5 * time.Second

// maxBatch is how many queued events an admin stream writes at most in one
// write.
const maxBatch = 32

// openStream takes a place for a stream of key under the caps (the errors
// of stream.Registry.Open); the caller defers its Release. An admin stream
// names its token and account, which end it when revoked.
func (s *Server) openStream(c *gin.Context, kind, key string) (*stream.Stream, error) {
	info := stream.Info{
		Kind: stream.Kind(kind), RequestID: c.GetString(ctxRequestID), Route: routeLabel(c),
		Gauge: s.metrics.streams.WithLabelValues(kind),
	}
	if kind == streamAdmin {
		claims := adminClaims(c)
		info.TokenID, info.Username = claims.ID, claims.Username
	}
	return s.streams.Open(key, info)
}

// startStream commits the response as an event stream that owns sub.
func startStream(c *gin.Context, st *stream.Stream, sub *chat.Subscription) {
	// gin only records the status: it is what the access log and metrics
	// see, also of a stream written on the hijacked connection.
	c.Status(http.StatusOK)
	st.Start(c.Writer, c.Request, sub)
}

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
	st, err := s.openStream(c, streamVisitor, "room:"+roomID)
	if err != nil {
		s.fail(c, err)
		return
	}
	defer st.Release()
	sub := s.hub.SubscribeRoom(roomID)
	room, online, err := s.streamSetup(c.Request.Context(), roomID)
	if err != nil {
		sub.Close()
		s.fail(c, err)
		return
	}
	// A resume point beyond the room's last message (a client bug) would
	// hide every future message; the room's seq is the most a client has.
	after = min(after, room.MessageCount)
	startStream(c, st, sub)
	vs := &visitorStream{s: s, w: st, roomID: roomID, last: after, online: online}
	if err := st.Event(string(chat.EventPresence), 0, presenceData{AdminsOnline: online}); err != nil {
		return
	}
	if err := vs.replay(st.Context()); err != nil {
		st.Ended(err)
		return
	}
	st.Serve(nil, func(ev chat.Event) bool {
		done, err := vs.deliver(st.Context(), ev)
		if err != nil {
			st.Ended(err)
		}
		return done || err != nil
	})
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

// eventWriter writes the events of one stream (a *stream.Stream).
type eventWriter interface {
	Event(name string, id int64, data any) error
}

// visitorStream is the state of one visitor stream.
type visitorStream struct {
	s      *Server
	w      eventWriter
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
	if err := vs.w.Event(string(chat.EventMessage), m.Seq, m); err != nil {
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
		return false, w.Event(string(ev.Type), 0, senderData{Sender: ev.Sender})
	case chat.EventRead:
		return false, w.Event(string(ev.Type), 0, readData{Sender: ev.Sender, Seq: ev.Seq})
	case chat.EventPresence:
		if ev.AdminsOnline == vs.online {
			return false, nil
		}
		vs.online = ev.AdminsOnline
		return false, w.Event(string(ev.Type), 0, presenceData{AdminsOnline: ev.AdminsOnline})
	case chat.EventRoomDeleted:
		_ = w.Event(string(ev.Type), 0, roomIDData{RoomID: ev.RoomID})
		return true, nil
	}
	return false, nil
}

// adminEvents is the admins' stream of every room. It carries no ids: the
// console re-reads its room list when it reconnects.
func (s *Server) adminEvents(c *gin.Context) {
	claims := adminClaims(c)
	raw := bearer(c)
	st, err := s.openStream(c, streamAdmin, "admin:"+claims.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	defer st.Release()
	// A revocation that reached this instance between the token's check and
	// Open found no stream to end: check again now that the stream is known.
	if !s.adminStillValid(c.Request.Context(), raw, claims) {
		s.fail(c, chat.ErrUnauthorized)
		return
	}
	sub := s.hub.SubscribeAdmin()
	startStream(c, st, sub)
	if st.Event("ready", 0, readyData{Time: chat.Time{Time: time.Now()}}) != nil {
		return
	}
	st.Serve(func() bool { return s.adminStillValid(st.Context(), raw, claims) },
		func(ev chat.Event) bool { return adminDeliverQueued(st, sub, ev) != nil })
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
func adminDeliverQueued(w batchWriter, sub *chat.Subscription, ev chat.Event) error {
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
	return w.Flush()
}

// adminAdd adds the events an admin stream shows for one hub event: a
// message comes with its room, in the same write.
// batchWriter adds events to one write (a *stream.Stream).
type batchWriter interface {
	Add(name string, id int64, data any) error
	Flush() error
}

func adminAdd(w batchWriter, ev chat.Event) error {
	switch ev.Type {
	case chat.EventMessage:
		if ev.Message == nil {
			return nil
		}
		if err := w.Add(string(chat.EventMessage), 0, ev.Message); err != nil {
			return err
		}
		if ev.Room != nil {
			return w.Add(string(chat.EventRoom), 0, ev.Room)
		}
	case chat.EventRoom:
		if ev.Room != nil {
			return w.Add(string(chat.EventRoom), 0, ev.Room)
		}
	case chat.EventTyping:
		return w.Add(string(ev.Type), 0, roomTypingData{RoomID: ev.RoomID, Sender: ev.Sender})
	case chat.EventRoomDeleted:
		return w.Add(string(ev.Type), 0, roomIDData{RoomID: ev.RoomID})
	}
	return nil
}
