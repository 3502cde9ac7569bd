package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/redisstore/redistest"
)

// TestEvictionPolicyWarns: a Redis that evicts keys when full would delete
// conversations silently; the start-up log says so, loudly, and what to set.
func TestEvictionPolicyWarns(t *testing.T) {
	real := redistest.StartReal(t)
	for policy, warned := range map[string]bool{"allkeys-lru": true, "noeviction": false} {
		real.MustDo("CONFIG", "SET", "maxmemory-policy", policy)
		cfg, err := config.Load(func(k string) string {
			return map[string]string{"PARLEY_REDIS_URL": "redis://" + real.Addr()}[k]
		})
		if err != nil {
			t.Fatal(err)
		}
		var logs bytes.Buffer
		b, err := openBackend(context.Background(), cfg, slog.New(slog.NewTextHandler(&logs, nil)))
		if err != nil {
			t.Fatalf("backend: %v", err)
		}
		b.close()
		got := strings.Contains(logs.String(), "level=ERROR") && strings.Contains(logs.String(), "maxmemory-policy noeviction")
		if got != warned {
			t.Errorf("maxmemory-policy %s: warned %v, want %v; log:\n%s", policy, got, warned, logs.String())
		}
	}
}
