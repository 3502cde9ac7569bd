package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
)

// get fetches url with an optional bearer token.
func get(tb testing.TB, url, token string) (int, string) {
	tb.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestMetricsListener: Prometheus reads /metrics without a token on the
// metrics listener; on the public listener only with PARLEY_METRICS_TOKEN;
// the metrics listener stops with the app.
func TestMetricsListener(t *testing.T) {
	const token = "scrape-token-0123456789"
	app := startTestApp(t, map[string]string{"PARLEY_METRICS_TOKEN": token})
	if app.MetricsURL == "" {
		t.Fatal("no metrics listener")
	}
	app.call(t, "GET", "/healthz", "", nil, nil)
	st, body := get(t, app.MetricsURL+"/metrics", "")
	if st != 200 || !strings.Contains(body, `parley_http_requests_total{method="GET",route="/healthz",status="200"} 1`) {
		t.Fatalf("metrics listener: got %d %.300s, want the metrics", st, body)
	}
	if st, _ := get(t, app.MetricsURL+"/api/v1/visits", ""); st != 404 {
		t.Errorf("metrics listener serves the API: got %d, want 404", st)
	}
	if st, body := get(t, app.URL+"/metrics", ""); st != 401 || strings.Contains(body, "parley_") || !strings.Contains(body, `"code":"unauthorized"`) {
		t.Errorf("public /metrics without the token: got %d %.200s, want 401 unauthorized", st, body)
	}
	if st, body := get(t, app.URL+"/metrics", token); st != 200 || !strings.Contains(body, "parley_open_streams") {
		t.Errorf("public /metrics with the token: got %d %.200s", st, body)
	}

	app.stop(t)
	if c, err := net.DialTimeout("tcp", strings.TrimPrefix(app.MetricsURL, "http://"), time.Second); err == nil {
		c.Close()
		t.Error("the metrics listener still accepts connections after shutdown")
	}

	t.Run("no token configured", func(t *testing.T) {
		app := startTestApp(t, map[string]string{"PARLEY_METRICS_ADDR": "off"})
		if app.MetricsURL != "" {
			t.Errorf("PARLEY_METRICS_ADDR=off: got a listener at %s", app.MetricsURL)
		}
		for _, tok := range []string{"", token} {
			if st, _ := get(t, app.URL+"/metrics", tok); st != 401 {
				t.Errorf("public /metrics with %q and no token configured: got %d, want 401", tok, st)
			}
		}
	})
}

// syncLog is a log sink safe for the server's goroutines.
type syncLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// TestMetricsAddrTaken: a chosen PARLEY_METRICS_ADDR that is taken stops the
// start; the default one taken (a second Parley on the host) is a warning,
// and the start-up line names the allowed origins.
func TestMetricsAddrTaken(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	load := func(extra map[string]string) config.Config {
		vars := map[string]string{
			"PARLEY_ADDR":            "127.0.0.1:0",
			"PARLEY_DATA_DIR":        t.TempDir(),
			"PARLEY_JWT_SECRET":      "test-secret-test-secret-test-secret!",
			"PARLEY_ADMIN_PASSWORD":  "admin-password",
			"PARLEY_ALLOWED_ORIGINS": "https://shop.example.com,http://127.0.0.1:*",
		}
		for k, v := range extra {
			vars[k] = v
		}
		cfg, err := config.Load(func(k string) string { return vars[k] })
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}

	t.Run("chosen", func(t *testing.T) {
		cfg := load(map[string]string{"PARLEY_METRICS_ADDR": busy.Addr().String()})
		err := serve(context.Background(), cfg, slog.New(slog.DiscardHandler))
		if err == nil || !strings.Contains(err.Error(), "PARLEY_METRICS_ADDR") {
			t.Fatalf("got %v, want an error naming PARLEY_METRICS_ADDR", err)
		}
	})

	t.Run("default", func(t *testing.T) {
		cfg := load(nil)
		cfg.MetricsAddr = busy.Addr().String() // as if the default were taken
		logs := &syncLog{}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- serve(ctx, cfg, slog.New(slog.NewTextHandler(logs, nil))) }()
		deadline := time.Now().Add(15 * time.Second)
		for !strings.Contains(logs.String(), "parley is running") {
			select {
			case err := <-done:
				cancel()
				t.Fatalf("serve ended: %v; log:\n%s", err, logs)
			case <-time.After(20 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				cancel()
				t.Fatalf("never started; log:\n%s", logs)
			}
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		out := logs.String()
		if !strings.Contains(out, "level=WARN msg=\"metrics listener off") || !strings.Contains(out, "PARLEY_METRICS_ADDR") {
			t.Errorf("no warning about the taken metrics address; log:\n%s", out)
		}
		if !strings.Contains(out, `allowed_origins=https://shop.example.com,http://127.0.0.1:*`) || !strings.Contains(out, "metrics=off") {
			t.Errorf("the start-up line lacks the allowed origins or the metrics address; log:\n%s", out)
		}
	})
}
