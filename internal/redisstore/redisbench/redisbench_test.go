package redisbench_test

import (
	"context"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/redisstore"
	"github.com/parley-chat/parley/internal/redisstore/redisbench"
	"github.com/parley-chat/parley/internal/redisstore/redistest"
)

func TestMain(m *testing.M) {
	redisstore.SetDriverLog(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}

// mustOpen returns the bench's client and, to look behind its back, a plain
// one over the same server.
func mustOpen(tb testing.TB, addr string) (*redisbench.Client, redis.UniversalClient) {
	tb.Helper()
	c, err := redisbench.Open("redis://" + addr)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	raw, err := redisstore.Connect("redis://" + addr)
	if err != nil {
		tb.Fatalf("connect: %v", err)
	}
	tb.Cleanup(func() { _ = raw.Close() })
	return c, raw
}

func keys(tb testing.TB, raw redis.UniversalClient) []string {
	tb.Helper()
	ks, err := raw.Keys(context.Background(), "*").Result()
	if err != nil {
		tb.Fatalf("KEYS: %v", err)
	}
	slices.Sort(ks)
	return ks
}

func TestDeletePrefix(t *testing.T) {
	redistest.ForEach(t, func(t *testing.T, addr string) {
		c, raw := mustOpen(t, addr)
		ctx := context.Background()
		// The prefix holds glob characters: they must match only themselves.
		prefix := "run[1]*:"
		doomed := []string{prefix + "a", prefix + "room:x:messages", prefix + "events"}
		kept := []string{"parley:room:x", "run1:a", "run[1]x:a", "other"}
		for _, k := range append(slices.Clone(doomed), kept...) {
			if err := raw.Set(ctx, k, "v", 0).Err(); err != nil {
				t.Fatalf("SET %s: %v", k, err)
			}
		}
		n, err := c.DeletePrefix(ctx, prefix)
		if err != nil {
			t.Fatalf("delete prefix: %v", err)
		}
		if n != int64(len(doomed)) {
			t.Errorf("got %d removed, want %d", n, len(doomed))
		}
		want := slices.Sorted(slices.Values(kept))
		if got := keys(t, raw); !slices.Equal(got, want) {
			t.Errorf("got keys %q left, want %q", got, want)
		}
	})
}

func TestDeletePrefixRefusesParleysData(t *testing.T) {
	c, raw := mustOpen(t, redistest.StartEmbedded(t))
	ctx := context.Background()
	if err := raw.Set(ctx, redisstore.DefaultPrefix+"room:x", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"", redisstore.DefaultPrefix} {
		if n, err := c.DeletePrefix(ctx, prefix); err == nil || n != 0 {
			t.Errorf("prefix %q: got %d removed, error %v; want a refusal", prefix, n, err)
		}
	}
	if got := keys(t, raw); len(got) != 1 {
		t.Errorf("got keys %q, want Parley's key kept", got)
	}
}

func TestRawPushCeiling(t *testing.T) {
	redistest.ForEach(t, func(t *testing.T, addr string) {
		c, raw := mustOpen(t, addr)
		ops, err := c.RawPushCeiling(context.Background(), "bench-test:", 1000, 100)
		if err != nil {
			t.Fatalf("ceiling: %v", err)
		}
		if ops <= 0 {
			t.Errorf("got %.0f ops/s, want a positive rate", ops)
		}
		if got := keys(t, raw); len(got) != 0 {
			t.Errorf("got keys %q left behind, want none", got)
		}
		if _, err := c.RawPushCeiling(context.Background(), "bench-test:", 0, 100); err == nil {
			t.Error("n = 0: got no error, want one")
		}
	})
}

func TestDescribe(t *testing.T) {
	redistest.ForEach(t, func(t *testing.T, addr string) {
		c, _ := mustOpen(t, addr)
		got := c.Describe(context.Background())
		want := "embedded (miniredis)"
		if strings.HasSuffix(t.Name(), "/redis-server") {
			want = "redis-server "
		}
		if !strings.HasPrefix(got, want) {
			t.Errorf("got %q, want it to start with %q", got, want)
		}
	})
}

// BenchmarkRawPushCeiling is the raw Redis ceiling `parley bench` prints.
func BenchmarkRawPushCeiling(b *testing.B) {
	redistest.ForEachB(b, func(b *testing.B, addr string) {
		c, _ := mustOpen(b, addr)
		b.ReportAllocs()
		ops, err := c.RawPushCeiling(context.Background(), "bench:", b.N, 100)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(ops, "push/s")
	})
}
