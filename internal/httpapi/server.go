// Package httpapi owns Parley's HTTP surface: the routes of docs/API.md,
// their middleware (request ids, access log, recovery, metrics, body limits,
// CORS, security headers, authentication), the handlers of the two
// Server-Sent Event streams (what they send; internal/stream writes them and
// owns their caps) and the static widget and console files. It and its
// bench-only subpackage baseline are the only packages that import gin;
// every business rule it needs lives in chat.Service.
package httpapi

import (
	"context"
	"crypto/sha256"
	"io/fs"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/parley-chat/parley/internal/attach"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/stream"
	"github.com/parley-chat/parley/internal/webhook"
	"github.com/prometheus/client_golang/prometheus"
)

// Defaults for the zero values of Options.
const (
	DefaultMaxBodyBytes    = 16 << 10
	DefaultMaxStreams      = 20000
	DefaultMaxAdminStreams = stream.DefaultMaxAdminStreams
	DefaultStreamsPerToken = 5
	DefaultPingInterval    = stream.DefaultPingInterval
	DefaultWriteTimeout    = stream.DefaultWriteTimeout

	// requestTimeout bounds every request but the streams: with the store
	// down, a request answers 503 long before it.
	requestTimeout = 5 * time.Second
	// readyTimeout bounds the store ping of /readyz.
	readyTimeout = 1500 * time.Millisecond
)

// Options configures a Server. Service, Tokens, Accounts and Hub are required.
type Options struct {
	Service  *chat.Service
	Tokens   *auth.Tokens
	Accounts *auth.Accounts
	Hub      *chat.Hub
	Logger   *slog.Logger

	// AllowedOrigins are the exact origins ("https://example.com") allowed
	// to call the visitor API and the counter; an entry ending in ":*"
	// allows any port ("http://localhost:*").
	AllowedOrigins []string
	// TrustedProxies are the IPs or CIDRs whose X-Forwarded-For is believed;
	// empty means none.
	TrustedProxies []string
	// MaxBodyBytes bounds request bodies (default 16 KiB).
	MaxBodyBytes int64
	// MaxStreams caps the open visitor streams of this server,
	// MaxAdminStreams its admin streams: visitors cannot lock admins out.
	MaxStreams, MaxAdminStreams int
	// StreamsPerToken caps the open streams of one visitor room or admin
	// token.
	StreamsPerToken int
	// PingInterval is how often streams send a keep-alive comment; it must be
	// below 25 s (default 20 s).
	PingInterval time.Duration
	// StreamWriteTimeout is how long a stream's write may make no progress
	// before the stream is dropped as stalled (default 20 s).
	StreamWriteTimeout time.Duration
	// DisableStreamHijack writes every stream through the handler's
	// http.Flusher; by default a stream on HTTP/1.x is written straight to
	// its hijacked connection (PARLEY_STREAM_HIJACK). The client sees the
	// same events either way.
	DisableStreamHijack bool

	// Widget holds loader.js (served at /widget.js), counter.js (at
	// /counter.js), frame.html, frame.js,
	// frame.css (under /widget/) and demo.html (served at /).
	Widget fs.FS
	// Admin holds the console: index.html and its modules and styles,
	// served under /admin/. Widget and Admin are also served under
	// /v/<version>/, a hash of both taken once by New.
	Admin fs.FS

	// Ready pings the store for /readyz; nil pings Service's store.
	Ready func(ctx context.Context) error
	// StreamsHealthy, when set, reports false while the store's pub/sub
	// bridge is down; open streams are then ended so that their clients
	// reconnect and resume instead of silently missing events.
	StreamsHealthy func() bool
	// StreamsGeneration, when set, counts the bridge's subscriptions (see
	// redisstore.Store.Generation): a change means the bridge was down, if
	// only briefly, and open streams are ended for the same reason.
	StreamsGeneration func() uint64
	// Registry receives the server's metrics and is served at /metrics; nil
	// means a new registry with the Go and process collectors.
	Registry *prometheus.Registry
	// MetricsToken is the bearer token GET /metrics asks for; empty means
	// the route always answers 401 (serve MetricsHandler on a private
	// listener instead).
	MetricsToken string
	// Mail, when set, turns email on (see MailDeps); nil means off.
	Mail *MailDeps
	// MailStats, when set (mail is on), feeds the parley_mail_queue gauge.
	MailStats func(ctx context.Context) (chat.MailQueueStats, error)
	// Webhooks serves the owners' webhook routes; nil answers them 404.
	Webhooks *webhook.Service
	// Attachments stores and serves files; nil answers their routes 404.
	Attachments *attach.Service
	// APITokens serves the owners' API token routes and lets API tokens
	// use the admin API; nil answers the routes 404 and refuses every
	// API token.
	APITokens *auth.APITokens
}

// Server is Parley's HTTP API. Build it with New.
type Server struct {
	svc      *chat.Service
	tokens   *auth.Tokens
	accounts *auth.Accounts
	hub      *chat.Hub
	log      *slog.Logger

	origins        originMatcher
	cors           gin.HandlerFunc
	maxBody        int64
	ready          func(ctx context.Context) error
	streamsHealthy func() bool

	widget  *staticFiles
	admin   *staticFiles
	version string       // of the static files, in their versioned URLs
	zip     *compressors // of compressJSON
	metrics *metrics
	streams *stream.Registry
	engine  *gin.Engine

	// metricsToken is the SHA-256 of Options.MetricsToken, nil when unset.
	metricsToken []byte
	// unlisted rate-limits the warnings about origins not allowed.
	unlisted *originWarnings

	// mail is nil while email is off.
	mail *MailDeps
	// hooks is nil when webhooks are not wired.
	hooks *webhook.Service
	// attach is nil when attachments are not wired.
	attach *attach.Service
	// apiTokens is nil when API tokens are not wired.
	apiTokens *auth.APITokens

	// fullWarned is when the last "Redis is full" error was logged (Unix ns).
	fullWarned atomic.Int64
}

// New builds a Server from opts. It panics when a required option is missing
// or a trusted proxy does not parse, which are programming or configuration
// errors that config validation should have caught.
func New(opts Options) *Server {
	if opts.Service == nil || opts.Tokens == nil || opts.Accounts == nil || opts.Hub == nil {
		panic("httpapi: Service, Tokens, Accounts and Hub are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.MaxStreams <= 0 {
		opts.MaxStreams = DefaultMaxStreams
	}
	if opts.StreamsPerToken <= 0 {
		opts.StreamsPerToken = DefaultStreamsPerToken
	}
	if opts.PingInterval <= 0 || opts.PingInterval >= 25*time.Second {
		opts.PingInterval = DefaultPingInterval
	}
	if opts.Ready == nil {
		opts.Ready = opts.Service.Store().Ready
	}
	s := &Server{
		svc:            opts.Service,
		tokens:         opts.Tokens,
		accounts:       opts.Accounts,
		hub:            opts.Hub,
		log:            opts.Logger,
		origins:        newOriginMatcher(opts.AllowedOrigins),
		maxBody:        opts.MaxBodyBytes,
		ready:          opts.Ready,
		streamsHealthy: opts.StreamsHealthy,
		metrics:        newMetrics(opts.Registry, opts.MailStats),
		unlisted:       newOriginWarnings(maxWarnedOrigins, warnOriginEvery),
		zip:            &compressors{},
		mail:           opts.Mail,
		hooks:          opts.Webhooks,
		attach:         opts.Attachments,
		apiTokens:      opts.APITokens,
	}
	if opts.MetricsToken != "" {
		sum := sha256.Sum256([]byte(opts.MetricsToken))
		s.metricsToken = sum[:]
	}
	s.version = assetVersion(map[string]fs.FS{"widget": opts.Widget, "admin": opts.Admin})
	s.widget = newStaticFiles(opts.Widget, "widget", s.version, s.log)
	s.admin = newStaticFiles(opts.Admin, "admin", s.version, s.log)
	s.cors = s.newCORS()
	s.streams = stream.NewRegistry(stream.Config{
		MaxStreams: opts.MaxStreams, MaxAdminStreams: opts.MaxAdminStreams, PerKey: opts.StreamsPerToken,
		PingInterval: opts.PingInterval, WriteTimeout: opts.StreamWriteTimeout,
		Hijack: !opts.DisableStreamHijack, Healthy: opts.StreamsHealthy, Generation: opts.StreamsGeneration,
		Logger: opts.Logger, Dropped: s.metrics.streamDropped,
	})
	// Logout, a new password or a removed account, on any instance, ends
	// the admin's streams here at once.
	opts.Hub.OnRevoked(s.endRevoked)
	s.engine = s.newEngine(opts.TrustedProxies)
	return s
}

// endRevoked ends the admin streams of a revoked token or account.
func (s *Server) endRevoked(ev chat.Event) {
	if n := s.streams.EndAdmin(ev.TokenID, ev.Username); n > 0 {
		s.log.Info("admin streams ended: token revoked", slog.Int("streams", n), slog.String("username", ev.Username))
	}
}

// Handler returns the http.Handler serving every route.
func (s *Server) Handler() http.Handler { return s.engine }

// MetricsHandler serves the Prometheus metrics with no authentication, for
// a listener that only the monitoring network reaches (PARLEY_METRICS_ADDR).
func (s *Server) MetricsHandler() http.Handler { return s.metrics.handler }

// Shutdown ends every open event stream, so that clients reconnect (to
// another instance, or to this one once it is back); streams opened
// afterwards are refused with 503 so that clients retry elsewhere. Streams
// get a second to end on their own, then those still open are ended by
// force (a client that stopped reading holds its stream in a write).
// Shutdown returns once every stream has ended, or with ctx's error.
//
// Streams on HTTP/1.x run on hijacked connections, which
// http.Server.Shutdown neither tracks nor closes, and a stream served by its
// handler holds http.Server.Shutdown until it ends: register Shutdown with
// http.Server.RegisterOnShutdown, and call it again after
// http.Server.Shutdown to wait for the streams.
func (s *Server) Shutdown(ctx context.Context) error {
	if err := s.streams.Shutdown(ctx); err != nil {
		s.log.Warn("event streams still open after shutdown", slog.Int("streams", s.streams.Len()))
		return err
	}
	return nil
}

func (s *Server) newEngine(trustedProxies []string) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	e.HandleMethodNotAllowed = false
	e.TrustedPlatform = ""
	e.ForwardedByClientIP = true
	e.RemoteIPHeaders = []string{"X-Forwarded-For"}
	if len(trustedProxies) == 0 {
		trustedProxies = nil
	}
	if err := e.SetTrustedProxies(trustedProxies); err != nil {
		panic("httpapi: trusted proxies: " + err.Error())
	}
	e.Use(securityHeaders, s.requestID, s.accessLog, s.observe, s.recoverPanic, s.limitBody, s.corsFor)
	s.routes(e)
	return e
}
