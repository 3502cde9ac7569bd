package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/redisstore"
	"github.com/parley-chat/parley/internal/redisstore/redistest"
)

// TestVisitorsTodayNotInflatable posts 100 views from one IP and user agent,
// each with a made-up visitorId: visitorsToday stays at most
// chat.VisitorSplits. Two other IPs, and two addresses of one IPv6 /64, count
// as what they are; the day's salt is in Redis with its TTL.
func TestVisitorsTodayNotInflatable(t *testing.T) {
	t.Parallel()
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{TrustedProxies: []string{"127.0.0.1/32", "::1"}})
		visit := func(ip, ua, visitorID string) chat.VisitCount {
			t.Helper()
			r := e.do(req{method: "POST", path: "/api/v1/visits", body: map[string]string{"path": "/", "visitorId": visitorID},
				header: map[string]string{"X-Forwarded-For": ip, "User-Agent": ua}})
			want(t, r, http.StatusOK, "")
			return decode[chat.VisitCount](t, r)
		}
		var last chat.VisitCount
		for i := range 100 {
			last = visit("203.0.113.1", "Mozilla/5.0 test", fmt.Sprintf("made-up-%d", i))
		}
		if last.Today != 100 || last.VisitorsToday > chat.VisitorSplits {
			t.Fatalf("one client with 100 visitorIds: got %+v, want 100 views and at most %d visitors", last, chat.VisitorSplits)
		}

		// Without visitorIds, two IPs are two visitors, each counted once.
		e2 := newEnv(t, addr, envConfig{TrustedProxies: []string{"127.0.0.1/32", "::1"}})
		visit2 := func(ip string) chat.VisitCount {
			t.Helper()
			r := e2.do(req{method: "POST", path: "/api/v1/visits", header: map[string]string{"X-Forwarded-For": ip, "User-Agent": "ua"}})
			want(t, r, http.StatusOK, "")
			return decode[chat.VisitCount](t, r)
		}
		visit2("203.0.113.1")
		visit2("203.0.113.1")
		if got := visit2("203.0.113.2").VisitorsToday; got != 2 {
			t.Fatalf("two IPs: got %d visitors, want 2", got)
		}
		// Addresses of one /64 are one client.
		visit2("2001:db8:1:2::1")
		if got := visit2("2001:db8:1:2:ffff::9").VisitorsToday; got != 3 {
			t.Fatalf("two addresses of one /64 after two IPs: got %d visitors, want 3", got)
		}

		// The day's salt is stored with a TTL of about two days.
		client, err := redisstore.Connect(redistest.URL(addr))
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		salt := e.prefix + "visits:{" + chat.DayKey(e.svc.Now()) + "}:salt"
		ttl, err := client.PTTL(ctx, salt).Result()
		if err != nil || ttl < 47*time.Hour || ttl > 48*time.Hour {
			t.Fatalf("salt %s: got TTL %v (%v), want 48h", salt, ttl, err)
		}
	})
}
