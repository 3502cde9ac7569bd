package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestConsoleLoginWait: a login the limits refuse for minutes says so in
// minutes ("Try again in 10 minutes"), not in hundreds of seconds.
func TestConsoleLoginWait(t *testing.T) {
	ctx := newBrowser(t)
	app := startTestApp(t, map[string]string{"PARLEY_RATE_LIMITS": "login=1/10m,login-user=off"})
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	mustDo(t, ctx, "open the console", chromedp.Navigate(app.URL+"/admin/"), chromedp.WaitVisible(chromedp.CSS("#login-form")))
	// attempt logs in and returns the error the form shows once it holds
	// want (or whatever it shows after 5 s).
	attempt := func(step, password, want string) string {
		t.Helper()
		mustDo(t, ctx, step,
			chromedp.SetValue(chromedp.CSS("#username"), app.AdminUser),
			chromedp.SetValue(chromedp.CSS("#password"), password),
			chromedp.Click(chromedp.CSS("#login-submit")))
		deadline := time.Now().Add(5 * time.Second)
		for {
			got := mustEval[string](t, ctx, `document.getElementById('login-error').hidden ? '' : document.getElementById('login-error').textContent`)
			if strings.Contains(got, want) || time.Now().After(deadline) {
				return got
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if got := attempt("a wrong password", "not-the-password", "Wrong username or password"); !strings.Contains(got, "Wrong username or password") {
		t.Fatalf("first attempt: got %q, want wrong username or password", got)
	}
	if got := attempt("the right one, too soon", app.AdminPassword, "Try again in"); !strings.Contains(got, "Try again in 10 minutes.") {
		t.Fatalf("refused attempt: got %q, want it to say \"Try again in 10 minutes.\"", got)
	}
	if !mustEval[bool](t, ctx, `document.getElementById('app').hidden`) {
		t.Fatal("a refused login opened the console")
	}
}
