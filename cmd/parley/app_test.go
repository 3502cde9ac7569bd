package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/parley-chat/parley/internal/config"
)

// testApp is a whole Parley (embedded Redis, real router, real streams)
// listening on 127.0.0.1, for end-to-end and browser tests.
type testApp struct {
	URL           string
	MetricsURL    string // "" when PARLEY_METRICS_ADDR is off
	AdminUser     string
	AdminPassword string
	srv           *server
	stop          func(tb testing.TB)
}

// startTestApp starts Parley the way `parley serve` does, with env on top of
// test defaults (rate limits off unless env sets them), and stops it at the
// end of the test.
func startTestApp(tb testing.TB, env map[string]string) *testApp {
	tb.Helper()
	return startTestAppWith(tb, env, nil)
}

// startTestAppWith is startTestApp with prepare run on the backend before
// the server is built (to give it what the environment cannot, such as a
// test mail setup).
func startTestAppWith(tb testing.TB, env map[string]string, prepare func(cfg config.Config, b *backend)) *testApp {
	tb.Helper()
	vars := map[string]string{
		"PARLEY_ADDR":           "127.0.0.1:0",
		"PARLEY_DATA_DIR":       tb.TempDir(),
		"PARLEY_ADMIN_USER":     "admin",
		"PARLEY_ADMIN_PASSWORD": "admin-password",
		"PARLEY_JWT_SECRET":     "test-secret-test-secret-test-secret!",
		"PARLEY_RATE_LIMITS":    "off",
		"PARLEY_LOG_LEVEL":      "warn",
		// Tests run several apps at once: each gets a metrics port of its own.
		"PARLEY_METRICS_ADDR": "127.0.0.1:0",
	}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		tb.Fatalf("config: %v", err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	}
	ctx, cancel := context.WithCancel(context.Background())
	b, err := openBackend(ctx, cfg, log)
	if err != nil {
		cancel()
		tb.Fatalf("backend: %v", err)
	}
	if prepare != nil {
		prepare(cfg, b)
	}
	s, err := newServer(ctx, cfg, b)
	if err != nil {
		cancel()
		b.close()
		tb.Fatalf("server: %v", err)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		cancel()
		b.close()
		tb.Fatal(err)
	}
	metricsLn, err := listenMetrics(cfg, log)
	if err != nil {
		cancel()
		_ = ln.Close()
		b.close()
		tb.Fatal(err)
	}
	metricsURL := ""
	if metricsLn != nil {
		metricsURL = "http://" + metricsLn.Addr().String()
	}
	done := make(chan error, 1)
	go func() { done <- s.run(ctx, ln, metricsLn) }()
	var once sync.Once
	stop := func(tb testing.TB) {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					tb.Errorf("server run: %v", err)
				}
			case <-time.After(15 * time.Second):
				tb.Error("server did not shut down within 15s")
			}
			b.close()
		})
	}
	tb.Cleanup(func() { stop(tb) })
	return &testApp{URL: "http://" + ln.Addr().String(), MetricsURL: metricsURL, AdminUser: "admin", AdminPassword: vars["PARLEY_ADMIN_PASSWORD"], srv: s, stop: stop}
}

// call sends a JSON request and decodes a JSON answer into out (when not nil).
// It returns the status code.
func (a *testApp) call(tb testing.TB, method, path, token string, body, out any) int {
	tb.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			tb.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.URL+path, r)
	if err != nil {
		tb.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			tb.Fatalf("%s %s: decode %q: %v", method, path, data, err)
		}
	}
	return res.StatusCode
}

// adminToken logs in as the test admin.
func (a *testApp) adminToken(tb testing.TB) string {
	tb.Helper()
	var out struct{ Token string }
	if st := a.call(tb, "POST", "/api/v1/admin/login", "", map[string]string{"username": a.AdminUser, "password": a.AdminPassword}, &out); st != 200 {
		tb.Fatalf("login: got %d, want 200", st)
	}
	return out.Token
}

// newVisitor creates a room through the API and returns its id and token.
func (a *testApp) newVisitor(tb testing.TB, name string) (roomID, token string) {
	tb.Helper()
	var out struct {
		Room  struct{ ID string }
		Token string
	}
	if st := a.call(tb, "POST", "/api/v1/rooms", "", map[string]string{"name": name}, &out); st != 201 {
		tb.Fatalf("create room: got %d, want 201", st)
	}
	return out.Room.ID, out.Token
}

// newBrowser starts headless Debian Chromium for a browser test, or skips the
// test when it is not installed. The context ends with the test.
func newBrowser(tb testing.TB) context.Context {
	tb.Helper()
	const bin = "/usr/bin/chromium"
	if _, err := os.Stat(bin); err != nil {
		tb.Skip("browser test skipped: /usr/bin/chromium is not installed (apt-get install chromium; .ci/run does)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.WindowSize(1280, 800),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	tb.Cleanup(func() { cancel(); cancelAlloc() })
	return ctx
}

// artifactPath is where a browser test saves a screenshot: $PARLEY_ARTIFACTS
// (CI sets it) or the test's temp dir.
func artifactPath(tb testing.TB, name string) string {
	tb.Helper()
	dir := os.Getenv("PARLEY_ARTIFACTS")
	if dir == "" {
		dir = tb.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	return filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
}
