package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/gin-contrib/cors"
	"github.com/gin-gonic/gin"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
)

// Keys of values kept on the gin context.
const (
	ctxRequestID = "parley.request_id"
	ctxAdmin     = "parley.admin"
	ctxRoomID    = "parley.room_id"
)

const maxRequestIDLen = 64

// requestID takes a sane X-Request-ID from the client or makes one, and
// echoes it on the response.
func (s *Server) requestID(c *gin.Context) {
	id := c.GetHeader("X-Request-ID")
	if !validRequestID(id) {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Set(ctxRequestID, id)
	c.Header("X-Request-ID", id)
	c.Next()
}

func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		b := id[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_' || b == '.') {
			return false
		}
	}
	return true
}

func attrRequestID(c *gin.Context) slog.Attr {
	return slog.String("request_id", c.GetString(ctxRequestID))
}
func attrErr(err error) slog.Attr        { return slog.String("error", err.Error()) }
func attrRoute(c *gin.Context) slog.Attr { return slog.String("route", routeLabel(c)) }

// routeLabel is the route template of the request ("/api/v1/rooms/:id"), so
// logs and metrics never carry room ids; unknown paths share one label.
func routeLabel(c *gin.Context) string {
	if p := c.FullPath(); p != "" {
		return p
	}
	return "unmatched"
}

// accessLog writes one line per request. It never logs headers (the
// Authorization header least of all) and redacts token-like query values.
func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	status := c.Writer.Status()
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelWarn
	}
	ctx := c.Request.Context()
	// Nothing is built for a line the handler would drop (PARLEY_LOG_LEVEL
	// above info): this runs on every request.
	if !s.log.Enabled(ctx, level) {
		return
	}
	var attrs [8]slog.Attr // on the stack: no slice per request
	a := append(attrs[:0],
		slog.String("method", c.Request.Method),
		attrRoute(c),
		slog.String("path", c.Request.URL.Path),
		slog.Int("status", status),
		slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
		attrRequestID(c),
		slog.String("client_ip", c.ClientIP()),
	)
	if q := c.Request.URL.RawQuery; q != "" {
		a = append(a, slog.String("query", redactQuery(q)))
	}
	s.log.LogAttrs(ctx, level, "request", a...)
}

// redactQuery hides the values of parameters that may hold a credential.
func redactQuery(raw string) string {
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return "[unparsable]"
	}
	for k, vs := range vals {
		for i, v := range vs {
			if secretKey(k) || looksLikeToken(v) {
				vs[i] = "REDACTED"
			}
		}
	}
	return vals.Encode()
}

func secretKey(k string) bool {
	k = strings.ToLower(k)
	if k == "t" { // the signed mail links: /unsubscribe?t=, open.html?t=
		return true
	}
	for _, w := range []string{"token", "auth", "jwt", "key", "secret", "pass", "sig", "session", "code", "bearer"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// looksLikeToken spots JWTs and other long opaque strings.
func looksLikeToken(v string) bool {
	return strings.HasPrefix(v, "eyJ") || strings.Count(v, ".") == 2 && len(v) > 40 || len(v) > 64
}

// recoverPanic turns a handler panic into a 500 internal error, logged with
// its stack once.
func (s *Server) recoverPanic(c *gin.Context) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler {
			panic(v)
		}
		s.log.LogAttrs(c.Request.Context(), slog.LevelError, "panic",
			attrRequestID(c), attrRoute(c), slog.String("error", fmt.Sprint(v)), slog.String("stack", string(debug.Stack())))
		if c.Writer.Written() {
			c.Abort()
			return
		}
		c.AbortWithStatusJSON(http.StatusInternalServerError,
			errorBody{Error: errorDetail{Code: chat.CodeInternal, Message: "internal error"}})
	}()
	c.Next()
}

// observe records the request metrics.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	route, status, method := routeLabel(c), strconv.Itoa(c.Writer.Status()), methodLabel(c.Request.Method)
	s.metrics.requests.WithLabelValues(method, route, status).Inc()
	s.metrics.duration.WithLabelValues(method, route, status).Observe(time.Since(start).Seconds())
}

// methodLabel keeps the method label to a fixed set: net/http accepts any
// token as a method, and each new label value would be a series kept forever.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}

// limitBody refuses bodies over the limit: at once when the declared length
// says so, and while reading otherwise (decodeJSON sees *http.MaxBytesError).
func (s *Server) limitBody(c *gin.Context) {
	limit, tooLarge := s.maxBody, error(errTooLarge)
	if isUpload(c) && s.attach != nil {
		limit = s.attach.MaxSize() + multipartSlack
		tooLarge = chat.Errorf(chat.CodeAttachmentTooLarge, "the file is larger than %d MB", s.attach.MaxSize()>>20)
	}
	if c.Request.ContentLength > limit {
		s.fail(c, tooLarge)
		return
	}
	if c.Request.Body != nil && c.Request.Body != http.NoBody {
		// The net/http writer (not gin's wrapper) learns that the body was
		// cut short, so the connection is closed rather than drained.
		var w http.ResponseWriter = c.Writer
		if u, ok := w.(interface{ Unwrap() http.ResponseWriter }); ok {
			w = u.Unwrap()
		}
		c.Request.Body = http.MaxBytesReader(w, c.Request.Body, limit)
	}
	c.Next()
}

// deadline bounds the request's context, so that a request that waits on a
// stalled store answers instead of hanging. Streams do not use it.
func deadline(d time.Duration) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), d)
		defer cancel()
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	}
}

// corsPaths tells whether path belongs to the CORS-enabled surface: the
// visitor API and the visitor counter. The admin API never gets CORS headers.
func corsPath(path string) bool {
	return path == "/api/v1/rooms" || strings.HasPrefix(path, "/api/v1/rooms/") || path == "/api/v1/visits" || path == "/api/v1/hours"
}

// newCORS builds the CORS handler of the visitor surface. Tokens travel in
// the Authorization header, so credentials (cookies) are never allowed.
func (s *Server) newCORS() gin.HandlerFunc {
	return cors.New(cors.Config{
		AllowOriginFunc: s.origins.allowed,
		AllowMethods:    []string{http.MethodGet, http.MethodPost, http.MethodDelete, http.MethodOptions},
		AllowHeaders:    []string{"Authorization", "Content-Type", "Last-Event-ID", "X-Request-ID"},
		ExposeHeaders:   []string{"Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-Request-ID"},
		MaxAge:          10 * time.Minute,
	})
}

// corsFor applies CORS to the visitor surface. A request from an origin that
// is not allowed is refused with a JSON 403 before it can change anything
// (a browser would hide the answer anyway, but a "simple" cross-site POST
// would otherwise still be executed).
func (s *Server) corsFor(c *gin.Context) {
	if !corsPath(c.Request.URL.Path) {
		c.Next()
		return
	}
	origin := c.GetHeader("Origin")
	if origin != "" && !sameHost(origin, c.Request.Host) && !s.origins.allowed(origin) {
		s.warnUnlisted(c, origin)
		s.fail(c, errBadOrigin)
		return
	}
	s.cors(c)
}

func sameHost(origin, host string) bool {
	return origin == "http://"+host || origin == "https://"+host
}

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(c *gin.Context) string {
	h := c.GetHeader("Authorization")
	const prefix = "bearer "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return ""
	}
	return strings.TrimSpace(h[len(prefix):])
}

// visitorAuth accepts only a visitor token, and only for the room in the
// path: another room's token is 403, a malformed id 400.
func (s *Server) visitorAuth(c *gin.Context) {
	roomID, err := s.tokens.VerifyVisitor(bearer(c))
	if err != nil {
		s.fail(c, errNotVisitor)
		return
	}
	id := c.Param("id")
	if !chat.ValidRoomID(id) {
		s.fail(c, errBadRoomID)
		return
	}
	if id != roomID {
		s.fail(c, chat.ErrForbidden)
		return
	}
	c.Set(ctxRoomID, roomID)
	c.Next()
}

// metricsAuth lets GET /metrics through only with the configured metrics
// token. Both sides are hashed first, so the comparison takes the same time
// whatever the length or the content of the guess. With no token configured
// every request is refused alike: the answer does not tell whether one is.
func (s *Server) metricsAuth(c *gin.Context) {
	got := sha256.Sum256([]byte(bearer(c)))
	if s.metricsToken == nil || subtle.ConstantTimeCompare(got[:], s.metricsToken) != 1 {
		s.fail(c, errNoMetrics)
		return
	}
	c.Next()
}

// adminAuth accepts a login token that has not been revoked: the console's
// routes that no API token reaches (see adminScope).
func (s *Server) adminAuth(c *gin.Context) { s.authAdmin(c, "") }

// adminScope accepts a login token, or an API token that holds scope.
func (s *Server) adminScope(scope chat.Scope) gin.HandlerFunc {
	return func(c *gin.Context) { s.authAdmin(c, scope) }
}

// authAdmin checks the admin token of the request (401), then that an API
// token holds need (403).
func (s *Server) authAdmin(c *gin.Context, need chat.Scope) {
	claims, err := s.verifyAdmin(c.Request.Context(), bearer(c))
	if err != nil {
		if errors.Is(err, chat.ErrUnauthorized) {
			err = errNotAdmin
		}
		s.fail(c, err)
		return
	}
	if !claims.Allows(need) {
		if need == "" {
			s.fail(c, errSessionOnly)
		} else {
			s.fail(c, chat.Errorf(chat.CodeForbidden, "this API token lacks the %s scope", need))
		}
		return
	}
	c.Set(ctxAdmin, claims)
	c.Next()
}

// verifyAdmin checks a login token or, by its prefix, an API token: a login
// token costs nothing more than before API tokens existed.
func (s *Server) verifyAdmin(ctx context.Context, raw string) (auth.AdminClaims, error) {
	if auth.IsAPIToken(raw) {
		if s.apiTokens == nil {
			return auth.AdminClaims{}, chat.ErrUnauthorized
		}
		return s.apiTokens.Verify(ctx, raw)
	}
	return s.tokens.VerifyAdmin(ctx, raw)
}

// roomParam refuses a malformed :id before any store access.
func (s *Server) roomParam(c *gin.Context) {
	if !chat.ValidRoomID(c.Param("id")) {
		s.fail(c, errBadRoomID)
		return
	}
	c.Next()
}

// notFound answers every unknown path and method.
func (s *Server) notFound(c *gin.Context) { s.fail(c, errNotFound) }
