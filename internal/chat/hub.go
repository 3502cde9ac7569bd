package chat

import (
	"sync"
	"sync/atomic"
)

// Hub fans events out to the streams of this process. It never blocks on a
// subscriber: one whose buffer is full is dropped (its Done channel closes and
// the stream ends, so the client reconnects and resumes).
type Hub struct {
	mu     sync.RWMutex
	rooms  map[string]map[*Subscription]struct{}
	admins map[*Subscription]struct{}
	closed bool
	// down: the event bridge is down (BridgeDown until BridgeUp), and a
	// new subscription is born ended.
	down bool
	// roomBuffer and adminBuffer are the channel sizes of room (visitor)
	// and admin subscriptions. A room subscription sees a handful of events
	// a minute and there are thousands of them, so its buffer is small; an
	// admin subscription sees every event of the instance.
	roomBuffer, adminBuffer int
	// onAdmins is told the number of admin subscriptions after each change.
	onAdmins func(n int)
	// onRevoked is handed every EventAdminRevoked.
	onRevoked func(ev Event)
	// demand, when set, is told what the subscriptions need (SetDemand).
	demand Demand
}

// Demand is the event bridge's side of the hub, for a bridge that hears
// only what this process's subscriptions need (on Redis Cluster, the
// shard channels of their rooms' partitions, all of them for an admin
// subscription). The hub calls it under its lock: it must not call the
// hub, nor block.
type Demand interface {
	// Want is told of a subscription made, for roomID ("" for an admin
	// subscription). It returns a channel that closes once the
	// subscription's events reach the hub, or nil when they already do.
	Want(roomID string) <-chan struct{}
	// Unwant is told of a subscription ended; ready is what Want answered
	// it (a subscription that ends still waiting stops waiting).
	Unwant(roomID string, ready <-chan struct{})
}

// SetDemand registers d, before any subscription is made.
func (h *Hub) SetDemand(d Demand) {
	h.mu.Lock()
	h.demand = d
	h.mu.Unlock()
}

// Default buffers of NewHubBuffers (a chat.Event is 136 bytes: 2.2 KB per
// visitor stream, 35 KB per admin stream; the team events' data is behind
// Event.Payload so that it does not grow with them).
const (
	DefaultRoomBuffer  = 16
	DefaultAdminBuffer = 256
)

// NewHub returns a hub whose subscriptions, room and admin alike, buffer up
// to buffer events. NewHubBuffers sizes the two kinds apart.
func NewHub(buffer int) *Hub { return NewHubBuffers(buffer, buffer) }

// NewHubBuffers returns a hub whose room subscriptions buffer up to
// roomBuffer events and admin subscriptions up to adminBuffer; a size below
// 1 takes the default.
func NewHubBuffers(roomBuffer, adminBuffer int) *Hub {
	if roomBuffer < 1 {
		roomBuffer = DefaultRoomBuffer
	}
	if adminBuffer < 1 {
		adminBuffer = DefaultAdminBuffer
	}
	return &Hub{
		rooms:       make(map[string]map[*Subscription]struct{}),
		admins:      make(map[*Subscription]struct{}),
		roomBuffer:  roomBuffer,
		adminBuffer: adminBuffer,
	}
}

// OnAdminCount registers fn to be called (outside the hub's lock, in the
// caller's goroutine) whenever the number of admin subscriptions changes. Two
// changes may be reported out of order: fn should read Counts rather than
// trust its argument for anything but a nudge.
func (h *Hub) OnAdminCount(fn func(n int)) {
	h.mu.Lock()
	h.onAdmins = fn
	h.mu.Unlock()
}

// OnRevoked registers fn to be handed every EventAdminRevoked (which no
// subscription shows), in Deliver's goroutine: fn must not block.
func (h *Hub) OnRevoked(fn func(ev Event)) {
	h.mu.Lock()
	h.onRevoked = fn
	h.mu.Unlock()
}

// Subscription is one stream's view of the hub.
type Subscription struct {
	hub    *Hub
	roomID string // "" for an admin subscription
	agent  string // the admin's username, when the subscriber said (SubscribeAdminAs)
	ch     chan Event
	done   chan struct{}
	ready  <-chan struct{} // nil: ready from the start (see Ready)
	once   sync.Once
	// dropped is set when the hub drops the subscription for being too
	// slow (a full buffer), not when its owner closes it.
	dropped atomic.Bool
	// catchUp: a full buffer does not drop the subscription; lagged says
	// events were left out since the owner last asked (see KeepWhenBehind).
	catchUp atomic.Bool
	lagged  atomic.Bool
}

// KeepWhenBehind makes a full buffer leave events out rather than drop the
// subscription: the owner, who can read what it missed elsewhere (an admin
// stream, from the admin log), asks Behind after its reads.
func (s *Subscription) KeepWhenBehind() { s.catchUp.Store(true) }

// Behind tells whether events were left out since the last call, and
// forgets it.
func (s *Subscription) Behind() bool { return s.lagged.Load() && s.lagged.Swap(false) }

// Dropped tells whether the hub ended the subscription because its buffer
// was full (its client missed events and must resume), rather than its
// owner closing it.
func (s *Subscription) Dropped() bool { return s.dropped.Load() }

// Drop ends the subscription as too slow, as the hub does with a full
// buffer: its owner found it cannot catch up.
func (s *Subscription) Drop() { s.drop() }

// drop ends a subscription that is too slow.
func (s *Subscription) drop() {
	if s.dropped.Swap(true) {
		return
	}
	s.Close()
}

// closedChan is a channel closed from the start.
var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// Ready is closed once the subscription hears every event it is for: at
// once, unless the bridge subscribes on demand (Demand) and had to
// subscribe for it. A stream waits for it before it reads the store, as it
// subscribes before it reads, so that nothing stored meanwhile escapes it;
// one that waits too long, or sees Done first, gives up.
func (s *Subscription) Ready() <-chan struct{} {
	if s.ready == nil {
		return closedChan
	}
	return s.ready
}

// Events delivers the subscription's events.
func (s *Subscription) Events() <-chan Event { return s.ch }

// Done is closed when the subscription ends: closed by its owner, dropped for
// being too slow, or the hub shut down.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Close ends the subscription. It is safe to call more than once.
func (s *Subscription) Close() { s.hub.remove(s) }

// SubscribeRoom returns a subscription to the events a visitor of roomID sees.
func (h *Hub) SubscribeRoom(roomID string) *Subscription {
	return h.add(roomID)
}

// SubscribeAdmin returns a subscription to the events admins see.
func (h *Hub) SubscribeAdmin() *Subscription {
	return h.add("")
}

// SubscribeAdminAs is SubscribeAdmin for the admin username: Agents
// counts them online while it is open (per-agent presence for mail).
func (h *Hub) SubscribeAdminAs(username string) *Subscription {
	return h.add("", username)
}

// Agents returns the usernames with an admin stream open on this instance
// (each once, in no order).
func (h *Hub) Agents() []string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	seen := make(map[string]struct{})
	var out []string
	for s := range h.admins {
		if _, ok := seen[s.agent]; ok || s.agent == "" {
			continue
		}
		seen[s.agent] = struct{}{}
		out = append(out, s.agent)
	}
	return out
}

func (h *Hub) add(roomID string, agent ...string) *Subscription {
	size := h.roomBuffer
	if roomID == "" {
		size = h.adminBuffer
	}
	s := &Subscription{hub: h, roomID: roomID, ch: make(chan Event, size), done: make(chan struct{})}
	if len(agent) == 1 {
		s.agent = agent[0]
	}
	h.mu.Lock()
	if h.closed || h.down {
		h.mu.Unlock()
		s.once.Do(func() { close(s.done) })
		return s
	}
	n, notify := -1, h.onAdmins
	if roomID == "" {
		h.admins[s] = struct{}{}
		n = len(h.admins)
	} else {
		set := h.rooms[roomID]
		if set == nil {
			set = make(map[*Subscription]struct{})
			h.rooms[roomID] = set
		}
		set[s] = struct{}{}
	}
	if h.demand != nil {
		s.ready = h.demand.Want(roomID)
	}
	h.mu.Unlock()
	if n >= 0 && notify != nil {
		notify(n)
	}
	return s
}

func (h *Hub) remove(s *Subscription) {
	h.mu.Lock()
	n, notify := h.detach(s), h.onAdmins
	h.mu.Unlock()
	s.once.Do(func() { close(s.done) })
	if n >= 0 && notify != nil {
		notify(n)
	}
}

// detach removes s from the maps; it returns the new admin count when s was an
// admin subscription that was still attached, and -1 otherwise. h.mu is held.
func (h *Hub) detach(s *Subscription) int {
	if s.roomID == "" {
		if _, ok := h.admins[s]; !ok {
			return -1
		}
		delete(h.admins, s)
		h.unwant(s)
		return len(h.admins)
	}
	if set := h.rooms[s.roomID]; set != nil {
		if _, ok := set[s]; ok {
			delete(set, s)
			h.unwant(s)
		}
		if len(set) == 0 {
			delete(h.rooms, s.roomID)
		}
	}
	return -1
}

// unwant tells the demand that s, attached until now, ended. h.mu is held.
func (h *Hub) unwant(s *Subscription) {
	if h.demand != nil {
		h.demand.Unwant(s.roomID, s.ready)
	}
}

// Deliver hands ev to every local subscription that shows it.
func (h *Hub) Deliver(ev Event) {
	if ev.Type == EventAdminRevoked {
		h.mu.RLock()
		fn := h.onRevoked
		h.mu.RUnlock()
		if fn != nil {
			fn(ev)
		}
		return
	}
	var slow []*Subscription
	h.mu.RLock()
	if ev.ForAdmin() {
		for s := range h.admins {
			if a := ev.Data().Actor; ev.Type == EventAgentActivity && a != nil && s.agent == a.Username {
				continue // an agent knows what they do themselves
			}
			if !offer(s, ev) {
				if s.catchUp.Load() {
					s.lagged.Store(true)
					continue
				}
				slow = append(slow, s)
			}
		}
	}
	if ev.Type == EventPresence || ev.Type == EventHours {
		for _, set := range h.rooms {
			for s := range set {
				if !offer(s, ev) {
					slow = append(slow, s)
				}
			}
		}
	} else if ev.RoomID != "" {
		for s := range h.rooms[ev.RoomID] {
			if ev.ForVisitor(s.roomID) && !offer(s, ev) {
				slow = append(slow, s)
			}
		}
	}
	h.mu.RUnlock()
	for _, s := range slow {
		s.drop()
	}
}

// offer sends without blocking; false means the subscriber is too slow.
func offer(s *Subscription, ev Event) bool {
	select {
	case <-s.done:
		return true // already ending; nothing to drop
	default:
	}
	select {
	case s.ch <- ev:
		return true
	default:
		return false
	}
}

// Counts returns the number of room and admin subscriptions.
func (h *Hub) Counts() (rooms, admins int) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, set := range h.rooms {
		rooms += len(set)
	}
	return rooms, len(h.admins)
}

// Close ends every subscription; later subscriptions end at once.
func (h *Hub) Close() { h.endAll(true) }

// BridgeDown tells the hub that the event bridge lost its subscription:
// events are being published that no subscription will hear. Every
// subscription ends now, and every one made before BridgeUp is born ended,
// so that each stream resumes from the stored events rather than carry on
// with a hole in what it delivered: a stream still open when the bridge
// delivers again would take the events after the hole and move its resume
// point past it, and the hole's events would be skipped for good. So the
// bridge calls BridgeDown as soon as a subscription fails, and BridgeUp
// before it hands on any event of the new one.
func (h *Hub) BridgeDown() { h.endAll(false) }

// BridgeUp tells the hub that the event bridge holds its subscription
// again: subscriptions made from now on hear every event.
func (h *Hub) BridgeUp() {
	h.mu.Lock()
	h.down = false
	h.mu.Unlock()
}

// endAll ends every subscription, and marks the hub closed (for good) or
// down (until BridgeUp).
func (h *Hub) endAll(closing bool) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	if closing {
		h.closed = true
	} else {
		h.down = true
	}
	var all []*Subscription
	for s := range h.admins {
		all = append(all, s)
	}
	for _, set := range h.rooms {
		for s := range set {
			all = append(all, s)
		}
	}
	for _, s := range all {
		h.unwant(s)
	}
	hadAdmins := len(h.admins) > 0
	h.admins = make(map[*Subscription]struct{})
	h.rooms = make(map[string]map[*Subscription]struct{})
	notify := h.onAdmins
	h.mu.Unlock()
	for _, s := range all {
		s.once.Do(func() { close(s.done) })
	}
	if notify != nil && (closing || hadAdmins) {
		notify(0)
	}
}
