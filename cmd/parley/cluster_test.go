package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// TestServeRefusesCluster: a redis-cluster:// URL parses, but the store is
// not cluster-safe yet, so the server refuses to start, at once and saying
// why, rather than serve sends that would all fail; the bench tool too.
func TestServeRefusesCluster(t *testing.T) {
	const url = "redis-cluster://127.0.0.1:1,127.0.0.1:2"
	for _, args := range [][]string{{"serve"}, {"seed"}} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := run(ctx, args, environ(map[string]string{"PARLEY_REDIS_URL": url, "PARLEY_ADDR": "127.0.0.1:0"}),
			strings.NewReader(""), io.Discard, io.Discard)
		cancel()
		if err == nil || !strings.Contains(err.Error(), "Redis Cluster is not supported yet") || !strings.Contains(err.Error(), "PARLEY_REDIS_URL") {
			t.Errorf("parley %s on %s: got %v, want the Cluster refusal naming PARLEY_REDIS_URL", args[0], url, err)
		}
	}
	err := run(context.Background(), []string{"bench", "--redis-url", url}, environ(nil), strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "Redis Cluster is not supported yet") {
		t.Errorf("parley bench --redis-url %s: got %v, want the Cluster refusal", url, err)
	}
}
