package httpapi

import (
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/parley-chat/parley/internal/chat"
)

// statusOf is the one table from error code to HTTP status.
var statusOf = map[chat.Code]int{
	chat.CodeInvalid:      http.StatusBadRequest,
	chat.CodeUnauthorized: http.StatusUnauthorized,
	chat.CodeForbidden:    http.StatusForbidden,
	chat.CodeRoomNotFound: http.StatusNotFound,
	chat.CodeNotFound:     http.StatusNotFound,
	chat.CodeTooLarge:     http.StatusRequestEntityTooLarge,
	chat.CodeRateLimited:  http.StatusTooManyRequests,
	chat.CodeUnavailable:  http.StatusServiceUnavailable,
	chat.CodeTimeout:      http.StatusServiceUnavailable,
	chat.CodeFull:         http.StatusServiceUnavailable,
	chat.CodeTooMany:      http.StatusTooManyRequests,
	chat.CodeInternal:     http.StatusInternalServerError,
	chat.CodeEmailOff:     http.StatusConflict,
	chat.CodeIdentityOff:  http.StatusConflict,
	chat.CodeConflict:     http.StatusConflict,
	chat.CodeLimitReached: http.StatusConflict,
	chat.CodeLastOwner:    http.StatusConflict,
	chat.CodeURLRefused:   http.StatusBadRequest,

	chat.CodeAttachmentTooLarge: http.StatusRequestEntityTooLarge,
	chat.CodeImageTooLarge:      http.StatusRequestEntityTooLarge,
	chat.CodeAttachmentType:     http.StatusUnsupportedMediaType,
	chat.CodeAttachmentUnknown:  http.StatusBadRequest,
	chat.CodeAttachmentUsed:     http.StatusConflict,
	chat.CodeTooManyAttachments: http.StatusBadRequest,
}

// wireCode is the code a client sees when it differs from the domain's: the
// API has one code per 429, so a stream cap reads as rate_limited.
var wireCode = map[chat.Code]chat.Code{
	chat.CodeTooMany: chat.CodeRateLimited,
}

// streamRetryAfter is the Retry-After of a refused stream.
const streamRetryAfter = 5

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    chat.Code `json:"code"`
	Message string    `json:"message"`
}

// Frequently answered errors of the HTTP layer.
var (
	errNotFound   = &chat.Error{Code: chat.CodeNotFound, Message: "no such resource"}
	errTooLarge   = &chat.Error{Code: chat.CodeTooLarge, Message: "request body is too large"}
	errBadRoomID  = &chat.Error{Code: chat.CodeInvalid, Message: "malformed room id"}
	errBadOrigin  = &chat.Error{Code: chat.CodeForbidden, Message: "this origin may not call the API"}
	errBadJSON    = &chat.Error{Code: chat.CodeInvalid, Message: "body must be a JSON object"}
	errBadUTF8    = &chat.Error{Code: chat.CodeInvalid, Message: "body must be valid UTF-8"}
	errNotAdmin   = &chat.Error{Code: chat.CodeUnauthorized, Message: "missing, invalid or expired admin token"}
	errNotVisitor = &chat.Error{Code: chat.CodeUnauthorized, Message: "missing, invalid or expired visitor token"}
	errNoMetrics  = &chat.Error{Code: chat.CodeUnauthorized, Message: "missing or invalid metrics token"}
	// errSessionOnly refuses an API token on a route of the console's
	// sessions only (the team, webhooks, API tokens, one's own profile).
	errSessionOnly = &chat.Error{Code: chat.CodeForbidden, Message: "API tokens may not use this route: sign in"}
)

// fail answers err as the API's error body. Anything that is not a
// *chat.Error is an internal error: it is logged here, once, with the request
// id, and the client sees only "internal error".
func (s *Server) fail(c *gin.Context, err error) {
	code := chat.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		code, status = chat.CodeInternal, http.StatusInternalServerError
	}
	msg := chat.ErrorMessage(err)
	if code == chat.CodeInternal {
		msg = "internal error"
		s.log.LogAttrs(c.Request.Context(), slog.LevelError, "internal error",
			attrRequestID(c), attrErr(err), attrRoute(c))
	}
	if chat.StoreTrouble(code) {
		s.metrics.storeErrors.Inc()
	}
	if code == chat.CodeFull {
		s.warnFull(c)
	}
	h := c.Writer.Header()
	var ce *chat.Error
	if errors.As(err, &ce) && ce.Quota != nil {
		setQuotaHeaders(h, *ce.Quota, time.Now())
	}
	if code == chat.CodeTooMany {
		h.Set("Retry-After", strconv.Itoa(streamRetryAfter))
	}
	if code == chat.CodeUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="parley"`)
	}
	if w, ok := wireCode[code]; ok {
		code = w
	}
	c.AbortWithStatusJSON(status, errorBody{Error: errorDetail{Code: code, Message: msg}})
}

// warnFull logs, at most once a minute, that Redis is out of memory and what
// to do about it.
func (s *Server) warnFull(c *gin.Context) {
	now := time.Now().UnixNano()
	last := s.fullWarned.Load()
	if now-last < int64(time.Minute) || !s.fullWarned.CompareAndSwap(last, now) {
		return
	}
	s.log.LogAttrs(c.Request.Context(), slog.LevelError,
		"redis is out of memory (maxmemory reached): every write is refused with 503 store_full until memory is freed; raise maxmemory, or shorten PARLEY_ROOM_TTL, or delete old rooms",
		attrRequestID(c), attrRoute(c))
}

// setQuotaHeaders writes Retry-After (whole seconds, rounded up, at least 1)
// and the X-RateLimit-* headers of a rate-limit window.
func setQuotaHeaders(h http.Header, q chat.Quota, now time.Time) {
	wait := q.Reset.Sub(now).Seconds()
	secs := int64(math.Ceil(wait))
	if secs < 1 {
		secs = 1
	}
	h.Set("Retry-After", strconv.FormatInt(secs, 10))
	h.Set("X-RateLimit-Limit", strconv.Itoa(q.Limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(q.Remaining, 0)))
	// Reset is a Unix time in seconds, rounded up.
	h.Set("X-RateLimit-Reset", strconv.FormatInt((q.Reset.UnixMilli()+999)/1000, 10))
}
