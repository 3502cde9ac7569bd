package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestConsoleTeam: the owner opens Team from the navigation, adds an agent
// with a generated password that is shown once (and gone from the page once
// the dialog is closed); that agent signs in in a second browser context
// and sees the team read-only, without the owner's controls; the owner
// makes them an owner and their page gains the controls in place; the owner
// removes them and their console is signed out at once.
func TestConsoleTeam(t *testing.T) {
	ctx := newBrowser(t)
	app := startTestApp(t, nil)
	log := watchBrowser(ctx)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	loginConsole(t, ctx, app)

	mustDo(t, ctx, "open Team", chromedp.Click(chromedp.CSS("#nav-team")))
	mustPoll(t, ctx, "the team page with the owner", `!document.getElementById('team-view').hidden && location.hash === '#/team'
		&& !!document.querySelector('[data-agent="`+app.AdminUser+`"] select') && !!document.querySelector('[data-action=add-agent]')`, 5*time.Second)
	if got := mustEval[string](t, ctx, `document.getElementById('nav-team').getAttribute('aria-current')`); got != "page" {
		t.Errorf("Team's aria-current: got %q, want page", got)
	}

	mustDo(t, ctx, "add an agent",
		chromedp.Click(chromedp.CSS("[data-action=add-agent]")),
		chromedp.WaitVisible(chromedp.CSS("#agent-username")),
		chromedp.SendKeys(chromedp.CSS("#agent-username"), "priya"),
		chromedp.SendKeys(chromedp.CSS("#agent-name"), "Priya Shah"),
		chromedp.SendKeys(chromedp.CSS("#agent-email"), "priya@example.com"))
	screenshot(t, ctx, "console-team-add.png")
	mustDo(t, ctx, "submit", chromedp.Click(chromedp.CSS(`#agent-add button[type=submit]`)))
	mustPoll(t, ctx, "the password, shown", `document.getElementById('agent-password')?.open === true`, 10*time.Second)
	password := mustEval[string](t, ctx, `document.querySelector('#agent-password [data-password]').textContent`)
	if len(password) != 20 {
		t.Fatalf("generated password: got %q, want 20 characters", password)
	}
	screenshot(t, ctx, "console-team-password.png")
	mustDo(t, ctx, "done", chromedp.Click(chromedp.CSS(`#agent-password button[value=done]`)))
	mustPoll(t, ctx, "the new row, the password gone", `!document.getElementById('agent-password')
		&& document.querySelector('[data-agent=priya] .team-name')?.textContent === 'Priya Shah'
		&& document.querySelector('[data-agent=priya] select')?.value === 'agent'`, 5*time.Second)
	if mustEval[bool](t, ctx, `document.documentElement.outerHTML.includes(`+jsString(password)+`)`) {
		t.Errorf("the password is still in the page after the dialog closed")
	}
	screenshot(t, ctx, "console-team.png")

	// The agent, in a browser context of their own.
	actx, acancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer acancel()
	alog := watchBrowser(actx)
	mustDo(t, actx, "the agent signs in", chromedp.Navigate(app.URL+"/admin/#/team"), chromedp.WaitVisible(chromedp.CSS("#login-form")),
		chromedp.SendKeys(chromedp.CSS("#username"), "priya"),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("#login-submit")))
	mustPoll(t, actx, "the agent's console, live", `document.getElementById('status').dataset.state === 'live' && document.getElementById('me').textContent === 'Priya Shah'`, 10*time.Second)
	mustPoll(t, actx, "the team, read-only", `document.body.dataset.role === 'agent'
		&& document.querySelectorAll('.team-row').length === 2
		&& document.querySelector('[data-agent=`+app.AdminUser+`] [data-role]')?.textContent === 'Owner'
		&& !document.querySelector('[data-action=add-agent]') && !document.querySelector('.team-row select') && !document.querySelector('[data-action=remove]')`, 10*time.Second)
	screenshot(t, actx, "console-team-agent.png")

	// Made an owner by the owner: the agent's page changes in place.
	mustDo(t, ctx, "make priya an owner", chromedp.Evaluate[chromedp.Void](setRoleJS("priya", "owner")))
	mustPoll(t, actx, "priya's page gains the controls", `document.body.dataset.role === 'owner' && !!document.querySelector('[data-action=add-agent]')
		&& document.querySelector('[data-agent=priya] select')?.value === 'owner'`, 10*time.Second)
	mustDo(t, ctx, "make priya an agent again", chromedp.Evaluate[chromedp.Void](setRoleJS("priya", "agent")))
	mustPoll(t, actx, "priya's page is read-only again", `document.body.dataset.role === 'agent' && !document.querySelector('[data-action=add-agent]')`, 10*time.Second)

	// Removed: signed out at once.
	mustDo(t, ctx, "remove priya", chromedp.Click(chromedp.CSS(`[data-agent=priya] [data-action=remove]`)),
		chromedp.WaitVisible(chromedp.CSS(`#agent-confirm button[value=yes]`)))
	if got := mustEval[string](t, ctx, `document.getElementById('agent-confirm-title').textContent`); !strings.Contains(got, "Remove Priya Shah?") {
		t.Errorf("confirmation: got %q, want it to name Priya Shah", got)
	}
	mustDo(t, ctx, "confirm", chromedp.Click(chromedp.CSS(`#agent-confirm button[value=yes]`)))
	mustPoll(t, ctx, "the row gone", `!document.querySelector('[data-agent=priya]') && document.querySelectorAll('.team-row').length === 1`, 5*time.Second)
	mustPoll(t, actx, "priya's console signs out", `!document.getElementById('login').hidden && document.getElementById('app').hidden`, 10*time.Second)

	log.checkClean(t)
	// The removed agent's stream and requests were refused: that is the point.
	alog.checkClean(t, provoked{text: "status of 401"})
}

// setRoleJS picks role in the team page's select of username, as a user
// does (in one step: the list is redrawn as events arrive).
func setRoleJS(username, role string) string {
	return `(() => { const s = document.querySelector('[data-agent=` + username + `] select'); s.value = '` + role + `'; s.dispatchEvent(new Event('change')); })()`
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// TestConsoleChangePassword: "Your profile" changes the password with the
// current one; a wrong current password is refused in the form; after the
// change the console carries on (its stream live again, its requests
// answered) with the new token, and only the new password signs in.
func TestConsoleChangePassword(t *testing.T) {
	ctx := newBrowser(t)
	app := startTestApp(t, nil)
	log := watchBrowser(ctx)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	loginConsole(t, ctx, app)
	const open = `document.getElementById('profile-dialog')?.open === true`
	change := func(current, fresh string) {
		t.Helper()
		mustDo(t, ctx, "open the profile", chromedp.Click(chromedp.CSS("#profile")))
		mustPoll(t, ctx, "the dialog, filled", open+` && !document.getElementById('profile-name').disabled`, 5*time.Second)
		mustDo(t, ctx, "type the passwords",
			chromedp.Click(chromedp.CSS("#profile-dialog .profile-password summary")),
			chromedp.SendKeys(chromedp.CSS("#profile-current"), current),
			chromedp.SendKeys(chromedp.CSS("#profile-new"), fresh),
			chromedp.Click(chromedp.CSS(`#profile-dialog button[type=submit]`)))
	}

	change("not my password", "a brand new password")
	mustPoll(t, ctx, "the refusal in the form", open+` && document.querySelector('#profile-dialog .form-error').textContent.includes('currentPassword is wrong')
		&& document.activeElement?.id === 'profile-current'`, 5*time.Second)
	screenshot(t, ctx, "console-password-wrong.png")
	mustDo(t, ctx, "cancel", chromedp.Click(chromedp.CSS(`#profile-dialog button[value=cancel]`)))

	change(app.AdminPassword, "a brand new password")
	mustPoll(t, ctx, "the toast", `!(`+open+`) && [...document.querySelectorAll('#toasts .toast')].some((t) => t.textContent.startsWith('Password changed'))`, 10*time.Second)
	// The old token died with the change: the console goes on with the new one.
	time.Sleep(1500 * time.Millisecond)
	mustPoll(t, ctx, "still signed in, the stream live", `document.getElementById('login').hidden && document.getElementById('status').dataset.state === 'live'`, 10*time.Second)
	mustDo(t, ctx, "open Team", chromedp.Click(chromedp.CSS("#nav-team")))
	mustPoll(t, ctx, "the team, loaded with the new token", `document.querySelectorAll('.team-row').length === 1 && document.getElementById('login').hidden`, 5*time.Second)

	for pw, want := range map[string]int{"a brand new password": 200, app.AdminPassword: 401} {
		if st := app.call(t, "POST", "/api/v1/admin/login", "", map[string]string{"username": app.AdminUser, "password": pw}, nil); st != want {
			t.Errorf("login with %q: got %d, want %d", pw, st, want)
		}
	}
	log.checkClean(t, provoked{path: "/api/v1/admin/me", text: "status of 400"})
}
