package httpapi

import (
	"context"
	"errors"
	"fmt"
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

// streamReadyTimeout bounds the wait for a new subscription to hear its
// events (awaitReady).
const streamReadyTimeout = 3 * time.Second

// awaitReady waits until sub hears every event it is for: at once, unless
// the bridge subscribes on demand (Redis Cluster: its partition's shard
// channel, all of them for an admin stream) and had to subscribe for it.
// A stream reads the store only after, so that nothing stored meanwhile
// escapes it. A subscription that ended meanwhile (the bridge went down),
// or takes longer than streamReadyTimeout, is ErrBridgeDown: the client
// retries.
func awaitReady(ctx context.Context, sub *chat.Subscription) error {
	t := time.NewTimer(streamReadyTimeout)
	defer t.Stop()
	select {
	case <-sub.Ready():
		select {
		case <-sub.Done():
			return stream.ErrBridgeDown
		default:
			return nil
		}
	case <-sub.Done():
		return stream.ErrBridgeDown
	case <-t.C:
		return stream.ErrBridgeDown
	case <-ctx.Done():
		return ctx.Err()
	}
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
		// The business hours' state (added): open, and nextOpen or
		// closesAt; absent while no hours were ever set for this stream.
		*chat.HoursState
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
	visitorResetData struct {
		Room chat.Room `json:"room"`
	}
	adminResetData struct {
		LastEventID string `json:"lastEventId"`
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
	n, _, err := queryInt(c, "after", 0, 0, chat.MaxSeq)
	return n, err
}

// lastIDParam is the id of the message a first-party client holds at its
// resume point (?lastId=), so a seq reused after a rollback is caught.
func lastIDParam(c *gin.Context) (string, error) {
	id := c.Query("lastId")
	return id, chat.ValidLastID(id)
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
	lastID, err := lastIDParam(c)
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
	if err := awaitReady(c.Request.Context(), sub); err != nil {
		sub.Close()
		s.fail(c, err)
		return
	}
	room, online, hours, err := s.streamSetup(c.Request.Context(), roomID)
	holds := true
	if err == nil {
		holds, err = s.resumeHolds(c.Request.Context(), room, after, lastID)
	}
	if err != nil {
		sub.Close()
		s.fail(c, err)
		return
	}
	startStream(c, st, sub)
	// Who is on the site right now: the agents see this stream open and
	// closed (the room's visitor info, once the panel reported a page).
	// AfterFunc, not a goroutine per stream: a hijacked stream outlives
	// this handler.
	s.svc.VisitorSeen(c.Request.Context(), roomID, true)
	context.AfterFunc(st.Context(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), streamStoreTimeout)
		defer cancel()
		s.svc.VisitorSeen(ctx, roomID, false)
	})
	vs := &visitorStream{s: s, w: st, roomID: roomID, last: after, online: online, hours: hours, state: hours.StateAt(s.svc.Now())}
	if err := st.Event(string(chat.EventPresence), 0, vs.presence()); err != nil {
		return
	}
	if !holds {
		// What the client holds past the room's last seq, or at its resume
		// point, is not what the store holds (a rollback): resuming would
		// hide the messages that took those seqs again. Tell it to reload,
		// and go on after the room as read, after subscribing.
		vs.last = room.MessageCount
		if st.AddID(string(chat.EventReset), strconv.FormatInt(room.MessageCount, 10), visitorResetData{Room: room.ForVisitor()}) != nil ||
			st.Flush() != nil {
			return
		}
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

// streamSetup reads the room (it must exist), the admins' presence and the
// business hours.
func (s *Server) streamSetup(ctx context.Context, roomID string) (chat.Room, bool, chat.Hours, error) {
	ctx, cancel := context.WithTimeout(ctx, streamStoreTimeout)
	defer cancel()
	room, err := s.svc.Room(ctx, roomID)
	if err != nil {
		return chat.Room{}, false, chat.Hours{}, err
	}
	online, err := s.svc.AdminsOnline(ctx)
	if err != nil {
		return chat.Room{}, false, chat.Hours{}, err
	}
	hours, _, err := s.svc.BusinessHours(ctx)
	return room, online, hours, err
}

// resumeHolds asks the Service whether the client can resume after seq.
func (s *Server) resumeHolds(ctx context.Context, room chat.Room, seq int64, lastID string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, streamStoreTimeout)
	defer cancel()
	return s.svc.ResumeHolds(ctx, room, seq, lastID)
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
	// hours and state are the business hours and what the client was last
	// told of them.
	hours     chat.Hours
	state     chat.HoursState
	toldHours bool
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
	if err := vs.w.Event(string(chat.EventMessage), m.Seq, messageData(m)); err != nil {
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
	case chat.EventPresence, chat.EventHours:
		online, hours := vs.online, vs.hours
		if ev.Type == chat.EventPresence {
			online = ev.AdminsOnline
		} else if ev.Payload != nil && ev.Payload.Hours != nil {
			hours = *ev.Payload.Hours
		}
		state := hours.StateAt(vs.s.svc.Now())
		if online == vs.online && sameHoursState(state, vs.state) {
			return false, nil
		}
		vs.online, vs.hours, vs.state = online, hours, state
		return false, w.Event(string(chat.EventPresence), 0, vs.presence())
	case chat.EventRoomDeleted:
		_ = w.Event(string(ev.Type), 0, roomIDData{RoomID: ev.RoomID})
		return true, nil
	}
	return false, nil
}

// presence is the presence event's data: the hours' state from the first
// time they are set on, so that a client told "closed" hears "open" when an
// owner removes them.
func (vs *visitorStream) presence() presenceData {
	d := presenceData{AdminsOnline: vs.online}
	if vs.hours.IsSet() || vs.toldHours {
		vs.toldHours = true
		st := vs.state
		d.HoursState = &st
	}
	return d
}

// sameHoursState tells whether a client told a was told b too.
func sameHoursState(a, b chat.HoursState) bool {
	eq := func(x, y *chat.Time) bool { return x == nil && y == nil || x != nil && y != nil && x.Equal(y.Time) }
	return a.Open == b.Open && eq(a.NextOpen, b.NextOpen) && eq(a.ClosesAt, b.ClosesAt)
}

// adminEvents is the admins' stream of every room. Its events carry the
// stream's place in the admin logs (a vector, chat.AdminVector): a console
// that reconnects with Last-Event-ID gets what it missed from the logs
// (subscribed first, then the logs, then live, dropping what the logs
// gave), or reset when a log no longer holds its place, or when it sends
// the "ms-n" id of a server from before the logs were split.
func (s *Server) adminEvents(c *gin.Context) {
	claims := adminClaims(c)
	raw := bearer(c)
	after := strings.TrimSpace(c.GetHeader("Last-Event-ID"))
	if after != "" {
		if err := chat.ValidAdminResume(after); err != nil {
			s.fail(c, err)
			return
		}
	}
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
	// Where the log ends before subscribing, for a stream that does not
	// resume: it starts after it (see adminStream.last).
	floor := after
	if floor == "" {
		ctx, cancel := context.WithTimeout(c.Request.Context(), streamStoreTimeout)
		end, err := s.svc.AdminLogEnd(ctx)
		cancel()
		if err != nil {
			s.fail(c, err)
			return
		}
		floor = end
	}
	sub := s.hub.SubscribeAdminAs(claims.Username)
	// Behind on a burst, the stream reads what it missed from the admin log
	// instead of ending (deliverQueued); from the start, as events queue
	// while it waits for its channels.
	sub.KeepWhenBehind()
	if err := awaitReady(c.Request.Context(), sub); err != nil {
		sub.Close()
		s.fail(c, err)
		return
	}
	startStream(c, st, sub)
	if st.Event("ready", 0, readyData{Time: chat.Time{Time: time.Now()}}) != nil {
		return
	}
	as := &adminStream{s: s, w: st, sub: sub, ctx: st.Context()}
	if !as.setLast(floor) {
		// A legacy "ms-n" id: the console reloads.
		if err := as.reset(as.ctx); err != nil {
			st.Ended(err)
			return
		}
	} else if after != "" {
		if err := as.replay(as.ctx); err != nil {
			st.Ended(err)
			return
		}
	}
	st.Serve(func() bool { return s.adminStillValid(st.Context(), raw, claims) },
		func(ev chat.Event) bool { return demoted(claims, ev) || as.deliverQueued(ev) != nil })
}

// demoted tells whether ev makes the owner an API token acts for an agent:
// the token is refused from then on, and its stream ends at once.
func demoted(claims auth.AdminClaims, ev chat.Event) bool {
	if claims.APIToken == "" || ev.Type != chat.EventAgentUpdated {
		return false
	}
	a := ev.Data().Agent
	return a != nil && a.Username == claims.Username && chat.RoleOf(string(a.Role)) != chat.RoleOwner
}

// adminStream is the state of one admin stream.
type adminStream struct {
	s   *Server
	w   batchWriter
	sub *chat.Subscription
	ctx context.Context
	// catchUps counts the replays since windowStart (catchUp).
	catchUps    int
	windowStart time.Time
	// last is where the client is in every admin log: its Last-Event-ID,
	// or the logs' ends read before subscribing, then moved by each logged
	// event written. Live events it has are left out: replayed already, or
	// published before the stream subscribed (they reach the hub late only
	// when this instance's bridge lags). A catch-up replays the logs after
	// it. Each logged event written carries it as its SSE id.
	last chat.AdminVector
}

// setLast sets last from a vector id; false for any other.
func (as *adminStream) setLast(id string) bool {
	v, ok := chat.ParseAdminVector(id)
	if ok {
		as.last = v
	}
	return ok
}

// advance moves last to a logged event, and tells whether the client has
// it not yet; ev's LogID becomes the stream's id after it.
func (as *adminStream) advance(ev *chat.Event) bool {
	if !as.last.Advance(ev.LogID) {
		return false
	}
	ev.LogID = as.last.String()
	return true
}

// replay writes the admin log after last, page by page, or reset when the
// log does not hold last.
func (as *adminStream) replay(ctx context.Context) error {
	for {
		sctx, cancel := context.WithTimeout(ctx, streamStoreTimeout)
		evs, ok, err := as.s.svc.AdminEventsAfter(sctx, as.last.String())
		cancel()
		if err != nil {
			return err
		}
		if !ok {
			return as.reset(ctx)
		}
		for _, ev := range evs {
			if !as.advance(&ev) {
				continue
			}
			if err := adminAdd(as.w, ev); err != nil {
				return err
			}
		}
		if err := as.w.Flush(); err != nil {
			return err
		}
		// Up to MaxLimit of each log: one that gave fewer has no more.
		if len(evs) < chat.MaxLimit {
			return nil
		}
	}
}

// reset tells the client that it cannot resume (its id was trimmed from
// the log, or the store came back with older data): it reloads everything.
// The stream goes on after the log's end as read now, after subscribing,
// with that as its id.
func (as *adminStream) reset(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, streamStoreTimeout)
	end, err := as.s.svc.AdminLogEnd(ctx)
	cancel()
	if err != nil {
		return err
	}
	if !as.setLast(end) {
		return fmt.Errorf("admin stream: the logs' end %q is no vector", end)
	}
	if err := as.w.AddID(string(chat.EventReset), end, adminResetData{LastEventID: end}); err != nil {
		return err
	}
	return as.w.Flush()
}

// deliverQueued writes ev and whatever else is already queued (up to
// maxBatch events) in one write, leaving out what the replay sent. When the
// hub left events out (the stream fell behind a burst), it then replays the
// admin log after the last event written, so the console misses none of
// the events the log keeps (not typing nor activity); what the replay wrote comes
// again from the queue and is left out.
func (as *adminStream) deliverQueued(ev chat.Event) error {
	// Checked before the batch too: ev may be newer than an event left out
	// (writing it first would move last past the one the replay must send).
	if err := as.catchUp(); err != nil {
		return err
	}
	if err := as.deliverBatch(ev); err != nil {
		return err
	}
	return as.catchUp()
}

// Catching up is for bursts: a client that needs it more than
// maxCatchUps times in catchUpWindow is slower than the events, and is
// dropped as the hub would drop it.
const (
	maxCatchUps   = 20
	catchUpWindow = time.Minute
)

var errTooSlow = errors.New("admin stream: behind the events for good")

// catchUp replays the admin log when the hub left events out.
func (as *adminStream) catchUp() error {
	if !as.sub.Behind() {
		return nil
	}
	if now := time.Now(); now.Sub(as.windowStart) > catchUpWindow {
		as.windowStart, as.catchUps = now, 0
	}
	if as.catchUps++; as.catchUps > maxCatchUps {
		as.sub.Drop()
		return errTooSlow
	}
	as.s.metrics.streamBehind(stream.Admin)
	return as.replay(as.ctx)
}

func (as *adminStream) deliverBatch(ev chat.Event) error {
	if err := as.add(ev); err != nil {
		return err
	}
drain:
	for n := 1; n < maxBatch; n++ {
		select {
		case ev = <-as.sub.Events():
			if err := as.add(ev); err != nil {
				return err
			}
		default:
			break drain
		}
	}
	return as.w.Flush()
}

func (as *adminStream) add(ev chat.Event) error {
	if ev.LogID != "" && !as.advance(&ev) {
		return nil // replayed already
	}
	return adminAdd(as.w, ev)
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
	_, err := s.verifyAdmin(ctx, raw)
	return err == nil || !errors.Is(err, chat.ErrUnauthorized)
}

// messageData is what a stream writes for a message: the JSON the store
// wrote, when it kept it (chat.Message.Raw), or the message to encode.
func messageData(m *chat.Message) any {
	if m.Raw != "" {
		return stream.JSON(m.Raw)
	}
	return m
}

// adminAdd adds the events an admin stream shows for one hub event: a
// message comes with its room, in the same write.
// batchWriter adds events to one write (a *stream.Stream).
type batchWriter interface {
	AddID(name, id string, data any) error
	Flush() error
}

func adminAdd(w batchWriter, ev chat.Event) error {
	switch ev.Type {
	case chat.EventMessage:
		if ev.Message == nil {
			return nil
		}
		if err := w.AddID(string(chat.EventMessage), ev.LogID, messageData(ev.Message)); err != nil {
			return err
		}
		if ev.Room != nil {
			return w.AddID(string(chat.EventRoom), "", ev.Room)
		}
	case chat.EventRoom:
		if ev.Room != nil {
			return w.AddID(string(chat.EventRoom), ev.LogID, ev.Room)
		}
	case chat.EventTyping:
		return w.AddID(string(ev.Type), "", roomTypingData{RoomID: ev.RoomID, Sender: ev.Sender})
	case chat.EventRoomDeleted:
		return w.AddID(string(ev.Type), ev.LogID, roomIDData{RoomID: ev.RoomID})
	case chat.EventNote:
		if n := ev.Data().Note; n != nil {
			return w.AddID(string(ev.Type), ev.LogID, noteBody{Note: *n})
		}
	case chat.EventLabels:
		labels := ev.Data().Labels
		if labels == nil {
			labels = []chat.Label{}
		}
		return w.AddID(string(ev.Type), ev.LogID, labelsBody{Labels: labels})
	case chat.EventAgentActivity:
		if d := ev.Data(); d.Actor != nil {
			return w.AddID(string(ev.Type), "", activityData{RoomID: ev.RoomID, Agent: *d.Actor, Activity: d.Activity})
		}
	case chat.EventCannedUpdated:
		if c := ev.Data().Canned; c != nil {
			return w.AddID(string(ev.Type), ev.LogID, c)
		}
	case chat.EventCannedDeleted:
		return w.AddID(string(ev.Type), ev.LogID, cannedIDData{ID: ev.Data().CannedID})
	case chat.EventAgentUpdated:
		if a := ev.Data().Agent; a != nil {
			return w.AddID(string(ev.Type), ev.LogID, agentData{Agent: *a})
		}
	case chat.EventAgentRemoved:
		return w.AddID(string(ev.Type), ev.LogID, usernameData{Username: ev.Username})
	case chat.EventVisitor:
		if v := ev.Data().Visitor; v != nil {
			return w.AddID(string(ev.Type), "", visitorInfoData{RoomID: ev.RoomID, Visitor: *v})
		}
	}
	return nil
}

// visitorInfoData is the payload of a visitor.page event and of GET
// /admin/rooms/{id}/visitor.
type visitorInfoData struct {
	RoomID  string           `json:"roomId"`
	Visitor chat.VisitorInfo `json:"visitor"`
}

// activityData is the payload of an agent.activity event.
type activityData struct {
	RoomID   string        `json:"roomId"`
	Agent    chat.AgentRef `json:"agent"`
	Activity chat.Activity `json:"activity"`
}

// cannedIDData is the data of a canned.deleted event.
type cannedIDData struct {
	ID string `json:"id"`
}

type agentData struct {
	Agent chat.Agent `json:"agent"`
}

type usernameData struct {
	Username string `json:"username"`
}
