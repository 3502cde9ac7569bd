package main

import (
	"context"
	"log/slog"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"

	"github.com/parley-chat/parley/internal/config"
)

// The server's GC target follows its live heap. A small heap (a few MB: the
// usual server) gets a high target: each request allocates much of the heap
// again (a room list page ~150 KB), so at the default of 100 it would collect
// every few dozen requests and the mark phase would take a core of two (the
// room list's p99 was the GC's). A large heap (10,000 open streams: ~60 MB)
// gets the default: there a target of 400 would keep up to four times the
// live heap as garbage, which the runtime then keeps from the OS too (16.8 KB
// of RSS per idle stream at 400, 11.6 KB at 100).
const (
	// gcHeadroom is the garbage a small heap may grow by between
	// collections.
	gcHeadroom = 32 << 20
	// gcMinPercent and gcMaxPercent bound the target.
	gcMinPercent = 100
	gcMaxPercent = 400
)

// gcPercentFor is the GC target for a live heap of live bytes: the one
// letting the heap grow by gcHeadroom, within [gcMinPercent, gcMaxPercent].
func gcPercentFor(live uint64) int {
	if live == 0 {
		return gcMaxPercent
	}
	return int(min(max(uint64(gcMinPercent), 100*gcHeadroom/live), gcMaxPercent))
}

// tuneGC sets the server's GC target and soft memory limit until stop is
// called: GOGC and GOMEMLIMIT, when set, are the runtime's and are left
// alone; otherwise the target follows the live heap (gcPercentFor, looked
// at after every collection) and the limit is PARLEY_MEMORY_LIMIT (none by
// default), so a large live heap still collects before it runs out.
func tuneGC(ctx context.Context, cfg config.Config, getenv func(string) string, log *slog.Logger) (stop func()) {
	stop = func() {}
	attrs := make([]slog.Attr, 0, 2)
	if getenv("GOGC") == "" {
		stop = startGCTuner()
		attrs = append(attrs, slog.String("gc_percent", "follows the live heap"))
	} else {
		attrs = append(attrs, slog.String("gc_percent", "GOGC"))
	}
	switch {
	case getenv("GOMEMLIMIT") != "":
		attrs = append(attrs, slog.String("memory_limit", "GOMEMLIMIT"))
	case cfg.MemoryLimit > 0:
		debug.SetMemoryLimit(cfg.MemoryLimit)
		attrs = append(attrs, slog.Int64("memory_limit", cfg.MemoryLimit))
	default:
		attrs = append(attrs, slog.String("memory_limit", "none"))
	}
	log.LogAttrs(ctx, slog.LevelDebug, "gc", attrs...)
	return stop
}

// gcTuner sets the GC target after every collection from the live heap it
// left. It runs no goroutine of its own: a finalizer on an unreachable
// sentinel runs once per collection (in the runtime's finalizer goroutine)
// and sets the next one, until stopped.
type gcTuner struct {
	mu      sync.Mutex
	stopped bool
	sample  [1]metrics.Sample
	percent int
}

// gcSentinel is what the tuner's finalizer is set on: a pointer-sized
// allocation, which the runtime never batches with others (finalizers of
// tiny allocations may run late or never).
type gcSentinel struct{ _ *int }

// startGCTuner starts following the live heap; stop puts the target back
// to what it was.
func startGCTuner() (stop func()) {
	t := &gcTuner{percent: gcMaxPercent}
	t.sample[0].Name = "/gc/heap/live:bytes"
	old := debug.SetGCPercent(gcMaxPercent)
	t.arm()
	return func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		t.stopped = true
		debug.SetGCPercent(old)
	}
}

func (t *gcTuner) arm() {
	runtime.SetFinalizer(&gcSentinel{}, func(*gcSentinel) { t.collected() })
}

// collected runs after a collection: it sets the target for the live heap
// (only when it changes: setting it costs a little) and waits for the next.
func (t *gcTuner) collected() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return
	}
	metrics.Read(t.sample[:])
	if t.sample[0].Value.Kind() == metrics.KindUint64 {
		if p := gcPercentFor(t.sample[0].Value.Uint64()); p != t.percent {
			t.percent = p
			debug.SetGCPercent(p)
		}
	}
	t.arm()
}
