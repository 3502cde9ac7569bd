package main

import (
	"context"
	"log/slog"
	"runtime/debug"

	"github.com/parley-chat/parley/internal/config"
)

// serveGCPercent is the GC target of a server unless GOGC says otherwise. The
// server's live heap is small (a few MB) and each request allocates much of
// it again (a room list page ~150 KB), so at the default of 100 it collects
// every few dozen requests and the mark phase takes a core of two: the room
// list's p99 was the GC's. 400 trades a few MB of heap for that.
const serveGCPercent = 400

// tuneGC sets the server's GC target and soft memory limit: GOGC and
// GOMEMLIMIT, when set, are the runtime's and are left alone; otherwise the
// target is serveGCPercent and the limit is PARLEY_MEMORY_LIMIT (none by
// default), so a large live heap still collects before it runs out.
func tuneGC(ctx context.Context, cfg config.Config, getenv func(string) string, log *slog.Logger) {
	attrs := make([]slog.Attr, 0, 2)
	if getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
		attrs = append(attrs, slog.Int("gc_percent", serveGCPercent))
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
}
