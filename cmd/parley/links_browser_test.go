package main

import (
	"context"
	"fmt"
	"testing"
	"time"

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

// TestLinksInMessages: an http(s) URL in a message is a link that opens in
// a new tab with no opener, referrer or ranking credit, in the widget and in
// the console; javascript: stays text; and bubbles follow the direction of
// their text (an Arabic message is right to left).
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
		if got := mustEval[string](t, ctx, `(() => { const i = F().getElementById('input'); i.value = `+fmt.Sprintf("%q", arabic)+`; const r = i.getAttribute('dir') + ' ' + i.matches(':dir(rtl)'); i.value = ''; return r; })()`); got != "auto true" {
			t.Errorf("the composer's dir, and right to left with Arabic in it: got %q, want %q", got, "auto true")
		}
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
	})
}
