package redisstore_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/redisstore"
	"github.com/parley-chat/parley/internal/redisstore/redistest"
)

// One real cluster serves the package's cluster tests and forEach's
// "cluster" subtests: it starts (about 2 s) on first use and stops in
// TestMain (redistest.SharedCluster).
func sharedCluster(t *testing.T) *redistest.Cluster {
	t.Helper()
	return redistest.SharedCluster(t)
}

func stopSharedCluster() { redistest.StopSharedCluster() }

// TestConnectClusterURL: the cluster forms give a cluster client with every
// seed, the credentials, TLS for rediss-cluster, and Parley's timeouts (no
// resending); the bad forms say what is wrong.
func TestConnectClusterURL(t *testing.T) {
	good := []struct {
		url        string
		addrs      []string
		user, pass string
		tls        bool
	}{
		{"redis-cluster://h1:6379,h2:6380,10.0.0.3:7000", []string{"h1:6379", "h2:6380", "10.0.0.3:7000"}, "", "", false},
		{"redis-cluster://:secret@h1:6379", []string{"h1:6379"}, "", "secret", false},
		{"redis-cluster://ann:s%40cret@h1:6379,h2:6379/", []string{"h1:6379", "h2:6379"}, "ann", "s@cret", false},
		{"rediss-cluster://ann:pw@h1:6379,h2:6379", []string{"h1:6379", "h2:6379"}, "ann", "pw", true},
		{"redis-cluster://h1:6379?pool_size=7", []string{"h1:6379"}, "", "", false},
	}
	for _, tt := range good {
		c, err := redisstore.Connect(tt.url)
		if err != nil {
			t.Errorf("%s: %v", tt.url, err)
			continue
		}
		cc, ok := c.(*redis.ClusterClient)
		if !ok {
			t.Errorf("%s: got a %T, want a *redis.ClusterClient", tt.url, c)
			_ = c.Close()
			continue
		}
		o := cc.Options()
		if fmt.Sprint(o.Addrs) != fmt.Sprint(tt.addrs) || o.Username != tt.user || o.Password != tt.pass {
			t.Errorf("%s: addrs %v user %q password %q, want %v %q %q", tt.url, o.Addrs, o.Username, o.Password, tt.addrs, tt.user, tt.pass)
		}
		if (o.TLSConfig != nil) != tt.tls || (o.TLSConfig != nil && o.TLSConfig.ServerName != "") {
			t.Errorf("%s: TLS config %+v, want TLS %v with the dialed host as server name", tt.url, o.TLSConfig, tt.tls)
		}
		if o.ReadTimeout != time.Second || o.DialTimeout != time.Second || o.PoolTimeout != time.Second ||
			o.MaxRetries != -1 || o.MaxRedirects != 0 || o.Protocol != 2 || !o.DisableIdentity {
			t.Errorf("%s: timeouts/retries not Parley's: read %v dial %v pool %v retries %d redirects %d protocol %d",
				tt.url, o.ReadTimeout, o.DialTimeout, o.PoolTimeout, o.MaxRetries, o.MaxRedirects, o.Protocol)
		}
		_ = c.Close()
	}

	bad := []struct{ url, want string }{
		{"redis-cluster://", "at least one host:port"},
		{"redis-cluster:///", "at least one host:port"},
		{"redis-cluster://h1,h2", `"h1" must be host:port`},
		{"redis-cluster://h1:6379,h2", "malformed"},
		{"redis-cluster://h1:6379,:6379", `":6379" must be host:port`},
		{"redis-cluster://h1:6379/0", "no database number"},
		{"redis-cluster://h1:6379,h2:6379/mymaster", "no database number"},
		{"redis-cluster://h1:6379?db=2", "unexpected option"},
		{"redis-cluster://h1:6379?nonsense=1", "unexpected option"},
	}
	for _, tt := range bad {
		c, err := redisstore.Connect(tt.url)
		if err == nil {
			_ = c.Close()
			t.Errorf("%s: connected, want an error saying %q", tt.url, tt.want)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want it to say %q", tt.url, err, tt.want)
		}
	}

	for _, u := range []string{"redis://h1:6379", "redis-sentinel://s1:26379/m"} {
		c, err := redisstore.Connect(u)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.Close()
	}
}

// TestConnectCluster: Connect's client talks to a real cluster, keys of
// every slot range land on their primaries, and after a primary is killed
// the client, by itself (no reload asked for), serves its keys again once
// the replica is promoted.
func TestConnectCluster(t *testing.T) {
	cl := sharedCluster(t)
	c, err := redisstore.Connect(cl.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if err := redisstore.New(c, redisstore.Options{}).Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	prefix := uniquePrefix()
	const n = 300
	for i := range n {
		if err := c.Set(ctx, fmt.Sprintf("%sk%d", prefix, i), i, time.Minute).Err(); err != nil {
			t.Fatalf("SET: %v", err)
		}
	}
	var masters atomic.Int32
	err = c.(*redis.ClusterClient).ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		size, err := m.DBSize(ctx).Result()
		if err != nil {
			return err
		}
		if size == 0 {
			return fmt.Errorf("master %s holds no key", m.Options().Addr)
		}
		masters.Add(1)
		return nil
	})
	if err != nil || masters.Load() != 3 {
		t.Fatalf("keys over the masters: %d masters, %v", masters.Load(), err)
	}

	key := prefix + "k1"
	killed := cl.KillPrimaryFor(t, key)
	// Until the replica takes over, the key's commands fail (and do not hang
	// past the bounded wait below).
	if err := cl.WaitHealthy(ctx); err != nil {
		t.Fatalf("after killing %s: %v", killed, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, err := c.Get(ctx, key).Result()
		if err == nil && v == "1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s after the failover of %s: %q, %v", key, killed, v, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for i := range n {
		k := fmt.Sprintf("%sk%d", prefix, i)
		if err := c.Set(ctx, k, "again", time.Minute).Err(); err != nil {
			t.Fatalf("SET %s after the failover: %v", k, err)
		}
	}
}

// TestCheckCluster: the local cluster's primaries (Redis 7) pass the
// version check a server makes before serving; one Redis is not checked.
func TestCheckCluster(t *testing.T) {
	cl := sharedCluster(t)
	c, err := redisstore.Connect(cl.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if err := redisstore.New(c, redisstore.Options{Prefix: uniquePrefix()}).CheckCluster(ctx); err != nil {
		t.Errorf("CheckCluster on the local cluster: %v, want nil", err)
	}
	one, err := redisstore.Connect("redis://127.0.0.1:1") // never dialed: nothing to check
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	if err := redisstore.New(one, redisstore.Options{}).CheckCluster(ctx); err != nil {
		t.Errorf("CheckCluster on one Redis: %v, want nil without a command", err)
	}
}
