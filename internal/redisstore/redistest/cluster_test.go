package redistest_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/redisstore/redistest"
)

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

// The driver logs every failed dial to the killed node; the test checks
// what the client returns instead.
func TestMain(m *testing.M) {
	redis.SetLogger(quiet{})
	os.Exit(m.Run())
}

// The helper starts a cluster whose every slot is served, a go-redis
// ClusterClient reads and writes keys of many slots on it, and after the
// primary of one key is killed its replica takes over and the key is
// readable and writable again.
func TestCluster(t *testing.T) {
	start := time.Now()
	c := redistest.StartCluster(t)
	t.Logf("cluster started in %v", time.Since(start).Round(time.Millisecond))
	if n := len(c.Addrs()); n != 6 {
		t.Fatalf("got %d nodes, want 6", n)
	}
	primaries := c.Primaries()
	if len(primaries) != 3 {
		t.Fatalf("got primaries %v, want 3", primaries)
	}
	if u := c.URL(); !strings.HasPrefix(u, "redis-cluster://") || strings.Count(u, ",") != 5 {
		t.Fatalf("URL() = %q, want redis-cluster:// and 6 addresses", u)
	}

	ctx := context.Background()
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs(), Protocol: 2, DisableIdentity: true})
	defer rdb.Close()
	const keys = 200
	for i := range keys {
		if err := rdb.Set(ctx, fmt.Sprintf("k%d", i), i, 0).Err(); err != nil {
			t.Fatalf("SET k%d: %v", i, err)
		}
	}
	// The keys landed on every primary.
	for _, p := range primaries {
		n := redis.NewClient(&redis.Options{Addr: p, Protocol: 2, DisableIdentity: true})
		size, err := n.DBSize(ctx).Result()
		_ = n.Close()
		if err != nil || size == 0 {
			t.Fatalf("primary %s holds %d keys (err %v), want some", p, size, err)
		}
	}

	killed := c.KillPrimaryFor(t, "k7")
	if err := c.WaitHealthy(ctx); err != nil {
		t.Fatalf("after killing %s: %v", killed, err)
	}
	after := c.Primaries()
	if len(after) != 3 {
		t.Fatalf("after failover: primaries %v, want 3", after)
	}
	for _, p := range after {
		if p == killed {
			t.Fatalf("killed primary %s still listed among %v", killed, after)
		}
	}
	if strings.Contains(c.URL(), killed) {
		t.Fatalf("URL() %q lists the killed node %s", c.URL(), killed)
	}
	rdb.ReloadState(ctx)
	// The promoted replica serves k7 (with its data) once the client sees
	// the new topology.
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, err := rdb.Get(ctx, "k7").Result()
		if err == nil && v == "7" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET k7 after failover: %q, %v", v, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for i := range keys {
		k := fmt.Sprintf("k%d", i)
		if err := rdb.Set(ctx, k, "again", 0).Err(); err != nil {
			t.Fatalf("SET %s after failover: %v", k, err)
		}
		if v, err := rdb.Get(ctx, k).Result(); err != nil || v != "again" {
			t.Fatalf("GET %s after failover: %q, %v", k, v, err)
		}
	}
}
