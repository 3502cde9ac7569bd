package inbound_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/mail"
	"github.com/parley-chat/parley/internal/mail/inbound"
)

const domain = "reply.acme.example"

var signer = mail.NewSigner([]byte("0123456789abcdef0123456789abcdef"))

// recorder is the Handler: it keeps what reached it.
type recorder struct {
	mu      sync.Mutex
	replies []inbound.Reply
	unsubs  []string
	fail    error
}

func (r *recorder) Reply(_ context.Context, rep inbound.Reply) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.replies = append(r.replies, rep)
	return nil
}

func (r *recorder) Unsubscribe(_ context.Context, roomID string, who mail.Recipient) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.unsubs = append(r.unsubs, roomID+"/"+who.Agent)
	return nil
}

func (r *recorder) got() ([]inbound.Reply, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]inbound.Reply(nil), r.replies...), append([]string(nil), r.unsubs...)
}

// start runs an inbound server on a loopback port and returns its address.
func start(t *testing.T, h *recorder, agents ...string) string {
	t.Helper()
	return startWith(t, inbound.Config{
		Handler: h, Agents: func(context.Context) ([]string, error) { return agents, nil },
		MaxConns: 4, Timeout: 5 * time.Second,
	})
}

// startWith runs an inbound server with cfg (domain, signer and logger
// filled in) on a loopback port and returns its address.
func startWith(t *testing.T, cfg inbound.Config) string {
	t.Helper()
	cfg.Domain, cfg.Signer, cfg.Log = domain, signer, slog.New(slog.DiscardHandler)
	s, err := inbound.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("Serve did not return after its context ended")
		}
	})
	return l.Addr().String()
}

func token(t *testing.T, p mail.Purpose, room string, who mail.Recipient, exp time.Time) string {
	t.Helper()
	tok, err := signer.Sign(p, room, who, exp)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// send speaks SMTP to addr and returns the code of the first refusal (0
// when the mail was accepted) and at which step.
func send(t *testing.T, addr, from, rcpt, body string) (code int, step string) {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	codeOf := func(err error) int {
		var te *textproto.Error
		if errors.As(err, &te) {
			return te.Code
		}
		t.Fatalf("not an SMTP reply: %v", err)
		return 0
	}
	if err := c.Mail(from); err != nil {
		return codeOf(err), "MAIL"
	}
	if err := c.Rcpt(rcpt); err != nil {
		return codeOf(err), "RCPT"
	}
	w, err := c.Data()
	if err != nil {
		return codeOf(err), "DATA"
	}
	if _, err := w.Write([]byte(body)); err != nil {
		return codeOf(err), "DATA"
	}
	if err := w.Close(); err != nil {
		return codeOf(err), "DATA"
	}
	_ = c.Quit()
	return 0, ""
}

func replyMail(to, body string) string {
	return "From: Dana <dana@example.com>\r\nTo: " + to + "\r\nSubject: Re: Your conversation\r\n" +
		"Message-ID: <CAF123@mail.example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body
}

func TestInboundVisitorReply(t *testing.T) {
	h := &recorder{}
	addr := start(t, h)
	room := chat.NewRoomID()
	rcpt := "reply+" + token(t, mail.PurposeReply, room, mail.Visitor, time.Now().Add(time.Hour)) + "@" + domain
	body := "Thanks, that works!\r\n\r\nOn Tue, Dec 1, 2026 at 10:04 AM Acme Support <" + rcpt + "> wrote:\r\n> Try restarting it.\r\n"
	if code, step := send(t, addr, "dana@example.com", rcpt, replyMail(rcpt, body)); code != 0 {
		t.Fatalf("got %d at %s, want the reply accepted", code, step)
	}
	replies, _ := h.got()
	if len(replies) != 1 {
		t.Fatalf("handler got %d replies, want 1", len(replies))
	}
	r := replies[0]
	if r.RoomID != room || !r.From.IsVisitor() || r.Text != "Thanks, that works!" || r.MessageID != "CAF123@mail.example.com" || r.Sender != "dana@example.com" {
		t.Errorf("got %+v, want the visitor's text of room %s without the quote", r, room)
	}
}

func TestInboundAgentReply(t *testing.T) {
	h := &recorder{}
	addr := start(t, h, "kim", "sam")
	room := chat.NewRoomID()
	rcpt := "reply+" + token(t, mail.PurposeReply, room, mail.Recipient{Agent: "sam"}, time.Now().Add(time.Hour)) + "@" + domain
	html := "From: Sam <sam@acme.example>\r\nTo: " + rcpt + "\r\nSubject: Re: New conversation\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: text/html; charset=utf-8\r\n\r\n<div dir=\"ltr\">I&#39;ll look into it &lt;today&gt;.</div>" +
		"<div class=\"gmail_quote\"><div>On Tue, Parley wrote:</div><blockquote>Dana: it broke</blockquote></div>\r\n"
	if code, step := send(t, addr, "sam@acme.example", rcpt, html); code != 0 {
		t.Fatalf("got %d at %s, want the reply accepted", code, step)
	}
	replies, _ := h.got()
	if len(replies) != 1 || replies[0].From.Agent != "sam" || replies[0].Text != "I'll look into it <today>." {
		t.Fatalf("handler got %+v, want sam's text from the HTML part without the quote", replies)
	}

	// An agent who was removed since the mail went out is refused.
	gone := "reply+" + token(t, mail.PurposeReply, room, mail.Recipient{Agent: "lee"}, time.Now().Add(time.Hour)) + "@" + domain
	if code, step := send(t, addr, "lee@acme.example", gone, replyMail(gone, "hi")); code != 550 || step != "RCPT" {
		t.Errorf("reply of a removed agent: got %d at %s, want 550 at RCPT", code, step)
	}
}

func TestInboundRefusals(t *testing.T) {
	h := &recorder{}
	addr := start(t, h)
	room := chat.NewRoomID()
	good := token(t, mail.PurposeReply, room, mail.Visitor, time.Now().Add(time.Hour))
	forged := []byte(good)
	if forged[10] = 'a'; good[10] == 'a' {
		forged[10] = 'b' // one character changed, still base32
	}
	valid := "reply+" + good + "@" + domain
	big := replyMail(valid, strings.Repeat("spam spam spam spam spam spam spam spam\r\n", 300<<10/40))
	pdf := "From: dana@example.com\r\nTo: " + valid + "\r\nSubject: scan\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\n\r\n%PDF-1.4\r\n--XX--\r\n"
	image := "From: dana@example.com\r\nTo: " + valid + "\r\nSubject: photo\r\nMIME-Version: 1.0\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n"
	tests := []struct {
		name, rcpt, body string
		code             int
		step             string
	}{
		{"forged token", "reply+" + string(forged) + "@" + domain, replyMail(valid, "hi"), 550, "RCPT"},
		{"garbage token", "reply+hello@" + domain, replyMail(valid, "hi"), 550, "RCPT"},
		{"expired token", "reply+" + token(t, mail.PurposeReply, room, mail.Visitor, time.Now().Add(-time.Second)) + "@" + domain, replyMail(valid, "hi"), 550, "RCPT"},
		{"open token as reply address", "reply+" + token(t, mail.PurposeOpen, room, mail.Visitor, time.Now().Add(time.Hour)) + "@" + domain, replyMail(valid, "hi"), 550, "RCPT"},
		{"other mailbox", "postmaster@" + domain, replyMail(valid, "hi"), 550, "RCPT"},
		{"other domain (no relay)", "reply+" + good + "@example.com", replyMail(valid, "hi"), 550, "RCPT"},
		{"oversized", valid, big, 552, "DATA"},
		{"attachment only", valid, pdf, 554, "DATA"},
		{"image only", valid, image, 554, "DATA"},
		{"nothing but the quote", valid, replyMail(valid, "> Try restarting it.\r\n"), 554, "DATA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, step := send(t, addr, "dana@example.com", tt.rcpt, tt.body); code != tt.code || step != tt.step {
				t.Errorf("got %d at %s, want %d at %s", code, step, tt.code, tt.step)
			}
		})
	}
	if replies, unsubs := h.got(); len(replies) != 0 || len(unsubs) != 0 {
		t.Errorf("handler got %d replies and %d unsubscribes, want none", len(replies), len(unsubs))
	}
}

func TestInboundUnsubscribeByMail(t *testing.T) {
	h := &recorder{}
	addr := start(t, h, "sam")
	room := chat.NewRoomID()
	rcpt := "unsubscribe+" + token(t, mail.PurposeUnsubscribe, room, mail.Recipient{Agent: "sam"}, time.Now().Add(time.Hour)) + "@" + domain
	if code, step := send(t, addr, "sam@acme.example", rcpt, replyMail(rcpt, "")); code != 0 {
		t.Fatalf("got %d at %s, want the unsubscribe accepted", code, step)
	}
	// A reply token is not an unsubscribe token.
	wrong := "unsubscribe+" + token(t, mail.PurposeReply, room, mail.Visitor, time.Now().Add(time.Hour)) + "@" + domain
	if code, step := send(t, addr, "dana@example.com", wrong, replyMail(wrong, "")); code != 550 || step != "RCPT" {
		t.Errorf("reply token as unsubscribe: got %d at %s, want 550 at RCPT", code, step)
	}
	if replies, unsubs := h.got(); len(replies) != 0 || len(unsubs) != 1 || unsubs[0] != room+"/sam" {
		t.Errorf("handler got replies %v, unsubscribes %v; want one unsubscribe of sam in %s", replies, unsubs, room)
	}
}

func TestInboundAutomaticRepliesAreDropped(t *testing.T) {
	h := &recorder{}
	addr := start(t, h)
	rcpt := "reply+" + token(t, mail.PurposeReply, chat.NewRoomID(), mail.Visitor, time.Now().Add(time.Hour)) + "@" + domain
	vacation := "Auto-Submitted: auto-replied\r\n" + replyMail(rcpt, "I am on holiday until Monday.")
	if code, _ := send(t, addr, "dana@example.com", rcpt, vacation); code != 0 {
		t.Errorf("vacation reply: got %d, want it taken (and dropped)", code)
	}
	if replies, _ := h.got(); len(replies) != 0 {
		t.Errorf("handler got %+v, want no automatic reply", replies)
	}
}

func TestInboundHandlerFailureIsTemporary(t *testing.T) {
	h := &recorder{fail: fmt.Errorf("redis down")}
	addr := start(t, h)
	rcpt := "reply+" + token(t, mail.PurposeReply, chat.NewRoomID(), mail.Visitor, time.Now().Add(time.Hour)) + "@" + domain
	if code, step := send(t, addr, "dana@example.com", rcpt, replyMail(rcpt, "hello")); code != 451 || step != "DATA" {
		t.Errorf("got %d at %s, want 451 at DATA so the sender retries", code, step)
	}
}

// greeting dials addr and reads the first line within wait ("" when none
// came).
func greeting(t *testing.T, addr string, wait time.Duration) (net.Conn, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetReadDeadline(time.Now().Add(wait))
	line, _ := bufio.NewReader(c).ReadString('\n')
	return c, line
}

func TestInboundBoundsConnections(t *testing.T) {
	addr := startWith(t, inbound.Config{Handler: &recorder{}, MaxConns: 1, Timeout: 5 * time.Second})
	first, line := greeting(t, addr, 5*time.Second)
	if !strings.HasPrefix(line, "220 ") {
		t.Fatalf("first connection: got %q, want the 220 greeting", line)
	}
	second, line := greeting(t, addr, 300*time.Millisecond)
	if line != "" {
		t.Errorf("second connection while the first is open: got %q, want no greeting (MaxConns 1)", line)
	}
	// The waiting one is served once the first leaves.
	_ = first.Close()
	_ = second.SetReadDeadline(time.Now().Add(5 * time.Second))
	if line, _ := bufio.NewReader(second).ReadString('\n'); !strings.HasPrefix(line, "220 ") {
		t.Errorf("waiting connection after the first closed: got %q, want the greeting", line)
	}
}

func TestInboundTimesOutIdleConnections(t *testing.T) {
	addr := startWith(t, inbound.Config{Handler: &recorder{}, Timeout: 200 * time.Millisecond})
	c, line := greeting(t, addr, 5*time.Second)
	if !strings.HasPrefix(line, "220 ") {
		t.Fatalf("got %q, want the greeting", line)
	}
	// Say nothing: the server must close the connection.
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 512)
	for {
		if _, err := c.Read(buf); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("the server kept an idle connection open for 5 s (timeout 200 ms)")
			}
			return // closed by the server
		}
	}
}
