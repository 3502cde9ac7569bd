package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// Bounds of one outgoing request.
const (
	// RequestTimeout bounds a delivery from dial to the last byte read.
	RequestTimeout = 10 * time.Second
	// MaxResponse is how much of an answer's body is read.
	MaxResponse = 4 << 10
	// maxURL bounds a registered URL.
	maxURL = 2000
)

// refused lists the ranges no delivery goes to, besides those netip tells
// (loopback, private, link-local, multicast, unspecified).
var refused = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"), // CGNAT
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"), // NAT64 reaches IPv4 behind it
	netip.MustParsePrefix("2001:db8::/32"),
}

// Blocked tells whether a is an address Parley never delivers to unless
// its host is allowed: loopback, private (10/8, 172.16/12, 192.168/16,
// fc00::/7), link-local (169.254/16, fe80::/10, the cloud metadata
// address among them), unspecified, multicast, CGNAT and reserved ranges.
func Blocked(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() || !a.IsGlobalUnicast() {
		return true
	}
	for _, p := range refused {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Resolver looks up a host's addresses; net.DefaultResolver's LookupNetIP
// when nil. Tests give their own.
type Resolver func(ctx context.Context, host string) ([]netip.Addr, error)

// Guard is the one way Parley makes a request to a URL an owner typed.
type Guard struct {
	allow   map[string]bool
	resolve Resolver
	timeout time.Duration
	client  *http.Client
}

// GuardConfig configures a Guard.
type GuardConfig struct {
	// AllowHosts (PARLEY_WEBHOOK_ALLOW_HOSTS) are host names or addresses
	// that may be reached over plain http and at loopback or private
	// addresses, for local testing.
	AllowHosts []string
	// Resolve looks host names up; nil means the system resolver.
	Resolve Resolver
	// Timeout bounds one request; RequestTimeout when 0.
	Timeout time.Duration
}

// NewGuard returns a Guard.
func NewGuard(cfg GuardConfig) *Guard {
	g := &Guard{allow: map[string]bool{}, resolve: cfg.Resolve, timeout: cfg.Timeout}
	if g.timeout <= 0 {
		g.timeout = RequestTimeout
	}
	for _, h := range cfg.AllowHosts {
		if h = strings.ToLower(strings.Trim(strings.TrimSpace(h), "[]")); h != "" {
			g.allow[h] = true
		}
	}
	if g.resolve == nil {
		g.resolve = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	tr := &http.Transport{
		Proxy:                 nil, // never through an environment proxy
		DialContext:           g.dial,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: g.timeout,
		MaxIdleConns:          20,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       30 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	g.client = &http.Client{
		Transport: tr,
		Timeout:   g.timeout,
		// A redirect is the answer: following one could lead anywhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return g
}

// Timeout is how long one request may take.
func (g *Guard) Timeout() time.Duration { return g.timeout }

func (g *Guard) allowed(host string) bool { return g.allow[strings.ToLower(strings.Trim(host, "[]"))] }

func refuse(format string, args ...any) error {
	return chat.Errorf(chat.CodeURLRefused, format, args...)
}

// errRefusedAddr is what a dial to a refused address fails with.
var errRefusedAddr = errors.New("webhook: refused: the host resolves to a loopback, private or link-local address")

// addrs resolves host (an address is itself) and refuses it when any of
// its addresses is blocked and the host is not allowed.
func (g *Guard) addrs(ctx context.Context, host string) ([]netip.Addr, error) {
	var list []netip.Addr
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		list = []netip.Addr{a}
	} else {
		rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		list, err = g.resolve(rctx, host)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("webhook: resolve %s: %w", host, err)
		}
		if len(list) == 0 {
			return nil, fmt.Errorf("webhook: %s has no address", host)
		}
	}
	if g.allowed(host) {
		return list, nil
	}
	for _, a := range list {
		if Blocked(a) {
			return nil, errRefusedAddr
		}
	}
	return list, nil
}

// dial resolves the host itself and connects to an address it checked, so
// a name that resolves to a public address when the URL is checked and to
// a private one when the request is made (DNS rebinding) is still refused.
func (g *Guard) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	list, err := g.addrs(ctx, host)
	if err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	var last error
	for _, a := range list {
		c, err := d.DialContext(ctx, network, net.JoinHostPort(a.Unmap().String(), port))
		if err == nil {
			return c, nil
		}
		last = err
	}
	return nil, last
}

// CheckURL checks a URL an owner registers: absolute https (or http to an
// allowed host), no credentials, a host that resolves to no refused
// address. It answers CodeURLRefused errors.
func (g *Guard) CheckURL(ctx context.Context, raw string) error {
	if len(raw) > maxURL {
		return refuse("url is longer than %d characters", maxURL)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Hostname() == "" {
		return refuse("url must be an absolute https:// URL")
	}
	host := u.Hostname()
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && g.allowed(host):
	default:
		return refuse("url must start with https:// (plain http only to a host in PARLEY_WEBHOOK_ALLOW_HOSTS)")
	}
	if u.User != nil {
		return refuse("url must not carry a user or password")
	}
	if g.allowed(host) {
		return nil
	}
	lower := strings.ToLower(host)
	if lower == "localhost" || strings.HasSuffix(lower, ".localhost") {
		return refuse("url must not name localhost: Parley does not deliver to loopback, private or link-local addresses")
	}
	if _, err := g.addrs(ctx, host); err != nil {
		if errors.Is(err, errRefusedAddr) {
			return refuse("url host %s is a loopback, private or link-local address: Parley does not deliver there", host)
		}
		return refuse("url host %s does not resolve", host)
	}
	return nil
}

// Response is what came back from one request.
type Response struct {
	Status  int
	Body    []byte // at most MaxResponse bytes
	Latency time.Duration
}

// Post sends body to rawURL with header, through the guard: the address
// is checked as the connection is made, a redirect is not followed, the
// request is bounded by RequestTimeout and the answer read to MaxResponse.
func (g *Guard) Post(ctx context.Context, rawURL string, header http.Header, body []byte) (Response, error) {
	start := time.Now()
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && !(u.Scheme == "http" && g.allowed(u.Hostname()))) {
		return Response{}, errors.New("webhook: refused: not an https URL")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return Response{}, fmt.Errorf("webhook: %w", err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := g.client.Do(req)
	if err != nil {
		return Response{Latency: time.Since(start)}, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, MaxResponse))
	return Response{Status: res.StatusCode, Body: b, Latency: time.Since(start)}, nil
}
