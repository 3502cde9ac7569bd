package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/parley-chat/parley/internal/attach"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/httpapi"
	"github.com/parley-chat/parley/internal/redisstore"
	"github.com/parley-chat/parley/internal/redisstore/redistest"
	"github.com/parley-chat/parley/internal/webhook"
)

// The admin every environment has.
const (
	adminUser     = "alice"
	adminName     = "Alice Admin"
	adminPassword = "correct horse battery"
)

// adminHash is computed once, at bcrypt's minimum cost, so logins are fast.
var adminHash = sync.OnceValue(func() []byte {
	h, err := bcrypt.GenerateFromPassword([]byte(adminPassword), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	return h
})

// envConfig tunes one Parley instance under test.
type envConfig struct {
	Limits          chat.Limits
	AllowedOrigins  []string
	TrustedProxies  []string
	MaxStreams      int
	MaxAdminStreams int
	StreamsPerToken int
	PingInterval    time.Duration
	// WriteTimeout is the streams' write timeout (default 20 s).
	WriteTimeout  time.Duration
	Widget, Admin fs.FS
	Ready         func(ctx context.Context) error
	// WatchBridge wires StreamsHealthy and StreamsGeneration to the store.
	WatchBridge bool
	// ServerTimeouts sets the http.Server's read and write timeouts, as cmd
	// does, to prove that streams lift them.
	ServerTimeouts time.Duration
	// NoHijack writes every stream through http.Flusher (see
	// forEachStreamMode).
	NoHijack bool
	// Prefix and Secret let two instances share one Redis; empty means new.
	Prefix string
	Secret []byte
	// HubBuffer is the hub's per-subscription buffer (default 256).
	HubBuffer int
	// NoMetricsToken leaves PARLEY_METRICS_TOKEN unset; otherwise GET
	// /metrics answers to testMetricsToken.
	NoMetricsToken bool
	// PresenceInterval is the presence loop's tick (default 200 ms).
	PresenceInterval time.Duration
	// WrapStore, when set, wraps the store the service works on (to fail
	// some of its calls).
	WrapStore func(chat.Store) chat.Store
	// TokensNow is the tokens' clock (nil: time.Now).
	TokensNow func() time.Time
	// IPv6Prefix is the service's IPv6 network size (0: the default).
	IPv6Prefix int
	// Hours are the environment's business hours (zero: unset).
	Hours chat.Hours
	// Mail, when set, turns email on with what it returns (mail_test.go).
	Mail func(store *redisstore.Store, secret []byte) *httpapi.MailDeps
	// IdentitySecret turns verified identity on (identity_test.go).
	IdentitySecret []byte
	// Webhooks, when set, serves the webhook routes with what it returns
	// (webhooks_test.go).
	Webhooks func(store *redisstore.Store) *webhook.Service
	// Attachments, when set, serves the attachment routes with what it
	// returns (attachments_test.go).
	Attachments func(store *redisstore.Store, secret []byte) *attach.Service
	// RoomTTL is the rooms' retention (default an hour).
	RoomTTL time.Duration
}

// testMetricsToken is the metrics token of every env but NoMetricsToken's.
const testMetricsToken = "test-metrics-token-0123456789"

// env is one running Parley instance: real store, hub, bridge, service,
// tokens and router, served by httptest.
type env struct {
	t        testing.TB
	addr     string
	prefix   string
	secret   []byte
	store    *redisstore.Store
	svc      *chat.Service
	hub      *chat.Hub
	tokens   *auth.Tokens
	accounts *auth.Accounts
	api      *httpapi.Server
	srv      *httptest.Server
	logs     *syncBuffer
	client   *http.Client
}

func uniquePrefix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "h" + hex.EncodeToString(b[:]) + ":"
}

// newEnv starts an instance on the Redis at addr.
func newEnv(t testing.TB, addr string, cfg envConfig) *env {
	t.Helper()
	if cfg.Prefix == "" {
		cfg.Prefix = uniquePrefix()
	}
	if cfg.Secret == nil {
		cfg.Secret = auth.RandomSecret()
	}
	if cfg.HubBuffer == 0 {
		cfg.HubBuffer = 256
	}
	client, err := redisstore.Connect(redistest.URL(addr))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = client.Close() })
	if cfg.RoomTTL == 0 {
		cfg.RoomTTL = time.Hour
	}
	store := redisstore.New(client, redisstore.Options{Prefix: cfg.Prefix, RoomTTL: cfg.RoomTTL})
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	hub := chat.NewHub(cfg.HubBuffer)
	var svcStore chat.Store = store
	if cfg.WrapStore != nil {
		svcStore = cfg.WrapStore(store)
	}
	if cfg.PresenceInterval == 0 {
		cfg.PresenceInterval = 200 * time.Millisecond
	}
	var identity chat.IdentityVerifier
	if cfg.IdentitySecret != nil {
		identity = auth.NewIdentities(cfg.IdentitySecret)
	}
	svc := chat.NewService(svcStore, chat.Config{Limits: cfg.Limits, IPv6Prefix: cfg.IPv6Prefix, Identity: identity, Hours: cfg.Hours})

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		svc.RunPresence(ctx, hub, "test-"+cfg.Prefix+chat.NewTokenID()[:4], cfg.PresenceInterval)
	}()
	go func() {
		defer wg.Done()
		_ = store.Run(ctx, hub, log)
	}()

	tokens, err := auth.NewTokens(cfg.Secret, store, time.Hour, cfg.TokensNow)
	if err != nil {
		t.Fatalf("tokens: %v", err)
	}
	accounts := auth.NewAccounts(store)
	mustAddAdmin(t, store)
	opts := httpapi.Options{
		Service: svc, Tokens: tokens, Accounts: accounts, Hub: hub, Logger: log,
		AllowedOrigins: cfg.AllowedOrigins, TrustedProxies: cfg.TrustedProxies,
		MaxStreams: cfg.MaxStreams, MaxAdminStreams: cfg.MaxAdminStreams, StreamsPerToken: cfg.StreamsPerToken,
		PingInterval: cfg.PingInterval, StreamWriteTimeout: cfg.WriteTimeout,
		Widget: cfg.Widget, Admin: cfg.Admin, Ready: cfg.Ready,
		Registry:  prometheus.NewRegistry(),
		APITokens: auth.NewAPITokens(store, nil),
	}
	if !cfg.NoMetricsToken {
		opts.MetricsToken = testMetricsToken
	}
	if cfg.Mail != nil {
		opts.Mail = cfg.Mail(store, cfg.Secret)
	}
	if cfg.Webhooks != nil {
		opts.Webhooks = cfg.Webhooks(store)
	}
	if cfg.Attachments != nil {
		opts.Attachments = cfg.Attachments(store, cfg.Secret)
	}
	opts.DisableStreamHijack = cfg.NoHijack
	if cfg.WatchBridge {
		opts.StreamsHealthy = store.Subscribed
		opts.StreamsGeneration = store.Generation
	}
	api := httpapi.New(opts)
	srv := httptest.NewUnstartedServer(api.Handler())
	if cfg.ServerTimeouts > 0 {
		srv.Config.ReadTimeout = cfg.ServerTimeouts
		srv.Config.WriteTimeout = cfg.ServerTimeouts
	}
	srv.Config.RegisterOnShutdown(func() { _ = api.Shutdown(context.Background()) })
	srv.Start()
	e := &env{
		t: t, addr: addr, prefix: cfg.Prefix, secret: cfg.Secret, store: store, svc: svc, hub: hub,
		tokens: tokens, accounts: accounts, api: api, srv: srv, logs: logs,
		client: &http.Client{Timeout: 10 * time.Second},
	}
	t.Cleanup(func() {
		sctx, stop := context.WithTimeout(context.Background(), 5*time.Second)
		_ = api.Shutdown(sctx)
		stop()
		srv.CloseClientConnections()
		srv.Close()
		cancel()
		wg.Wait()
		hub.Close()
	})
	e.waitSubscribed()
	return e
}

// mustAddAdmin creates the test admin in store unless it exists.
func mustAddAdmin(t testing.TB, store *redisstore.Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := store.AddAdmin(ctx, chat.Admin{Username: adminUser, DisplayName: adminName, PasswordHash: adminHash()}); err != nil && !errors.Is(err, chat.ErrAdminExists) {
		t.Fatalf("add admin: %v", err)
	}
}

// waitSubscribed waits until the pub/sub bridge holds its subscription, so
// that events published from now on reach the hub.
func (e *env) waitSubscribed() {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !e.store.Subscribed() {
		if time.Now().After(deadline) {
			e.t.Fatalf("the pub/sub bridge did not subscribe")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// forEachRedis runs fn on the embedded Redis and, where installed, a real one.
func forEachRedis(t *testing.T, fn func(t *testing.T, addr string)) {
	t.Helper()
	redistest.ForEach(t, fn)
}

// forEachRedisCluster is forEachRedis and, where redis-cli is installed, the
// test binary's shared real cluster (redistest.SharedCluster): addr is then
// its redis-cluster:// URL (newEnv connects to either). The cluster is
// shared: an env gets its own prefix unless given one.
func forEachRedisCluster(t *testing.T, fn func(t *testing.T, addr string)) {
	t.Helper()
	redistest.ForEachWithCluster(t, fn)
}

// req describes one request.
type req struct {
	method, path string
	body         any // string, []byte or a value to encode as JSON; nil for none
	token        string
	header       map[string]string
}

// resp is an answered request.
type resp struct {
	status int
	header http.Header
	body   []byte
}

// errorCode returns the code of an error body, or "".
func (r resp) errorCode() string {
	var b struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(r.body, &b) != nil {
		return ""
	}
	return b.Error.Code
}

// errorMessage returns the message of an error body, or "".
func (r resp) errorMessage() string {
	var b struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(r.body, &b) != nil {
		return ""
	}
	return b.Error.Message
}

func (e *env) url(path string) string { return e.srv.URL + path }

// do sends r and reads the whole answer.
func (e *env) do(r req) resp {
	e.t.Helper()
	return doWith(e.t, e.client, e.url(r.path), r)
}

func doWith(t testing.TB, client *http.Client, url string, r req) resp {
	t.Helper()
	var body io.Reader
	switch b := r.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	case io.Reader:
		body = b
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("encode body: %v", err)
		}
		body = bytes.NewReader(j)
	}
	hr, err := http.NewRequest(r.method, url, body)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	res, err := client.Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", r.method, r.path, err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

// want checks the status (and, for errors, the code) of an answer.
func want(t testing.TB, r resp, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("got status %d, want %d; body %s", r.status, status, r.body)
	}
	if code != "" && r.errorCode() != code {
		t.Fatalf("got error code %q, want %q; body %s", r.errorCode(), code, r.body)
	}
}

// decode unmarshals an answer's body.
func decode[T any](t testing.TB, r resp) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return v
}

type roomToken struct {
	Room  chat.Room `json:"room"`
	Token string    `json:"token"`
}

// mustRoom creates a room through the API and returns it with its token.
func (e *env) mustRoom(body any) (chat.Room, string) {
	e.t.Helper()
	r := e.do(req{method: "POST", path: "/api/v1/rooms", body: body})
	want(e.t, r, http.StatusCreated, "")
	rt := decode[roomToken](e.t, r)
	return rt.Room, rt.Token
}

// adminToken issues an admin token without a login (no bcrypt on the way),
// under the account's current generation.
func (e *env) adminToken() string {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	adm, err := e.store.Admin(ctx, adminUser)
	if err != nil {
		e.t.Fatalf("read the admin account: %v", err)
	}
	tok, _, err := e.tokens.IssueAdmin(adm)
	if err != nil {
		e.t.Fatalf("issue admin token: %v", err)
	}
	return tok
}

// mustSend posts a message as the visitor or, with an admin token, as admin.
func (e *env) mustSend(roomID, token string, admin bool, content string) chat.Message {
	e.t.Helper()
	path := "/api/v1/rooms/" + roomID + "/messages"
	if admin {
		path = "/api/v1/admin/rooms/" + roomID + "/messages"
	}
	r := e.do(req{method: "POST", path: path, token: token, body: map[string]string{"content": content}})
	want(e.t, r, http.StatusCreated, "")
	return decode[struct {
		Message chat.Message `json:"message"`
	}](e.t, r).Message
}

// storedRoom reads a room straight from the store.
func (e *env) storedRoom(id string) (chat.Room, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return e.svc.Room(ctx, id)
}

func (e *env) mustStoredRoom(id string) chat.Room {
	e.t.Helper()
	r, err := e.storedRoom(id)
	if err != nil {
		e.t.Fatalf("room %s: %v", id, err)
	}
	return r
}

// roomCount counts the rooms of the index.
func (e *env) roomCount() int {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := e.svc.ListRooms(ctx, chat.RoomQuery{Limit: chat.MaxLimit})
	if err != nil {
		e.t.Fatalf("list rooms: %v", err)
	}
	return len(p.Rooms)
}

// sseEvent is one parsed Server-Sent Event; Comment is set for ": x" lines.
type sseEvent struct {
	ID, Event, Data, Comment string
}

// stream is a client of an event stream. A goroutine parses the body into
// events until the body is closed or ends.
type stream struct {
	t      testing.TB
	res    *http.Response
	events chan sseEvent
	done   chan struct{}
	cancel context.CancelFunc
	// ignored names events that next skips, like comments.
	ignored map[string]bool
}

// ignore makes next skip the named events from now on.
func (s *stream) ignore(names ...string) *stream {
	if s.ignored == nil {
		s.ignored = make(map[string]bool)
	}
	for _, n := range names {
		s.ignored[n] = true
	}
	return s
}

// openStream connects to an event stream and returns the answer's status;
// on 200 the stream is read until closed (and is closed at the test's end).
func openStream(t testing.TB, url, token string, header map[string]string) (*stream, resp) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	hr, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if token != "" {
		hr.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		hr.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		cancel()
		t.Fatalf("GET %s: %v", url, err)
	}
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		cancel()
		return nil, resp{status: res.StatusCode, header: res.Header, body: b}
	}
	s := &stream{t: t, res: res, events: make(chan sseEvent, 4096), done: make(chan struct{}), cancel: cancel}
	go s.read()
	t.Cleanup(s.close)
	return s, resp{status: res.StatusCode, header: res.Header}
}

func (s *stream) read() {
	defer close(s.done)
	defer close(s.events)
	br := bufio.NewReader(s.res.Body)
	var ev sseEvent
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
			if ev.Event != "" || ev.Data != "" {
				s.events <- ev
			}
			ev = sseEvent{}
		case strings.HasPrefix(line, ":"):
			s.events <- sseEvent{Comment: strings.TrimSpace(line[1:])}
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "id":
				ev.ID = value
			case "event":
				ev.Event = value
			case "data":
				ev.Data += value
			}
		}
	}
}

// close ends the stream from the client side and waits for the reader.
func (s *stream) close() {
	s.cancel()
	s.res.Body.Close()
	<-s.done
}

// next returns the next event (comments skipped), failing after timeout; ok
// is false when the stream ended.
func (s *stream) next(timeout time.Duration) (sseEvent, bool) {
	s.t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				return sseEvent{}, false
			}
			if ev.Comment != "" || s.ignored[ev.Event] {
				continue
			}
			return ev, true
		case <-timer.C:
			s.t.Fatalf("no event within %v", timeout)
			return sseEvent{}, false
		}
	}
}

// expect returns the next event and checks its name.
func (s *stream) expect(name string) sseEvent {
	s.t.Helper()
	ev, ok := s.next(5 * time.Second)
	if !ok {
		s.t.Fatalf("stream ended, want event %q", name)
	}
	if ev.Event != name {
		s.t.Fatalf("got event %q (%s), want %q", ev.Event, ev.Data, name)
	}
	return ev
}

// expectEnd waits for the server to end the stream, skipping events.
func (s *stream) expectEnd(timeout time.Duration) {
	s.t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case _, ok := <-s.events:
			if !ok {
				return
			}
		case <-timer.C:
			s.t.Fatalf("stream still open after %v", timeout)
		}
	}
}

// quiet checks that no event (comments aside) arrives for d.
func (s *stream) quiet(d time.Duration) {
	s.t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				return
			}
			// Presence is the team's, not the room's: other tests' admin
			// streams on the shared Redis flip it at any time.
			if ev.Comment == "" && ev.Event != "presence" {
				s.t.Fatalf("got unexpected event %q %s", ev.Event, ev.Data)
			}
		case <-timer.C:
			return
		}
	}
}

// message decodes the data of a message event.
func message(t testing.TB, ev sseEvent) chat.Message {
	t.Helper()
	var m chat.Message
	if err := json.Unmarshal([]byte(ev.Data), &m); err != nil {
		t.Fatalf("decode message %q: %v", ev.Data, err)
	}
	return m
}

// containsAll tells whether s holds every one of subs.
func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// startEmbedded starts an embedded Redis for a test that needs only one.
func startEmbedded(t testing.TB) string {
	t.Helper()
	return redistest.StartEmbedded(t)
}
