package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestConsoleTokens: the owner opens Tokens, creates a token with the read
// and reply scopes and sees it once; the token works on the API, its row
// shows its scopes and then its last use; Revoke asks first, and once
// confirmed the token is refused and its row gone; an agent has no Tokens
// link.
func TestConsoleTokens(t *testing.T) {
	ctx := newBrowser(t)
	app := startTestApp(t, nil)
	log := watchBrowser(ctx)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	loginConsole(t, ctx, app)

	mustDo(t, ctx, "open Tokens", chromedp.Click(chromedp.CSS("#nav-tokens")))
	mustPoll(t, ctx, "the empty tokens page", `!document.getElementById('tokens-view').hidden && location.hash === '#/tokens'
		&& document.getElementById('inbox-view').hidden && !!document.querySelector('#token-name')
		&& document.querySelector('#tokens-root .card .muted')?.textContent === 'No tokens yet.'`, 5*time.Second)
	mustDo(t, ctx, "create a token",
		chromedp.SendKeys(chromedp.CSS("#token-name"), "Support bot"),
		chromedp.Click(chromedp.CSS(`input[name=scopes][value=reply]`)),
		chromedp.Click(chromedp.CSS("[data-action=create-token]")))
	mustPoll(t, ctx, "the token, shown once", `document.getElementById('token-secret')?.open === true`, 10*time.Second)
	secret := mustEval[string](t, ctx, `document.querySelector('#token-secret [data-token-secret]').textContent`)
	if !strings.HasPrefix(secret, "pat_") || len(secret) < 60 {
		t.Fatalf("token shown: %q, want pat_…", secret)
	}
	screenshot(t, ctx, "console-tokens-secret.png")
	mustDo(t, ctx, "done", chromedp.Click(chromedp.CSS(`#token-secret button[value=done]`)))
	mustPoll(t, ctx, "the token's row, the secret gone", `!document.getElementById('token-secret')
		&& document.querySelector('[data-token] .team-name')?.textContent === 'Support bot'
		&& [...document.querySelectorAll('[data-token] [data-scope]')].map((s) => s.dataset.scope).join() === 'read,reply'
		&& document.querySelector('[data-token] [data-last-used]')?.textContent === 'never used'`, 5*time.Second)
	if mustEval[bool](t, ctx, `document.documentElement.outerHTML.includes(`+jsString(secret)+`)`) {
		t.Errorf("the token is still in the page after the dialog closed")
	}

	// The token works, and the page shows its use when shown again.
	if st := app.call(t, "GET", "/api/v1/admin/rooms", secret, nil, nil); st != 200 {
		t.Fatalf("GET rooms with the new token: got %d, want 200", st)
	}
	mustDo(t, ctx, "back to the inbox and to Tokens",
		chromedp.Click(chromedp.CSS("#nav-inbox")), chromedp.Click(chromedp.CSS("#nav-tokens")))
	mustPoll(t, ctx, "last used shown", `document.querySelector('[data-token] [data-last-used]')?.dataset.lastUsed !== ''
		&& document.querySelector('[data-token] [data-last-used]')?.textContent.startsWith('last used ')`, 5*time.Second)
	screenshot(t, ctx, "console-tokens.png")

	// Revoke asks first; No keeps the token.
	mustDo(t, ctx, "revoke, then no", chromedp.Click(chromedp.CSS("[data-token] [data-action=revoke]")))
	mustPoll(t, ctx, "the question", `document.getElementById('token-confirm')?.open === true`, 5*time.Second)
	screenshot(t, ctx, "console-tokens-revoke.png")
	mustDo(t, ctx, "no", chromedp.Click(chromedp.CSS(`#token-confirm button[value=cancel]`)))
	mustPoll(t, ctx, "the question gone, the token kept", `!document.getElementById('token-confirm') && document.querySelectorAll('[data-token]').length === 1`, 5*time.Second)
	if st := app.call(t, "GET", "/api/v1/admin/rooms", secret, nil, nil); st != 200 {
		t.Fatalf("GET rooms after No: got %d, want 200", st)
	}
	mustDo(t, ctx, "revoke, then yes", chromedp.Click(chromedp.CSS("[data-token] [data-action=revoke]")))
	mustPoll(t, ctx, "the question", `document.getElementById('token-confirm')?.open === true`, 5*time.Second)
	mustDo(t, ctx, "yes", chromedp.Click(chromedp.CSS(`#token-confirm button[value=yes]`)))
	mustPoll(t, ctx, "the row gone", `document.querySelectorAll('[data-token]').length === 0
		&& document.querySelector('#tokens-root .card .muted')?.textContent === 'No tokens yet.'`, 5*time.Second)
	if st := app.call(t, "GET", "/api/v1/admin/rooms", secret, nil, nil); st != 401 {
		t.Fatalf("GET rooms with the revoked token: got %d, want 401", st)
	}

	// An agent has no Tokens link.
	addAgent(t, app, app.adminToken(t), "priya", "Priya", "priya-password-1")
	actx, acancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer acancel()
	alog := watchBrowser(actx)
	loginAs(t, actx, app, "priya", "priya-password-1")
	mustPoll(t, actx, "no Tokens link for an agent", `document.body.dataset.role === 'agent'
		&& getComputedStyle(document.getElementById('nav-tokens')).display === 'none'`, 10*time.Second)
	alog.checkClean(t)
	log.checkClean(t)
}
