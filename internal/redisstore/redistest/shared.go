package redistest

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
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
