package mail_test

import (
	"bytes"
	"context"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	gomsgmail "github.com/emersion/go-message/mail"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/mail"
	"github.com/parley-chat/parley/internal/mail/mailtest"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

func mustComposer(tb testing.TB, inbound string) *mail.Composer {
	tb.Helper()
	c, err := mail.NewComposer(mail.ComposerConfig{
		From:          "Acme Support <support@acme.example>",
		PublicURL:     "https://chat.acme.example/",
		InboundDomain: inbound,
		Signer:        mail.NewSigner(testSecret),
	})
	if err != nil {
		tb.Fatalf("NewComposer: %v", err)
	}
	return c
}

func mustSender(tb testing.TB, srv *mailtest.Server, sec mail.Security) *mail.SMTPSender {
	tb.Helper()
	s, err := mail.NewSMTPSender(mail.SMTPConfig{
		Host: srv.Host(), Port: srv.Port(), Security: sec, TLS: srv.ClientTLS(), Timeout: 5 * time.Second,
	})
	if err != nil {
		tb.Fatalf("NewSMTPSender: %v", err)
	}
	return s
}

func sampleMail(id, room string) mail.Mail {
	return mail.Mail{
		ID: id, RoomID: room, To: "Dana <dana@example.com>", Subject: "Your conversation with Acme",
		Intro:       "Acme answered you.",
		Messages:    []mail.Line{{Author: "Sam", Text: "Hello <script>alert(1)</script> & welcome\nsecond line", At: time.Date(2026, 12, 1, 10, 4, 0, 0, time.UTC)}},
		Link:        &mail.Link{Label: "Open the conversation", URL: "https://chat.acme.example/c?t=abc"},
		Unsubscribe: true,
	}
}

// parsed is a received mail read back with go-message.
type parsed struct {
	header gomsgmail.Header
	parts  map[string]string // media type → decoded body
}

func mustParse(tb testing.TB, raw []byte) parsed {
	tb.Helper()
	r, err := gomsgmail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		tb.Fatalf("parse mail: %v\n%s", err, raw)
	}
	p := parsed{header: r.Header, parts: map[string]string{}}
	for {
		part, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatalf("next part: %v", err)
		}
		h, ok := part.Header.(*gomsgmail.InlineHeader)
		if !ok {
			tb.Fatalf("unexpected attachment")
		}
		mt, _, _ := h.ContentType()
		b, _ := io.ReadAll(part.Body)
		p.parts[mt] = string(b)
	}
	return p
}

func TestComposeAndSend(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	comp := mustComposer(t, "reply.acme.example")
	sender := mustSender(t, srv, mail.STARTTLSOpportunistic)
	room := chat.NewRoomID()
	ctx := context.Background()
	for _, id := range []string{"m1", "m2"} {
		msg, err := comp.Compose(sampleMail(id, room))
		if err != nil {
			t.Fatalf("Compose: %v", err)
		}
		if err := sender.Send(ctx, msg); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	got := srv.WaitFor(2, 5*time.Second)
	if got[0].From != "support@acme.example" || len(got[0].To) != 1 || got[0].To[0] != "dana@example.com" {
		t.Errorf("envelope: got %q → %q, want support@acme.example → dana@example.com", got[0].From, got[0].To)
	}
	a, b := mustParse(t, got[0].Raw), mustParse(t, got[1].Raw)

	if mt, _, _ := a.header.ContentType(); mt != "multipart/alternative" {
		t.Errorf("Content-Type: got %q, want multipart/alternative", mt)
	}
	text, html := a.parts["text/plain"], a.parts["text/html"]
	if !strings.Contains(text, "Hello <script>alert(1)</script> & welcome") || !strings.Contains(text, "Open the conversation: https://chat.acme.example/c?t=abc") {
		t.Errorf("text part: got\n%s\nwant the message verbatim and the link", text)
	}
	if strings.Contains(html, "<script>") || !strings.Contains(html, "Hello &lt;script&gt;alert(1)&lt;/script&gt; &amp; welcome") {
		t.Errorf("html part: got\n%s\nwant the message text escaped", html)
	}
	if !strings.Contains(html, `href="https://chat.acme.example/c?t=abc"`) {
		t.Errorf("html part: no link in\n%s", html)
	}

	for i, p := range []parsed{a, b} {
		id := []string{"m1", "m2"}[i]
		if got, want := p.header.Get("Message-Id"), "<"+id+"@chat.acme.example>"; got != want {
			t.Errorf("Message-ID: got %q, want %q", got, want)
		}
		thread := "<room-" + room + "@chat.acme.example>"
		if p.header.Get("In-Reply-To") != thread || p.header.Get("References") != thread {
			t.Errorf("threading of %s: got In-Reply-To %q References %q, want both %q", id, p.header.Get("In-Reply-To"), p.header.Get("References"), thread)
		}
	}

	signer := mail.NewSigner(testSecret)
	replyTo, err := a.header.AddressList("Reply-To")
	if err != nil || len(replyTo) != 1 {
		t.Fatalf("Reply-To: got %v, %v", replyTo, err)
	}
	local, domain, _ := strings.Cut(replyTo[0].Address, "@")
	if domain != "reply.acme.example" || !strings.HasPrefix(local, "reply+") || len(local) > 64 {
		t.Errorf("Reply-To: got %q, want reply+<token>@reply.acme.example with a local part of at most 64 characters", replyTo[0].Address)
	}
	c, err := signer.Verify(strings.TrimPrefix(local, "reply+"), mail.PurposeReply, time.Now())
	if err != nil || c.RoomID != room || !signer.IsFor(c, mail.Visitor) {
		t.Errorf("Reply-To token: got %+v, %v; want a reply token for the visitor of %s", c, err, room)
	}

	list := a.header.Get("List-Unsubscribe")
	if a.header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post: got %q", a.header.Get("List-Unsubscribe-Post"))
	}
	https, mailto, ok := strings.Cut(list, ", ")
	if !ok || !strings.HasPrefix(https, "<https://chat.acme.example/unsubscribe?t=") || !strings.HasPrefix(mailto, "<mailto:unsubscribe+") {
		t.Fatalf("List-Unsubscribe: got %q, want <https://…/unsubscribe?t=…>, <mailto:…>", list)
	}
	u, _ := url.Parse(strings.Trim(https, "<>"))
	if c, err := signer.Verify(u.Query().Get("t"), mail.PurposeUnsubscribe, time.Now()); err != nil || c.RoomID != room {
		t.Errorf("unsubscribe token: got %+v, %v", c, err)
	}
	if subj, _ := a.header.Subject(); subj != "Your conversation with Acme" {
		t.Errorf("Subject: got %q", subj)
	}
}

func TestComposeWithoutInbound(t *testing.T) {
	comp := mustComposer(t, "")
	m := sampleMail("m1", chat.NewRoomID())
	msg, err := comp.Compose(m)
	if err != nil {
		t.Fatalf("Compose: %v", err)
	}
	var raw bytes.Buffer
	if _, err := msg.WriteTo(&raw); err != nil {
		t.Fatal(err)
	}
	h := mustParse(t, raw.Bytes()).header
	if h.Get("Reply-To") != "" {
		t.Errorf("Reply-To: got %q, want none without inbound mail", h.Get("Reply-To"))
	}
	if l := h.Get("List-Unsubscribe"); strings.Contains(l, "mailto:") || !strings.HasPrefix(l, "<https://") {
		t.Errorf("List-Unsubscribe: got %q, want only the https link without inbound mail", l)
	}
	if strings.Contains(mustParse(t, raw.Bytes()).parts["text/plain"], "reply to this mail") {
		t.Errorf("text part promises replies by mail without inbound mail")
	}
}

func TestComposeRefusesBadMail(t *testing.T) {
	comp := mustComposer(t, "")
	for name, m := range map[string]mail.Mail{
		"id with space": {ID: "a b", RoomID: chat.NewRoomID(), To: "d@example.com", Subject: "s"},
		"bad recipient": {ID: "a", RoomID: chat.NewRoomID(), To: "nobody", Subject: "s"},
		"no subject":    {ID: "a", RoomID: chat.NewRoomID(), To: "d@example.com"},
		"not a room id": {ID: "a", RoomID: "room-1", To: "d@example.com", Subject: "s", Unsubscribe: true},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := comp.Compose(m); err == nil {
				t.Errorf("Compose: got no error")
			}
		})
	}
}

func TestSendTLS(t *testing.T) {
	ctx := context.Background()
	msgFor := func(t *testing.T) *mail.Composer { return mustComposer(t, "") }
	send := func(t *testing.T, srv *mailtest.Server, sec mail.Security) error {
		msg, err := msgFor(t).Compose(sampleMail("m1", chat.NewRoomID()))
		if err != nil {
			t.Fatal(err)
		}
		return mustSender(t, srv, sec).Send(ctx, msg)
	}
	t.Run("STARTTLS when offered", func(t *testing.T) {
		srv := mailtest.Start(t, mailtest.Options{TLS: true})
		if err := send(t, srv, mail.STARTTLSOpportunistic); err != nil {
			t.Fatalf("Send: %v", err)
		}
		if got := srv.WaitFor(1, 5*time.Second); !got[0].TLS {
			t.Errorf("got the mail in clear text, want it over STARTTLS")
		}
	})
	t.Run("required TLS refuses a server without it", func(t *testing.T) {
		srv := mailtest.Start(t, mailtest.Options{})
		if err := send(t, srv, mail.STARTTLSRequired); err == nil {
			t.Fatalf("Send: got no error, want a refusal to send in clear text")
		}
		if n := len(srv.Received()); n != 0 {
			t.Errorf("server got %d mails, want 0", n)
		}
	})
	t.Run("implicit TLS", func(t *testing.T) {
		srv := mailtest.Start(t, mailtest.Options{Implicit: true})
		if err := send(t, srv, mail.ImplicitTLS); err != nil {
			t.Fatalf("Send: %v", err)
		}
		if got := srv.WaitFor(1, 5*time.Second); !got[0].TLS {
			t.Errorf("got the mail in clear text, want it over TLS")
		}
	})
	t.Run("auth over STARTTLS", func(t *testing.T) {
		srv := mailtest.Start(t, mailtest.Options{TLS: true, Username: "mailer", Password: "s3cret-pw"})
		msg, _ := mustComposer(t, "").Compose(sampleMail("m1", chat.NewRoomID()))
		s, _ := mail.NewSMTPSender(mail.SMTPConfig{Host: srv.Host(), Port: srv.Port(), Security: mail.STARTTLSRequired,
			TLS: srv.ClientTLS(), Username: "mailer", Password: "s3cret-pw", Timeout: 5 * time.Second})
		if err := s.Send(ctx, msg); err != nil {
			t.Fatalf("Send: %v", err)
		}
		if got := srv.WaitFor(1, 5*time.Second); got[0].User != "mailer" {
			t.Errorf("got user %q, want mailer", got[0].User)
		}
		bad, _ := mail.NewSMTPSender(mail.SMTPConfig{Host: srv.Host(), Port: srv.Port(), Security: mail.STARTTLSRequired,
			TLS: srv.ClientTLS(), Username: "mailer", Password: "wrong-pw-123", Timeout: 5 * time.Second})
		err := bad.Send(ctx, msg)
		if err == nil || strings.Contains(err.Error(), "wrong-pw-123") {
			t.Errorf("Send with a wrong password: got %v, want an error without the password", err)
		}
	})
}
