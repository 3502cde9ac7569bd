package main

import (
	"context"
	"io"
	"log/slog"
	"math"
	"runtime/debug"
	"testing"

	"github.com/parley-chat/parley/internal/config"
)

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
		{"defaults", nil, 0, serveGCPercent, math.MaxInt64},
		{"PARLEY_MEMORY_LIMIT", nil, 512 << 20, serveGCPercent, 512 << 20},
		{"GOGC wins", map[string]string{"GOGC": "100"}, 0, 100, math.MaxInt64},
		{"GOMEMLIMIT wins", map[string]string{"GOMEMLIMIT": "1GiB"}, 512 << 20, serveGCPercent, math.MaxInt64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			debug.SetGCPercent(100)
			debug.SetMemoryLimit(math.MaxInt64)
			tuneGC(context.Background(), config.Config{MemoryLimit: tc.limit}, func(k string) string { return tc.env[k] }, quiet)
			if got := debug.SetGCPercent(100); got != tc.wantPercent {
				t.Errorf("got GC percent %d, want %d", got, tc.wantPercent)
			}
			if got := debug.SetMemoryLimit(-1); got != tc.wantLimit {
				t.Errorf("got memory limit %d, want %d", got, tc.wantLimit)
			}
		})
	}
}
