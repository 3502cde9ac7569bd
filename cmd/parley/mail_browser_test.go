package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/httpapi"
	"github.com/parley-chat/parley/internal/mail"
	"github.com/parley-chat/parley/internal/mail/mailtest"
)

// startMailUIApp starts the app with email on, sending to a test SMTP
// server; it returns the app, the signer of its mail tokens and the SMTP
// server. (cmd's own wiring of PARLEY_SMTP_URL builds the same MailDeps.)
func startMailUIApp(t *testing.T) (*testApp, *mail.Signer, *mailtest.Server) {
	t.Helper()
	smtp := mailtest.Start(t, mailtest.Options{})
	var signer *mail.Signer
	var stop func()
	app := startTestAppWith(t, nil, func(cfg config.Config, b *backend) {
		signer = mail.NewSigner(cfg.JWTSecret)
		comp, err := mail.NewComposer(mail.ComposerConfig{From: "Support <support@example.com>", PublicURL: "http://parley.test", Signer: signer})
		if err != nil {
			t.Fatalf("composer: %v", err)
		}
		sender, err := mail.NewSMTPSender(mail.SMTPConfig{Host: smtp.Host(), Port: smtp.Port(), TLS: smtp.ClientTLS(), Timeout: 5 * time.Second})
		if err != nil {
			t.Fatalf("sender: %v", err)
		}
		q, err := mail.NewQueue(b.store, comp, sender, slog.New(slog.NewTextHandler(io.Discard, nil)), mail.QueueConfig{Poll: 50 * time.Millisecond})
		if err != nil {
			t.Fatalf("queue: %v", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); _ = q.Run(ctx) }()
		stop = func() { cancel(); wg.Wait() }
		b.mail = &httpapi.MailDeps{Queue: q, Composer: comp, Signer: signer, Unsubscribe: b.store}
	})
	t.Cleanup(stop) // before the app's own cleanup: the worker stops first
	return app, signer, smtp
}

// TestWidgetNoEmailPromiseWithoutSMTP: with no PARLEY_SMTP_URL, a visitor
// writing while nobody is online is told their messages are kept and the
// answer comes here — not that it comes by email, and no email is asked
// for; the panel offers no transcript by mail.
func TestWidgetNoEmailPromiseWithoutSMTP(t *testing.T) {
	ctx := newBrowser(t)
	app := startTestApp(t, nil)
	log := watchBrowser(ctx)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	loadWidgetPage(t, ctx, app.URL+"/")
	mustDo(t, ctx, "identify", chromedp.Evaluate[chromedp.Void](`Parley('identify', {name: 'Dana', email: 'dana@example.com'})`))
	clickBubble(t, ctx)
	mustPoll(t, ctx, "the composer", `!!F() && F().activeElement && F().activeElement.id === 'input'`, 5*time.Second)
	typeAndSend(t, ctx, "Is anyone there?")
	mustPoll(t, ctx, "the away notice", `!F().getElementById('away').hidden`, 10*time.Second)
	got := mustEval[string](t, ctx, `F().getElementById('away').innerText`)
	if !strings.Contains(got, "we will reply here") || strings.Contains(strings.ToLower(got), "email") || strings.Contains(got, "dana@example.com") {
		t.Errorf("away notice without SMTP: got %q, want no email promise", got)
	}
	if !mustEval[bool](t, ctx, `F().getElementById('away-row').hidden && F().getElementById('mail').hidden`) {
		t.Errorf("without SMTP the panel asks for an email or offers a transcript by mail")
	}
	if got := mustEval[string](t, ctx, `F().querySelector('label[for=intro-email]').textContent`); strings.Contains(got, "answer") {
		t.Errorf("intro email label: got %q, want no promise", got)
	}
	screenshot(t, ctx, "widget-no-email.png")
	log.checkClean(t)
}

// TestReopenLink opens a visitor's reopen link in a fresh browser (another
// device): the page trades the token, the panel shows the agent's reply,
// the token leaves the address bar; the panel offers the transcript by
// mail, and a transcript the SMTP server refuses shows in the console's
// undelivered mail with the server's reason. A forged link says so.
func TestReopenLink(t *testing.T) {
	ctx := newBrowser(t)
	app, signer, smtp := startMailUIApp(t)
	admin := app.adminToken(t)
	log := watchBrowser(ctx)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	var out struct {
		Room  struct{ ID string }
		Token string
	}
	if st := app.call(t, "POST", "/api/v1/rooms", "", map[string]string{"name": "Dana", "email": "dana@example.com"}, &out); st != 201 {
		t.Fatalf("create room: got %d", st)
	}
	visitorSays(t, app, out.Token, out.Room.ID, "Where is my parcel?")
	adminSays(t, app, admin, out.Room.ID, "It left our warehouse today.")
	tok, err := signer.Sign(mail.PurposeOpen, out.Room.ID, mail.Visitor, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}

	const doc = `document`
	mustDo(t, ctx, "open the link", chromedp.Navigate(app.URL+"/widget/open.html?t="+tok))
	pollAcrossNavigation(t, ctx, "the panel with the reply", `location.pathname === '/widget/frame.html' && [...document.querySelectorAll('#list .msg.them .text')].some((e) => e.textContent === 'It left our warehouse today.')`, 10*time.Second)
	if got := mustEval[string](t, ctx, `location.href`); strings.Contains(got, tok) {
		t.Errorf("the address bar still holds the token: %s", got)
	}
	if !mustEval[bool](t, ctx, `[...`+doc+`.querySelectorAll('#list .msg.me .text')].some((e) => e.textContent === 'Where is my parcel?')`) {
		t.Errorf("the visitor's own message is missing")
	}
	mustPoll(t, ctx, "the transcript control", `!document.getElementById('mail').hidden`, 5*time.Second)
	screenshot(t, ctx, "reopen-link.png")

	smtp.Refuse(1, 550)
	mustDo(t, ctx, "ask for the transcript", chromedp.Click(chromedp.CSS("#mail")))
	mustPoll(t, ctx, "the notice", `document.getElementById('notice').textContent.includes("We'll email this conversation to dana@example.com")`, 5*time.Second)
	screenshot(t, ctx, "reopen-transcript-asked.png")

	mustDo(t, ctx, "a forged link", chromedp.Navigate(app.URL+"/widget/open.html?t="+strings.Repeat("a", 53)))
	mustPoll(t, ctx, "the refusal", `document.getElementById('msg').textContent.includes('expired or is not valid')`, 5*time.Second)
	screenshot(t, ctx, "reopen-forged.png")

	// The unsubscribe link: a page with a button, then the confirmation.
	unsub, err := signer.Sign(mail.PurposeUnsubscribe, out.Room.ID, mail.Visitor, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	mustDo(t, ctx, "open the unsubscribe link", chromedp.Navigate(app.URL+"/unsubscribe?t="+unsub), chromedp.WaitVisible(chromedp.CSS("button")))
	screenshot(t, ctx, "unsubscribe-ask.png")
	mustDo(t, ctx, "unsubscribe", chromedp.Click(chromedp.CSS("button")))
	pollAcrossNavigation(t, ctx, "the confirmation", `document.querySelector('h1')?.textContent === 'You are unsubscribed'`, 5*time.Second)
	screenshot(t, ctx, "unsubscribe-done.png")

	// The console, email on: the transcript the server refused is listed.
	waitDead(t, app, admin)
	loginConsole(t, ctx, app)
	mustDo(t, ctx, "open the room", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#rooms a.room[data-id=%q]`, out.Room.ID))))
	mustPoll(t, ctx, "the undelivered mail", `document.querySelector('.details-mail .mail-dead summary')?.textContent === 'Undelivered mail (1)'`, 10*time.Second)
	mustDo(t, ctx, "open the list", chromedp.Click(chromedp.CSS(".mail-dead summary")))
	if got := mustEval[string](t, ctx, `document.querySelector('.mail-dead li').textContent`); !strings.Contains(got, "dana@example.com") || !strings.Contains(got, "550") {
		t.Errorf("dead mail in the console: got %q, want the address and the 550", got)
	}
	if mustEval[bool](t, ctx, `!!document.querySelector('.mail-off')`) {
		t.Errorf("the console says email is off while it is on")
	}
	mustDo(t, ctx, "scroll to it", chromedp.Evaluate[chromedp.Void](`document.querySelector('.details-mail').scrollIntoView()`))
	screenshot(t, ctx, "console-dead-mail.png")
	// The panel full page has no favicon link: the browser asks for one.
	log.checkClean(t, provoked{path: "/api/v1/rooms/open", text: "status of 401"}, provoked{path: "/favicon.ico", text: "404"})
}

// pollAcrossNavigation is mustPoll for a condition that holds only after
// the page navigated on its own: an evaluation the navigation cut is tried
// again.
func pollAcrossNavigation(tb testing.TB, ctx context.Context, step, expr string, timeout time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s: %s still false after %v (last error %v)", step, expr, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitDead waits until the dead-letter list holds one mail.
func waitDead(tb testing.TB, app *testApp, admin string) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var out struct{ Dead []struct{ ID string } }
		if st := app.call(tb, "GET", "/api/v1/admin/mail/dead", admin, nil, &out); st == 200 && len(out.Dead) == 1 {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("no dead mail after 10 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// loginConsole signs in to the console in ctx's tab.
func loginConsole(tb testing.TB, ctx context.Context, app *testApp) {
	tb.Helper()
	mustDo(tb, ctx, "open the console", chromedp.Navigate(app.URL+"/admin/"), chromedp.WaitVisible(chromedp.CSS("#login-form")),
		chromedp.SendKeys(chromedp.CSS("#username"), app.AdminUser),
		chromedp.SendKeys(chromedp.CSS("#password"), app.AdminPassword),
		chromedp.Click(chromedp.CSS("#login-submit")))
	mustPoll(tb, ctx, "the stream is live", `document.getElementById('status').dataset.state === 'live'`, 10*time.Second)
}

// TestConsoleEmailOff: without PARLEY_SMTP_URL the conversation's details
// say that email is off and how to turn it on, and offer no mail button.
func TestConsoleEmailOff(t *testing.T) {
	ctx := newBrowser(t)
	app := startTestApp(t, nil)
	log := watchBrowser(ctx)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	roomID, _ := app.newVisitor(t, "Dana")
	loginConsole(t, ctx, app)
	mustDo(t, ctx, "open the room", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#rooms a.room[data-id=%q]`, roomID))))
	mustPoll(t, ctx, "the email-off line", `!!document.querySelector('.details-mail .mail-off')`, 10*time.Second)
	got := mustEval[string](t, ctx, `document.querySelector('.details-mail').textContent`)
	if !strings.Contains(got, "Email is off: set PARLEY_SMTP_URL") || !strings.Contains(got, "PARLEY_SMTP_URL=log") {
		t.Errorf("details with email off: got %q, want how to turn it on", got)
	}
	if mustEval[bool](t, ctx, `!!document.querySelector('[data-action=mail-transcript]')`) {
		t.Errorf("the console offers a transcript by mail with email off")
	}
	mustDo(t, ctx, "scroll to it", chromedp.Evaluate[chromedp.Void](`document.querySelector('.details-mail').scrollIntoView()`))
	screenshot(t, ctx, "console-email-off.png")
	log.checkClean(t)
}

// TestVisitorMailLinkOpensTheConversation follows the whole promise: a
// visitor who left an email and the tab gets the agent's unseen reply by
// mail, and the link in that mail, opened in a fresh browser, shows the
// conversation with the reply.
func TestVisitorMailLinkOpensTheConversation(t *testing.T) {
	ctx := newBrowser(t)
	smtpd := mailtest.Start(t, mailtest.Options{})
	// Only the visitor's mail is wanted here: the agents' comes much later.
	app := startMailApp(t, smtpd, map[string]string{"PARLEY_NOTIFY_AGENTS_AFTER": "1h"})
	log := watchBrowser(ctx)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	at := app.adminToken(t)
	room, vt := app.visitorWithEmail(t, "Dana", "dana@example.com")
	app.visitorSays(t, room, vt, "Where is my parcel?")
	app.adminSays(t, room, at, "It left our warehouse today.")
	m := waitMails(t, smtpd, 1)[0]
	if m.To[0] != "dana@example.com" {
		t.Fatalf("the first mail went to %v, want the visitor", m.To)
	}
	link := openLink.FindStringSubmatch(m.Text)
	if link == nil {
		t.Fatalf("no reopen link in the visitor's mail:\n%s", m.Text)
	}
	url := app.URL + "/widget/open.html?t=" + link[1] // the mail names PARLEY_PUBLIC_URL, http://parley.test

	mustDo(t, ctx, "open the mail's link", chromedp.Navigate(url))
	pollAcrossNavigation(t, ctx, "the conversation with the reply", `location.pathname === '/widget/frame.html' && [...document.querySelectorAll('#list .msg.them .text')].some((e) => e.textContent === 'It left our warehouse today.')`, 10*time.Second)
	if !mustEval[bool](t, ctx, `[...document.querySelectorAll('#list .msg.me .text')].some((e) => e.textContent === 'Where is my parcel?')`) {
		t.Errorf("the visitor's own message is missing")
	}
	screenshot(t, ctx, "visitor-mail-link.png")
	log.checkClean(t, provoked{path: "/favicon.ico", text: "404"})
}
