package config

import (
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.Addr != ":8080" || c.RedisPrefix != "parley:" || c.RoomTTL != 720*time.Hour || c.MaxMessages != 5000 {
		t.Errorf("got %+v, want the documented defaults", c)
	}
	want := chat.Limit{N: 10, Per: time.Hour}
	if c.Limits.Rooms == nil || *c.Limits.Rooms != want {
		t.Errorf("rooms limit: got %v, want %v", c.Limits.Rooms, want)
	}
	if !c.StreamHijack {
		t.Errorf("StreamHijack: got off, want on by default")
	}
	if c.Limits.Login == nil || *c.Limits.Login != (chat.Limit{N: 10, Per: 15 * time.Minute}) {
		t.Errorf("login limit: got %v", c.Limits.Login)
	}
	if c.Limits.LoginUser == nil || *c.Limits.LoginUser != (chat.Limit{N: 5, Per: 15 * time.Minute}) {
		t.Errorf("login-user limit: got %v, want 5/15m", c.Limits.LoginUser)
	}
	if c.IPv6Prefix != 64 {
		t.Errorf("IPv6Prefix: got %d, want 64", c.IPv6Prefix)
	}
}

func TestIPv6Prefix(t *testing.T) {
	for value, want := range map[string]int{"32": 32, "48": 48, "64": 64, "128": 128} {
		c, err := Load(env(map[string]string{"PARLEY_IPV6_PREFIX": value}))
		if err != nil || c.IPv6Prefix != want {
			t.Errorf("%q: got %d, %v; want %d", value, c.IPv6Prefix, err, want)
		}
	}
	for _, bad := range []string{"31", "129", "0", "-64", "/64", "sixty-four"} {
		if _, err := Load(env(map[string]string{"PARLEY_IPV6_PREFIX": bad})); err == nil || !strings.Contains(err.Error(), "PARLEY_IPV6_PREFIX") {
			t.Errorf("%q: got %v, want an error naming PARLEY_IPV6_PREFIX", bad, err)
		}
	}
}

func TestBusinessHours(t *testing.T) {
	c, err := Load(env(map[string]string{"PARLEY_BUSINESS_HOURS": "mon-fri 09:00-17:00; sat 10:00-13:00", "PARLEY_TIMEZONE": "Europe/Paris"}))
	if err != nil {
		t.Fatal(err)
	}
	sat := time.Date(2026, 12, 12, 11, 0, 0, 0, time.UTC) // 12:00 in Paris
	sun := sat.AddDate(0, 0, 1)
	if c.Hours.Zone != "Europe/Paris" || !c.Hours.OpenAt(sat) || c.Hours.OpenAt(sun) {
		t.Errorf("hours %+v: open Saturday noon %v, Sunday %v; want Europe/Paris, open, closed", c.Hours, c.Hours.OpenAt(sat), c.Hours.OpenAt(sun))
	}
	d, err := Load(env(nil))
	if err != nil || d.Hours.IsSet() {
		t.Errorf("default hours: %+v, %v; want unset", d.Hours, err)
	}
}

func TestLoadErrorsNameTheVariable(t *testing.T) {
	tests := map[string]string{
		"PARLEY_ADDR":            "nonsense",
		"PARLEY_JWT_SECRET":      "short",
		"PARLEY_ROOM_TTL":        "forever",
		"PARLEY_MAX_MESSAGES":    "3",
		"PARLEY_TRUSTED_PROXIES": "not-an-ip",
		"PARLEY_LOG_LEVEL":       "loud",
		"PARLEY_LOG_FORMAT":      "xml",
		"PARLEY_RATE_LIMITS":     "rooms=ten/h",
		"PARLEY_ALLOWED_ORIGINS": "example.com",
		"PARLEY_ADMIN_PASSWORD":  "short",
		"PARLEY_PPROF":           "0.0.0.0:6060",
		"PARLEY_METRICS_ADDR":    "9464",
		"PARLEY_METRICS_TOKEN":   "short",
		"PARLEY_STREAM_HIJACK":   "maybe",
		"PARLEY_IPV6_PREFIX":     "16",
		"PARLEY_ADMIN_EMAIL":     "dana at acme",
		"PARLEY_BUSINESS_HOURS":  "weekdays 9 to 5",
		"PARLEY_TIMEZONE":        "Europe/Atlantis",
	}
	for name, value := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Load(env(map[string]string{name: value}))
			if err == nil || !strings.Contains(err.Error(), name) {
				t.Fatalf("got %v, want an error naming %s", err, name)
			}
		})
	}
}

func TestMetricsSettings(t *testing.T) {
	tests := []struct {
		env      map[string]string
		addr     string
		explicit bool
		token    string
	}{
		{nil, DefaultMetricsAddr, false, ""},
		{map[string]string{"PARLEY_METRICS_ADDR": "off"}, "", true, ""},
		{map[string]string{"PARLEY_METRICS_ADDR": "0.0.0.0:9100"}, "0.0.0.0:9100", true, ""},
		{map[string]string{"PARLEY_METRICS_TOKEN": " scrape-me-please-123 "}, DefaultMetricsAddr, false, "scrape-me-please-123"},
	}
	for _, tt := range tests {
		c, err := Load(env(tt.env))
		if err != nil {
			t.Fatalf("%v: %v", tt.env, err)
		}
		if c.MetricsAddr != tt.addr || c.MetricsAddrSet != tt.explicit || c.MetricsToken != tt.token {
			t.Errorf("%v: got addr %q set %v token %q, want %q %v %q", tt.env, c.MetricsAddr, c.MetricsAddrSet, c.MetricsToken, tt.addr, tt.explicit, tt.token)
		}
	}
}

// TestStreamSettings checks the stream caps and write timeout: defaults,
// and errors that name the variable.
func TestStreamSettings(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxStreams != 20000 || c.MaxAdminStreams != 500 || c.StreamWriteTimeout != 20*time.Second {
		t.Errorf("got max %d, admin %d, write timeout %v; want 20000, 500, 20s",
			c.MaxStreams, c.MaxAdminStreams, c.StreamWriteTimeout)
	}
	c, err = Load(env(map[string]string{"PARLEY_MAX_ADMIN_STREAMS": "3", "PARLEY_STREAM_WRITE_TIMEOUT": "5s"}))
	if err != nil || c.MaxAdminStreams != 3 || c.StreamWriteTimeout != 5*time.Second {
		t.Errorf("got %d, %v, %v; want 3, 5s", c.MaxAdminStreams, c.StreamWriteTimeout, err)
	}
	for name, values := range map[string][]string{
		"PARLEY_MAX_ADMIN_STREAMS":    {"0", "-1", "many"},
		"PARLEY_STREAM_WRITE_TIMEOUT": {"100ms", "10m", "soon"},
	} {
		for _, v := range values {
			if _, err := Load(env(map[string]string{name: v})); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%s=%s: got %v, want an error naming %s", name, v, err, name)
			}
		}
	}
}

func TestParseRateLimits(t *testing.T) {
	l, err := ParseRateLimits("off")
	if err != nil || l.Rooms != nil || l.Messages != nil || l.Login != nil || l.LoginUser != nil || l.Visits != nil {
		t.Fatalf("off: got %+v, %v; want all nil", l, err)
	}
	if l, err = ParseRateLimits("login-user=3/1h"); err != nil || l.LoginUser == nil || *l.LoginUser != (chat.Limit{N: 3, Per: time.Hour}) {
		t.Errorf("login-user=3/1h: got %v, %v", l.LoginUser, err)
	}
	l, err = ParseRateLimits("messages=5/10s,visits=off")
	if err != nil {
		t.Fatal(err)
	}
	if l.Messages == nil || *l.Messages != (chat.Limit{N: 5, Per: 10 * time.Second}) {
		t.Errorf("messages: got %v, want 5/10s", l.Messages)
	}
	if l.Visits != nil {
		t.Errorf("visits: got %v, want off", l.Visits)
	}
	if l.Rooms == nil || l.Rooms.N != 10 {
		t.Errorf("rooms: got %v, want the default kept", l.Rooms)
	}
	for _, bad := range []string{"rooms", "rooms=0/h", "rooms=1/x", "bogus=1/h", "rooms=1/0s"} {
		if _, err := ParseRateLimits(bad); err == nil {
			t.Errorf("%q: got no error", bad)
		}
	}
}

func TestAllowedOrigins(t *testing.T) {
	c, err := Load(env(map[string]string{"PARLEY_ALLOWED_ORIGINS": "https://example.com/, http://localhost:*"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.AllowedOrigins, " "); got != "https://example.com http://localhost:*" {
		t.Errorf("got %q", got)
	}
}

func TestStreamHijack(t *testing.T) {
	for value, want := range map[string]bool{
		"on": true, "true": true, "ON": true, "True": true, " on ": true,
		"off": false, "false": false, "OFF": false, "False": false,
	} {
		c, err := Load(env(map[string]string{"PARLEY_STREAM_HIJACK": value}))
		if err != nil {
			t.Fatalf("%q: %v", value, err)
		}
		if c.StreamHijack != want {
			t.Errorf("%q: got %v, want %v", value, c.StreamHijack, want)
		}
	}
}

func TestWebhookAllowHosts(t *testing.T) {
	env := map[string]string{"PARLEY_WEBHOOK_ALLOW_HOSTS": "127.0.0.1, receiver.test,[::1]"}
	c, err := Load(func(k string) string { return env[k] })
	if err != nil || strings.Join(c.WebhookAllowHosts, " ") != "127.0.0.1 receiver.test [::1]" {
		t.Fatalf("got %v, %v; want the three hosts", c.WebhookAllowHosts, err)
	}
	for _, bad := range []string{"http://receiver.test", "receiver.test:8080", "a/b"} {
		env["PARLEY_WEBHOOK_ALLOW_HOSTS"] = bad
		if _, err := Load(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "PARLEY_WEBHOOK_ALLOW_HOSTS") {
			t.Errorf("%q: got %v, want an error naming PARLEY_WEBHOOK_ALLOW_HOSTS", bad, err)
		}
	}
	env = map[string]string{}
	if c, err := Load(func(k string) string { return env[k] }); err != nil || len(c.WebhookAllowHosts) != 0 {
		t.Errorf("unset: got %v, %v; want none", c.WebhookAllowHosts, err)
	}
}

func TestAttachmentSettings(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.AttachmentMax != 10<<20 || c.S3 != nil || c.Limits.Uploads == nil || *c.Limits.Uploads != (chat.Limit{N: 20, Per: time.Minute}) {
		t.Fatalf("defaults: max %d, s3 %v, uploads %v; want 10 MiB, none, 20/m", c.AttachmentMax, c.S3, c.Limits.Uploads)
	}
	c, err = Load(env(map[string]string{"PARLEY_ATTACHMENT_MAX": "2MiB", "PARLEY_S3_URL": "s3://AK:SK@minio:9000/files?region=eu-west-1&insecure=1"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.AttachmentMax != 2<<20 || c.S3 == nil || c.S3.Endpoint != "minio:9000" || c.S3.Bucket != "files" || c.S3.Region != "eu-west-1" || !c.S3.Insecure || c.S3.AccessKey != "AK" || c.S3.SecretKey != "SK" {
		t.Fatalf("got max %d, s3 %+v", c.AttachmentMax, c.S3)
	}
	c, err = Load(env(map[string]string{"PARLEY_S3_ENDPOINT": "s3.example.com", "PARLEY_S3_BUCKET": "b", "PARLEY_S3_ACCESS_KEY": "k", "PARLEY_S3_SECRET_KEY": "s"}))
	if err != nil || c.S3 == nil || c.S3.Endpoint != "s3.example.com" || c.S3.Insecure {
		t.Fatalf("separate variables: %+v, %v", c.S3, err)
	}
	for name, m := range map[string]map[string]string{
		"PARLEY_ATTACHMENT_MAX": {"PARLEY_ATTACHMENT_MAX": "lots"},
		"PARLEY_S3_URL":         {"PARLEY_S3_URL": "s3://host/bucket"},
		"PARLEY_S3_ENDPOINT":    {"PARLEY_S3_ENDPOINT": "s3.example.com"},
	} {
		if _, err := Load(env(m)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%v: got %v, want an error naming %s", m, err, name)
		}
	}
}
