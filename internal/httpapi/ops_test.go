package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

func TestObservability(t *testing.T) {
	t.Parallel()
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{})
		room, tok := e.mustRoom(nil)
		e.mustSend(room.ID, tok, false, "hello")
		e.mustSend(room.ID, e.adminToken(), true, "hi there")

		t.Run("request id", func(t *testing.T) {
			r := e.do(req{method: "GET", path: "/healthz", header: map[string]string{"X-Request-ID": "abc-123"}})
			if got := r.header.Get("X-Request-ID"); got != "abc-123" {
				t.Fatalf("got X-Request-ID %q, want the client's", got)
			}
			r = e.do(req{method: "GET", path: "/healthz", header: map[string]string{"X-Request-ID": "bad id\twith spaces"}})
			if got := r.header.Get("X-Request-ID"); got == "" || strings.ContainsAny(got, " \t") {
				t.Fatalf("got X-Request-ID %q, want a generated one", got)
			}
			if !strings.Contains(e.logs.String(), `"request_id":"abc-123"`) {
				t.Fatalf("the access log lacks the request id")
			}
		})

		t.Run("access log", func(t *testing.T) {
			e.do(req{method: "GET", path: "/api/v1/rooms/" + room.ID + "/messages?after=0&token=s3cret-value&x=" + tok, token: tok})
			logs := e.logs.String()
			for _, secret := range []string{tok, "s3cret-value", "Bearer"} {
				if strings.Contains(logs, secret) {
					t.Fatalf("the log holds %q", secret)
				}
			}
			if !containsAll(logs, `"route":"/api/v1/rooms/:id/messages"`, `"status":200`, `"duration_ms":`, `"client_ip":"127.0.0.1"`, `"method":"GET"`, "REDACTED") {
				t.Fatalf("the access log lacks fields: %s", logs)
			}
		})

		t.Run("metrics", func(t *testing.T) {
			e.do(req{method: "GET", path: "/nothing/here"})
			r := e.do(req{method: "GET", path: "/metrics", token: testMetricsToken})
			want(t, r, 200, "")
			body := string(r.body)
			for _, s := range []string{
				`parley_http_requests_total{method="POST",route="/api/v1/rooms/:id/messages",status="201"} 1`,
				`parley_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
				`parley_messages_sent_total{sender="visitor"} 1`,
				`parley_messages_sent_total{sender="admin"} 1`,
				`parley_open_streams{kind="visitor"} 0`,
				`parley_store_errors_total 0`,
				`parley_http_request_duration_seconds_bucket{method="POST",route="/api/v1/rooms",status="201",le=`,
			} {
				if !strings.Contains(body, s) {
					t.Fatalf("metrics lack %q", s)
				}
			}
			if strings.Contains(body, room.ID) {
				t.Fatalf("metrics carry a room id")
			}
		})
	})

	t.Run("panic and readiness", func(t *testing.T) {
		var mode atomic.Value
		mode.Store("")
		ready := func(ctx context.Context) error {
			switch mode.Load().(string) {
			case "panic":
				panic("boom: /secret/path")
			case "down":
				return errors.New("dial tcp 10.0.0.1:6379: connection refused")
			case "slow":
				<-ctx.Done()
				return ctx.Err()
			}
			return nil
		}
		e := newEnv(t, startEmbedded(t), envConfig{Ready: ready})
		want(t, e.do(req{method: "GET", path: "/readyz"}), 200, "")
		for _, m := range []string{"down", "slow"} {
			mode.Store(m)
			r := e.do(req{method: "GET", path: "/readyz"})
			want(t, r, http.StatusServiceUnavailable, "store_unavailable")
			if strings.Contains(string(r.body), "10.0.0.1") || strings.Contains(string(r.body), "deadline") {
				t.Fatalf("the body tells internals: %s", r.body)
			}
		}
		mode.Store("panic")
		r := e.do(req{method: "GET", path: "/readyz"})
		want(t, r, http.StatusInternalServerError, "internal")
		if strings.Contains(string(r.body), "boom") || strings.Contains(string(r.body), "secret") || !strings.Contains(string(r.body), `"internal error"`) {
			t.Fatalf("got body %s", r.body)
		}
		if !containsAll(e.logs.String(), "boom", `"stack"`) {
			t.Fatalf("the panic was not logged with its stack")
		}
		mode.Store("")
		want(t, e.do(req{method: "GET", path: "/healthz"}), 200, "")
	})
}
