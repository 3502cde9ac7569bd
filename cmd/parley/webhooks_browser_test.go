package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestConsoleWebhooks: the owner opens Webhooks, adds an endpoint (a
// receiver on a loopback port, allowed by PARLEY_WEBHOOK_ALLOW_HOSTS) and
// sees its secret once; a new conversation is delivered, failing first
// (the receiver answers 500) and then retried; the deliveries list shows
// both attempts with their status and the answer's start; Resend sends the
// event again with the same webhook-id; an agent sees no Webhooks link.
func TestConsoleWebhooks(t *testing.T) {
	var mu sync.Mutex
	var ids []string
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ids = append(ids, r.Header.Get("webhook-id"))
		n := len(ids)
		mu.Unlock()
		if n == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte("receiver is warming up"))
			return
		}
		_, _ = w.Write([]byte("thanks"))
	}))
	defer rc.Close()
	hits := func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), ids...) }

	ctx := newBrowser(t)
	app := startTestApp(t, map[string]string{"PARLEY_WEBHOOK_ALLOW_HOSTS": "127.0.0.1"})
	log := watchBrowser(ctx)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	loginConsole(t, ctx, app)

	mustDo(t, ctx, "open Webhooks", chromedp.Click(chromedp.CSS("#nav-webhooks")))
	mustPoll(t, ctx, "the empty webhooks page", `!document.getElementById('webhooks-view').hidden && location.hash === '#/webhooks'
		&& document.getElementById('inbox-view').hidden && !!document.querySelector('#hook-url')`, 5*time.Second)
	mustDo(t, ctx, "add an endpoint",
		chromedp.SendKeys(chromedp.CSS("#hook-url"), rc.URL+"/hook"),
		chromedp.Click(chromedp.CSS("[data-action=add-webhook]")))
	mustPoll(t, ctx, "the secret, shown once", `document.getElementById('hook-secret')?.open === true`, 10*time.Second)
	secret := mustEval[string](t, ctx, `document.querySelector('#hook-secret [data-secret]').textContent`)
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret shown: %q, want whsec_…", secret)
	}
	screenshot(t, ctx, "console-webhooks-secret.png")
	mustDo(t, ctx, "done", chromedp.Click(chromedp.CSS(`#hook-secret button[value=done]`)))
	mustPoll(t, ctx, "the endpoint's row, the secret gone", `!document.getElementById('hook-secret')
		&& document.querySelector('[data-webhook] .team-name')?.textContent === `+jsString(rc.URL+"/hook")+`
		&& document.querySelector('[data-webhook] [data-state]')?.dataset.state === 'active'`, 5*time.Second)
	if mustEval[bool](t, ctx, `document.documentElement.outerHTML.includes(`+jsString(secret)+`)`) {
		t.Errorf("the secret is still in the page after the dialog closed")
	}

	app.newVisitor(t, "Vi")
	deadline := time.Now().Add(20 * time.Second)
	for len(hits()) < 2 { // the 500, then the retry about 5 s later
		if time.Now().After(deadline) {
			t.Fatalf("the receiver got %d requests, want the failed attempt and its retry", len(hits()))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if h := hits(); h[0] != h[1] || h[0] == "" {
		t.Fatalf("the retry's webhook-id %q differs from the first %q", h[1], h[0])
	}
	mustDo(t, ctx, "open the deliveries", chromedp.Click(chromedp.CSS("[data-webhook] [data-action=deliveries]")))
	mustPoll(t, ctx, "both attempts listed", `document.querySelectorAll('[data-deliveries-of] tbody tr').length === 2
		&& document.querySelector('[data-deliveries-of] tbody tr:first-child').dataset.ok === 'true'
		&& document.querySelector('[data-deliveries-of] tbody tr:last-child').dataset.ok === 'false'
		&& document.querySelector('[data-deliveries-of] tbody tr:last-child .hook-answer').textContent === 'receiver is warming up'
		&& document.querySelector('[data-deliveries-of] tbody tr:last-child .hook-bad').textContent.includes('500')`, 10*time.Second)
	screenshot(t, ctx, "console-webhooks-deliveries.png")

	mustDo(t, ctx, "resend", chromedp.Click(chromedp.CSS("[data-deliveries-of] tbody tr:first-child [data-action=resend]")))
	deadline = time.Now().Add(10 * time.Second)
	for len(hits()) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("the resend never reached the receiver")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if h := hits(); h[2] != h[0] {
		t.Errorf("the resend's webhook-id %q, want the original %q", h[2], h[0])
	}
	mustPoll(t, ctx, "the resend listed", `document.querySelectorAll('[data-deliveries-of] tbody tr').length === 3`, 10*time.Second)
	metrics := scrape(t, app.MetricsURL+"/metrics")
	for _, line := range []string{`parley_webhook_deliveries_total{outcome="delivered"} 2`, `parley_webhook_deliveries_total{outcome="failed"} 1`} {
		if !strings.Contains(metrics, line) {
			t.Errorf("/metrics lacks %q", line)
		}
	}

	// A Slack notifier: no secret to show or rotate.
	mustDo(t, ctx, "connect Slack",
		chromedp.SendKeys(chromedp.CSS("#slack-url"), rc.URL+"/services/T0/B0/x"),
		chromedp.Click(chromedp.CSS("[data-action=add-slack]")))
	mustPoll(t, ctx, "the Slack row", `document.querySelectorAll('[data-webhook]').length === 2
		&& [...document.querySelectorAll('[data-webhook] .team-name')].some((n) => n.textContent.startsWith('Slack · '))
		&& document.querySelectorAll('[data-webhook] [data-action=rotate]').length === 1 && !document.getElementById('hook-secret')`, 10*time.Second)
	screenshot(t, ctx, "console-webhooks.png")

	// An agent has no Webhooks link.
	addAgent(t, app, app.adminToken(t), "priya", "Priya", "priya-password-1")
	actx, acancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer acancel()
	alog := watchBrowser(actx)
	loginAs(t, actx, app, "priya", "priya-password-1")
	mustPoll(t, actx, "no Webhooks link for an agent", `document.body.dataset.role === 'agent'
		&& getComputedStyle(document.getElementById('nav-webhooks')).display === 'none'`, 10*time.Second)
	alog.checkClean(t)
	log.checkClean(t)
}
