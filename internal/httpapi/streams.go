package httpapi

import (
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// streamSet counts open streams against the server-wide and per-key caps, and
// owns the signal that ends them all.
type streamSet struct {
	mu      sync.Mutex
	max     int
	perKey  int
	open    int
	byKey   map[string]int
	closing chan struct{} // closed by closeAll
	closed  bool

	// healthy and generation, when set, are polled by a watcher goroutine
	// that runs while at least one stream is open; a bridge found down (or
	// subscribed anew) closes the current epoch, which ends the streams
	// opened under it.
	healthy     func() bool
	generation  func() uint64
	epoch       chan struct{}
	watcherStop chan struct{}

	// conns tells hijacked streams that their client went away.
	conns connWatcher
	// stops ends the connection of each hijacked stream (see setStop);
	// forced is set once forceEnd ran, after which a stream is ended as it
	// registers.
	stops  map[*streamSlot]func()
	forced bool
}

func newStreamSet(max, perKey int, healthy func() bool, generation func() uint64) *streamSet {
	return &streamSet{
		max: max, perKey: perKey, byKey: make(map[string]int), stops: make(map[*streamSlot]func()),
		closing: make(chan struct{}), healthy: healthy, generation: generation,
		epoch: make(chan struct{}),
	}
}

// bridgeUp tells whether the event bridge is known to be working.
func (ss *streamSet) bridgeUp() bool { return ss.healthy == nil || ss.healthy() }

func (ss *streamSet) gen() uint64 {
	if ss.generation == nil {
		return 0
	}
	return ss.generation()
}

// streamSlot is one accepted stream; release it exactly once.
type streamSlot struct {
	set *streamSet
	key string
	// closing and epoch are closed when the stream must end: the server is
	// closing, or the event bridge went down.
	closing <-chan struct{}
	epoch   <-chan struct{}
	once    sync.Once
}

// Errors of acquire.
var (
	errTooManyStreams = &chat.Error{Code: chat.CodeTooMany, Message: "too many open event streams; close one and retry"}
	errServerClosing  = &chat.Error{Code: chat.CodeUnavailable, Message: "the server is shutting down; reconnect"}
	errBridgeDown     = &chat.Error{Code: chat.CodeUnavailable, Message: "real-time events are unavailable; retry shortly"}
)

// acquire takes a slot for key or returns errTooManyStreams.
func (ss *streamSet) acquire(key string) (*streamSlot, error) {
	if !ss.bridgeUp() {
		return nil, errBridgeDown
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		return nil, errServerClosing
	}
	if ss.open >= ss.max || ss.byKey[key] >= ss.perKey {
		return nil, errTooManyStreams
	}
	ss.open++
	ss.byKey[key]++
	if (ss.healthy != nil || ss.generation != nil) && ss.watcherStop == nil {
		ss.watcherStop = make(chan struct{})
		go ss.watch(ss.watcherStop, ss.gen())
	}
	return &streamSlot{set: ss, key: key, closing: ss.closing, epoch: ss.epoch}, nil
}

func (sl *streamSlot) release() {
	sl.once.Do(func() {
		ss := sl.set
		ss.mu.Lock()
		defer ss.mu.Unlock()
		ss.open--
		delete(ss.stops, sl)
		if ss.byKey[sl.key]--; ss.byKey[sl.key] <= 0 {
			delete(ss.byKey, sl.key)
		}
		if ss.open == 0 && ss.watcherStop != nil {
			close(ss.watcherStop)
			ss.watcherStop = nil
		}
	})
}

// watchInterval is how often the bridge health is polled while streams are
// open.
const watchInterval = 250 * time.Millisecond

// watch polls the bridge until stop closes. When the bridge is down, or has
// subscribed again since the last look, it ends the current epoch: every
// stream opened before now ends, and its client resumes from its last event
// id once the bridge is back.
func (ss *streamSet) watch(stop <-chan struct{}, gen uint64) {
	t := time.NewTicker(watchInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			up, g := ss.bridgeUp(), ss.gen()
			if up && g == gen {
				continue
			}
			gen = g
			ss.mu.Lock()
			close(ss.epoch)
			ss.epoch = make(chan struct{})
			ss.mu.Unlock()
		}
	}
}

// setStop registers how to end the stream of sl by force: a hijacked stream
// outlives its handler, so http.Server.Shutdown neither waits for it nor
// closes its connection.
func (sl *streamSlot) setStop(stop func()) {
	ss := sl.set
	ss.mu.Lock()
	if ss.forced { // a stream still setting up when forceEnd ran
		ss.mu.Unlock()
		stop()
		return
	}
	ss.stops[sl] = stop
	ss.mu.Unlock()
}

// forceEnd ends the connection of every hijacked stream still open: a stream
// blocked in a write to a client that stopped reading fails at once instead
// of at its write deadline.
func (ss *streamSet) forceEnd() {
	ss.mu.Lock()
	ss.forced = true
	stops := make([]func(), 0, len(ss.stops))
	for _, stop := range ss.stops {
		stops = append(stops, stop)
	}
	ss.mu.Unlock()
	for _, stop := range stops {
		stop()
	}
}

func (ss *streamSet) closeAll() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if !ss.closed {
		ss.closed = true
		close(ss.closing)
	}
}

// waitEnded waits up to d for every stream to end (to have released its
// slot), polling: streams end on their own once closing is closed.
func (ss *streamSet) waitEnded(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for ss.count() > 0 {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

func (ss *streamSet) count() int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.open
}
