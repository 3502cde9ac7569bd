package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// linkMsg has one http(s) URL followed by punctuation, and a javascript: URL
// that must stay text.
const linkMsg = "see https://example.com/help?x=1. or javascript:alert(1)"

// linksJS describes the links of the message nodes sel finds in root:
// their href, target and rel, and the text of the whole message.
const linksJS = `((root, sel) => [...root.querySelectorAll(sel)].filter((b) => b.textContent === %q).map((b) =>
  [b.textContent, b.getAttribute('dir'), ...[...b.querySelectorAll('a')].map((a) => [a.getAttribute('href'), a.getAttribute('target'), a.getAttribute('rel'), a.textContent].join(' '))].join('|')).join('\n'))(%s, %q)`

const wantLinks = linkMsg + "|auto|https://example.com/help?x=1 _blank noopener noreferrer nofollow https://example.com/help?x=1"

// contrastJS evaluates to the elements of root matching sel whose text has
// less than 4.5:1 contrast against what is behind it, as "class ratio".
const contrastJS = `((root, sel) => {
  const rgba = (s) => { const m = s.match(/[\d.]+/g).map(Number); return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1]; };
  const over = (top, bot) => top.slice(0, 3).map((c, i) => c * top[3] + bot[i] * (1 - top[3])).concat(1);
  const bg = (e) => { const layers = []; for (; e; e = e.parentElement) { const c = rgba(getComputedStyle(e).backgroundColor); if (c[3] > 0) { layers.push(c); if (c[3] === 1) break; } }
    return layers.reduceRight((b, t) => over(t, b), [255, 255, 255, 1]); };
  const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }; return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const els = [...root.querySelectorAll(sel)];
  if (!els.length) return 'nothing matches ' + sel;
  return els.map((e) => { const b = bg(e); return [e.className, ratio(over(rgba(getComputedStyle(e).color), b), b)]; })
    .filter(([, r]) => r < 4.5).map(([c, r]) => c + ' ' + r.toFixed(2)).join('; ');
})(%s, %q)`

// checkContrast fails the test for each text of sel under 4.5:1, in the
// light and then the dark scheme.
func checkContrast(t *testing.T, ctx context.Context, root, sel string) {
	t.Helper()
	for _, scheme := range []string{"light", "dark"} {
		if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		}); err != nil {
			t.Fatalf("%s mode: %v", scheme, err)
		}
		mustDo(t, ctx, "transitions over", chromedp.Sleep(400*time.Millisecond))
		if got := mustEval[string](t, ctx, fmt.Sprintf(contrastJS, root, sel)); got != "" {
			t.Errorf("%s mode, contrast under 4.5:1: %s", scheme, got)
		}
	}
}

// TestLinksInMessages: an http(s) URL in a message is a link that opens in
// a new tab with no opener, referrer or ranking credit, in the widget and in
// the console; javascript: stays text; and bubbles follow the direction of
// their text (an Arabic message is right to left). Muted text and avatar
// initials have 4.5:1 contrast in both schemes, and a room's link in the
// console names the visitor, the preview and the time.
func TestLinksInMessages(t *testing.T) {
	ctx := newBrowser(t)
	app := startTestApp(t, nil)
	admin := app.adminToken(t)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	t.Run("widget", func(t *testing.T) {
		const arabic = "مرحبا، أحتاج إلى مساعدة"
		roomID := startConversation(t, ctx, app, admin, app.URL+"/", arabic)
		adminSays(t, app, admin, roomID, linkMsg)
		mustPoll(t, ctx, "the reply shows", `texts('.msg.them .text').includes(`+fmt.Sprintf("%q", linkMsg)+`)`, 5*time.Second)
		if got := mustEval[string](t, ctx, fmt.Sprintf(linksJS, linkMsg, "F()", "#list .msg.them .text")); got != wantLinks {
			t.Errorf("the reply in the widget:\n got %q\nwant %q", got, wantLinks)
		}
		if got := mustEval[string](t, ctx, `[...F().querySelectorAll('#list .msg.me .text')].map((p) => p.getAttribute('dir') + ' ' + getComputedStyle(p).direction).join()`); got != "auto rtl" {
			t.Errorf("the Arabic bubble's dir and direction: got %q, want %q", got, "auto rtl")
		}
		// The composer follows what is typed in it.
		if got := mustEval[string](t, ctx, `(() => { const i = F().getElementById('input'); i.value = `+fmt.Sprintf("%q", arabic)+`; i.dispatchEvent(new Event('input')); const r = i.getAttribute('dir') + ' ' + i.matches(':dir(rtl)'); i.value = ''; i.dispatchEvent(new Event('input')); return r; })()`); got != "auto true" {
			t.Errorf("the composer's dir, and right to left with Arabic in it: got %q, want %q", got, "auto true")
		}
		checkContrast(t, ctx, "F()", ".who, .meta, .meta time, .foot")
	})

	t.Run("console", func(t *testing.T) {
		roomID, visitor := app.newVisitor(t, "Link Sender")
		visitorSays(t, app, visitor, roomID, linkMsg)
		loginConsole(t, ctx, app)
		mustDo(t, ctx, "open the room", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#rooms a.room[data-id=%q]`, roomID))))
		mustPoll(t, ctx, "the message", fmt.Sprintf(`[...document.querySelectorAll('#thread-msgs .msg-visitor .bubble')].some((b) => b.textContent === %q)`, linkMsg), 5*time.Second)
		if got := mustEval[string](t, ctx, fmt.Sprintf(linksJS, linkMsg, "document", "#thread-msgs .msg-visitor .bubble")); got != wantLinks {
			t.Errorf("the message in the console:\n got %q\nwant %q", got, wantLinks)
		}
		if got := mustEval[string](t, ctx, `(() => { const i = document.getElementById('reply'); i.value = 'שלום'; const r = i.getAttribute('dir') + ' ' + i.matches(':dir(rtl)'); i.value = ''; return r; })()`); got != "auto true" {
			t.Errorf("the reply box's dir, and right to left with Hebrew in it: got %q, want %q", got, "auto true")
		}
		row := fmt.Sprintf(`document.querySelector('#rooms a.room[data-id=%q]')`, roomID)
		label := mustEval[string](t, ctx, row+`.getAttribute('aria-label')`)
		when := mustEval[string](t, ctx, row+`.querySelector('.room-time').textContent`)
		if want := "Link Sender, " + linkMsg + ", " + when; label != want {
			t.Errorf("the room link's accessible name: got %q, want %q", label, want)
		}
		// Every avatar colour, beside the rooms' own.
		mustEval[any](t, ctx, `document.getElementById('rooms').append(...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => Object.assign(document.createElement('span'), { className: 'avatar av-' + i, textContent: 'AB' })))`)
		checkContrast(t, ctx, "document", "#rooms .room-time, #rooms .room-preview, #rooms .avatar, #thread-msgs .msg-meta time")
	})
}
