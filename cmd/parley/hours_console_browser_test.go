package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestConsoleBusinessHours: the Team page shows the environment's hours; an
// owner adds a range and saves, the page says the saved hours override the
// environment's, the API serves them, and a reset brings the environment's
// back.
func TestConsoleBusinessHours(t *testing.T) {
	ctx := newBrowser(t)
	app := startTestApp(t, map[string]string{"PARLEY_BUSINESS_HOURS": "mon-fri 09:00-17:00", "PARLEY_TIMEZONE": "Europe/Paris"})
	log := watchBrowser(ctx)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	loginConsole(t, ctx, app)
	mustDo(t, ctx, "the Team page", chromedp.Navigate(app.URL+"/admin/#/team"))
	mustPoll(t, ctx, "the hours section", `document.querySelector('.hours [data-source]')?.dataset.source === 'env'`, 10*time.Second)
	if n := mustEval[int](t, ctx, `document.querySelectorAll('.hours-ranges[data-day="mon"] .hours-range').length`); n != 1 {
		t.Errorf("Monday has %d ranges, want the environment's one", n)
	}
	mustDo(t, ctx, "add a Saturday range and save",
		chromedp.Click(chromedp.CSS(`.hours button[data-add="sat"]`)),
		chromedp.Click(chromedp.CSS(`.hours button[data-action="save-hours"]`)))
	mustPoll(t, ctx, "saved", `document.querySelector('.hours [data-source]')?.dataset.source === 'console'`, 10*time.Second)
	if note := mustEval[string](t, ctx, `document.querySelector('.hours [data-source]').textContent`); !strings.Contains(note, "override PARLEY_BUSINESS_HOURS") {
		t.Errorf("source note %q, want it to say the saved hours override the environment", note)
	}
	var got struct {
		Source string `json:"source"`
		Hours  struct {
			Timezone string              `json:"timezone"`
			Week     map[string][]string `json:"week"`
		} `json:"hours"`
	}
	app.call(t, "GET", "/api/v1/admin/settings/hours", app.adminToken(t), nil, &got)
	if got.Source != "console" || got.Hours.Timezone != "Europe/Paris" || len(got.Hours.Week["sat"]) != 1 || got.Hours.Week["sat"][0] != "09:00-17:00" {
		t.Errorf("saved hours %+v, want Saturday 09:00-17:00 added in Europe/Paris", got)
	}
	screenshot(t, ctx, "console-business-hours.png")
	mustDo(t, ctx, "reset", chromedp.Click(chromedp.CSS(`.hours button[data-action="reset-hours"]`)))
	mustPoll(t, ctx, "the environment's again", `document.querySelector('.hours [data-source]')?.dataset.source === 'env'`, 10*time.Second)
	log.checkClean(t)
}
