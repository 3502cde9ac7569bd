package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
)

func TestGCPercentFor(t *testing.T) {
	for _, tc := range []struct {
		live uint64
		want int
	}{
		{0, 400},
		{4 << 20, 400},  // the usual server: 32 MB of headroom is over 400%
		{8 << 20, 400},  // exactly 400%
		{16 << 20, 200}, // a busy one
		{32 << 20, 100},
		{600 << 20, 100}, // never below the runtime's default
	} {
		if got := gcPercentFor(tc.live); got != tc.want {
			t.Errorf("live %d MB: got %d, want %d", tc.live>>20, got, tc.want)
		}
	}
}

// gcPercent reads the GC target without changing it.
func gcPercent() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

// waitGCPercent collects until the tuner has set want (its finalizer runs
// after a collection, in the runtime's finalizer goroutine).
func waitGCPercent(t *testing.T, want int) {
	t.Helper()
	waitGCPercentIs(t, fmt.Sprint(want), func(p int) bool { return p == want })
}

// waitGCPercentIs collects until the GC percent satisfies ok.
func waitGCPercentIs(t *testing.T, want string, ok func(int) bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); {
		runtime.GC()
		if ok(gcPercent()) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("GC percent %d, want %s", gcPercent(), want)
}

// waitSmallHeapPercent waits for the target of a small live heap: the test
// binary's own live heap (every test of the package shares it: assets,
// parsers, what earlier tests left) is a few MB, so the target is near
// gcMaxPercent, not always exactly it.
func waitSmallHeapPercent(t *testing.T) {
	t.Helper()
	waitGCPercentIs(t, "a small heap's (over 3 × the minimum)", func(p int) bool { return p > 3*gcMinPercent })
}

func TestTuneGC(t *testing.T) {
	oldPercent := debug.SetGCPercent(100)
	oldLimit := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() {
		debug.SetGCPercent(oldPercent)
		debug.SetMemoryLimit(oldLimit)
	})
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct {
		name        string
		env         map[string]string
		limit       int64
		wantPercent int
		wantLimit   int64
	}{
		{"defaults", nil, 0, gcMaxPercent, math.MaxInt64},
		{"PARLEY_MEMORY_LIMIT", nil, 512 << 20, gcMaxPercent, 512 << 20},
		{"GOGC wins", map[string]string{"GOGC": "100"}, 0, 100, math.MaxInt64},
		{"GOMEMLIMIT wins", map[string]string{"GOMEMLIMIT": "1GiB"}, 512 << 20, gcMaxPercent, math.MaxInt64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			debug.SetGCPercent(100)
			debug.SetMemoryLimit(math.MaxInt64)
			stop := tuneGC(context.Background(), config.Config{MemoryLimit: tc.limit}, func(k string) string { return tc.env[k] }, quiet)
			defer stop()
			// The tuner starts at gcMaxPercent; a collection meanwhile sets
			// the target of the test binary's own heap, near it.
			if got := gcPercent(); got != tc.wantPercent && (tc.wantPercent != gcMaxPercent || got <= 3*gcMinPercent) {
				t.Errorf("got GC percent %d, want %d", got, tc.wantPercent)
			}
			if got := debug.SetMemoryLimit(-1); got != tc.wantLimit {
				t.Errorf("got memory limit %d, want %d", got, tc.wantLimit)
			}
		})
	}
}

// TestGCTunerFollowsLiveHeap checks that the target drops to the default
// while the live heap is large (many open streams) and goes back up when it
// shrinks, and that stopping the tuner restores the target it found.
func TestGCTunerFollowsLiveHeap(t *testing.T) {
	old := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(old) })
	stop := startGCTuner()
	waitSmallHeapPercent(t)

	live := make([][]byte, 64)
	for i := range live {
		live[i] = make([]byte, 1<<20)
	}
	waitGCPercent(t, gcMinPercent)
	runtime.KeepAlive(live)
	live = nil
	waitSmallHeapPercent(t)

	stop()
	if got := gcPercent(); got != 100 {
		t.Errorf("after stop: GC percent %d, want the 100 it started from", got)
	}
	runtime.GC()
	time.Sleep(50 * time.Millisecond)
	if got := gcPercent(); got != 100 {
		t.Errorf("a collection after stop set the GC percent to %d", got)
	}
}
