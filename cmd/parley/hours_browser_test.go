package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/parley-chat/parley/internal/mail/mailtest"
)

// TestWidgetBusinessHoursClosed: outside the business hours the panel says
// when the team is back, in the visitor's clock, and asks for an email —
// with an agent online, before the visitor wrote and after.
func TestWidgetBusinessHoursClosed(t *testing.T) {
	tomorrow := time.Now().UTC().AddDate(0, 0, 1)
	day := strings.ToLower(tomorrow.Weekday().String()[:3])
	smtpd := mailtest.Start(t, mailtest.Options{})
	app := startMailApp(t, smtpd, map[string]string{
		"PARLEY_BUSINESS_HOURS": day + " 09:00-10:00",
		"PARLEY_TIMEZONE":       "UTC",
	})
	// An agent is online: their console's stream is open.
	req, err := http.NewRequest("GET", app.URL+"/api/v1/admin/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+app.adminToken(t))
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("admin stream: %v %v", res, err)
	}
	defer res.Body.Close()
	deadline := time.Now().Add(10 * time.Second)
	for on, _ := app.srv.store.AdminsOnline(context.Background()); !on; on, _ = app.srv.store.AdminsOnline(context.Background()) {
		if time.Now().After(deadline) {
			t.Fatal("the admin is not online with a stream open")
		}
		time.Sleep(100 * time.Millisecond)
	}

	ctx := newBrowser(t)
	log := watchBrowser(ctx)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "UTC"}); err != nil {
		t.Fatal(err)
	}
	serveSitePages(t, ctx, map[string]string{"en": `data-locale="en-US"`})
	openFresh(t, ctx, app.URL+"/site/en")

	const away = `(() => ({ shown: !F().getElementById('away').hidden, text: F().getElementById('away-text').textContent,
		ask: !F().getElementById('away-row').hidden, status: F().getElementById('status-text').textContent }))()`
	type awayState struct {
		Shown, Ask   bool
		Text, Status string
	}
	const back = "We reply tomorrow from 9:00 AM."
	mustPoll(t, ctx, "the back-at text", `F().getElementById('away-text').textContent.startsWith('We reply')`, 5*time.Second)
	got := mustEval[awayState](t, ctx, away)
	if !got.Shown || !got.Ask || !strings.HasPrefix(got.Text, back) || !strings.Contains(got.Text, "Leave your email") || got.Status != "Closed right now" {
		t.Errorf("before writing: got %+v, want %q with the email ask, status closed", got, back)
	}
	screenshot(t, ctx, "widget-business-hours-closed.png")

	// Once the visitor writes, the room's stream says an agent is online;
	// the hours still win.
	typeAndSend(t, ctx, "hello, anyone?")
	mustPoll(t, ctx, "the message is sent", `texts('.msg.me:not(.pending):not(.failed) .text').includes('hello, anyone?')`, 5*time.Second)
	mustDo(t, ctx, "the stream's presence", chromedp.Sleep(500*time.Millisecond))
	got = mustEval[awayState](t, ctx, away)
	if !got.Shown || !got.Ask || !strings.HasPrefix(got.Text, back) || got.Status != "Closed right now" {
		t.Errorf("after writing, agent online: got %+v, want the back-at text and the email ask", got)
	}
	if n := len(log.requestsMatching("/api/v1/hours")); n != 1 {
		t.Errorf("GET /api/v1/hours %d times, want once (on open)", n)
	}
	log.checkClean(t)
}
