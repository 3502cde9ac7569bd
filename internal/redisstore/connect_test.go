package redisstore_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/redisstore"
)

func TestConnectForms(t *testing.T) {
	tests := []struct {
		url  string
		want string // "client", or "" for an error
	}{
		{"redis://localhost:6379/0", "client"},
		{"rediss://:secret@redis.example.com:6380/1", "client"},
		{"redis-sentinel://:pw@s1:26379,s2:26379/mymaster", "client"},
		{"rediss-sentinel://s1:26379/mymaster/2?sentinel_password=x", "client"},
		{"redis-cluster://h1:6379,h2:6379", "cluster"},
		{"rediss-cluster://u:p@h1:6379", "cluster"},
		{"redis-sentinel://s1:26379", ""},              // no master name
		{"redis-sentinel://s1:26379/m/notanumber", ""}, // bad db
		{"redis-cluster://h1,h2", ""},                  // no ports
		{"http://localhost:6379", ""},
		{"::not a url", ""},
	}
	for _, tt := range tests {
		c, err := redisstore.Connect(tt.url)
		got := ""
		switch c.(type) {
		case *redis.Client:
			got = "client" // a Sentinel failover client is one too
		case *redis.ClusterClient:
			got = "cluster"
		}
		if err != nil && tt.want != "" {
			t.Errorf("%s: got error %v, want a %s", tt.url, err, tt.want)
		}
		if got != tt.want {
			t.Errorf("%s: got %q (err %v), want %q", tt.url, got, err, tt.want)
		}
		if c != nil {
			_ = c.Close()
		}
	}
}
