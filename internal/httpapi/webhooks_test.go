package httpapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/redisstore"
	"github.com/parley-chat/parley/internal/redisstore/redistest"
	"github.com/parley-chat/parley/internal/webhook"
)

// hookDNS resolves the test's names: one public, one private.
func hookDNS(_ context.Context, host string) ([]netip.Addr, error) {
	switch host {
	case "hooks.example.com":
		return []netip.Addr{netip.MustParseAddr("93.184.216.34")}, nil
	case "private.example.com":
		return []netip.Addr{netip.MustParseAddr("10.0.0.7")}, nil
	}
	return nil, fmt.Errorf("no such host %s", host)
}

// hookOptions are a test instance's webhook settings: allow lists the
// hosts reachable over http and at loopback (PARLEY_WEBHOOK_ALLOW_HOSTS);
// run starts the instance's worker; consumer names it.
type hookOptions struct {
	allow    []string
	run      bool
	consumer string
	backoff  []time.Duration
	console  string
}

// hookEnv starts an instance with webhooks on (and, with o.run, its
// worker, stopped at cleanup).
func hookEnv(t *testing.T, addr string, cfg envConfig, o hookOptions) (*env, *webhook.Service) {
	t.Helper()
	var svc *webhook.Service
	cfg.Webhooks = func(store *redisstore.Store) *webhook.Service {
		svc = newHookService(t, store, o)
		return svc
	}
	e := newEnv(t, addr, cfg)
	if o.run {
		runHooks(t, svc)
	}
	return e, svc
}

func newHookService(t *testing.T, store *redisstore.Store, o hookOptions) *webhook.Service {
	t.Helper()
	if o.backoff == nil {
		o.backoff = []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond}
	}
	svc, err := webhook.New(webhook.Config{
		Store:      store,
		Guard:      webhook.NewGuard(webhook.GuardConfig{AllowHosts: o.allow, Resolve: hookDNS, Timeout: time.Second}),
		Log:        slog.New(slog.DiscardHandler),
		Consumer:   o.consumer,
		Backoff:    o.backoff,
		Poll:       50 * time.Millisecond,
		Visibility: 2 * time.Second,
		ConsoleURL: o.console,
	})
	if err != nil {
		t.Fatalf("webhook.New: %v", err)
	}
	return svc
}

// runHooks runs svc's worker until the test ends; it returns once the
// worker's consumer group exists, so that every event from now on is
// delivered.
func runHooks(t *testing.T, svc *webhook.Service) {
	t.Helper()
	if err := svc.EnsureGroup(context.Background()); err != nil {
		t.Fatalf("ensure group: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); svc.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// hookHit is one request a receiver got.
type hookHit struct {
	id, signature string
	timestamp     int64
	body          []byte
	event         struct {
		Type      string          `json:"type"`
		Timestamp time.Time       `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}
	status int
}

// receiver is a webhook endpoint on a loopback port. answer decides each
// request's status from its webhook-id and how many times that id came.
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	hits   []hookHit
	seen   map[string]int
	answer func(id string, n int) int
}

func newReceiver(t *testing.T, answer func(id string, n int) int) *receiver {
	t.Helper()
	rc := &receiver{seen: map[string]int{}, answer: answer}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h := hookHit{id: r.Header.Get("webhook-id"), signature: r.Header.Get("webhook-signature"), body: body}
		h.timestamp, _ = strconv.ParseInt(r.Header.Get("webhook-timestamp"), 10, 64)
		_ = json.Unmarshal(body, &h.event)
		rc.mu.Lock()
		rc.seen[h.id]++
		h.status = http.StatusOK
		if rc.answer != nil {
			h.status = rc.answer(h.id, rc.seen[h.id])
		}
		rc.hits = append(rc.hits, h)
		rc.mu.Unlock()
		w.WriteHeader(h.status)
		_, _ = fmt.Fprintf(w, "answered %d", h.status)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) snapshot() []hookHit {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]hookHit(nil), rc.hits...)
}

// waitOK waits until n distinct webhook-ids were answered 2xx and returns
// every hit so far.
func (rc *receiver) waitOK(t *testing.T, n int) []hookHit {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		hits := rc.snapshot()
		ok := map[string]bool{}
		for _, h := range hits {
			if h.status < 300 {
				ok[h.id] = true
			}
		}
		if len(ok) >= n {
			return hits
		}
		if time.Now().After(deadline) {
			t.Fatalf("the receiver got %d events answered 2xx, want %d; hits: %s", len(ok), n, describeHits(hits))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func describeHits(hits []hookHit) string {
	var b strings.Builder
	for _, h := range hits {
		fmt.Fprintf(&b, "\n  %s %s -> %d", h.id, h.event.Type, h.status)
	}
	return b.String()
}

// okTypes lists the event types of the hits answered 2xx, in order.
func okTypes(hits []hookHit) []string {
	var out []string
	for _, h := range hits {
		if h.status < 300 {
			out = append(out, h.event.Type)
		}
	}
	return out
}

// verifyHit checks a delivery exactly as the Standard Webhooks spec tells
// a receiver to: v1 signatures, space-separated, each base64 of
// HMAC-SHA256(id.timestamp.body) keyed with the secret's base64-decoded
// bytes after whsec_; a fresh timestamp; the body's own type and
// timestamp.
func verifyHit(t *testing.T, h hookHit, secret string) {
	t.Helper()
	if !webhook.Verify(secret, h.id, h.timestamp, h.body, h.signature) {
		t.Errorf("delivery %s: signature %q does not verify with the endpoint's secret", h.id, h.signature)
	}
	if d := time.Since(time.Unix(h.timestamp, 0)); d < -time.Minute || d > 5*time.Minute {
		t.Errorf("delivery %s: webhook-timestamp %d is %v old", h.id, h.timestamp, d)
	}
	if !strings.HasPrefix(h.id, "msg_") || h.event.Type == "" || h.event.Timestamp.IsZero() || len(h.event.Data) == 0 {
		t.Errorf("delivery %s: body %s, want type, timestamp and data", h.id, h.body)
	}
}

type hookAnswer struct {
	Webhook webhook.Endpoint `json:"webhook"`
}

type hookList struct {
	Webhooks []webhook.Endpoint `json:"webhooks"`
}

var allHookEvents = []string{"conversation.created", "message.created", "conversation.updated", "conversation.deleted"}

func (e *env) mustHook(token, url string, events ...string) webhook.Endpoint {
	e.t.Helper()
	r := e.do(req{method: "POST", path: "/api/v1/admin/webhooks", token: token, body: map[string]any{"url": url, "events": events}})
	want(e.t, r, http.StatusCreated, "")
	return decode[hookAnswer](e.t, r).Webhook
}

// TestWebhookRoutes walks the owners' webhook routes and their refusals:
// the visitor's token, an agent's, non-https and private URLs, unknown or
// too many events, the endpoints' limit, unknown ids.
func TestWebhookRoutes(t *testing.T) {
	forEachRedis(t, func(t *testing.T, addr string) {
		e, _ := hookEnv(t, addr, envConfig{}, hookOptions{})
		owner := e.adminToken()
		const path = "/api/v1/admin/webhooks"
		good := map[string]any{"url": "https://hooks.example.com/parley", "events": []string{"message.created"}}

		_, visitorTok := e.mustRoom(map[string]string{"name": "Vi"})
		want(t, e.do(req{method: "GET", path: path, token: visitorTok}), http.StatusUnauthorized, "unauthorized")
		want(t, e.do(req{method: "POST", path: path, body: good}), http.StatusUnauthorized, "unauthorized")

		r := e.do(req{method: "POST", path: "/api/v1/admin/agents", token: owner,
			body: map[string]string{"username": "priya", "password": "priya-password-1", "role": "agent"}})
		want(t, r, http.StatusCreated, "")
		agent := e.login("priya", "priya-password-1").Token
		want(t, e.do(req{method: "GET", path: path, token: agent}), http.StatusForbidden, "forbidden")
		want(t, e.do(req{method: "POST", path: path, token: agent, body: good}), http.StatusForbidden, "forbidden")

		for _, tc := range []struct {
			body any
			code string
		}{
			{map[string]any{"url": "http://hooks.example.com/parley", "events": []string{"message.created"}}, "url_not_allowed"},
			{map[string]any{"url": "https://127.0.0.1/hook", "events": []string{"message.created"}}, "url_not_allowed"},
			{map[string]any{"url": "https://169.254.169.254/latest/meta-data/", "events": []string{"message.created"}}, "url_not_allowed"},
			{map[string]any{"url": "https://localhost:8443/", "events": []string{"message.created"}}, "url_not_allowed"},
			{map[string]any{"url": "https://[::1]/", "events": []string{"message.created"}}, "url_not_allowed"},
			{map[string]any{"url": "https://private.example.com/hook", "events": []string{"message.created"}}, "url_not_allowed"},
			{map[string]any{"url": "https://nowhere.example.com/hook", "events": []string{"message.created"}}, "url_not_allowed"},
			{map[string]any{"url": "hooks.example.com", "events": []string{"message.created"}}, "url_not_allowed"},
			{map[string]any{"url": "https://hooks.example.com/", "events": []string{"message.deleted"}}, "invalid_request"},
			{map[string]any{"url": "https://hooks.example.com/", "events": []string{}}, "invalid_request"},
			{map[string]any{"url": "https://hooks.example.com/", "events": []string{"message.created", "message.created"}}, "invalid_request"},
			{map[string]any{"url": "https://hooks.example.com/", "events": append(allHookEvents, "message.created")}, "invalid_request"},
			{map[string]any{"url": "https://hooks.example.com/", "events": "message.created"}, "invalid_request"},
			{map[string]any{"events": []string{"message.created"}}, "invalid_request"},
			{"not json", "invalid_request"},
		} {
			r := e.do(req{method: "POST", path: path, token: owner, body: tc.body})
			want(t, r, http.StatusBadRequest, tc.code)
			if r.errorMessage() == "" {
				t.Errorf("POST %v: no message", tc.body)
			}
		}
		if got := decode[hookList](t, e.do(req{method: "GET", path: path, token: owner})).Webhooks; len(got) != 0 {
			t.Fatalf("after refused registrations: %d endpoints stored, want 0", len(got))
		}

		r = e.do(req{method: "POST", path: path, token: owner, body: good})
		want(t, r, http.StatusCreated, "")
		if cc := r.header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("POST answer Cache-Control %q, want no-store (it holds the secret)", cc)
		}
		hook := decode[hookAnswer](t, r).Webhook
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(hook.Secret, "whsec_"))
		if !strings.HasPrefix(hook.Secret, "whsec_") || err != nil || len(raw) < 24 || len(raw) > 32 {
			t.Fatalf("secret %q: want whsec_ and the base64 of 24 to 32 bytes", hook.Secret)
		}
		if !strings.HasPrefix(hook.ID, "wh_") || hook.URL != "https://hooks.example.com/parley" || len(hook.Events) != 1 || hook.Events[0] != "message.created" {
			t.Fatalf("POST: got %+v", hook)
		}
		r = e.do(req{method: "GET", path: path, token: owner})
		want(t, r, http.StatusOK, "")
		if strings.Contains(string(r.body), "whsec_") || strings.Contains(string(r.body), `"secret"`) {
			t.Fatalf("GET shows a secret: %s", r.body)
		}
		if got := decode[hookList](t, r).Webhooks; len(got) != 1 || got[0].ID != hook.ID || got[0].URL != hook.URL {
			t.Fatalf("GET: got %+v, want the endpoint", got)
		}

		for i := 1; i < chat.MaxWebhooks; i++ {
			e.mustHook(owner, fmt.Sprintf("https://hooks.example.com/%d", i), "conversation.created")
		}
		want(t, e.do(req{method: "POST", path: path, token: owner, body: good}), http.StatusConflict, "limit_reached")

		for _, p := range []string{"/wh_nope", "/wh_nope/rotate", "/wh_nope/enable", "/wh_nope/deliveries/x/resend"} {
			method := "POST"
			if p == "/wh_nope" {
				method = "DELETE"
			}
			want(t, e.do(req{method: method, path: path + p, token: owner}), http.StatusNotFound, "not_found")
		}
		want(t, e.do(req{method: "GET", path: path + "/wh_nope/deliveries", token: owner}), http.StatusNotFound, "not_found")
		want(t, e.do(req{method: "DELETE", path: path + "/" + hook.ID, token: agent}), http.StatusForbidden, "forbidden")
		want(t, e.do(req{method: "DELETE", path: path + "/" + hook.ID, token: owner}), http.StatusNoContent, "")
		want(t, e.do(req{method: "DELETE", path: path + "/" + hook.ID, token: owner}), http.StatusNotFound, "not_found")
		if got := decode[hookList](t, e.do(req{method: "GET", path: path, token: owner})).Webhooks; len(got) != chat.MaxWebhooks-1 {
			t.Fatalf("after DELETE: %d endpoints, want %d", len(got), chat.MaxWebhooks-1)
		}
	})
}

// TestWebhookDelivery: a receiver on a loopback port (allowed for the
// test) gets every event of a conversation's life, signed, and after a
// rotation signed with both secrets; a read mark is no conversation.updated.
func TestWebhookDelivery(t *testing.T) {
	real := redistest.StartReal(t)
	rc := newReceiver(t, nil)
	e, _ := hookEnv(t, real.Addr(), envConfig{}, hookOptions{allow: []string{"127.0.0.1"}, run: true})
	owner := e.adminToken()
	hook := e.mustHook(owner, rc.srv.URL+"/hook", allHookEvents...)

	room, vtok := e.mustRoom(map[string]string{"name": "Vi"})
	rc.waitOK(t, 1)
	// Assigned before any message: an update, not a second creation.
	want(t, e.do(req{method: "POST", path: "/api/v1/admin/rooms/" + room.ID + "/assign", token: owner, body: map[string]string{"username": adminUser}}), http.StatusOK, "")
	rc.waitOK(t, 2)
	want(t, e.do(req{method: "POST", path: "/api/v1/admin/rooms/" + room.ID + "/assign", token: owner, body: map[string]any{"username": nil}}), http.StatusOK, "")
	rc.waitOK(t, 3)
	e.mustSend(room.ID, vtok, false, "hello, is anyone there?")
	rc.waitOK(t, 4)
	e.mustSend(room.ID, owner, true, "hi, how can I help?")
	rc.waitOK(t, 5)
	want(t, e.do(req{method: "POST", path: "/api/v1/admin/rooms/" + room.ID + "/read", token: owner}), http.StatusNoContent, "")
	want(t, e.do(req{method: "POST", path: "/api/v1/admin/rooms/" + room.ID + "/status", token: owner, body: map[string]string{"status": "resolved"}}), http.StatusOK, "")
	want(t, e.do(req{method: "DELETE", path: "/api/v1/admin/rooms/" + room.ID, token: owner}), http.StatusNoContent, "")
	rc.waitOK(t, 8)
	time.Sleep(300 * time.Millisecond)
	hits := rc.snapshot()

	types := okTypes(hits)
	// The agent's reply assigns the conversation to them: an update; the
	// read mark is none; resolving is one.
	wantTypes := []string{"conversation.created", "conversation.updated", "conversation.updated", "message.created", "message.created",
		"conversation.updated", "conversation.updated", "conversation.deleted"}
	if strings.Join(types, ",") != strings.Join(wantTypes, ",") {
		t.Fatalf("the receiver got %v, want %v (a read mark is no update)%s", types, wantTypes, describeHits(hits))
	}
	for _, h := range hits {
		verifyHit(t, h, hook.Secret)
		if n := len(strings.Fields(h.signature)); n != 1 {
			t.Errorf("before a rotation: %d signatures, want 1", n)
		}
	}
	var msg struct {
		Conversation chat.Room    `json:"conversation"`
		Message      chat.Message `json:"message"`
	}
	if err := json.Unmarshal(hits[3].event.Data, &msg); err != nil || msg.Message.Content != "hello, is anyone there?" ||
		msg.Message.Sender != chat.SenderVisitor || msg.Conversation.ID != room.ID {
		t.Errorf("message.created data %s: want the visitor's message and its conversation", hits[3].event.Data)
	}
	var upd struct {
		Conversation chat.Room `json:"conversation"`
	}
	if err := json.Unmarshal(hits[1].event.Data, &upd); err != nil || upd.Conversation.Assignee == nil || *upd.Conversation.Assignee != adminUser {
		t.Errorf("first conversation.updated data %s: want the conversation assigned to %s", hits[1].event.Data, adminUser)
	}
	if err := json.Unmarshal(hits[5].event.Data, &upd); err != nil || upd.Conversation.Assignee == nil || *upd.Conversation.Assignee != adminUser {
		t.Errorf("the reply's conversation.updated data %s: want the conversation assigned to %s", hits[5].event.Data, adminUser)
	}
	if err := json.Unmarshal(hits[6].event.Data, &upd); err != nil || upd.Conversation.Status != chat.Status("resolved") {
		t.Errorf("the last conversation.updated data %s: want the resolved conversation", hits[6].event.Data)
	}
	if !strings.Contains(string(hits[7].event.Data), room.ID) {
		t.Errorf("conversation.deleted data %s: want the room id", hits[7].event.Data)
	}

	// Rotation: the new secret is shown once, and for the grace period
	// each delivery carries both signatures.
	r := e.do(req{method: "POST", path: "/api/v1/admin/webhooks/" + hook.ID + "/rotate", token: owner})
	want(t, r, http.StatusOK, "")
	rotated := decode[hookAnswer](t, r).Webhook
	if rotated.Secret == hook.Secret || !strings.HasPrefix(rotated.Secret, "whsec_") || rotated.RotatingUntil == nil {
		t.Fatalf("rotate: got %+v, want a new secret and the overlap's end", rotated)
	}
	e.mustRoom(map[string]string{"name": "Second"})
	hits = rc.waitOK(t, 9)
	last := hits[len(hits)-1]
	if n := len(strings.Fields(last.signature)); n != 2 {
		t.Fatalf("after a rotation: signature header %q, want 2 signatures", last.signature)
	}
	verifyHit(t, last, rotated.Secret)
	verifyHit(t, last, hook.Secret)
	if webhook.Verify(webhook.NewSecret(), last.id, last.timestamp, last.body, last.signature) {
		t.Fatalf("a delivery verifies with an unrelated secret")
	}
}

// TestWebhookRetries: a receiver that fails then recovers gets every event,
// each retry with the same webhook-id and body; the console's deliveries
// show the failed attempts; a resend comes again with the same id; an
// endpoint failing past its last retry is marked failing, gets nothing
// more, and is delivered to again once enabled.
func TestWebhookRetries(t *testing.T) {
	real := redistest.StartReal(t)
	var down sync.Map // paths failing for good
	rc := newReceiver(t, func(id string, n int) int {
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	dead := newReceiver(t, func(string, int) int {
		if _, ok := down.Load("dead"); ok {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	down.Store("dead", true)
	e, _ := hookEnv(t, real.Addr(), envConfig{}, hookOptions{allow: []string{"127.0.0.1"}, run: true})
	owner := e.adminToken()
	hook := e.mustHook(owner, rc.srv.URL+"/flaky", "conversation.created", "message.created")
	bad := e.mustHook(owner, dead.srv.URL+"/dead", "conversation.created")

	room, vtok := e.mustRoom(map[string]string{"name": "Vi"})
	for i := range 3 {
		e.mustSend(room.ID, vtok, false, fmt.Sprintf("message %d", i))
	}
	hits := rc.waitOK(t, 4)
	byID := map[string][]hookHit{}
	for _, h := range hits {
		byID[h.id] = append(byID[h.id], h)
	}
	if len(byID) != 4 {
		t.Fatalf("got %d webhook-ids, want 4 (one per event)%s", len(byID), describeHits(hits))
	}
	for id, hs := range byID {
		if len(hs) != 3 || hs[0].status != 500 || hs[1].status != 500 || hs[2].status != 200 {
			t.Errorf("%s: %d attempts, want 500, 500, 200%s", id, len(hs), describeHits(hs))
		}
		for _, h := range hs {
			verifyHit(t, h, hook.Secret)
			if string(h.body) != string(hs[0].body) {
				t.Errorf("%s: a retry's body differs: %s vs %s", id, h.body, hs[0].body)
			}
		}
	}

	// The receiver has answered the last attempt; the sender records it
	// just after, so the console's list is read until it holds all 12.
	var deliveries []chat.WebhookDelivery
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		r := e.do(req{method: "GET", path: "/api/v1/admin/webhooks/" + hook.ID + "/deliveries", token: owner})
		want(t, r, http.StatusOK, "")
		deliveries = decode[struct {
			Deliveries []chat.WebhookDelivery `json:"deliveries"`
		}](t, r).Deliveries
		if len(deliveries) >= 12 || time.Now().After(deadline) {
			break
		}
	}
	if len(deliveries) != 12 {
		t.Fatalf("deliveries: got %d, want 12 attempts", len(deliveries))
	}
	failed := 0
	for _, d := range deliveries {
		if !d.OK {
			failed++
			if d.Status != 500 || d.Response != "answered 500" || d.Error == "" || d.LatencyMS < 0 {
				t.Errorf("a failed attempt reads %+v, want status 500 and the response excerpt", d)
			}
		}
		if d.Body != "" {
			t.Errorf("deliveries answer holds the body sent")
		}
	}
	if failed != 8 {
		t.Errorf("failed attempts listed: %d, want 8", failed)
	}
	first := deliveries[0]
	want(t, e.do(req{method: "POST", path: "/api/v1/admin/webhooks/" + hook.ID + "/deliveries/" + first.Job + "/resend", token: owner}), http.StatusAccepted, "")
	deadline := time.Now().Add(10 * time.Second)
	for len(byIDOf(rc.snapshot())[first.ID]) < 4 {
		if time.Now().After(deadline) {
			t.Fatalf("the resend of %s never came", first.ID)
		}
		time.Sleep(20 * time.Millisecond)
	}
	again := byIDOf(rc.snapshot())[first.ID]
	if string(again[3].body) != string(again[0].body) {
		t.Errorf("a resend's body differs from the original")
	}

	// The dead endpoint: 1 + 3 retries, then failing.
	var failing *chat.WebhookFailure
	for deadline := time.Now().Add(10 * time.Second); failing == nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the endpoint answering 503 was never marked failing")
		}
		for _, w := range decode[hookList](t, e.do(req{method: "GET", path: "/api/v1/admin/webhooks", token: owner})).Webhooks {
			if w.ID == bad.ID {
				failing = w.Failing
			}
		}
	}
	if !strings.Contains(failing.Reason, "503") {
		t.Errorf("failing reason %q, want the last answer", failing.Reason)
	}
	if n := len(dead.snapshot()); n != 4 {
		t.Errorf("the failing endpoint got %d attempts, want 4", n)
	}
	down.Delete("dead")
	e.mustRoom(map[string]string{"name": "While failing"})
	rc.waitOK(t, 5)
	time.Sleep(300 * time.Millisecond)
	if n := len(dead.snapshot()); n != 4 {
		t.Fatalf("a failing endpoint got %d requests, want no more than the 4 before", n)
	}
	want(t, e.do(req{method: "POST", path: "/api/v1/admin/webhooks/" + bad.ID + "/enable", token: owner}), http.StatusNoContent, "")
	e.mustRoom(map[string]string{"name": "After enable"})
	dead.waitOK(t, 1)
}

func byIDOf(hits []hookHit) map[string][]hookHit {
	out := map[string][]hookHit{}
	for _, h := range hits {
		out[h.id] = append(out[h.id], h)
	}
	return out
}

// TestWebhookTwoInstances: two instances on one Redis, each with its
// dispatcher and delivery worker, deliver each event once per endpoint.
func TestWebhookTwoInstances(t *testing.T) {
	real := redistest.StartReal(t)
	rc := newReceiver(t, nil)
	cfg := envConfig{Prefix: uniquePrefix(), Secret: []byte("0123456789abcdef0123456789abcdef")}
	a, _ := hookEnv(t, real.Addr(), cfg, hookOptions{allow: []string{"127.0.0.1"}, run: true, consumer: "a"})
	b, _ := hookEnv(t, real.Addr(), cfg, hookOptions{allow: []string{"127.0.0.1"}, run: true, consumer: "b"})
	owner := a.adminToken()
	a.mustHook(owner, rc.srv.URL+"/one", "conversation.created", "message.created")
	a.mustHook(owner, rc.srv.URL+"/two", "message.created")

	room, vtok := a.mustRoom(map[string]string{"name": "Vi"})
	const n = 30
	for i := range n {
		e := a
		if i%2 == 1 {
			e = b
		}
		e.mustSend(room.ID, vtok, false, fmt.Sprintf("message %d", i))
	}
	wantIDs := 1 + n + n
	rc.waitOK(t, wantIDs)
	time.Sleep(500 * time.Millisecond)
	hits := rc.snapshot()
	counts := byIDOf(hits)
	if len(counts) != wantIDs {
		t.Fatalf("got %d webhook-ids, want %d", len(counts), wantIDs)
	}
	for id, hs := range counts {
		if len(hs) != 1 {
			t.Errorf("%s delivered %d times, want once", id, len(hs))
		}
	}
	if len(hits) != wantIDs {
		t.Errorf("the receiver got %d requests, want %d", len(hits), wantIDs)
	}
}

// TestWebhookCrashLosesNothing: admin log entries read by an instance that
// died before queueing their deliveries are taken over by another once the
// visibility timeout has passed, and delivered.
func TestWebhookCrashLosesNothing(t *testing.T) {
	real := redistest.StartReal(t)
	rc := newReceiver(t, nil)
	var store *redisstore.Store
	e, svc := hookEnv(t, real.Addr(), envConfig{}, hookOptions{allow: []string{"127.0.0.1"}, consumer: "survivor"})
	store = e.store
	if err := svc.EnsureGroup(context.Background()); err != nil {
		t.Fatal(err)
	}
	owner := e.adminToken()
	e.mustHook(owner, rc.srv.URL+"/hook", "conversation.created", "message.created")
	room, vtok := e.mustRoom(map[string]string{"name": "Vi"})
	e.mustSend(room.ID, vtok, false, "hello")

	// The crashed instance: it read the entries and never acknowledged them.
	evs, err := store.ReadAdminLog(context.Background(), webhook.Group, "crashed", 100, 0, time.Hour)
	if err != nil || len(evs) < 2 {
		t.Fatalf("the crashed consumer read %d entries, %v; want the room and the message", len(evs), err)
	}
	runHooks(t, svc)
	hits := rc.waitOK(t, 2)
	if got := okTypes(hits); strings.Join(got, ",") != "conversation.created,message.created" {
		t.Fatalf("after the takeover the receiver got %v, want both events", got)
	}
}

// TestWebhookSlack: a Slack notifier posts new conversations and visitor
// messages in Slack's format, escaped, with a link to the console; an
// agent's message is not posted; it has no secret and signs nothing.
func TestWebhookSlack(t *testing.T) {
	real := redistest.StartReal(t)
	rc := newReceiver(t, nil)
	e, _ := hookEnv(t, real.Addr(), envConfig{}, hookOptions{allow: []string{"127.0.0.1"}, run: true, console: "https://chat.acme.example/admin/#/r/"})
	owner := e.adminToken()
	const path = "/api/v1/admin/webhooks"
	r := e.do(req{method: "POST", path: path, token: owner, body: map[string]any{"kind": "slack", "url": rc.srv.URL + "/services/T0/B0/x"}})
	want(t, r, http.StatusCreated, "")
	if strings.Contains(string(r.body), "whsec_") {
		t.Errorf("a Slack notifier's answer holds a secret: %s", r.body)
	}
	slack := decode[hookAnswer](t, r).Webhook
	if slack.Kind != "slack" || strings.Join(slack.Events, ",") != "conversation.created,message.created" {
		t.Fatalf("POST slack: got %+v, want kind slack with the two Slack events", slack)
	}
	want(t, e.do(req{method: "POST", path: path, token: owner, body: map[string]any{"kind": "slack", "url": rc.srv.URL, "events": []string{"conversation.deleted"}}}), http.StatusBadRequest, "invalid_request")
	want(t, e.do(req{method: "POST", path: path, token: owner, body: map[string]any{"kind": "teams", "url": rc.srv.URL, "events": []string{"message.created"}}}), http.StatusBadRequest, "invalid_request")
	want(t, e.do(req{method: "POST", path: path + "/" + slack.ID + "/rotate", token: owner}), http.StatusBadRequest, "invalid_request")

	room, vtok := e.mustRoom(map[string]string{"name": "Vi <3", "page": "https://acme.example/pricing"})
	e.mustSend(room.ID, vtok, false, "is <b>this</b> & that\nfree?")
	for deadline := time.Now().Add(10 * time.Second); len(rc.snapshot()) < 2; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("Slack got %d posts, want 2", len(rc.snapshot()))
		}
	}
	e.mustSend(room.ID, owner, true, "yes")
	time.Sleep(400 * time.Millisecond)
	hits := rc.snapshot()
	if len(hits) != 2 {
		t.Fatalf("Slack got %d posts, want 2 (no agent message)%s", len(hits), describeHits(hits))
	}
	link := "\n<https://chat.acme.example/admin/#/r/" + room.ID + "|Open in Parley>"
	var texts []string
	for _, h := range hits {
		if h.signature != "" || h.id != "" {
			t.Errorf("a Slack post carries webhook headers: %q %q", h.id, h.signature)
		}
		var m struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(h.body, &m); err != nil {
			t.Fatalf("Slack body %s: %v", h.body, err)
		}
		texts = append(texts, m.Text)
	}
	if want := "New conversation with *Vi &lt;3* on https://acme.example/pricing" + link; texts[0] != want {
		t.Errorf("first post %q, want %q", texts[0], want)
	}
	if want := "*Vi &lt;3* wrote:\n>is &lt;b&gt;this&lt;/b&gt; &amp; that\n>free?" + link; texts[1] != want {
		t.Errorf("second post %q, want %q", texts[1], want)
	}
}
