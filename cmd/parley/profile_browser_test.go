package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// adminProfile is GET /api/v1/admin/me's answer.
type adminProfile struct{ Username, DisplayName, Email, Notify string }

// getProfile reads the admin's profile through the API.
func getProfile(tb testing.TB, app *testApp, token string) adminProfile {
	tb.Helper()
	var p adminProfile
	if st := app.call(tb, "GET", "/api/v1/admin/me", token, nil, &p); st != 200 {
		tb.Fatalf("GET /api/v1/admin/me: got %d, want 200", st)
	}
	return p
}

// TestConsoleProfile: the header's "Your profile" button opens a dialog that
// loads the admin's profile, saves an email and "Never" (the API then
// answers them), shows them again when reopened, says under the preference
// that email is off and how to turn it on, closes on Esc with the focus
// back on the button, and shows the server's refusal of a bad address in
// the form, changing nothing.
func TestConsoleProfile(t *testing.T) {
	ctx := newBrowser(t)
	app := startTestApp(t, nil)
	token := app.adminToken(t)
	log := watchBrowser(ctx)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	loginConsole(t, ctx, app)
	// Keeps the body of every PATCH the console sends.
	mustDo(t, ctx, "record PATCH bodies", chromedp.Evaluate[chromedp.Void](`window.__patches = [];
const realFetch = window.fetch;
window.fetch = (url, opts) => {
  if (opts && opts.method === 'PATCH') window.__patches.push(opts.body);
  return realFetch(url, opts);
};`))

	const open = `document.getElementById('profile-dialog')?.open === true`
	openDialog := func(t *testing.T) {
		t.Helper()
		mustDo(t, ctx, "click Your profile", chromedp.Click(chromedp.CSS("#profile")))
		mustPoll(t, ctx, "the dialog, filled", open+` && !document.getElementById('profile-name').disabled && document.activeElement?.id === 'profile-name'`, 5*time.Second)
	}

	if got := mustEval[string](t, ctx, `document.getElementById('profile').textContent`); !strings.Contains(got, "Your profile") {
		t.Errorf("header button's text: got %q, want it to say Your profile", got)
	}

	t.Run("save email and never", func(t *testing.T) {
		openDialog(t)
		off := mustEval[string](t, ctx, `(() => { const n = document.querySelector('#profile-dialog .profile-mail-off'); return n.hidden ? '' : n.textContent; })()`)
		if !strings.Contains(off, "Email is off on this server: set PARLEY_SMTP_URL") || !strings.Contains(off, "PARLEY_SMTP_URL=log") {
			t.Errorf("note under the preference with email off: got %q, want the hint", off)
		}
		if got := mustEval[string](t, ctx, `document.querySelector('#profile-dialog input[name=notify]:checked')?.value || ''`); got != "offline" {
			t.Errorf("preference of an account that never chose: got %q, want offline", got)
		}
		mustDo(t, ctx, "fill it",
			chromedp.SendKeys(chromedp.CSS("#profile-email"), "jane@example.com"),
			chromedp.Click(chromedp.CSS(`#profile-dialog input[value=never]`)))
		screenshot(t, ctx, "console-profile.png")
		mustDo(t, ctx, "save", chromedp.Click(chromedp.CSS(`#profile-dialog button[type=submit]`)))
		mustPoll(t, ctx, "closed, the toast, focus on the button", `!(`+open+`) && [...document.querySelectorAll('#toasts .toast')].some((t) => t.textContent === 'Profile saved.') && document.activeElement?.id === 'profile'`, 5*time.Second)
		if p := getProfile(t, app, token); p.Email != "jane@example.com" || p.Notify != "never" || p.DisplayName != "admin" {
			t.Errorf("profile after saving: got %+v, want email jane@example.com, notify never, the name kept", p)
		}
		if got := mustEval[[]string](t, ctx, `window.__patches`); len(got) != 1 || got[0] != `{"email":"jane@example.com","notify":"never"}` {
			t.Errorf("PATCH bodies: got %q, want one with only the email and notify", got)
		}
	})

	t.Run("a new name shows in the header", func(t *testing.T) {
		openDialog(t)
		mustDo(t, ctx, "rename and save",
			chromedp.Evaluate[chromedp.Void](`document.getElementById('profile-name').value = ''`),
			chromedp.SendKeys(chromedp.CSS("#profile-name"), "Jane Admin"),
			chromedp.Click(chromedp.CSS(`#profile-dialog button[type=submit]`)))
		mustPoll(t, ctx, "the name in the header", `!(`+open+`) && document.getElementById('me').textContent === 'Jane Admin' && document.getElementById('me-avatar').textContent === 'JA'`, 5*time.Second)
		if !mustEval[bool](t, ctx, `[...document.querySelectorAll('#toasts .toast')].some((t) => t.textContent.includes('new name from your next sign-in'))`) {
			t.Errorf("no toast saying replies carry the new name from the next sign-in")
		}
		if p := getProfile(t, app, token); p.DisplayName != "Jane Admin" || p.Email != "jane@example.com" || p.Notify != "never" {
			t.Errorf("profile after renaming: got %+v, want Jane Admin with the email and notify kept", p)
		}
	})

	t.Run("reopened, filled in; Esc closes", func(t *testing.T) {
		openDialog(t)
		got := mustEval[[]string](t, ctx, `[document.getElementById('profile-email').value, document.querySelector('#profile-dialog input[name=notify]:checked')?.value || '']`)
		if len(got) != 2 || got[0] != "jane@example.com" || got[1] != "never" {
			t.Errorf("reopened dialog: got %q, want [jane@example.com never]", got)
		}
		mustDo(t, ctx, "Esc", pressKey("Escape", "Escape", 27))
		mustPoll(t, ctx, "closed, focus on the button", `!(`+open+`) && document.activeElement?.id === 'profile'`, 5*time.Second)
	})

	t.Run("bad email refused, nothing changed", func(t *testing.T) {
		openDialog(t)
		mustDo(t, ctx, "type a bad address and a new preference",
			chromedp.Evaluate[chromedp.Void](`document.getElementById('profile-email').value = ''`),
			chromedp.SendKeys(chromedp.CSS("#profile-email"), "jane@example.com?bcc=x"),
			chromedp.Click(chromedp.CSS(`#profile-dialog input[value=always]`)),
			chromedp.Click(chromedp.CSS(`#profile-dialog button[type=submit]`)))
		if got := mustEval[string](t, ctx, `document.getElementById('profile-email').value`); got != "jane@example.com?bcc=x" {
			t.Fatalf("email field: got %q, want jane@example.com?bcc=x", got)
		}
		mustPoll(t, ctx, "the error in the form", `!document.querySelector('#profile-dialog .form-error').hidden`, 5*time.Second)
		if msg := mustEval[string](t, ctx, `document.querySelector('#profile-dialog .form-error').textContent`); !strings.Contains(msg, "email must be a valid address") {
			t.Errorf("error in the form: got %q, want the server's message about the email", msg)
		}
		if !mustEval[bool](t, ctx, open+` && document.activeElement?.id === 'profile-email'`) {
			t.Errorf("after the refusal the dialog closed or the focus left the email field")
		}
		if p := getProfile(t, app, token); p.Email != "jane@example.com" || p.Notify != "never" {
			t.Errorf("profile after a refused save: got %+v, want it unchanged (jane@example.com, never)", p)
		}
		screenshot(t, ctx, "console-profile-error.png")
		if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}},
		}); err != nil {
			t.Fatalf("dark mode: %v", err)
		}
		mustPoll(t, ctx, "the buttons' colour transition over", `getComputedStyle(document.querySelector('#profile-dialog button[value=cancel]')).backgroundColor === getComputedStyle(document.getElementById('profile-dialog')).backgroundColor`, 5*time.Second)
		screenshot(t, ctx, "console-profile-dark.png")
		mustDo(t, ctx, "cancel", chromedp.Click(chromedp.CSS(`#profile-dialog button[value=cancel]`)))
		mustPoll(t, ctx, "closed, focus on the button", `!(`+open+`) && document.activeElement?.id === 'profile'`, 5*time.Second)
	})

	// The refused PATCH is the one failed load.
	log.checkClean(t, provoked{path: "/api/v1/admin/me", text: "status of 400"})
}

// TestConsoleProfileMailOn: with email on, the profile dialog makes no
// "email is off" note.
func TestConsoleProfileMailOn(t *testing.T) {
	ctx := newBrowser(t)
	app, _, _ := startMailUIApp(t)
	log := watchBrowser(ctx)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	loginConsole(t, ctx, app)
	mustDo(t, ctx, "click Your profile", chromedp.Click(chromedp.CSS("#profile")))
	mustPoll(t, ctx, "the dialog, filled", `document.getElementById('profile-dialog')?.open && !document.getElementById('profile-name').disabled`, 5*time.Second)
	if mustEval[bool](t, ctx, `!document.querySelector('#profile-dialog .profile-mail-off').hidden`) {
		t.Errorf("the profile dialog says email is off while it is on")
	}
	log.checkClean(t)
}
