package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley/admin"
	"github.com/parley-chat/parley/internal/attach"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/blob"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/embedded"
	"github.com/parley-chat/parley/internal/httpapi"
	"github.com/parley-chat/parley/internal/mail"
	"github.com/parley-chat/parley/internal/redisstore"
	"github.com/parley-chat/parley/internal/webhook"
	"github.com/parley-chat/parley/widget"
)

// backend is the store side of a process: the Redis connection (embedded or
// real), the store over it and the service on top.
type backend struct {
	log      *slog.Logger
	embedded *embedded.Server
	store    *redisstore.Store
	closeDB  func() error
	svc      *chat.Service
	accounts *auth.Accounts
	// mail turns on the email routes and promises (httpapi.MailDeps); nil
	// while PARLEY_SMTP_URL is unset.
	mail *httpapi.MailDeps
}

// openBackend connects to Redis (starting the embedded one when no URL is
// configured) and waits until it answers. It is the server's: with the
// embedded Redis it refuses a data directory another server is running on,
// and advertises its own for the tools (see openToolBackend).
func openBackend(ctx context.Context, cfg config.Config, log *slog.Logger) (*backend, error) {
	if cfg.RedisURL == "" {
		if _, ok := runningEmbedded(ctx, cfg.DataDir); ok {
			return nil, fmt.Errorf("another Parley server is running with PARLEY_DATA_DIR=%s: stop it, or give this one another PARLEY_DATA_DIR", cfg.DataDir)
		}
	}
	return connectBackend(ctx, cfg, log, true)
}

// openToolBackend is openBackend for the commands that change data and exit
// (parley seed, parley admin): with the embedded Redis, when a server is
// running on the same data directory they work on its Redis, so the server
// sees the change at once and its next snapshot keeps it.
func openToolBackend(ctx context.Context, cfg config.Config, log *slog.Logger) (*backend, error) {
	if cfg.RedisURL == "" {
		if url, ok := runningEmbedded(ctx, cfg.DataDir); ok {
			log.Info("using the embedded Redis of the Parley server running on this data dir", "data_dir", cfg.DataDir)
			cfg.RedisURL = url
		}
	}
	return connectBackend(ctx, cfg, log, false)
}

// runningEmbedded returns the URL of the embedded Redis that a server running
// on dataDir advertised, when it answers.
func runningEmbedded(ctx context.Context, dataDir string) (string, bool) {
	url, ok := embedded.Advertised(dataDir)
	if !ok {
		return "", false
	}
	client, err := redisstore.Connect(url)
	if err != nil {
		return "", false
	}
	defer client.Close()
	pctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if redisstore.New(client, redisstore.Options{}).Ping(pctx) != nil {
		return "", false // a server that died without removing the file
	}
	return url, true
}

func connectBackend(ctx context.Context, cfg config.Config, log *slog.Logger, advertise bool) (*backend, error) {
	b := &backend{log: log}
	url := cfg.RedisURL
	if url == "" {
		srv, err := embedded.Start(cfg.DataDir, log)
		if err != nil {
			return nil, fmt.Errorf("start embedded redis: %w", err)
		}
		b.embedded = srv
		password := auth.RandomPassword()
		srv.RequirePassword(password)
		url = "redis://:" + password + "@" + srv.Addr()
		if advertise {
			if err := srv.Advertise(url); err != nil {
				b.close()
				return nil, fmt.Errorf("PARLEY_DATA_DIR: %w", err)
			}
		}
		log.Warn("using the embedded in-process Redis: fine for trying Parley and small sites, not for production",
			"data_dir", cfg.DataDir,
			"guarantee", "data is snapshotted within 2s of every write and on shutdown, and loaded at start; a crash can lose up to the last 2s of writes; one instance only",
			"production", "set PARLEY_REDIS_URL=redis://host:6379/0 to use a real Redis (and run as many instances as you like)")
	}
	client, err := redisstore.Connect(url)
	if err != nil {
		b.close()
		return nil, fmt.Errorf("PARLEY_REDIS_URL: %w", err)
	}
	b.closeDB = client.Close
	b.store = redisstore.New(client, redisstore.Options{Prefix: cfg.RedisPrefix, RoomTTL: cfg.RoomTTL, MaxMessages: cfg.MaxMessages})
	if err := waitForRedis(ctx, b.store, log); err != nil {
		b.close()
		return nil, err
	}
	if err := b.store.CheckCluster(ctx); err != nil {
		b.close()
		return nil, fmt.Errorf("PARLEY_REDIS_URL: %w", err)
	}
	if err := migrateGlobals(ctx, b.store, log); err != nil {
		b.close()
		return nil, err
	}
	if p := b.store.EvictionPolicy(ctx); p != "" && p != "noeviction" {
		log.Error("redis evicts keys when its memory is full (maxmemory-policy "+p+"): it will silently delete whole conversations; set maxmemory-policy noeviction (Parley then answers 503 store_full instead)",
			"maxmemory_policy", p)
	}
	var notify chat.NotifyConfig
	if advertise { // the server, not a tool
		notify = notifyConfig(cfg, b.store)
	}
	var identity chat.IdentityVerifier
	if cfg.IdentitySecret != nil {
		identity = auth.NewIdentities(cfg.IdentitySecret)
	}
	b.svc = chat.NewService(b.store, chat.Config{Limits: cfg.Limits, IPv6Prefix: cfg.IPv6Prefix, Notify: notify, Identity: identity, Hours: cfg.Hours})
	b.accounts = auth.NewAccounts(b.store)
	return b, nil
}

// waitForRedis pings until Redis answers, for up to 30 s: a Redis that starts
// at the same time as Parley (compose, systemd) is not an error.
func waitForRedis(ctx context.Context, store *redisstore.Store, log *slog.Logger) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := store.Ping(pctx)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("redis does not answer: %w", err)
		}
		log.Warn("waiting for redis", "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// migrateGlobals gives the global keys of before the hash tags their new
// names (redisstore.MigrateGlobals) before anything reads them: the server,
// parley admin and parley seed run it. It retries each second while Redis
// fails, for up to 30 s.
func migrateGlobals(ctx context.Context, store *redisstore.Store, log *slog.Logger) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, err := store.MigrateGlobals(ctx)
		if err == nil {
			if n > 0 {
				log.Info("global keys moved to their hash-tagged names", "keys", n)
			}
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("move the global keys to their new names: %w", err)
		}
		log.Warn("moving the global keys to their new names failed; retrying", "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func (b *backend) close() {
	if b.closeDB != nil {
		_ = b.closeDB()
	}
	if b.embedded != nil {
		if err := b.embedded.Close(); err != nil {
			b.log.Error("embedded redis: final snapshot failed", "err", err)
		}
	}
}

// server is a running Parley HTTP server.
type server struct {
	*backend
	cfg    config.Config
	hub    *chat.Hub
	api    *httpapi.Server
	tokens *auth.Tokens
	mail   *mailer // nil when mail is off
	hooks  *webhook.Service
	files  *attach.Service
}

// newServer wires the HTTP side over a backend: the signing secret, the first
// admin, the hub and the router.
func newServer(ctx context.Context, cfg config.Config, b *backend) (*server, error) {
	secret := cfg.JWTSecret
	if secret == nil {
		var err error
		if secret, err = b.store.Secret(ctx, auth.RandomSecret()); err != nil {
			return nil, fmt.Errorf("load jwt secret: %w", err)
		}
		b.log.Warn("PARLEY_JWT_SECRET is not set: using a secret generated once and kept in Redis; set it to rotate or to share it outside Redis")
	}
	tokens, err := auth.NewTokens(secret, b.store, cfg.RoomTTL, nil)
	if err != nil {
		return nil, err
	}
	created, password, err := b.accounts.EnsureFirst(ctx, cfg.AdminUser, cfg.AdminPassword)
	if err != nil {
		return nil, fmt.Errorf("create first admin: %w", err)
	}
	if created {
		user := cfg.AdminUser
		if user == "" {
			user = "admin"
		}
		if cfg.AdminPassword == "" {
			// Shown once: it is not stored anywhere but as a bcrypt hash.
			b.log.Warn("created the first admin; this password is shown only once", "username", user, "password", password)
		} else {
			b.log.Info("created the first admin from PARLEY_ADMIN_USER/PARLEY_ADMIN_PASSWORD", "username", user)
		}
	}
	if err := setFirstAdminEmail(ctx, cfg, b); err != nil {
		return nil, fmt.Errorf("PARLEY_ADMIN_EMAIL: %w", err)
	}
	// A stream that falls behind its buffer is dropped and resumes from its
	// last event id. A visitor stream sees a few events a minute and there
	// may be 10,000 of them (16 x 80 bytes each); an admin stream sees every
	// event of the instance, so it gets room for a burst.
	hub := chat.NewHubBuffers(chat.DefaultRoomBuffer, chat.DefaultAdminBuffer)
	var (
		mailStats func(context.Context) (chat.MailQueueStats, error)
		mailer    *mailer
		// The mail counters live in the API's metrics, made below; the
		// worker only starts (in run) once they are set.
		counters struct{ sent, failed, dead func() }
	)
	if cfg.Mail.Enabled() {
		mailStats = b.store.MailStats
		metrics := mail.Metrics{
			Sent:   func() { counters.sent() },
			Failed: func() { counters.failed() },
			Dead:   func() { counters.dead() },
		}
		if mailer, err = newMailer(cfg, b, secret, metrics); err != nil {
			return nil, err
		}
		b.mail = mailer.deps(b.store)
	}
	// The webhook counters live in the API's metrics too, set below before
	// the worker starts in run.
	var hookCounters struct{ delivered, failed, dead func() }
	hooks, err := webhook.New(webhook.Config{
		Store: b.store,
		Guard: webhook.NewGuard(webhook.GuardConfig{AllowHosts: cfg.WebhookAllowHosts}),
		Log:   b.log,
		// The Slack notifier's link to the conversation, when Parley knows
		// its public URL.
		ConsoleURL: consoleURL(cfg.Mail.PublicURL),
		Metrics: webhook.Metrics{
			Delivered: func() { hookCounters.delivered() },
			Failed:    func() { hookCounters.failed() },
			Dead:      func() { hookCounters.dead() },
		},
	})
	if err != nil {
		return nil, err
	}
	files, err := newAttachments(ctx, cfg, b, secret)
	if err != nil {
		return nil, err
	}
	api := httpapi.New(httpapi.Options{
		Attachments:    files,
		Webhooks:       hooks,
		APITokens:      auth.NewAPITokens(b.store, nil),
		MailStats:      mailStats,
		Service:        b.svc,
		Tokens:         tokens,
		Accounts:       b.accounts,
		Hub:            hub,
		Logger:         b.log,
		AllowedOrigins: cfg.AllowedOrigins,
		TrustedProxies: cfg.TrustedProxies,
		MaxStreams:     cfg.MaxStreams,
		MetricsToken:   cfg.MetricsToken,
		Widget:         widget.Files,
		Admin:          admin.Files,
		Ready:          b.store.Ready,
		StreamsHealthy: b.store.Subscribed,
		// Any resubscribe may have lost events: streams end and clients resume.
		StreamsGeneration: b.store.Generation,
		// PARLEY_STREAM_HIJACK=off: every stream through net/http's response.
		DisableStreamHijack: !cfg.StreamHijack,
		// Admins keep a reserve of their own; a stalled client is dropped.
		MaxAdminStreams:    cfg.MaxAdminStreams,
		StreamWriteTimeout: cfg.StreamWriteTimeout,
		Mail:               b.mail,
	})
	counters.sent, counters.failed, counters.dead = api.MailCounters()
	hookCounters.delivered, hookCounters.failed, hookCounters.dead = api.WebhookCounters()
	return &server{backend: b, cfg: cfg, hub: hub, api: api, tokens: tokens, mail: mailer, hooks: hooks, files: files}, nil
}

// newAttachments opens the blob store the configuration names (S3, or the
// data directory) and the attachments' service over it.
func newAttachments(ctx context.Context, cfg config.Config, b *backend, secret []byte) (*attach.Service, error) {
	var blobs blob.Store
	if cfg.S3 != nil {
		s3cfg := *cfg.S3
		s3cfg.SpoolDir = filepath.Join(cfg.DataDir, "spool")
		if err := os.MkdirAll(s3cfg.SpoolDir, 0o700); err != nil {
			return nil, fmt.Errorf("attachments: %w", err)
		}
		s3, err := blob.NewS3(s3cfg)
		if err != nil {
			return nil, err
		}
		if err := s3.Check(ctx); err != nil {
			return nil, fmt.Errorf("PARLEY_S3_URL: %w", err)
		}
		blobs = s3
		b.log.Info("attachments stored in S3", "endpoint", s3cfg.Endpoint, "bucket", s3cfg.Bucket)
	} else {
		dir, err := blob.NewDir(filepath.Join(cfg.DataDir, "attachments"))
		if err != nil {
			return nil, fmt.Errorf("attachments: %w", err)
		}
		blobs = dir
	}
	return attach.New(attach.Config{Blobs: blobs, Store: b.store, Secret: secret, MaxSize: cfg.AttachmentMax, Log: b.log}), nil
}

// consoleURL is where a conversation opens in the console, followed by its
// id; "" without PARLEY_PUBLIC_URL.
func consoleURL(public string) string {
	if public == "" {
		return ""
	}
	return public + "/admin/#/r/"
}

// snoozeCheck is how often every instance wakes the conversations whose
// snooze has ended: a snooze ends within this much of its time.
const snoozeCheck = 5 * time.Second

// runInbox places the rooms stored before the team inbox existed in its
// views (once per database, retried until it succeeds), then wakes snoozed
// conversations until ctx ends.
func (s *server) runInbox(ctx context.Context) {
	for {
		// connectBackend moved the global keys already: this is one
		// EXISTS of the marker, unless that start was cut short.
		_, err := s.store.MigrateGlobals(ctx)
		n := 0
		if err == nil {
			n, err = s.store.MigrateInbox(ctx)
		}
		if err == nil {
			if n > 0 {
				s.log.Info("room index: rooms of the global index moved into its partitions", "rooms", n)
			}
			break
		}
		s.log.Warn("inbox: placing older rooms failed; retrying", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(snoozeCheck):
		}
	}
	s.svc.RunSnoozes(ctx, snoozeCheck, func(err error) { s.log.Warn("inbox: waking snoozed conversations failed", "err", err) })
}

// run serves on ln (and the metrics on metricsLn, unless nil) until ctx
// ends, then shuts down in order: stop accepting, end the streams, finish
// in-flight requests, stop the bridge and presence, close the hub. The caller
// closes the backend.
// searchSweepEvery is how often an instance takes expired rooms out of the
// search index.
const searchSweepEvery = time.Minute

// startPagesAfter is how long after the start its pages are dropped.
const startPagesAfter = time.Second

func (s *server) run(ctx context.Context, ln, metricsLn net.Listener) error {
	bg, stopBG := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := s.store.Run(bg, s.hub, s.log); err != nil && !errors.Is(err, context.Canceled) {
			s.log.Error("pub/sub bridge stopped", "err", err)
		}
	}()
	go func() {
		defer wg.Done()
		host, _ := os.Hostname()
		s.svc.RunPresence(bg, s.hub, fmt.Sprintf("%s-%d-%s", host, os.Getpid(), chat.NewTokenID()[:6]), 0)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.runInbox(bg)
	}()
	if s.mail != nil {
		s.mail.start(bg, &wg) // stopped with the bridge, before Redis closes
	}
	// Messages reach the search index from the admin log.
	wg.Go(func() { s.store.RunSearchIndexer(bg, s.log) })
	// The room index's partitions are checked against the rooms, a slice
	// at a time, and repaired (a follow-up lost with its instance).
	wg.Go(func() { s.store.RunReconciler(bg, s.log) })
	// Rooms that expired leave the search index (a no-op without a room TTL).
	wg.Go(func() { s.store.RunSearchSweeper(bg, searchSweepEvery, s.log) })
	// Rooms stored before the search index existed are indexed once.
	wg.Go(func() {
		n, err := s.store.BackfillSearch(bg)
		switch {
		case err != nil && bg.Err() == nil:
			s.log.Warn("search index: backfill stopped; the next start goes on", "err", err, "rooms", n)
		case n > 0:
			s.log.Info("search index: indexed the rooms stored before it", "rooms", n)
		}
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.hooks.Run(bg) // the webhook dispatcher and delivery worker
	}()
	// Files of deleted and expired rooms and of attachments never sent go.
	wg.Go(func() { s.files.Run(bg) })

	hs := &http.Server{
		Handler:           s.api.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second, // streams lift it for themselves
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	// Streams end as Shutdown starts: one served by its handler is a request
	// in flight that Shutdown would wait for. stopStreams ends that wait.
	streamsCtx, stopStreams := context.WithCancel(context.Background())
	defer stopStreams()
	hs.RegisterOnShutdown(func() { _ = s.api.Shutdown(streamsCtx) })
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	stopMetrics := s.serveMetrics(metricsLn)
	// A second after the start, the pages only the start used leave the
	// process (trim_linux.go).
	wg.Go(func() {
		select {
		case <-time.After(startPagesAfter):
			s.log.Debug("start pages dropped", "bytes", dropStartPages())
		case <-bg.Done():
		}
	})

	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		s.log.Info("shutting down")
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = hs.Shutdown(sctx)
		cancel()
		<-errc
	}
	stopMetrics()
	// Shutdown runs the streams' shutdown in a goroutine of its own and does
	// not wait for it, nor for hijacked stream connections: wait for the
	// streams here (at once when they are gone), before their hub closes.
	wctx, cancel := context.WithTimeout(context.Background(), streamsShutdownTimeout)
	_ = s.api.Shutdown(wctx) // logged by Shutdown
	cancel()
	stopStreams()
	stopBG()
	wg.Wait()
	s.hub.Close()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// serveMetrics serves /metrics, with no authentication, on ln: a listener
// only the monitoring network reaches (PARLEY_METRICS_ADDR). The returned
// func shuts it down and returns once its goroutine has ended. A nil ln
// serves nothing.
func (s *server) serveMetrics(ln net.Listener) (stop func()) {
	if ln == nil {
		return func() {}
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.api.MetricsHandler())
	ms := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := ms.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("metrics listener stopped", "addr", ln.Addr().String(), "err", err)
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if ms.Shutdown(ctx) != nil {
			_ = ms.Close()
		}
		<-done
	}
}

// listenMetrics opens PARLEY_METRICS_ADDR; a nil listener means the metrics
// listener is off. The default address being taken (another Parley on this
// host) only costs this process its private metrics, so it is a warning; an
// address the operator chose must work.
func listenMetrics(cfg config.Config, log *slog.Logger) (net.Listener, error) {
	if cfg.MetricsAddr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", cfg.MetricsAddr)
	if err == nil {
		return ln, nil
	}
	if cfg.MetricsAddrSet {
		return nil, fmt.Errorf("PARLEY_METRICS_ADDR: %w", err)
	}
	log.Warn("metrics listener off: its default address is taken (another Parley on this host?); set PARLEY_METRICS_ADDR to a free address, or to off",
		"addr", cfg.MetricsAddr, "err", err)
	return nil, nil
}

// streamsShutdownTimeout bounds the wait for the streams after
// http.Server.Shutdown: their second of grace, then a second for those ended
// by force.
const streamsShutdownTimeout = 2 * time.Second

func serve(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	b, err := openBackend(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer b.close()
	s, err := newServer(ctx, cfg, b)
	if err != nil {
		return err
	}
	defer s.mail.close()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("PARLEY_ADDR: %w", err)
	}
	metricsLn, err := listenMetrics(cfg, log)
	if err != nil {
		_ = ln.Close()
		return err
	}
	base := baseURL(ln.Addr())
	metrics := "off"
	if metricsLn != nil {
		metrics = "http://" + metricsLn.Addr().String() + "/metrics"
	}
	log.Info("parley is running", "addr", ln.Addr().String(), "demo", base+"/", "console", base+"/admin/",
		"allowed_origins", strings.Join(cfg.AllowedOrigins, ","), "metrics", metrics)
	if cfg.Pprof != "" {
		stopPprof := startPprof(cfg.Pprof, log)
		defer stopPprof()
	}
	return s.run(ctx, ln, metricsLn)
}

// baseURL is how a person on this machine reaches the listener.
func baseURL(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || tcp.IP.IsUnspecified() {
		if ok {
			return fmt.Sprintf("http://localhost:%d", tcp.Port)
		}
		return "http://" + a.String()
	}
	return "http://" + tcp.String()
}

// startPprof serves the profiler on a loopback address; only when
// PARLEY_PPROF asks for it.
func startPprof(addr string, log *slog.Logger) func() {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("pprof", "err", err)
		}
	}()
	log.Warn("pprof is on", "addr", addr)
	return func() { _ = srv.Close() }
}
