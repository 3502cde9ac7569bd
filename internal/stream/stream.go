package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// Info is what a stream's caps, log lines and gauge need; all optional.
type Info struct {
	// Kind picks the cap the stream counts against (Visitor when empty) and
	// goes into its log lines.
	Kind Kind
	// RequestID and Route go into the stream's log lines: on a hijacked
	// connection the stream outlives its request.
	RequestID, Route string
	// TokenID and Username name the admin token and account of an admin
	// stream, for Registry.EndAdmin.
	TokenID, Username string
	// Gauge counts the stream while it is started.
	Gauge Gauge
}

// Gauge is a count of open streams (a prometheus.Gauge is one).
type Gauge interface {
	Inc()
	Dec()
}

// Stream is one event stream, from Registry.Open to its end. Open gives a
// place under the caps; Start commits the response; Serve runs the idle part
// of the stream; Release (deferred by the handler) ends it, unless Serve
// handed it to a goroutine of its own.
//
// Event, Add and Flush write, from the handler until Serve and then from
// Serve's callbacks only: a stream is written by one goroutine at a time.
type Stream struct {
	reg  *Registry
	key  string
	info Info
	// closing and epoch are closed when the stream must end: Shutdown, or
	// the event bridge went down.
	closing <-chan struct{}
	epoch   <-chan struct{}
	// end is closed by Registry.EndAdmin; nil (never closed) for a stream
	// of no token.
	end  chan struct{}
	once sync.Once

	w   *writer
	sub *chat.Subscription
	// ctx is the request's context when the handler serves the stream.
	// On a hijacked connection it belongs to no request: cancel ends it,
	// called by the connection's watcher when the client goes away, and by
	// finish.
	ctx    context.Context
	cancel context.CancelFunc
	// detached is set once a goroutine of its own runs the stream.
	detached bool
	// connMu guards unwatch, the end of the watch of the connection for the
	// client's hang-up, and stopped, set once the stream's writer is done
	// with (ended or forced).
	connMu  sync.Mutex
	unwatch func()
	stopped bool
}

// Start commits the response as an event stream, on the hijacked connection
// when the registry hijacks and the request is HTTP/1.x, through w
// otherwise (HTTP/2, a writer that cannot hijack, a response already
// begun), and counts the stream in its gauge. The status is 200; a router
// that records it for its access log (gin's) should be told before Start,
// as a hijacked response is written around it. The stream owns sub from
// now on and closes it when it ends.
func (st *Stream) Start(w http.ResponseWriter, r *http.Request, sub *chat.Subscription) {
	var wr *writer
	if st.reg.cfg.Hijack {
		wr = hijackWriter(w, r, st.reg.cfg.WriteTimeout)
	}
	if wr == nil {
		wr = flushWriter(w, r, st.reg.cfg.WriteTimeout)
	}
	st.w, st.sub, st.ctx = wr, sub, r.Context()
	if wr.conn != nil {
		st.ctx, st.cancel = context.WithCancel(context.Background())
	}
	st.reg.setStop(st, st.forceEnd)
	if st.info.Gauge != nil {
		st.info.Gauge.Inc()
	}
}

// Context is the stream's: done when the client went away or the stream
// ended. Valid after Start.
func (st *Stream) Context() context.Context { return st.ctx }

// Event writes one event: "event: name", an "id: N" line when id > 0, and
// data as JSON on one "data:" line. Events added and not flushed are
// dropped.
func (st *Stream) Event(name string, id int64, data any) error { return st.w.event(name, id, data) }

// Add appends one event to the next write without writing it; Flush writes
// what was added, so that the events of a burst go out in one write.
func (st *Stream) Add(name string, id int64, data any) error { return st.w.add(name, id, data) }

// AddID is Add with a string id, written as is on the "id:" line ("" =
// none); it must hold no line break.
func (st *Stream) AddID(name, id string, data any) error { return st.w.addID(name, id, data) }

// Flush writes the events added since the last write, if any.
func (st *Stream) Flush() error { return st.w.flush() }

// Serve runs the idle part of the stream: a ": ping" comment every
// Config.PingInterval, then stillValid (when set) asked, and each event of
// the subscription handed to deliver. It ends when the client goes away, the
// subscription ends, Shutdown runs, the event bridge fails, a ping fails,
// stillValid says no or deliver says stop.
//
// On a hijacked connection Serve runs in a goroutine of its own, which then
// owns the stream and ends it, and returns at once, so that the handler
// (and with it the request) is done. Otherwise it runs in the handler,
// whose deferred Release ends the stream.
func (st *Stream) Serve(stillValid func() bool, deliver func(chat.Event) (stop bool)) {
	st.run(func() {
		ping := time.NewTicker(st.reg.cfg.PingInterval)
		defer ping.Stop()
		for {
			select {
			case <-st.ctx.Done():
				return
			case <-st.sub.Done():
				return
			case <-st.closing:
				return
			case <-st.epoch:
				return
			case <-st.end:
				return
			case <-ping.C:
				// The ping first: a slow check must not delay it past what
				// proxies and clients wait for.
				if st.w.comment("ping") != nil || stillValid != nil && !stillValid() {
					return
				}
			case ev := <-st.sub.Events():
				if st.ended() || deliver(ev) {
					return
				}
			}
		}
	})
}

// ended tells whether EndAdmin ended the stream.
func (st *Stream) ended() bool {
	select {
	case <-st.end:
		return true
	default:
		return false
	}
}

// run runs loop, in a goroutine of its own on a hijacked connection (see
// Serve).
func (st *Stream) run(loop func()) {
	if st.w.conn == nil {
		loop()
		return
	}
	st.detached = true
	st.watchConn()
	go func() {
		defer st.finish()
		defer st.recoverPanic()
		loop()
	}()
}

// Release ends the stream unless Serve handed it to its own goroutine; a
// stream never started only gives its place back. The handler defers it,
// so that an early return or a panic frees the stream too.
func (st *Stream) Release() {
	if st.detached {
		return
	}
	if st.w == nil {
		st.once.Do(func() { st.reg.release(st) })
		return
	}
	st.finish()
}

// Ended logs why a stream ended early, unless the client went away or
// stalled (that drop has its own line when the stream ends).
func (st *Stream) Ended(err error) {
	if st.ctx.Err() != nil || st.w.conn != nil && errors.As(err, new(writeError)) || st.w.timedOut() {
		return
	}
	st.reg.cfg.Logger.LogAttrs(context.Background(), slog.LevelInfo, "stream ended",
		slog.String("request_id", st.info.RequestID), slog.String("route", st.info.Route),
		slog.String("error", err.Error()))
}

// recoverPanic logs a panic of a detached stream's goroutine, which no
// middleware covers any more, and ends only that stream.
func (st *Stream) recoverPanic() {
	if v := recover(); v != nil {
		st.reg.cfg.Logger.LogAttrs(context.Background(), slog.LevelError, "panic",
			slog.String("request_id", st.info.RequestID), slog.String("route", st.info.Route),
			slog.String("error", fmt.Sprint(v)), slog.String("stack", string(debug.Stack())))
	}
}

// finish releases what the stream holds: its connection when hijacked, its
// subscription, its place in the gauge and in the registry; once.
func (st *Stream) finish() {
	st.once.Do(func() {
		if st.cancel != nil {
			st.cancel()
		}
		st.stop(false)
		st.sub.Close()
		st.countDrop()
		if st.info.Gauge != nil {
			st.info.Gauge.Dec()
		}
		st.reg.release(st)
	})
}

// countDrop logs and counts a stream that ended because its client did not
// keep up: a write that made no progress in time, or a subscription the hub
// dropped.
func (st *Stream) countDrop() {
	var reason string
	switch {
	case st.w.timedOut():
		reason = DropStalled
	case st.sub.Dropped():
		reason = DropSlow
	default:
		return
	}
	kind := st.info.Kind
	st.reg.cfg.Logger.LogAttrs(context.Background(), slog.LevelWarn, "stream dropped",
		slog.String("kind", string(kind)), slog.String("reason", reason),
		slog.String("request_id", st.info.RequestID), slog.String("route", st.info.Route))
	if st.reg.cfg.Dropped != nil {
		st.reg.cfg.Dropped(kind, reason)
	}
}

// watchClient reads the hijacked connection until it fails: the client
// closed it (or the stream did, in finish), and the stream ends at once
// rather than at its next write. It is the fallback of connWatcher (one
// goroutine for every connection, Linux only), which costs no goroutine per
// stream. A client has nothing to send on a stream; whatever it sends is
// discarded.
func (st *Stream) watchClient() {
	defer st.cancel()
	var b [1]byte
	for {
		if _, err := st.w.conn.Read(b[:]); err != nil {
			return
		}
	}
}

// watchConn has the hijacked connection watched for the client's hang-up,
// unless it was ended already.
func (st *Stream) watchConn() {
	st.connMu.Lock()
	defer st.connMu.Unlock()
	if st.stopped {
		return
	}
	if unwatch, ok := st.reg.conns.watch(st.w.conn, st.cancel); ok {
		st.unwatch = unwatch
	} else {
		go st.watchClient()
	}
}

// forceEnd ends the stream by force, for Shutdown: a stream that does not
// end in time is blocked in a write to a client that stopped reading.
func (st *Stream) forceEnd() { st.stop(true) }

// stop is done with the stream's writer, once. A hijacked connection is
// ended: its watch first (the descriptor may be reused once closed), then
// the connection itself, which fails a write in progress and ends
// watchClient when that is what watches it. A stream written through its
// handler has its writes failed when forced (the handler then returns);
// otherwise it is left as is, for net/http to finish the response.
func (st *Stream) stop(force bool) {
	st.connMu.Lock()
	defer st.connMu.Unlock()
	if st.stopped {
		return
	}
	st.stopped = true
	if st.w.conn == nil {
		if force {
			st.w.force()
		}
		return
	}
	if st.unwatch != nil {
		st.unwatch()
	}
	st.w.close()
}
