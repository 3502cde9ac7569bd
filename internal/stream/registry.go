// Package stream owns Parley's Server-Sent Event streams below the handlers:
// the event encoder and writer, the two ways a stream is written (straight
// to a hijacked HTTP/1.x connection, watched for the client's hang-up, or
// through the handler's http.Flusher), the registry of open streams with its
// caps (visitor and admin streams apart, and per key), the ping cadence and
// write timeout of the serve loop, the dropping of stalled and slow streams,
// the ending of streams when the event bridge fails or an admin's tokens are
// revoked, and forced shutdown.
//
// It knows nothing of rooms: what a stream sends (replay, dedupe, batching,
// token checks) is the caller's, through Stream's methods and the callbacks
// of Serve. It takes net/http types, never a router's.
package stream

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// Defaults for the zero values of Config.
const (
	DefaultPingInterval    = 20 * time.Second
	DefaultMaxAdminStreams = 500
)

// Kind is the kind of a stream: each kind has its own cap, so that streams of
// one kind cannot lock the other out.
type Kind string

// The kinds of stream.
const (
	Visitor Kind = "visitor"
	Admin   Kind = "admin"
)

// Reasons a stream is dropped (see Config.Dropped).
const (
	// DropStalled: a write made no progress for Config.WriteTimeout.
	DropStalled = "stalled"
	// DropSlow: the stream fell so far behind that the hub dropped its
	// subscription.
	DropSlow = "slow"
)

// Config configures a Registry.
type Config struct {
	// MaxStreams caps the open visitor streams of the registry (an Info
	// without a Kind is a visitor's), MaxAdminStreams its admin streams
	// (default DefaultMaxAdminStreams), PerKey those of one key (a room, an
	// admin token). MaxStreams and PerKey must be positive.
	MaxStreams, MaxAdminStreams, PerKey int
	// PingInterval is how often Serve writes a ": ping" comment.
	PingInterval time.Duration
	// WriteTimeout is how long a write may make no progress before the
	// stream is dropped as stalled (default DefaultWriteTimeout).
	WriteTimeout time.Duration
	// Dropped, when set, is told of every stream dropped, with its kind and
	// reason (DropStalled, DropSlow); each drop is also logged.
	Dropped func(kind Kind, reason string)
	// Hijack serves HTTP/1.x streams on the hijacked connection; otherwise
	// (and always on HTTP/2) a stream is written through the handler's
	// http.Flusher. The bytes of the events are the same.
	Hijack bool
	// Healthy, when set, reports false while the event bridge is down; open
	// streams are then ended and new ones refused (ErrBridgeDown).
	Healthy func() bool
	// Generation, when set, counts the bridge's subscriptions: a change
	// means events may have been lost, and open streams are ended.
	Generation func() uint64
	// Logger receives the lines of streams that end on an error or a panic.
	Logger *slog.Logger
}

// Errors of Registry.Open, as chat errors so that the caller's one table maps
// them: too many streams is a 429, the others a 503.
var (
	ErrTooMany    = &chat.Error{Code: chat.CodeTooMany, Message: "too many open event streams; close one and retry"}
	ErrClosing    = &chat.Error{Code: chat.CodeUnavailable, Message: "the server is shutting down; reconnect"}
	ErrBridgeDown = &chat.Error{Code: chat.CodeUnavailable, Message: "real-time events are unavailable; retry shortly"}
)

// Registry counts open streams against the server-wide and per-key caps, and
// owns the signals that end them: Shutdown, and a failing event bridge.
type Registry struct {
	cfg Config

	mu     sync.Mutex
	open   int
	admins int // of open
	byKey  map[string]int
	// owned holds the open streams whose Info names a token or an account,
	// for EndAdmin.
	owned   map[*Stream]struct{}
	closing chan struct{} // closed by Shutdown
	closed  bool

	// healthy and generation, when set, are polled by a watcher goroutine
	// that runs while at least one stream is open; a bridge found down (or
	// subscribed anew) closes the current epoch, which ends the streams
	// opened under it.
	epoch       chan struct{}
	watcherStop chan struct{}

	// conns tells hijacked streams that their client went away.
	conns connWatcher
	// stops ends each started stream by force (see Stream.forceEnd); forced
	// is set once Shutdown used them, after which a stream is ended as it
	// starts.
	stops  map[*Stream]func()
	forced bool
}

// NewRegistry returns an empty registry.
func NewRegistry(cfg Config) *Registry {
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = DefaultPingInterval
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	if cfg.MaxAdminStreams <= 0 {
		cfg.MaxAdminStreams = DefaultMaxAdminStreams
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Registry{
		cfg: cfg, byKey: make(map[string]int), owned: make(map[*Stream]struct{}), stops: make(map[*Stream]func()),
		closing: make(chan struct{}), epoch: make(chan struct{}),
	}
}

// bridgeUp tells whether the event bridge is known to be working.
func (r *Registry) bridgeUp() bool { return r.cfg.Healthy == nil || r.cfg.Healthy() }

func (r *Registry) gen() uint64 {
	if r.cfg.Generation == nil {
		return 0
	}
	return r.cfg.Generation()
}

// Open takes a place for a stream of key and info.Kind: ErrBridgeDown while
// the event bridge is down, ErrClosing once Shutdown ran, ErrTooMany over the
// cap of its kind or of its key.
// Nothing is written yet; the caller defers Release and calls Start once
// the stream may go ahead.
func (r *Registry) Open(key string, info Info) (*Stream, error) {
	if !r.bridgeUp() {
		return nil, ErrBridgeDown
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrClosing
	}
	if info.Kind == "" {
		info.Kind = Visitor
	}
	admin := info.Kind == Admin
	if admin && r.admins >= r.cfg.MaxAdminStreams || !admin && r.open-r.admins >= r.cfg.MaxStreams ||
		r.byKey[key] >= r.cfg.PerKey {
		return nil, ErrTooMany
	}
	r.open++
	if admin {
		r.admins++
	}
	r.byKey[key]++
	if (r.cfg.Healthy != nil || r.cfg.Generation != nil) && r.watcherStop == nil {
		r.watcherStop = make(chan struct{})
		go r.watch(r.watcherStop, r.gen())
	}
	st := &Stream{reg: r, key: key, info: info, closing: r.closing, epoch: r.epoch}
	if info.TokenID != "" || info.Username != "" {
		st.end = make(chan struct{})
		r.owned[st] = struct{}{}
	}
	return st, nil
}

// EndAdmin ends every open stream of the token tokenID and every one of the
// account username (an empty argument matches nothing), at once: the token
// was revoked, the password changed or the account removed. It returns how
// many streams it ended. A stream in a write ends when the write does.
func (r *Registry) EndAdmin(tokenID, username string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for st := range r.owned {
		if tokenID != "" && st.info.TokenID == tokenID || username != "" && st.info.Username == username {
			close(st.end)
			delete(r.owned, st)
			n++
		}
	}
	return n
}

// release gives back the place of st.
func (r *Registry) release(st *Stream) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.open--
	if st.info.Kind == Admin {
		r.admins--
	}
	delete(r.stops, st)
	delete(r.owned, st)
	if r.byKey[st.key]--; r.byKey[st.key] <= 0 {
		delete(r.byKey, st.key)
	}
	if r.open == 0 && r.watcherStop != nil {
		close(r.watcherStop)
		r.watcherStop = nil
	}
}

// watchInterval is how often the bridge health is polled while streams are
// open.
const watchInterval = 250 * time.Millisecond

// watch polls the bridge until stop closes. When the bridge is down, or has
// subscribed again since the last look, it ends the current epoch: every
// stream opened before now ends, and its client resumes from its last event
// id once the bridge is back.
func (r *Registry) watch(stop <-chan struct{}, gen uint64) {
	t := time.NewTicker(watchInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			up, g := r.bridgeUp(), r.gen()
			if up && g == gen {
				continue
			}
			gen = g
			r.mu.Lock()
			close(r.epoch)
			r.epoch = make(chan struct{})
			r.mu.Unlock()
		}
	}
}

// setStop registers how to end st by force: a hijacked stream outlives its
// handler, so http.Server.Shutdown neither waits for it nor closes its
// connection, and one served by its handler may be stuck in a write.
func (r *Registry) setStop(st *Stream, stop func()) {
	r.mu.Lock()
	if r.forced { // a stream still setting up when Shutdown forced the others
		r.mu.Unlock()
		stop()
		return
	}
	r.stops[st] = stop
	r.mu.Unlock()
}

// shutdownGrace is how long Shutdown lets streams end on their own before it
// ends them by force.
const shutdownGrace = time.Second

// Shutdown ends every stream, so that clients reconnect (to another
// instance, or to this one once it is back): streams opened from now on are
// refused with ErrClosing, the open ones are asked to end and get a second
// to do so, then those still open are ended by force (a stream blocked in a
// write to a client that stopped reading fails at once instead of at its
// write deadline). Shutdown returns once every stream has
// ended, or with ctx's error when ctx ends first.
//
// It may be called more than once, and concurrently: from
// http.Server.RegisterOnShutdown, which does not wait for it, and after
// http.Server.Shutdown to wait for the streams.
func (r *Registry) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		close(r.closing)
	}
	r.mu.Unlock()
	if r.waitEnded(ctx, shutdownGrace) {
		return nil
	}
	r.forceEnd()
	if r.waitEnded(ctx, 0) {
		return nil
	}
	return ctx.Err()
}

// forceEnd ends every started stream still open.
func (r *Registry) forceEnd() {
	r.mu.Lock()
	r.forced = true
	stops := make([]func(), 0, len(r.stops))
	for _, stop := range r.stops {
		stops = append(stops, stop)
	}
	r.mu.Unlock()
	for _, stop := range stops {
		stop()
	}
}

// waitEnded waits until every stream has ended (has released its place),
// for at most d when d > 0, and until ctx ends, polling: streams end on
// their own goroutines.
func (r *Registry) waitEnded(ctx context.Context, d time.Duration) bool {
	var timeout <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	poll := time.NewTicker(5 * time.Millisecond)
	defer poll.Stop()
	for r.Len() > 0 {
		select {
		case <-ctx.Done():
			return r.Len() == 0
		case <-timeout:
			return false
		case <-poll.C:
		}
	}
	return true
}

// Len is the number of open streams, started or not.
func (r *Registry) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.open
}
