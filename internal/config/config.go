// Package config reads Parley's settings from the environment into one
// immutable Config, and says which variable is wrong when one is.
package config

import (
	"errors"
	"fmt"
	"github.com/parley-chat/parley/internal/blob"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// DefaultRateLimits are used when PARLEY_RATE_LIMITS is not set.
const DefaultRateLimits = "rooms=10/h,messages=30/m,login=10/15m,login-user=5/15m,visits=120/m,uploads=20/m"

// Config is every setting of a Parley process.
type Config struct {
	Addr        string
	RedisURL    string // "" = embedded
	RedisPrefix string
	DataDir     string
	JWTSecret   []byte // nil = generated once and kept in Redis
	// IdentitySecret is the secret the site's backend signs its users' ids
	// with (PARLEY_IDENTITY_SECRET); nil turns verified identity off.
	IdentitySecret []byte
	AdminUser      string
	AdminPassword  string
	AllowedOrigins []string
	RoomTTL        time.Duration
	MaxMessages    int
	TrustedProxies []string
	// WebhookAllowHosts (PARLEY_WEBHOOK_ALLOW_HOSTS) are the hosts webhooks
	// may reach over plain http and at loopback or private addresses, for
	// local testing; by default none.
	WebhookAllowHosts []string
	LogLevel          slog.Level
	LogFormat         string // "text" or "json"
	Limits            chat.Limits
	// IPv6Prefix is the network size (bits) an IPv6 client is limited by
	// (PARLEY_IPV6_PREFIX, default 64, 32–128).
	IPv6Prefix int
	// MaxStreams caps the visitor streams of an instance
	// (PARLEY_MAX_STREAMS), MaxAdminStreams its admin streams
	// (PARLEY_MAX_ADMIN_STREAMS): a reserve visitors cannot take.
	MaxStreams, MaxAdminStreams int
	// StreamWriteTimeout is how long a stream's write may make no progress
	// before the stream is dropped as stalled (PARLEY_STREAM_WRITE_TIMEOUT).
	StreamWriteTimeout time.Duration
	// StreamHijack serves event streams on HTTP/1.x straight on their
	// hijacked connections (PARLEY_STREAM_HIJACK, default on); off writes
	// them through net/http's response like every other route.
	StreamHijack bool
	// Pprof serves net/http/pprof on this loopback address when set.
	Pprof string
	// MemoryLimit is the Go runtime's soft memory limit in bytes
	// (PARLEY_MEMORY_LIMIT); 0 sets none. GOMEMLIMIT, when set, wins.
	MemoryLimit int64
	// MetricsAddr is where /metrics is served without a token
	// (PARLEY_METRICS_ADDR); "" when it is off.
	MetricsAddr string
	// MetricsAddrSet is true when PARLEY_METRICS_ADDR was given: a busy
	// default address is only a warning, a busy chosen one an error.
	MetricsAddrSet bool
	// MetricsToken, when set, lets GET /metrics on the main listener answer
	// to "Authorization: Bearer <token>" (PARLEY_METRICS_TOKEN).
	MetricsToken string
	// Mail is the email settings (mail.go).
	Mail Mail
	// AdminEmail is the first admin's notification address
	// (PARLEY_ADMIN_EMAIL), set while that account has none.
	AdminEmail string
	// Hours are the business hours (PARLEY_BUSINESS_HOURS in
	// PARLEY_TIMEZONE); hours an owner saves in the console win.
	Hours chat.Hours
	// AttachmentMax bounds one attachment in bytes
	// (PARLEY_ATTACHMENT_MAX, default 10 MB).
	AttachmentMax int64
	// S3, when set (PARLEY_S3_URL or PARLEY_S3_ENDPOINT and the others),
	// stores attachments in that bucket; nil keeps them under
	// PARLEY_DATA_DIR/attachments.
	S3 *blob.S3Config
}

// DefaultAttachmentMax is PARLEY_ATTACHMENT_MAX's default.
const DefaultAttachmentMax = 10 << 20

// DefaultMetricsAddr is where /metrics is served when PARLEY_METRICS_ADDR is
// not set: loopback, for a Prometheus on the same host.
const DefaultMetricsAddr = "127.0.0.1:9464"

// minMetricsToken keeps the metrics token from being guessable.
const minMetricsToken = 16

// Load reads the configuration through getenv (os.Getenv in main, a map in
// tests).
func Load(getenv func(string) string) (Config, error) {
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	c := Config{
		Addr:          get("PARLEY_ADDR", ":8080"),
		RedisURL:      get("PARLEY_REDIS_URL", ""),
		RedisPrefix:   get("PARLEY_REDIS_PREFIX", "parley:"),
		DataDir:       get("PARLEY_DATA_DIR", "./parley-data"),
		AdminUser:     get("PARLEY_ADMIN_USER", ""),
		AdminPassword: getenv("PARLEY_ADMIN_PASSWORD"),
		LogFormat:     get("PARLEY_LOG_FORMAT", "text"),
		Pprof:         get("PARLEY_PPROF", ""),
	}
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}

	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("PARLEY_ADDR", "want host:port such as :8080, got %q", c.Addr)
	}
	if c.RedisURL != "" {
		if u, err := url.Parse(c.RedisURL); err != nil || u.Scheme == "" {
			bad("PARLEY_REDIS_URL", "want a URL such as redis://localhost:6379/0")
		}
	}
	if strings.ContainsAny(c.RedisPrefix, " {}") {
		bad("PARLEY_REDIS_PREFIX", "must not contain spaces or braces")
	}
	if s := getenv("PARLEY_JWT_SECRET"); s != "" {
		if len(s) < 32 {
			bad("PARLEY_JWT_SECRET", "must be at least 32 bytes, got %d", len(s))
		}
		c.JWTSecret = []byte(s)
	}
	if s := getenv("PARLEY_IDENTITY_SECRET"); s != "" {
		if len(s) < 32 {
			bad("PARLEY_IDENTITY_SECRET", "must be at least 32 bytes, got %d", len(s))
		}
		c.IdentitySecret = []byte(s)
	}
	if h, err := chat.ParseHours(get("PARLEY_BUSINESS_HOURS", ""), get("PARLEY_TIMEZONE", "UTC")); err != nil {
		if strings.Contains(err.Error(), "timezone") {
			bad("PARLEY_TIMEZONE", "want an IANA time zone such as Europe/Paris")
		} else {
			bad("PARLEY_BUSINESS_HOURS", "%s (want e.g. \"mon-fri 09:00-17:00; sat 10:00-13:00\")", chat.ErrorMessage(err))
		}
	} else {
		c.Hours = h
	}
	if e, err := chat.NormalizeAdminEmail(get("PARLEY_ADMIN_EMAIL", "")); err != nil {
		bad("PARLEY_ADMIN_EMAIL", "want an address such as dana@acme.example")
	} else {
		c.AdminEmail = e
	}
	if c.AdminPassword != "" && len(c.AdminPassword) < 8 {
		bad("PARLEY_ADMIN_PASSWORD", "must be at least 8 characters")
	}

	origins := get("PARLEY_ALLOWED_ORIGINS", "")
	if origins == "" {
		c.AllowedOrigins = []string{"http://localhost:*", "http://127.0.0.1:*"}
	} else {
		for _, o := range strings.Split(origins, ",") {
			o = strings.TrimRight(strings.TrimSpace(o), "/")
			if o == "" {
				continue
			}
			if !validOrigin(o) {
				bad("PARLEY_ALLOWED_ORIGINS", "%q is not an origin such as https://example.com", o)
				continue
			}
			c.AllowedOrigins = append(c.AllowedOrigins, o)
		}
	}

	var err error
	if c.RoomTTL, err = time.ParseDuration(get("PARLEY_ROOM_TTL", "720h")); err != nil || c.RoomTTL < 0 || (c.RoomTTL > 0 && c.RoomTTL < time.Minute) {
		bad("PARLEY_ROOM_TTL", "want a duration of at least 1m such as 720h, or 0 to keep rooms forever")
	}
	if c.MaxMessages, err = strconv.Atoi(get("PARLEY_MAX_MESSAGES", "5000")); err != nil || c.MaxMessages < 10 || c.MaxMessages > 1_000_000 {
		bad("PARLEY_MAX_MESSAGES", "want a number between 10 and 1000000")
	}
	if c.MaxStreams, err = strconv.Atoi(get("PARLEY_MAX_STREAMS", "20000")); err != nil || c.MaxStreams < 1 {
		bad("PARLEY_MAX_STREAMS", "want a positive number")
	}
	if c.MaxAdminStreams, err = strconv.Atoi(get("PARLEY_MAX_ADMIN_STREAMS", "500")); err != nil || c.MaxAdminStreams < 1 {
		bad("PARLEY_MAX_ADMIN_STREAMS", "want a positive number")
	}
	if c.StreamWriteTimeout, err = time.ParseDuration(get("PARLEY_STREAM_WRITE_TIMEOUT", "20s")); err != nil ||
		c.StreamWriteTimeout < time.Second || c.StreamWriteTimeout > 5*time.Minute {
		bad("PARLEY_STREAM_WRITE_TIMEOUT", "want a duration between 1s and 5m such as 20s")
	}
	if c.StreamHijack, err = parseBool(get("PARLEY_STREAM_HIJACK", "on")); err != nil {
		bad("PARLEY_STREAM_HIJACK", "want on or off (true or false)")
	}
	for _, p := range splitList(get("PARLEY_TRUSTED_PROXIES", "")) {
		if net.ParseIP(p) == nil {
			if _, _, err := net.ParseCIDR(p); err != nil {
				bad("PARLEY_TRUSTED_PROXIES", "%q is neither an IP nor a CIDR", p)
				continue
			}
		}
		c.TrustedProxies = append(c.TrustedProxies, p)
	}
	for _, h := range splitList(get("PARLEY_WEBHOOK_ALLOW_HOSTS", "")) {
		if strings.ContainsAny(h, "/:@ ") && net.ParseIP(strings.Trim(h, "[]")) == nil {
			bad("PARLEY_WEBHOOK_ALLOW_HOSTS", "%q is not a host name or an IP address (no scheme, port or path)", h)
			continue
		}
		c.WebhookAllowHosts = append(c.WebhookAllowHosts, h)
	}
	if err := c.LogLevel.UnmarshalText([]byte(get("PARLEY_LOG_LEVEL", "info"))); err != nil {
		bad("PARLEY_LOG_LEVEL", "want debug, info, warn or error")
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("PARLEY_LOG_FORMAT", "want text or json")
	}
	if c.Limits, err = ParseRateLimits(get("PARLEY_RATE_LIMITS", DefaultRateLimits)); err != nil {
		bad("PARLEY_RATE_LIMITS", "%v", err)
	}
	if c.IPv6Prefix, err = strconv.Atoi(get("PARLEY_IPV6_PREFIX", strconv.Itoa(chat.DefaultIPv6Prefix))); err != nil || c.IPv6Prefix < 32 || c.IPv6Prefix > 128 {
		bad("PARLEY_IPV6_PREFIX", "want a prefix length between 32 and 128 such as 64")
	}
	if c.Pprof != "" {
		if host, _, err := net.SplitHostPort(c.Pprof); err != nil || (host != "127.0.0.1" && host != "localhost" && host != "::1") {
			bad("PARLEY_PPROF", "want a loopback address such as 127.0.0.1:6060")
		}
	}
	c.AttachmentMax = DefaultAttachmentMax
	if v := get("PARLEY_ATTACHMENT_MAX", ""); v != "" {
		if c.AttachmentMax, err = ParseSize(v); err != nil || c.AttachmentMax < 1<<10 || c.AttachmentMax > 1<<30 {
			bad("PARLEY_ATTACHMENT_MAX", "want a size from 1KiB to 1GiB such as 10MiB, got %q", v)
		}
	}
	if s3, err := loadS3(get); err != nil {
		bad("PARLEY_S3_URL", "%v", err)
	} else {
		c.S3 = s3
	}
	if v := get("PARLEY_MEMORY_LIMIT", ""); v != "" {
		if c.MemoryLimit, err = ParseSize(v); err != nil || c.MemoryLimit < minMemoryLimit {
			bad("PARLEY_MEMORY_LIMIT", "want a size of at least 16MiB such as 512MiB or 2GiB, got %q", v)
		}
	}
	c.MetricsAddrSet = strings.TrimSpace(getenv("PARLEY_METRICS_ADDR")) != ""
	switch c.MetricsAddr = get("PARLEY_METRICS_ADDR", DefaultMetricsAddr); c.MetricsAddr {
	case "off":
		c.MetricsAddr = ""
	default:
		if _, port, err := net.SplitHostPort(c.MetricsAddr); err != nil || port == "" {
			bad("PARLEY_METRICS_ADDR", "want host:port such as 127.0.0.1:9464, or off, got %q", c.MetricsAddr)
		}
	}
	if c.MetricsToken = strings.TrimSpace(getenv("PARLEY_METRICS_TOKEN")); c.MetricsToken != "" {
		if len(c.MetricsToken) < minMetricsToken || strings.ContainsAny(c.MetricsToken, " \t\r\n") {
			bad("PARLEY_METRICS_TOKEN", "must be at least %d characters without spaces", minMetricsToken)
		}
	}
	c.Mail = loadMail(get, bad)
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("config: %w", errors.Join(errs...))
	}
	return c, nil
}

// minMemoryLimit keeps a typo ("512K") from making the server collect all
// the time.
const minMemoryLimit = 16 << 20

// ParseSize reads a byte count in GOMEMLIMIT's form: a number with an
// optional unit B, KiB, MiB, GiB or TiB ("512MiB", "1073741824").
func ParseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		shift  uint
	}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}}
	num, shift := s, uint(0)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			num, shift = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.shift
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size such as 512MiB", s)
	}
	if n > (1<<63-1)>>shift {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return n << shift, nil
}

// ParseRateLimits reads "rooms=10/h,messages=30/m,login=10/15m,login-user=5/15m,visits=120/m";
// "off" disables every limit, and a name left out keeps its default.
func ParseRateLimits(s string) (chat.Limits, error) {
	s = strings.TrimSpace(s)
	if s == "off" {
		return chat.Limits{}, nil
	}
	var l chat.Limits
	if s != DefaultRateLimits {
		var err error
		if l, err = ParseRateLimits(DefaultRateLimits); err != nil {
			return l, err
		}
	}
	for _, part := range splitList(s) {
		name, spec, ok := strings.Cut(part, "=")
		if !ok {
			return l, fmt.Errorf("%q: want name=N/period", part)
		}
		var lim *chat.Limit
		if spec != "off" {
			n, per, ok := strings.Cut(spec, "/")
			count, err := strconv.Atoi(n)
			if !ok || err != nil || count < 1 {
				return l, fmt.Errorf("%q: want name=N/period such as rooms=10/h", part)
			}
			d, err := parsePeriod(per)
			if err != nil {
				return l, fmt.Errorf("%q: %v", part, err)
			}
			lim = &chat.Limit{N: count, Per: d}
		}
		switch strings.TrimSpace(name) {
		case "rooms":
			l.Rooms = lim
		case "messages":
			l.Messages = lim
		case "login":
			l.Login = lim
		case "login-user":
			l.LoginUser = lim
		case "visits":
			l.Visits = lim
		case "uploads":
			l.Uploads = lim
		default:
			return l, fmt.Errorf("%q: unknown limit (want rooms, messages, login, login-user, visits or uploads)", name)
		}
	}
	return l, nil
}

// parsePeriod reads "s", "m", "h", "d" with an optional count ("15m") or a Go
// duration ("90s").
func parsePeriod(p string) (time.Duration, error) {
	units := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}
	if u, ok := units[p]; ok {
		return u, nil
	}
	if len(p) > 1 {
		if u, ok := units[p[len(p)-1:]]; ok {
			if n, err := strconv.Atoi(p[:len(p)-1]); err == nil && n > 0 {
				return time.Duration(n) * u, nil
			}
		}
	}
	d, err := time.ParseDuration(p)
	if err != nil || d < time.Second {
		return 0, fmt.Errorf("period %q: want s, m, h, d, 15m or a duration of at least 1s", p)
	}
	return d, nil
}

// parseBool reads a switch: on, true, off or false, in any case.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "on", "true":
		return true, nil
	case "off", "false":
		return false, nil
	}
	return false, fmt.Errorf("%q is not on, off, true or false", s)
}

func validOrigin(o string) bool {
	u, err := url.Parse(strings.Replace(o, ":*", "", 1))
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.Path == "" && u.RawQuery == ""
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// loadS3 reads PARLEY_S3_URL, or PARLEY_S3_ENDPOINT with PARLEY_S3_BUCKET,
// PARLEY_S3_REGION, PARLEY_S3_ACCESS_KEY, PARLEY_S3_SECRET_KEY and
// PARLEY_S3_INSECURE; nil when neither is set.
func loadS3(get func(name, def string) string) (*blob.S3Config, error) {
	if raw := get("PARLEY_S3_URL", ""); raw != "" {
		c, err := blob.ParseS3URL(raw)
		if err != nil {
			return nil, err
		}
		return &c, nil
	}
	if get("PARLEY_S3_ENDPOINT", "") == "" {
		return nil, nil
	}
	c := blob.S3Config{
		Endpoint: get("PARLEY_S3_ENDPOINT", ""), Bucket: get("PARLEY_S3_BUCKET", ""), Region: get("PARLEY_S3_REGION", ""),
		AccessKey: get("PARLEY_S3_ACCESS_KEY", ""), SecretKey: get("PARLEY_S3_SECRET_KEY", ""),
	}
	switch get("PARLEY_S3_INSECURE", "0") {
	case "0", "false":
	case "1", "true":
		c.Insecure = true
	default:
		return nil, fmt.Errorf("PARLEY_S3_INSECURE must be 0 or 1")
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("PARLEY_S3_ENDPOINT and the others: %w", err)
	}
	return &c, nil
}
