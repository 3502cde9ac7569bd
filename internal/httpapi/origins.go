package httpapi

import (
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// originMatcher decides which site origins may call the visitor API.
type originMatcher struct {
	exact map[string]bool
	// anyPort holds "scheme://host" of the entries written "scheme://host:*".
	anyPort map[string]bool
	// csp is the allowed origins as valid CSP sources, in configuration
	// order (for the start-up and warning logs).
	csp []string
}

func newOriginMatcher(origins []string) originMatcher {
	m := originMatcher{exact: make(map[string]bool), anyPort: make(map[string]bool)}
	for _, o := range origins {
		o = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(o)), "/")
		if base, ok := strings.CutSuffix(o, ":*"); ok {
			if _, _, ok := splitOrigin(base); !ok {
				continue
			}
			m.anyPort[base] = true
			m.csp = append(m.csp, o)
			continue
		}
		if _, _, ok := splitOrigin(o); !ok {
			continue
		}
		m.exact[o] = true
		m.csp = append(m.csp, o)
	}
	return m
}

// allowed tells whether origin (as a browser sends it) is configured.
func (m originMatcher) allowed(origin string) bool {
	origin = strings.ToLower(origin)
	if m.exact[origin] {
		return true
	}
	base, port, ok := splitOrigin(origin)
	if !ok {
		return false
	}
	if !m.anyPort[base] {
		return false
	}
	for _, r := range port {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// splitOrigin splits "scheme://host[:port]" into "scheme://host" and the
// port; ok is false for anything that is not a bare http(s) origin.
func splitOrigin(o string) (base, port string, ok bool) {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(o, " ;,'\"") {
		return "", "", false
	}
	host := u.Hostname()
	if strings.Contains(host, ":") { // IPv6 literal
		host = "[" + host + "]"
	}
	return u.Scheme + "://" + host, u.Port(), true
}

// String lists the allowed origins as configured, for logs.
func (m originMatcher) String() string { return strings.Join(m.csp, ",") }

// How often an unlisted origin is warned about, and how many such origins
// are remembered at once: a flood of made-up Origin headers costs at most
// maxWarnedOrigins lines per warnOriginEvery and bounded memory.
const (
	warnOriginEvery  = 10 * time.Minute
	maxWarnedOrigins = 1024
	maxLoggedOrigin  = 200
)

// originWarnings remembers when each unlisted origin was last warned about.
type originWarnings struct {
	mu    sync.Mutex
	max   int
	every time.Duration
	last  map[string]time.Time
}

func newOriginWarnings(max int, every time.Duration) *originWarnings {
	return &originWarnings{max: max, every: every, last: make(map[string]time.Time)}
}

// due tells whether origin should be warned about now, and if so notes it.
// When the table is full it forgets the entries older than every; if none
// is, nothing new is warned about until one is.
func (w *originWarnings) due(origin string, now time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if t, ok := w.last[origin]; ok && now.Sub(t) < w.every {
		return false
	}
	if _, ok := w.last[origin]; !ok && len(w.last) >= w.max {
		for o, t := range w.last {
			if now.Sub(t) >= w.every {
				delete(w.last, o)
			}
		}
		if len(w.last) >= w.max {
			return false
		}
	}
	w.last[origin] = now
	return true
}

// warnUnlisted tells the operator, once per origin every warnOriginEvery,
// that a site not in PARLEY_ALLOWED_ORIGINS tried to use the chat: the
// visitor's browser shows little more than a refused request, so without this
// line a mistyped origin (localhost for 127.0.0.1, www for the apex) is hard
// to find.
func (s *Server) warnUnlisted(c *gin.Context, origin string) {
	if len(origin) > maxLoggedOrigin {
		origin = origin[:maxLoggedOrigin]
	}
	if !s.unlisted.due(origin, time.Now()) {
		return
	}
	s.log.LogAttrs(c.Request.Context(), slog.LevelWarn,
		"refused a site whose origin is not allowed: if it is yours, add it to PARLEY_ALLOWED_ORIGINS (this is logged once per origin every 10 minutes)",
		slog.String("origin", origin), slog.String("allowed_origins", s.origins.String()), attrRoute(c), attrRequestID(c))
}
