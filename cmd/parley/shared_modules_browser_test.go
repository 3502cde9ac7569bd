package main

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// sharedDatesJS compares widget/dates.js with the two copies it replaced
// (the widget's and the console's, kept here verbatim) over days around
// now, and returns every difference.
const sharedDatesJS = `(async () => {
  const { dayLabel, dayKey, sameDay, clockTime } = await import('/widget/dates.js');
  // The widget's dayLabel before the split.
  const widgetDayLabel = (d) => {
    const today = new Date();
    const diff = Math.round((new Date(today.toDateString()) - new Date(d.toDateString())) / 864e5);
    if (diff === 0) return 'Today';
    if (diff === 1) return 'Yesterday';
    return d.toLocaleDateString(undefined, {
      weekday: 'long', month: 'long', day: 'numeric',
      year: d.getFullYear() === today.getFullYear() ? undefined : 'numeric',
    });
  };
  // The console's (admin/util.js).
  const longDateFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'long', day: 'numeric' });
  const yearDateFmt = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'long', day: 'numeric' });
  const oldSameDay = (a, b) => a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
  const consoleDayLabel = (when, now) => {
    const d = new Date(when);
    if (oldSameDay(d, now)) return 'Today';
    if (oldSameDay(d, new Date(now.getTime() - 864e5))) return 'Yesterday';
    return d.getFullYear() === now.getFullYear() ? longDateFmt.format(d) : yearDateFmt.format(d);
  };
  const timeFmt = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
  const diffs = [];
  const now = new Date();
  const dstDay = !oldSameDay(new Date(now.getTime() - 864e5), new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1));
  for (let days = 0; days < 800; days += days < 10 ? 1 : 37) {
    for (const hour of [0, 1, 12, 23]) {
      const d = new Date(now.getFullYear(), now.getMonth(), now.getDate() - days, hour, 30);
      const iso = d.toISOString();
      const pairs = [
        ['widget dayLabel', dayLabel(iso, new Date(), { weekdayAlways: true }), widgetDayLabel(d)],
        // Within a day of a daylight saving change the console's "now minus
        // 24 hours" missed yesterday; dates.js counts calendar days.
        dstDay ? null : ['console dayLabel', dayLabel(iso, now), consoleDayLabel(iso, now)],
        ['sameDay', sameDay(d, now), d.toDateString() === now.toDateString()],
        ['dayKey', dayKey(iso) === dayKey(now), d.toDateString() === now.toDateString()],
        ['clockTime', clockTime(iso), timeFmt.format(d)],
      ];
      for (const [what, got, want] of pairs.filter(Boolean)) if (got !== want) diffs.push(what + ' ' + iso + ': got ' + got + ', want ' + want);
    }
  }
  return diffs;
})()`

// TestSharedModules checks that the helpers the widget panel and the console
// now share say what each said before, and make ids the API accepts.
func TestSharedModules(t *testing.T) {
	app := startTestApp(t, nil)
	ctx := newBrowser(t)
	log := watchBrowser(ctx)
	// The formats of dates.js take the time zone when the module loads: set
	// it, then load a page (a fresh module map).
	load := func(t *testing.T, tz string) {
		t.Helper()
		setTimezone(t, ctx, tz)
		mustDo(t, ctx, "load a page of Parley's origin", chromedp.Navigate(app.URL+"/widget/dates.js"))
	}

	for _, tz := range []string{"UTC", "America/New_York", "Australia/Lord_Howe"} {
		t.Run("dates in "+tz, func(t *testing.T) {
			load(t, tz)
			diffs, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](sharedDatesJS, chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatalf("dates: %v", err)
			}
			for _, d := range diffs {
				t.Error(d)
			}
		})
	}

	t.Run("yesterday across a daylight saving change", func(t *testing.T) {
		// 8 March 2026 lasts 23 hours in New York: at 00:30 the next day,
		// noon on the 8th is yesterday.
		load(t, "America/New_York")
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`import('/widget/dates.js').then(({ dayLabel }) =>
  dayLabel(new Date(2026, 2, 8, 12), new Date(2026, 2, 9, 0, 30)))`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		if got != "Yesterday" {
			t.Errorf("got %q, want Yesterday", got)
		}
	})

	t.Run("newClientId", func(t *testing.T) {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`import('/widget/ids.js').then(({ newClientId }) =>
  [newClientId('w'), newClientId('w'), newClientId()])`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range []string{`^w[0-9a-f]{24}$`, `^w[0-9a-f]{24}$`, `^c-[0-9a-f]{24}$`} {
			// Stricter than the API's [A-Za-z0-9._:-]{1,64}: the format of each side before.
			if !regexp.MustCompile(want).MatchString(got[i]) {
				t.Errorf("id %d: got %q, want it to match %s", i, got[i], want)
			}
		}
		if got[0] == got[1] {
			t.Errorf("two ids: got %q twice", got[0])
		}
	})
	// A script opened as a page has no favicon link: the browser asks for one.
	log.checkClean(t, provoked{path: "/favicon.ico", text: "404"})
}

// setTimezone makes the tab run in the IANA time zone tz.
func setTimezone(tb testing.TB, ctx context.Context, tz string) {
	tb.Helper()
	if _, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: tz}); err != nil {
		tb.Fatalf("time zone %s: %v", tz, err)
	}
}

// TestConsoleMailtoEncoded draws the console's details panel for a room whose
// stored address smuggles mail headers (a value kept from before addresses
// were checked): its mailto: link names the one recipient and no headers.
func TestConsoleMailtoEncoded(t *testing.T) {
	app := startTestApp(t, nil)
	ctx := newBrowser(t)
	mustDo(t, ctx, "load a page of Parley's origin", chromedp.Navigate(app.URL+"/admin/links.js"))
	for _, stored := range []string{"jane@example.com?bcc=attacker%40evil.example&subject=hi", "jane?cc=x@example.com", "no-at-sign?bcc=x"} {
		js, _ := json.Marshal(stored)
		href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(async () => {
  const { DetailsPanel } = await import('/admin/details.js');
  const root = document.createElement('div');
  const noop = () => {};
  new DetailsPanel(root, { copy: noop, download: noop, toggleBlock: noop, remove: noop })
    .render({ id: 'r_aaaaaaaaaaaaaaaaaaaaaaaaaa', visitorName: 'Jane', visitorEmail: `+string(js)+`, page: '', createdAt: '' });
  return root.querySelector('a[href^="mailto:"]').getAttribute('href');
})()`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("render details: %v", err)
		}
		if strings.ContainsAny(href, "?&") {
			t.Errorf("stored %q: got mailto link %q, want no ? or &", stored, href)
		}
	}
}
