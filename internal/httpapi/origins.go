package httpapi

import (
	"net/url"
	"strings"
)

// originMatcher decides which site origins may call the visitor API.
type originMatcher struct {
	exact map[string]bool
	// anyPort holds "scheme://host" of the entries written "scheme://host:*".
	anyPort map[string]bool
	// csp is the list of sources for frame-ancestors, in configuration order.
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

// frameAncestors is the frame-ancestors source list of the widget frame: the
// server itself and every allowed site ("http://localhost:*" is already a
// valid CSP source).
func (m originMatcher) frameAncestors() string {
	return strings.Join(append([]string{"'self'"}, m.csp...), " ")
}
