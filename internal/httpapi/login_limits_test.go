package httpapi_test

import (
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// loginFrom logs in as user with pw from the client ip (through a trusted
// proxy's X-Forwarded-For; "" for the connection's own address).
func (e *env) loginFrom(ip, user, pw string) resp {
	e.t.Helper()
	r := req{method: "POST", path: "/api/v1/admin/login", body: map[string]string{"username": user, "password": pw}}
	if ip != "" {
		r.header = map[string]string{"X-Forwarded-For": ip}
	}
	return e.do(r)
}

var trusted = []string{"127.0.0.1/32", "::1"}

// TestLoginCountsFailuresOnly: a team behind one address logs in as often
// as it likes with the right password; failures still bind, also when many
// guesses run at once.
func TestLoginCountsFailuresOnly(t *testing.T) {
	t.Parallel()
	forEachRedis(t, func(t *testing.T, addr string) {
		t.Run("successes", func(t *testing.T) {
			e := newEnv(t, addr, envConfig{Limits: chat.Limits{Login: &chat.Limit{N: 2, Per: 15 * time.Minute}}})
			for i := 0; i < 5; i++ {
				want(t, e.loginFrom("", adminUser, adminPassword), 200, "")
			}
			want(t, e.loginFrom("", adminUser, "wrong 1"), 401, "unauthorized")
			want(t, e.loginFrom("", adminUser, adminPassword), 200, "")
			want(t, e.loginFrom("", adminUser, "wrong 2"), 401, "unauthorized")
			// Two failures: now even the right password waits.
			wantLimited(t, e.loginFrom("", adminUser, adminPassword), 2)
		})
		t.Run("concurrent guesses", func(t *testing.T) {
			e := newEnv(t, addr, envConfig{Limits: chat.Limits{Login: &chat.Limit{N: 3, Per: 15 * time.Minute}}})
			var (
				wg     sync.WaitGroup
				mu     sync.Mutex
				status = map[int]int{}
			)
			for i := 0; i < 12; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := doWith(t, e.client, e.url("/api/v1/admin/login"), req{method: "POST",
						body: map[string]string{"username": adminUser, "password": "guess " + strconv.Itoa(i)}})
					mu.Lock()
					status[r.status]++
					mu.Unlock()
				}()
			}
			wg.Wait()
			if status[401] != 3 || status[429] != 9 {
				t.Fatalf("12 concurrent guesses, limit 3: got %v, want 3×401 and 9×429", status)
			}
			wantLimited(t, e.loginFrom("", adminUser, adminPassword), 3)
		})
	})
}

// TestLoginBackoffPerUsername: guesses for one username from ever new
// addresses get 5 tries, then each waits twice as long as the one before
// (Retry-After says how long); the right password after the wait logs in and
// starts the count again; other usernames are not slowed.
func TestLoginBackoffPerUsername(t *testing.T) {
	t.Parallel()
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{TrustedProxies: trusted, Limits: chat.Limits{
			Login:     &chat.Limit{N: 10, Per: 15 * time.Minute},
			LoginUser: &chat.Limit{N: 5, Per: 15 * time.Minute},
		}})
		ip := 0
		next := func() string { ip++; return "198.51.100." + strconv.Itoa(ip) }
		failFive := func() {
			t.Helper()
			for i := 0; i < 5; i++ {
				want(t, e.loginFrom(next(), adminUser, "wrong"), 401, "unauthorized")
			}
		}
		retryAfter := func(r resp) int {
			t.Helper()
			wantLimited(t, r, 5)
			n, _ := strconv.Atoi(r.header.Get("Retry-After"))
			return n
		}
		failFive()
		if got := retryAfter(e.loginFrom(next(), adminUser, adminPassword)); got != 1 {
			t.Fatalf("6th attempt: got Retry-After %d, want 1", got)
		}
		want(t, e.loginFrom(next(), "bob", "wrong"), 401, "unauthorized") // another username
		time.Sleep(1100 * time.Millisecond)
		want(t, e.loginFrom(next(), adminUser, "wrong"), 401, "unauthorized") // the 6th failure
		if got := retryAfter(e.loginFrom(next(), adminUser, adminPassword)); got != 2 {
			t.Fatalf("after 6 failures: got Retry-After %d, want 2", got)
		}
		time.Sleep(2100 * time.Millisecond)
		want(t, e.loginFrom(next(), adminUser, adminPassword), http.StatusOK, "")
		// The success started the count again.
		failFive()
		retryAfter(e.loginFrom(next(), adminUser, "wrong"))
	})
}

// TestIPv6ClientsLimitedByNetwork: addresses of one /64 share every per-IP
// limit, other networks do not; an IPv4-mapped address is its IPv4 address;
// PARLEY_IPV6_PREFIX widens the network.
func TestIPv6ClientsLimitedByNetwork(t *testing.T) {
	t.Parallel()
	limits := chat.Limits{
		Rooms:  &chat.Limit{N: 2, Per: time.Hour},
		Login:  &chat.Limit{N: 2, Per: 15 * time.Minute},
		Visits: &chat.Limit{N: 2, Per: time.Minute},
	}
	forEachRedis(t, func(t *testing.T, addr string) {
		xff := func(ip string) map[string]string { return map[string]string{"X-Forwarded-For": ip} }
		t.Run("rooms", func(t *testing.T) {
			e := newEnv(t, addr, envConfig{Limits: limits, TrustedProxies: trusted})
			create := func(ip string) resp { return e.do(req{method: "POST", path: "/api/v1/rooms", header: xff(ip)}) }
			want(t, create("2001:db8:1:2::1"), 201, "")
			want(t, create("2001:db8:1:2::2"), 201, "")
			wantLimited(t, create("2001:db8:1:2:ffff:eeee:dddd:3"), 2)
			want(t, create("2001:db8:1:3::1"), 201, "") // the next /64
			want(t, create("::ffff:203.0.113.5"), 201, "")
			want(t, create("203.0.113.5"), 201, "")
			wantLimited(t, create("::ffff:203.0.113.5"), 2)
			want(t, create("203.0.113.6"), 201, "")
		})
		t.Run("login", func(t *testing.T) {
			e := newEnv(t, addr, envConfig{Limits: limits, TrustedProxies: trusted})
			want(t, e.loginFrom("2001:db8:9:9::1", adminUser, "wrong"), 401, "unauthorized")
			want(t, e.loginFrom("2001:db8:9:9::2", adminUser, "wrong"), 401, "unauthorized")
			wantLimited(t, e.loginFrom("2001:db8:9:9::3", adminUser, adminPassword), 2)
			want(t, e.loginFrom("2001:db8:9:a::1", adminUser, adminPassword), 200, "")
		})
		t.Run("visits", func(t *testing.T) {
			e := newEnv(t, addr, envConfig{Limits: limits, TrustedProxies: trusted})
			visit := func(ip string) resp {
				return e.do(req{method: "POST", path: "/api/v1/visits", body: `{"path":"/"}`, header: xff(ip)})
			}
			want(t, visit("2001:db8:5:5::1"), 200, "")
			want(t, visit("2001:db8:5:5::2"), 200, "")
			wantLimited(t, visit("2001:db8:5:5::3"), 2)
			want(t, visit("2001:db8:5:6::1"), 200, "")
		})
		t.Run("prefix 48", func(t *testing.T) {
			e := newEnv(t, addr, envConfig{Limits: limits, TrustedProxies: trusted, IPv6Prefix: 48})
			create := func(ip string) resp { return e.do(req{method: "POST", path: "/api/v1/rooms", header: xff(ip)}) }
			want(t, create("2001:db8:1:2::1"), 201, "")
			want(t, create("2001:db8:1:3::1"), 201, "")
			wantLimited(t, create("2001:db8:1:ffff::1"), 2)
			want(t, create("2001:db8:2::1"), 201, "")
		})
	})
}
