package webhook_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/webhook"
)

// fakeDNS answers from a table; a name missing from it does not resolve.
func fakeDNS(table map[string][]string) webhook.Resolver {
	return func(_ context.Context, host string) ([]netip.Addr, error) {
		var out []netip.Addr
		for _, a := range table[host] {
			out = append(out, netip.MustParseAddr(a))
		}
		if len(out) == 0 {
			return nil, &netErr{host}
		}
		return out, nil
	}
}

type netErr struct{ host string }

func (e *netErr) Error() string { return "no such host " + e.host }

func TestBlocked(t *testing.T) {
	for _, tc := range []struct {
		addr string
		want bool
	}{
		{"127.0.0.1", true}, {"127.8.9.1", true}, {"::1", true},
		{"169.254.169.254", true}, {"fe80::1", true},
		{"10.0.0.1", true}, {"172.16.5.4", true}, {"172.31.255.255", true}, {"192.168.1.1", true}, {"fc00::1", true}, {"fd12::1", true},
		{"0.0.0.0", true}, {"::", true}, {"224.0.0.1", true}, {"ff02::1", true},
		{"100.64.0.1", true}, {"100.127.255.254", true},
		{"::ffff:127.0.0.1", true}, {"::ffff:10.0.0.1", true},
		{"93.184.216.34", false}, {"172.32.0.1", false}, {"100.128.0.1", false}, {"2606:4700::1111", false}, {"8.8.8.8", false},
	} {
		if got := webhook.Blocked(netip.MustParseAddr(tc.addr)); got != tc.want {
			t.Errorf("Blocked(%s) = %v, want %v", tc.addr, got, tc.want)
		}
	}
}

func TestCheckURL(t *testing.T) {
	g := webhook.NewGuard(webhook.GuardConfig{
		AllowHosts: []string{"127.0.0.1", "receiver.test"},
		Resolve: fakeDNS(map[string][]string{
			"hooks.example.com":   {"93.184.216.34"},
			"private.example.com": {"10.1.2.3"},
			"mixed.example.com":   {"93.184.216.34", "192.168.0.9"},
			"receiver.test":       {"127.0.0.1"},
		}),
	})
	ctx := context.Background()
	for _, ok := range []string{
		"https://hooks.example.com/parley", "https://93.184.216.34:8443/x?y=1",
		"http://127.0.0.1:9999/hook", "https://127.0.0.1/hook", "http://receiver.test:8080/",
	} {
		if err := g.CheckURL(ctx, ok); err != nil {
			t.Errorf("CheckURL(%s): %v, want accepted", ok, err)
		}
	}
	for _, bad := range []string{
		"http://hooks.example.com/", "ftp://hooks.example.com/", "hooks.example.com/x", "https:///x", "",
		"https://127.0.0.2/", "https://169.254.169.254/latest/meta-data/", "https://[::1]/", "https://10.0.0.5/",
		"https://localhost/", "https://app.localhost/", "https://private.example.com/", "https://mixed.example.com/",
		"https://nowhere.example.com/", "https://user:pw@hooks.example.com/", "https://[fe80::1%25eth0]/",
		"https://" + strings.Repeat("a", 2001) + ".com/",
	} {
		err := g.CheckURL(ctx, bad)
		if chat.ErrorCode(err) != chat.CodeURLRefused {
			t.Errorf("CheckURL(%q): got %v, want %s", bad, err, chat.CodeURLRefused)
		}
	}
}

// TestPostRefusesAtConnect proves the address is checked when the request
// is made, not only when the URL was registered: a name that resolved to a
// public address then and to a private one now (DNS rebinding) is refused,
// as are literal loopback and metadata addresses.
func TestPostRefusesAtConnect(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	port := srv.URL[strings.LastIndexByte(srv.URL, ':')+1:]

	var lookups atomic.Int32
	rebind := func(_ context.Context, host string) ([]netip.Addr, error) {
		if host != "rebind.example.com" {
			return nil, &netErr{host}
		}
		if lookups.Add(1) == 1 {
			return []netip.Addr{netip.MustParseAddr("93.184.216.34")}, nil
		}
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}
	g := webhook.NewGuard(webhook.GuardConfig{Resolve: rebind})
	ctx := context.Background()
	if err := g.CheckURL(ctx, "https://rebind.example.com:"+port+"/"); err != nil {
		t.Fatalf("CheckURL while the name is public: %v", err)
	}
	for _, u := range []string{
		"https://rebind.example.com:" + port + "/",
		"https://127.0.0.1:" + port + "/",
		"https://169.254.169.254/latest/meta-data/",
		"http://127.0.0.1:" + port + "/", // http, and not allowed
	} {
		if res, err := g.Post(ctx, u, nil, []byte("{}")); err == nil {
			t.Errorf("Post(%s): answered %d, want refused", u, res.Status)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the loopback server got %d requests, want 0", n)
	}
}

// TestPostNoRedirectBoundedBody: a 302 to a private address is the
// answer, not followed; a long answer is read to MaxResponse.
func TestPostNoRedirectBoundedBody(t *testing.T) {
	var inner atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { inner.Add(1) }))
	defer target.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big" {
			_, _ = w.Write([]byte(strings.Repeat("x", 1<<20)))
			return
		}
		http.Redirect(w, r, strings.Replace(target.URL, "127.0.0.1", "localhost", 1)+"/meta", http.StatusFound)
	}))
	defer srv.Close()
	g := webhook.NewGuard(webhook.GuardConfig{AllowHosts: []string{"127.0.0.1"}})
	res, err := g.Post(context.Background(), srv.URL+"/hook", nil, []byte("{}"))
	if err != nil || res.Status != http.StatusFound {
		t.Fatalf("Post to a redirecting receiver: got %d, %v; want the 302 itself", res.Status, err)
	}
	if n := inner.Load(); n != 0 {
		t.Errorf("the redirect target got %d requests, want 0 (redirects are not followed)", n)
	}
	res, err = g.Post(context.Background(), srv.URL+"/big", nil, []byte("{}"))
	if err != nil || len(res.Body) != webhook.MaxResponse {
		t.Errorf("Post /big: got %d bytes, %v; want %d", len(res.Body), err, webhook.MaxResponse)
	}
}

func TestSignVerify(t *testing.T) {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	// The Standard Webhooks reference vector.
	body := []byte(`{"test": 2432232314}`)
	got, err := webhook.Sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; err != nil || got != want {
		t.Fatalf("Sign: got %q, %v; want %q", got, err, want)
	}
	if !webhook.Verify(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, "v1,bm9wZQ== "+got) {
		t.Errorf("Verify of a header holding the signature among others: false")
	}
	if webhook.Verify(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, body, got) {
		t.Errorf("Verify with another timestamp: true")
	}
	s := webhook.NewSecret()
	if !strings.HasPrefix(s, "whsec_") || len(s) != len("whsec_")+44 {
		t.Errorf("NewSecret: %q, want whsec_ and the base64 of 32 bytes", s)
	}
}
