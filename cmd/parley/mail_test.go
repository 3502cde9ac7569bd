package main

import (
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	netmail "net/mail"
	"net/smtp"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/mail"
	"github.com/parley-chat/parley/internal/mail/mailtest"
	"github.com/parley-chat/parley/internal/redisstore/redistest"
)

// The notification delays of these tests: seconds, through the same
// variables as production.
const (
	testNotifyAfter = "1s"
	// quiet is longer than a delay plus a notifier poll and a queue poll:
	// a mail that was going to be sent has been by then.
	quiet = 4 * time.Second
)

// startMailApp is startTestApp with mail on: sent to smtpd, delays of one
// second, the first admin dana@acme.example, and inbound mail on a free
// loopback port.
func startMailApp(t *testing.T, smtpd *mailtest.Server, env map[string]string) *testApp {
	t.Helper()
	vars := map[string]string{
		"PARLEY_SMTP_URL":             "smtp://" + smtpd.Addr(),
		"PARLEY_MAIL_FROM":            "Acme Support <support@acme.example>",
		"PARLEY_PUBLIC_URL":           "http://parley.test",
		"PARLEY_NOTIFY_AGENTS_AFTER":  testNotifyAfter,
		"PARLEY_NOTIFY_VISITOR_AFTER": testNotifyAfter,
		"PARLEY_ADMIN_EMAIL":          "dana@acme.example",
		"PARLEY_SMTP_INBOUND_ADDR":    "127.0.0.1:0",
		"PARLEY_INBOUND_DOMAIN":       "reply.parley.test",
	}
	for k, v := range env {
		vars[k] = v
	}
	return startTestApp(t, vars)
}

// received is one mail as a reader sees it: its headers and plain text.
type received struct {
	Header netmail.Header
	Text   string
	To     []string
}

func parseMail(t *testing.T, r mailtest.Received) received {
	t.Helper()
	msg, err := netmail.ReadMessage(strings.NewReader(string(r.Raw)))
	if err != nil {
		t.Fatalf("read mail: %v", err)
	}
	text := plainText(t, msg.Header.Get("Content-Type"), msg.Body)
	return received{Header: msg.Header, Text: text, To: r.To}
}

// plainText finds the text/plain part (multipart decodes its
// quoted-printable).
func plainText(t *testing.T, contentType string, body io.Reader) string {
	t.Helper()
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		t.Fatalf("content type %q: %v", contentType, err)
	}
	if !strings.HasPrefix(mt, "multipart/") {
		b, _ := io.ReadAll(body)
		if mt == "text/plain" {
			return string(b)
		}
		return ""
	}
	mr := multipart.NewReader(body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			return ""
		}
		if s := plainText(t, p.Header.Get("Content-Type"), p); s != "" {
			return s
		}
	}
}

func (a *testApp) visitorWithEmail(t *testing.T, name, email string) (roomID, token string) {
	t.Helper()
	var out struct {
		Room  struct{ ID string }
		Token string
	}
	if st := a.call(t, "POST", "/api/v1/rooms", "", map[string]string{"name": name, "email": email}, &out); st != 201 {
		t.Fatalf("create room: got %d, want 201", st)
	}
	return out.Room.ID, out.Token
}

func (a *testApp) visitorSays(t *testing.T, roomID, token, text string) int64 {
	t.Helper()
	var out struct{ Message struct{ Seq int64 } }
	if st := a.call(t, "POST", "/api/v1/rooms/"+roomID+"/messages", token, map[string]string{"content": text}, &out); st != 201 {
		t.Fatalf("visitor send: got %d, want 201", st)
	}
	return out.Message.Seq
}

func (a *testApp) adminSays(t *testing.T, roomID, token, text string) int64 {
	t.Helper()
	var out struct{ Message struct{ Seq int64 } }
	if st := a.call(t, "POST", "/api/v1/admin/rooms/"+roomID+"/messages", token, map[string]string{"content": text}, &out); st != 201 {
		t.Fatalf("admin send: got %d, want 201", st)
	}
	if out.Message.Seq == 0 {
		t.Fatal("admin send: no seq in the answer")
	}
	return out.Message.Seq
}

type apiMessage struct {
	Seq     int64
	Sender  string
	Author  string
	Content string
}

func (a *testApp) messages(t *testing.T, roomID, token string) []apiMessage {
	t.Helper()
	var out struct{ Messages []apiMessage }
	if st := a.call(t, "GET", "/api/v1/admin/rooms/"+roomID+"/messages", token, nil, &out); st != 200 {
		t.Fatalf("messages: got %d, want 200", st)
	}
	return out.Messages
}

// waitMails waits for n mails and then for quiet, and fails unless exactly
// n arrived.
func waitMails(t *testing.T, smtpd *mailtest.Server, n int) []received {
	t.Helper()
	if n > 0 {
		smtpd.WaitFor(n, 15*time.Second)
	}
	time.Sleep(quiet)
	got := smtpd.Received()
	if len(got) != n {
		for _, r := range got {
			t.Logf("mail to %v:\n%s", r.To, r.Raw)
		}
		t.Fatalf("got %d mails, want %d", len(got), n)
	}
	out := make([]received, n)
	for i, r := range got {
		out[i] = parseMail(t, r)
	}
	return out
}

// A visitor's three messages that nobody answers make one mail to the
// agent, after the delay, with all three and a link into the console; a
// later message makes a second mail in the same thread.
func TestMailAgentsBatchedAndThreaded(t *testing.T) {
	smtpd := mailtest.Start(t, mailtest.Options{})
	app := startMailApp(t, smtpd, nil)
	room, vt := app.newVisitor(t, "Lee")
	for _, s := range []string{"hello?", "is anyone there", "my order 1234 is late"} {
		app.visitorSays(t, room, vt, s)
	}
	if n := len(smtpd.Received()); n != 0 {
		t.Fatalf("got %d mails before the delay, want 0", n)
	}
	first := waitMails(t, smtpd, 1)[0]
	if first.To[0] != "dana@acme.example" {
		t.Errorf("To: got %v, want dana@acme.example", first.To)
	}
	for _, want := range []string{"hello?", "is anyone there", "my order 1234 is late", "http://parley.test/admin/#/r/" + room} {
		if !strings.Contains(first.Text, want) {
			t.Errorf("agents' mail: no %q in\n%s", want, first.Text)
		}
	}
	app.visitorSays(t, room, vt, "still waiting")
	both := waitMails(t, smtpd, 2)
	second := both[1]
	if !strings.Contains(second.Text, "still waiting") || strings.Contains(second.Text, "hello?") {
		t.Errorf("second mail: want only the new message, got\n%s", second.Text)
	}
	thread := "<room-" + room + "@parley.test>"
	for i, m := range both {
		if m.Header.Get("In-Reply-To") != thread || m.Header.Get("References") != thread {
			t.Errorf("mail %d: In-Reply-To %q, References %q; want %q", i, m.Header.Get("In-Reply-To"), m.Header.Get("References"), thread)
		}
	}
	if both[0].Header.Get("Message-Id") == both[1].Header.Get("Message-Id") {
		t.Errorf("two mails with one Message-ID %q", both[0].Header.Get("Message-Id"))
	}
	metrics := scrape(t, app.MetricsURL+"/metrics")
	for _, want := range []string{"parley_mail_sent_total 2\n", "parley_mail_failed_total 0\n", "parley_mail_dead_total 0\n", `parley_mail_queue{state="waiting"} 0` + "\n"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics: no %q", want)
		}
	}
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

// An agent who answers within the delay: no agents' mail for that room
// (the other, unanswered one gets its mail).
func TestMailNoAgentMailWhenAnswered(t *testing.T) {
	smtpd := mailtest.Start(t, mailtest.Options{})
	app := startMailApp(t, smtpd, nil)
	at := app.adminToken(t)              // before: a login (bcrypt) may take longer than the delay
	room, vt := app.newVisitor(t, "Lee") // no email: no visitor mail either
	other, ot := app.newVisitor(t, "Kim")
	app.visitorSays(t, room, vt, "hello from Lee")
	app.visitorSays(t, other, ot, "hello from Kim")
	app.adminSays(t, room, at, "Hi Lee, how can I help?")
	m := waitMails(t, smtpd, 1)[0]
	if !strings.Contains(m.Text, "hello from Kim") {
		t.Errorf("the one mail: want Kim's unanswered room, got\n%s", m.Text)
	}
}

// An agent whose preference is never, or who set no address, gets nothing.
func TestMailAgentPreferenceNever(t *testing.T) {
	smtpd := mailtest.Start(t, mailtest.Options{})
	app := startMailApp(t, smtpd, nil)
	at := app.adminToken(t)
	var me struct{ Email, Notify string }
	if st := app.call(t, "PATCH", "/api/v1/admin/me", at, map[string]string{"notify": "never"}, &me); st != 200 || me.Notify != "never" || me.Email != "dana@acme.example" {
		t.Fatalf("PATCH /admin/me: got %d %+v, want 200 never dana@acme.example", st, me)
	}
	room, vt := app.newVisitor(t, "Lee")
	app.visitorSays(t, room, vt, "hello?")
	waitMails(t, smtpd, 0)
	if st := app.call(t, "PATCH", "/api/v1/admin/me", at, map[string]string{"notify": "always"}, &me); st != 200 || me.Notify != "always" {
		t.Fatalf("PATCH /admin/me: got %d %+v, want 200 always", st, me)
	}
	app.visitorSays(t, room, vt, "anyone?")
	waitMails(t, smtpd, 1)
}

// An agent whose preference is offline gets no mail while their console
// is open (an admin stream, on any instance), and one once they choose
// always.
func TestMailAgentOnlineOffline(t *testing.T) {
	smtpd := mailtest.Start(t, mailtest.Options{})
	app := startMailApp(t, smtpd, nil)
	at := app.adminToken(t)
	req, err := http.NewRequest("GET", app.URL+"/api/v1/admin/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+at)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("admin stream: %v %v", res, err)
	}
	defer res.Body.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		on, err := app.srv.store.AgentsOnline(context.Background(), time.Now())
		if err == nil && on["admin"] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("admin not online with a stream open: %v, %v", on, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	room, vt := app.newVisitor(t, "Lee")
	app.visitorSays(t, room, vt, "hello?")
	waitMails(t, smtpd, 0)
	if st := app.call(t, "PATCH", "/api/v1/admin/me", at, map[string]string{"notify": "always"}, nil); st != 200 {
		t.Fatalf("PATCH /admin/me: got %d, want 200", st)
	}
	app.visitorSays(t, room, vt, "anyone?")
	waitMails(t, smtpd, 1)
}

var openLink = regexp.MustCompile(`http://parley\.test/widget/open\.html\?t=([a-z2-7]+)`)

// A reply the visitor has not seen after the delay is mailed to them, with
// a link whose token opens that room; the reply address takes their answer
// back into the conversation, quote stripped.
func TestMailVisitorGetsUnseenReplyAndAnswersByMail(t *testing.T) {
	smtpd := mailtest.Start(t, mailtest.Options{})
	app := startMailApp(t, smtpd, nil)
	at := app.adminToken(t) // before: a login (bcrypt) may take longer than the agents' delay
	room, vt := app.visitorWithEmail(t, "Zoë Lee", "lee@example.com")
	app.visitorSays(t, room, vt, "where is my order?")
	app.adminSays(t, room, at, "It ships tomorrow.")
	m := waitMails(t, smtpd, 1)[0]
	if to, err := (&mime.WordDecoder{}).DecodeHeader(m.Header.Get("To")); m.To[0] != "lee@example.com" || err != nil || !strings.Contains(to, "Zoë Lee") {
		t.Fatalf("To: got %v, header %q (%v); want lee@example.com named Zoë Lee", m.To, m.Header.Get("To"), err)
	}
	if !strings.Contains(m.Text, "It ships tomorrow.") || strings.Contains(m.Text, "where is my order?") {
		t.Errorf("visitor mail: want the reply only, got\n%s", m.Text)
	}
	link := openLink.FindStringSubmatch(m.Text)
	if link == nil {
		t.Fatalf("visitor mail: no reopen link in\n%s", m.Text)
	}
	signer := mail.NewSigner([]byte("test-secret-test-secret-test-secret!"))
	claims, err := signer.Verify(link[1], mail.PurposeOpen, time.Now())
	if err != nil || claims.RoomID != room || claims.IsAgent() {
		t.Fatalf("open token: got %+v, %v; want room %s for the visitor", claims, err, room)
	}

	replyTo := m.Header.Get("Reply-To")
	addr, err := netmail.ParseAddress(replyTo)
	if err != nil || !strings.HasSuffix(addr.Address, "@reply.parley.test") {
		t.Fatalf("Reply-To: got %q, want reply+…@reply.parley.test", replyTo)
	}
	body := "Thanks, that works!\r\n\r\nOn Tue, 1 Dec 2026 at 10:00, Acme Support <support@acme.example> wrote:\r\n> It ships tomorrow.\r\n"
	sendInbound(t, app, addr.Address, "<reply-1@example.com>", body)
	sendInbound(t, app, addr.Address, "<reply-1@example.com>", body) // delivered twice
	msgs := app.messages(t, room, at)
	last := msgs[len(msgs)-1]
	if last.Sender != "visitor" || last.Content != "Thanks, that works!" || len(msgs) != 3 {
		t.Fatalf("after the reply mail: got %+v, want 3 messages ending with the visitor's %q", msgs, "Thanks, that works!")
	}

	// A blocked visitor's mail is taken (their server does not retry it
	// forever) and stores nothing, as the block refuses their sends.
	if st := app.call(t, "POST", "/api/v1/admin/rooms/"+room+"/block", at, map[string]any{}, nil); st != 204 {
		t.Fatalf("block: got %d, want 204", st)
	}
	sendInbound(t, app, addr.Address, "<reply-2@example.com>", "let me in")
	if msgs := app.messages(t, room, at); len(msgs) != 3 {
		t.Fatalf("after a blocked visitor's mail: got %d messages, want 3", len(msgs))
	}
}

// An agent's reply to the agents' mail becomes that agent's reply.
func TestMailAgentAnswersByMail(t *testing.T) {
	smtpd := mailtest.Start(t, mailtest.Options{})
	app := startMailApp(t, smtpd, nil)
	room, vt := app.newVisitor(t, "Lee")
	app.visitorSays(t, room, vt, "hello?")
	m := waitMails(t, smtpd, 1)[0]
	addr, err := netmail.ParseAddress(m.Header.Get("Reply-To"))
	if err != nil {
		t.Fatalf("Reply-To %q: %v", m.Header.Get("Reply-To"), err)
	}
	sendInbound(t, app, addr.Address, "<agent-1@acme.example>", "Hi Lee, on it.\r\n\r\n-- \r\nDana\r\n")
	msgs := app.messages(t, room, app.adminToken(t))
	if len(msgs) != 2 || msgs[1].Sender != "admin" || msgs[1].Content != "Hi Lee, on it." {
		t.Fatalf("after the agent's reply mail: got %+v", msgs)
	}
}

// A reply address with a forged token is refused and stores nothing.
func TestMailForgedReplyStoresNothing(t *testing.T) {
	smtpd := mailtest.Start(t, mailtest.Options{})
	app := startMailApp(t, smtpd, nil)
	room, vt := app.newVisitor(t, "Lee")
	app.visitorSays(t, room, vt, "hello?")
	signer := mail.NewSigner([]byte("another secret, not the server's"))
	forged, err := signer.Sign(mail.PurposeReply, room, mail.Visitor, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	err = smtp.SendMail(app.srv.mail.inLn.Addr().String(), nil, "eve@example.com",
		[]string{"reply+" + forged + "@reply.parley.test"}, []byte(inboundMail("<f@example.com>", "injected")))
	if err == nil || !strings.Contains(err.Error(), "550") {
		t.Fatalf("forged token: got %v, want a 550 refusal", err)
	}
	if msgs := app.messages(t, room, app.adminToken(t)); len(msgs) != 1 {
		t.Fatalf("after the forged mail: got %d messages, want 1", len(msgs))
	}
}

// A reply the visitor read in the widget before the delay is not mailed
// (the other visitor, who did not read theirs, gets their mail).
func TestMailNoVisitorMailWhenSeen(t *testing.T) {
	smtpd := mailtest.Start(t, mailtest.Options{})
	app := startMailApp(t, smtpd, nil)
	at := app.adminToken(t)
	room, vt := app.visitorWithEmail(t, "Lee", "lee@example.com")
	other, ot := app.visitorWithEmail(t, "Kim", "kim@example.com")
	app.visitorSays(t, room, vt, "where is my order?")
	app.visitorSays(t, other, ot, "where is mine?")
	seq := app.adminSays(t, room, at, "It ships tomorrow.")
	app.adminSays(t, other, at, "Yours too.")
	if st := app.call(t, "POST", "/api/v1/rooms/"+room+"/read", vt, map[string]int64{"seq": seq}, nil); st != 204 {
		t.Fatalf("read: got %d, want 204", st)
	}
	if m := waitMails(t, smtpd, 1)[0]; m.To[0] != "kim@example.com" {
		t.Errorf("the one mail: got it to %v, want kim@example.com", m.To)
	}
}

// Two instances on one real Redis: each due room is mailed once.
func TestMailExactlyOnceTwoInstances(t *testing.T) {
	if !redistest.Installed() {
		t.Skip("redis-server is not installed")
	}
	r := redistest.StartReal(t)
	smtpd := mailtest.Start(t, mailtest.Options{})
	env := map[string]string{"PARLEY_REDIS_URL": "redis://" + r.Addr() + "/0"}
	a := startMailApp(t, smtpd, env)
	b := startMailApp(t, smtpd, env)
	const rooms = 5
	for i := range rooms {
		app := a
		if i%2 == 1 {
			app = b
		}
		room, vt := app.newVisitor(t, "Visitor "+strconv.Itoa(i))
		app.visitorSays(t, room, vt, fmt.Sprintf("message %d", i))
	}
	got := waitMails(t, smtpd, rooms)
	seen := map[string]bool{}
	for _, m := range got {
		id := m.Header.Get("Message-Id")
		if seen[id] {
			t.Errorf("mail %s sent twice", id)
		}
		seen[id] = true
	}
}

// sendInbound delivers a reply over SMTP to the app's inbound listener.
func sendInbound(t *testing.T, app *testApp, to, messageID, body string) {
	t.Helper()
	if err := smtp.SendMail(app.srv.mail.inLn.Addr().String(), nil, "someone@example.com", []string{to},
		[]byte(inboundMail(messageID, body))); err != nil {
		t.Fatalf("send reply to %s: %v", to, err)
	}
}

func inboundMail(messageID, body string) string {
	return "From: someone@example.com\r\nTo: x@reply.parley.test\r\nSubject: Re: your conversation\r\n" +
		"Message-ID: " + messageID + "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body
}
