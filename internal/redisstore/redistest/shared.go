package redistest

import (
	"context"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// One real cluster per test binary: SharedCluster starts it (about 2 s) on
// first use, and the package's TestMain stops it with StopSharedCluster.
// Tests keep apart on it by their unique key prefixes.
var shared struct {
	once sync.Once
	c    *Cluster
	dir  string
	err  error
}

// SharedCluster returns the test binary's shared cluster, started on first
// use, once it is healthy (after a test's failover, once the replica serves);
// it skips the test when redis-server or redis-cli is not installed. The
// package's TestMain must call StopSharedCluster after m.Run.
func SharedCluster(tb testing.TB) *Cluster {
	tb.Helper()
	if !ClusterInstalled() {
		tb.Skip("redis-server or redis-cli not installed")
	}
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "parley-cluster-")
		if shared.err == nil {
			start := time.Now()
			shared.c, shared.err = NewCluster(shared.dir)
			if shared.err == nil {
				tb.Logf("shared cluster started in %v", time.Since(start).Round(time.Millisecond))
			}
		}
	})
	if shared.err != nil {
		tb.Fatalf("start the shared cluster: %v", shared.err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), clusterWait)
	defer cancel()
	if err := shared.c.WaitHealthy(ctx); err != nil {
		tb.Fatalf("shared cluster: %v", err)
	}
	return shared.c
}

// StopSharedCluster kills the shared cluster, if one was started, and
// removes its files.
func StopSharedCluster() {
	if shared.c != nil {
		shared.c.Close()
	}
	if shared.dir != "" {
		_ = os.RemoveAll(shared.dir)
	}
}

// ForEachWithCluster is ForEach with a third subtest, "cluster", on the
// shared cluster (SharedCluster): there fn's addr is the cluster's
// redis-cluster:// URL, not a host:port, so fn must connect with URL(addr).
// The cluster is not fresh: fn must keep to its own key prefix.
func ForEachWithCluster(t *testing.T, fn func(t *testing.T, addr string)) {
	t.Helper()
	ForEach(t, fn)
	if !ClusterInstalled() {
		t.Log("redis-cli not installed: not run on a cluster")
		return
	}
	t.Run("cluster", func(t *testing.T) {
		fn(t, SharedCluster(t).URL())
	})
}

// URL is the Redis URL of an addr ForEach or ForEachWithCluster gives:
// redis://host:port, or the cluster's URL as it is.
func URL(addr string) string {
	if strings.Contains(addr, "://") {
		return addr
	}
	return "redis://" + addr
}

// IsCluster tells whether an addr ForEachWithCluster gives is the cluster's.
func IsCluster(addr string) bool { return strings.HasPrefix(addr, "redis-cluster://") }

// Keys lists the keys matching pattern (SCAN, sorted) on the Redis at addr,
// a host:port or a cluster's URL: on a cluster, over every primary.
func Keys(tb testing.TB, addr, pattern string) []string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	scan := func(ctx context.Context, c redis.Cmdable) ([]string, error) {
		var out []string
		iter := c.Scan(ctx, 0, pattern, 1000).Iterator()
		for iter.Next(ctx) {
			out = append(out, iter.Val())
		}
		return out, iter.Err()
	}
	var out []string
	var err error
	if IsCluster(addr) {
		cc := clusterClient(addr)
		defer cc.Close()
		var mu sync.Mutex
		err = cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
			keys, err := scan(ctx, m)
			mu.Lock()
			out = append(out, keys...)
			mu.Unlock()
			return err
		})
	} else {
		c := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, DisableIdentity: true})
		defer c.Close()
		out, err = scan(ctx, c)
	}
	if err != nil {
		tb.Fatalf("SCAN %s: %v", pattern, err)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// NodeFor returns the host:port that serves key at addr: addr itself, or on
// a cluster (its URL) the primary of key's slot, for a test that talks RESP
// to it directly.
func NodeFor(tb testing.TB, addr, key string) string {
	tb.Helper()
	if !IsCluster(addr) {
		return addr
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cc := clusterClient(addr)
	defer cc.Close()
	m, err := cc.MasterForKey(ctx, key)
	if err != nil {
		tb.Fatalf("the primary of %q: %v", key, err)
	}
	return m.Options().Addr
}

func clusterClient(url string) *redis.ClusterClient {
	return redis.NewClusterClient(&redis.ClusterOptions{
		Addrs:    strings.Split(strings.TrimPrefix(url, "redis-cluster://"), ","),
		Protocol: 2, DisableIdentity: true})
}
