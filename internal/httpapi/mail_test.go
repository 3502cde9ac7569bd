package httpapi_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/httpapi"
	"github.com/parley-chat/parley/internal/mail"
	"github.com/parley-chat/parley/internal/mail/mailtest"
	"github.com/parley-chat/parley/internal/redisstore"
	"github.com/parley-chat/parley/internal/redisstore/redistest"
)

// mailEnv is an instance with email on: a composer and a queue whose
// worker sends to a real SMTP server on loopback.
type mailEnv struct {
	*env
	smtp   *mailtest.Server
	signer *mail.Signer
}

// newMailEnv starts an instance with email on, its queue worker running.
func newMailEnv(t *testing.T, addr string) *mailEnv {
	t.Helper()
	return newMailEnvWith(t, addr, envConfig{})
}

// newMailEnvWith is newMailEnv over cfg (its Mail is replaced).
func newMailEnvWith(t *testing.T, addr string, cfg envConfig) *mailEnv {
	t.Helper()
	me := &mailEnv{smtp: mailtest.Start(t, mailtest.Options{})}
	var stop func()
	cfg.Mail = func(store *redisstore.Store, secret []byte) *httpapi.MailDeps {
		me.signer = mail.NewSigner(secret)
		comp, err := mail.NewComposer(mail.ComposerConfig{From: "Acme Support <support@acme.example>", PublicURL: "https://chat.acme.example", InboundDomain: "in.acme.example", Signer: me.signer})
		if err != nil {
			t.Fatalf("NewComposer: %v", err)
		}
		sender, err := mail.NewSMTPSender(mail.SMTPConfig{Host: me.smtp.Host(), Port: me.smtp.Port(), TLS: me.smtp.ClientTLS(), Timeout: 5 * time.Second})
		if err != nil {
			t.Fatalf("NewSMTPSender: %v", err)
		}
		q, err := mail.NewQueue(store, comp, sender, slog.New(slog.DiscardHandler), mail.QueueConfig{Poll: 50 * time.Millisecond})
		if err != nil {
			t.Fatalf("NewQueue: %v", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); _ = q.Run(ctx) }()
		stop = func() { cancel(); wg.Wait() }
		return &httpapi.MailDeps{Queue: q, Composer: comp, Signer: me.signer, Unsubscribe: store}
	}
	me.env = newEnv(t, addr, cfg)
	t.Cleanup(stop)
	return me
}

// sign makes a token of purpose for room and r, expiring after ttl.
func (me *mailEnv) sign(p mail.Purpose, roomID string, r mail.Recipient, ttl time.Duration) string {
	me.t.Helper()
	tok, err := me.signer.Sign(p, roomID, r, time.Now().Add(ttl))
	if err != nil {
		me.t.Fatalf("Sign: %v", err)
	}
	return tok
}

// forgeMailToken changes the last character of a token (a new MAC).
func forgeMailToken(tok string) string {
	last := tok[len(tok)-2]
	repl := byte('a')
	if last == 'a' {
		repl = 'b'
	}
	return tok[:len(tok)-2] + string(repl) + tok[len(tok)-1:]
}

// exists tells whether the key (without the env's prefix) is in Redis.
func (e *env) exists(key string) bool {
	e.t.Helper()
	client, err := redisstore.Connect(redistest.URL(e.addr))
	if err != nil {
		e.t.Fatalf("connect: %v", err)
	}
	defer client.Close()
	n, err := client.Exists(context.Background(), e.prefix+key).Result()
	if err != nil {
		e.t.Fatalf("EXISTS: %v", err)
	}
	return n == 1
}

// adminField reads one field of the test admin's hash.
func (e *env) adminField(field string) string {
	e.t.Helper()
	client, err := redisstore.Connect(redistest.URL(e.addr))
	if err != nil {
		e.t.Fatalf("connect: %v", err)
	}
	defer client.Close()
	v, _ := client.HGet(context.Background(), e.prefix+"{team}:admin:"+adminUser, field).Result()
	return v
}

func form(method, path string) req {
	return req{method: method, path: path, body: "List-Unsubscribe=One-Click",
		header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}
}

// TestUnsubscribe follows the one-click link of RFC 8058: GET shows a
// button and changes nothing, POST records it (the room's mails for a
// visitor, the preference for an agent); a forged, expired or other-purpose
// token is a 400 page that stores nothing; the token never reaches the log.
func TestUnsubscribe(t *testing.T) {
	t.Parallel()
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newMailEnv(t, addr)
		room, _ := e.mustRoom(map[string]string{"email": "jane@example.com"})
		marker := "unsub:room:" + room.ID
		good := e.sign(mail.PurposeUnsubscribe, room.ID, mail.Visitor, time.Hour)

		for name, tok := range map[string]string{
			"forged":        forgeMailToken(good),
			"expired":       e.sign(mail.PurposeUnsubscribe, room.ID, mail.Visitor, -time.Minute),
			"reply purpose": e.sign(mail.PurposeReply, room.ID, mail.Visitor, time.Hour),
			"empty":         "",
		} {
			t.Run(name, func(t *testing.T) {
				for _, m := range []string{"GET", "POST"} {
					r := e.do(form(m, "/unsubscribe?t="+tok))
					want(t, r, http.StatusBadRequest, "")
					if !strings.Contains(string(r.body), "This link does not work") {
						t.Fatalf("%s: got page %s, want the bad-link page", m, r.body)
					}
				}
				if e.exists(marker) {
					t.Fatalf("a refused token stored the unsubscribe")
				}
			})
		}

		r := e.do(req{method: "GET", path: "/unsubscribe?t=" + good})
		want(t, r, http.StatusOK, "")
		if !strings.Contains(string(r.body), `<form method="post" action="/unsubscribe?t=`+good+`"`) {
			t.Fatalf("GET: got %s, want a form posting the token back", r.body)
		}
		if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
			t.Fatalf("GET: got CSP %q, want a locked-down page", csp)
		}
		if e.exists(marker) {
			t.Fatalf("GET stored the unsubscribe: a link scanner would unsubscribe people")
		}
		r = e.do(form("POST", "/unsubscribe?t="+good))
		want(t, r, http.StatusOK, "")
		if !strings.Contains(string(r.body), "You are unsubscribed") || !e.exists(marker) {
			t.Fatalf("POST: got %s, stored %v; want the room unsubscribed", r.body, e.exists(marker))
		}
		if e.adminField("notify") != "" {
			t.Fatalf("a visitor's unsubscribe changed the agent's preference")
		}

		agent := e.sign(mail.PurposeUnsubscribe, room.ID, mail.Recipient{Agent: adminUser}, time.Hour)
		want(t, e.do(form("POST", "/unsubscribe?t="+agent)), http.StatusOK, "")
		if got := e.adminField("notify"); got != "never" {
			t.Fatalf("agent: got notify %q, want never", got)
		}
		gone := e.sign(mail.PurposeUnsubscribe, room.ID, mail.Recipient{Agent: "nobody"}, time.Hour)
		want(t, e.do(form("POST", "/unsubscribe?t="+gone)), http.StatusBadRequest, "")

		if strings.Contains(e.logs.String(), good) || strings.Contains(e.logs.String(), agent) {
			t.Fatalf("the access log holds an unsubscribe token")
		}
	})
}

type openAnswer struct {
	Room  chat.Room `json:"room"`
	Token string    `json:"token"`
	Email bool      `json:"email"`
}

// TestReopenExchange trades a reopen link's token for a visitor token of
// that room alone; anything else is 401 and issues nothing.
func TestReopenExchange(t *testing.T) {
	t.Parallel()
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newMailEnv(t, addr)
		room, old := e.mustRoom(map[string]string{"email": "jane@example.com"})
		e.mustSend(room.ID, e.adminToken(), true, "We have an answer")
		other, _ := e.mustRoom(map[string]string{})

		good := e.sign(mail.PurposeOpen, room.ID, mail.Visitor, time.Hour)
		for name, tok := range map[string]string{
			"forged":              forgeMailToken(good),
			"expired":             e.sign(mail.PurposeOpen, room.ID, mail.Visitor, -time.Second),
			"unsubscribe purpose": e.sign(mail.PurposeUnsubscribe, room.ID, mail.Visitor, time.Hour),
			"an agent's":          e.sign(mail.PurposeOpen, room.ID, mail.Recipient{Agent: adminUser}, time.Hour),
			"empty":               "",
		} {
			t.Run(name, func(t *testing.T) {
				r := e.do(req{method: "POST", path: "/api/v1/rooms/open", body: map[string]string{"token": tok}})
				want(t, r, http.StatusUnauthorized, "unauthorized")
				if strings.Contains(string(r.body), `"token"`) {
					t.Fatalf("a refused exchange answered a token: %s", r.body)
				}
			})
		}

		r := e.do(req{method: "POST", path: "/api/v1/rooms/open", body: map[string]string{"token": good}})
		want(t, r, http.StatusOK, "")
		got := decode[openAnswer](t, r)
		if got.Room.ID != room.ID || got.Token == "" || got.Token == old || !got.Email {
			t.Fatalf("got room %s token %q email %v, want room %s, a new token, email on", got.Room.ID, got.Token, got.Email, room.ID)
		}
		r = e.do(req{method: "GET", path: "/api/v1/rooms/" + room.ID + "/messages", token: got.Token})
		want(t, r, http.StatusOK, "")
		if !strings.Contains(string(r.body), "We have an answer") {
			t.Fatalf("messages with the exchanged token: got %s, want the agent's reply", r.body)
		}
		want(t, e.do(req{method: "GET", path: "/api/v1/rooms/" + other.ID + "/messages", token: got.Token}), http.StatusForbidden, "forbidden")

		want(t, e.do(req{method: "DELETE", path: "/api/v1/admin/rooms/" + room.ID, token: e.adminToken()}), http.StatusNoContent, "")
		want(t, e.do(req{method: "POST", path: "/api/v1/rooms/open", body: map[string]string{"token": good}}), http.StatusNotFound, "room_not_found")
	})
}

// TestTranscript mails the conversation: the visitor's copy to their email
// (once for a double click), an agent's to any address, both with every
// message, its author and time, through a real SMTP server.
func TestTranscript(t *testing.T) {
	t.Parallel()
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newMailEnv(t, addr)
		room, tok := e.mustRoom(map[string]string{"name": "Jane", "email": "jane@example.com"})
		e.mustSend(room.ID, tok, false, "Where is my parcel")
		e.mustSend(room.ID, e.adminToken(), true, "It left today")

		path := "/api/v1/rooms/" + room.ID + "/transcript"
		first := e.do(req{method: "POST", path: path, token: tok})
		want(t, first, http.StatusAccepted, "")
		second := e.do(req{method: "POST", path: path, token: tok})
		want(t, second, http.StatusAccepted, "")
		if string(first.body) != string(second.body) {
			t.Fatalf("double click: got %s then %s, want one mail id", first.body, second.body)
		}
		got := e.smtp.WaitFor(1, 10*time.Second)[0]
		if len(got.To) != 1 || got.To[0] != "jane@example.com" {
			t.Fatalf("got recipients %v, want jane@example.com", got.To)
		}
		raw := string(got.Raw)
		for _, w := range []string{"Where is my parcel", "It left today", "Jane", adminName, "Continue the conversation", "/widget/open.html?t="} {
			if !strings.Contains(raw, w) {
				t.Errorf("the transcript lacks %q:\n%s", w, raw)
			}
		}
		if !strings.Contains(raw, "<reply+") {
			t.Errorf("the visitor's transcript has no reply address:\n%s", raw)
		}
		if !strings.Contains(raw, time.Now().UTC().Format("2 Jan")) {
			t.Errorf("the transcript shows no message time:\n%s", raw)
		}

		r := e.do(req{method: "POST", path: "/api/v1/admin/rooms/" + room.ID + "/transcript", token: e.adminToken(), body: map[string]string{"to": "boss@example.com"}})
		want(t, r, http.StatusAccepted, "")
		all := e.smtp.WaitFor(2, 10*time.Second)
		if all[1].To[0] != "boss@example.com" || !strings.Contains(string(all[1].Raw), "It left today") {
			t.Fatalf("agent's transcript: got to %v, want boss@example.com with the messages", all[1].To)
		}
		// Elsewhere than the visitor's address: replies must not post as
		// anyone, and the link would hand out the visitor's room.
		if boss := string(all[1].Raw); strings.Contains(boss, "reply+") || strings.Contains(boss, "open.html") {
			t.Errorf("a transcript to another address carries a reply address or the reopen link:\n%s", boss)
		}
		if n := len(e.smtp.Received()); n != 2 {
			t.Fatalf("got %d mails, want 2 (the double click sends once)", n)
		}
		want(t, e.do(req{method: "POST", path: "/api/v1/admin/rooms/" + room.ID + "/transcript", token: e.adminToken(), body: map[string]string{"to": "not an address"}}), http.StatusBadRequest, "invalid_request")

		quiet, qtok := e.mustRoom(map[string]string{"name": "No Mail"})
		want(t, e.do(req{method: "POST", path: "/api/v1/rooms/" + quiet.ID + "/transcript", token: qtok}), http.StatusBadRequest, "invalid_request")
		want(t, e.do(req{method: "POST", path: "/api/v1/admin/rooms/" + quiet.ID + "/transcript", token: e.adminToken()}), http.StatusBadRequest, "invalid_request")

		// Rate limited per room: two used, three left, then 429.
		for range chat.TranscriptLimit.N - 3 {
			want(t, e.do(req{method: "POST", path: path, token: tok}), http.StatusAccepted, "")
		}
		want(t, e.do(req{method: "POST", path: path, token: tok}), http.StatusTooManyRequests, "rate_limited")
	})
}

// TestMailRoutesWithEmailOff: without an SMTP server every email route
// says so (409 email_off), and the room answer promises nothing.
func TestMailRoutesWithEmailOff(t *testing.T) {
	t.Parallel()
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{})
		r := e.do(req{method: "POST", path: "/api/v1/rooms", body: map[string]string{"email": "jane@example.com"}})
		want(t, r, http.StatusCreated, "")
		rt := decode[openAnswer](t, r)
		if rt.Email || strings.Contains(string(r.body), `"email":true`) {
			t.Fatalf("room answer with email off: %s, want no email flag", r.body)
		}
		admin := e.adminToken()
		for _, q := range []req{
			{method: "POST", path: "/api/v1/rooms/" + rt.Room.ID + "/transcript", token: rt.Token},
			{method: "POST", path: "/api/v1/admin/rooms/" + rt.Room.ID + "/transcript", token: admin},
			{method: "GET", path: "/api/v1/admin/mail/dead", token: admin},
			{method: "POST", path: "/api/v1/rooms/open", body: map[string]string{"token": "x"}},
		} {
			r := e.do(q)
			want(t, r, http.StatusConflict, "email_off")
			if !strings.Contains(r.errorMessage(), "PARLEY_SMTP_URL") {
				t.Fatalf("%s %s: got message %q, want how to turn email on", q.method, q.path, r.errorMessage())
			}
		}
		want(t, e.do(req{method: "POST", path: "/unsubscribe?t=x"}), http.StatusConflict, "")
		r = e.do(req{method: "GET", path: "/api/v1/admin/mail", token: admin})
		want(t, r, http.StatusOK, "")
		if st := decode[mailStatus](t, r); st.Enabled || !strings.Contains(st.Hint, "PARLEY_SMTP_URL=log") || st.Stats != nil {
			t.Fatalf("mail status with email off: got %s, want disabled with the hint", r.body)
		}
	})
}

type mailStatus struct {
	Enabled bool
	Hint    string
	Stats   *struct{ Waiting, Sending, Retrying, Dead int64 }
}

// TestDeadMailList shows a mail the SMTP server refused for good in the
// console's dead-letter list, with the server's reason.
func TestDeadMailList(t *testing.T) {
	t.Parallel()
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newMailEnv(t, addr)
		admin := e.adminToken()
		r := e.do(req{method: "GET", path: "/api/v1/admin/mail/dead", token: admin})
		want(t, r, http.StatusOK, "")
		if strings.TrimSpace(string(r.body)) != `{"dead":[]}` {
			t.Fatalf("empty list: got %s", r.body)
		}
		want(t, e.do(req{method: "GET", path: "/api/v1/admin/mail/dead"}), http.StatusUnauthorized, "unauthorized")

		e.smtp.Refuse(1, 550)
		room, tok := e.mustRoom(map[string]string{"email": "jane@example.com"})
		e.mustSend(room.ID, tok, false, "hello")
		want(t, e.do(req{method: "POST", path: "/api/v1/rooms/" + room.ID + "/transcript", token: tok}), http.StatusAccepted, "")
		type deadList struct {
			Dead []struct {
				ID, RoomID, To, Subject, Reason string
				Attempts                        int
			} `json:"dead"`
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			r = e.do(req{method: "GET", path: "/api/v1/admin/mail/dead", token: admin})
			want(t, r, http.StatusOK, "")
			if l := decode[deadList](t, r); len(l.Dead) == 1 {
				d := l.Dead[0]
				if d.RoomID != room.ID || d.To != "jane@example.com" || !strings.Contains(d.Reason, "550") || d.Attempts != 1 || !strings.HasPrefix(d.ID, "transcript.") {
					t.Fatalf("got dead mail %+v, want the transcript to jane with the 550", d)
				}
				r = e.do(req{method: "GET", path: "/api/v1/admin/mail", token: admin})
				want(t, r, http.StatusOK, "")
				if st := decode[mailStatus](t, r); !st.Enabled || st.Hint != "" || st.Stats == nil || st.Stats.Dead != 1 {
					t.Fatalf("mail status: got %s, want enabled with one dead mail", r.body)
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("no dead mail after 10 s: %s", r.body)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}
