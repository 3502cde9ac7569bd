package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// pasteScreenshot draws a 400x260 picture in the panel's frame and pastes it
// into the composer as a browser pastes a screenshot: a paste event whose
// clipboard holds one PNG file.
const pasteScreenshot = `(() => {
  const win = W().querySelector('iframe').contentWindow, doc = F();
  const c = doc.createElement('canvas'); c.width = 400; c.height = 260;
  const g = c.getContext('2d');
  g.fillStyle = '#f4f6fb'; g.fillRect(0, 0, 400, 260);
  g.fillStyle = '#d93025'; g.fillRect(20, 20, 360, 50);
  g.fillStyle = '#fff'; g.font = 'bold 22px sans-serif'; g.fillText('Error 500: checkout failed', 34, 53);
  g.fillStyle = '#1a73e8'; g.fillRect(20, 190, 140, 44);
  c.toBlob((b) => {
    const dt = new win.DataTransfer();
    dt.items.add(new win.File([b], 'image.png', { type: 'image/png' }));
    doc.getElementById('input').dispatchEvent(new win.ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
  }, 'image/png');
  return true;
})()`

// TestAttachmentsBrowser: a screenshot pasted into the widget reaches the
// agent's console as a thumbnail; an agent's PDF reaches the visitor as a
// download.
func TestAttachmentsBrowser(t *testing.T) {
	ctx := newBrowser(t)
	app := startTestApp(t, nil)
	admin := app.adminToken(t)
	log := watchBrowser(ctx)
	ctx, cancel := context.WithTimeout(ctx, 120*time.Second)
	defer cancel()

	roomID := startConversation(t, ctx, app, admin, app.URL+"/", "The checkout page shows an error")

	// The agent's console, in a second tab of the same browser.
	cctx, ccancel := chromedp.NewContext(ctx)
	defer ccancel()
	consoleLog := watchBrowser(cctx)
	mustDo(t, cctx, "open the console", chromedp.Navigate(app.URL+"/admin/"), chromedp.WaitVisible(chromedp.CSS("#login-form")),
		chromedp.SendKeys(chromedp.CSS("#username"), app.AdminUser),
		chromedp.SendKeys(chromedp.CSS("#password"), app.AdminPassword),
		chromedp.Click(chromedp.CSS("#login-submit")))
	mustPoll(t, cctx, "the stream is live", `document.getElementById('status').dataset.state === 'live'`, 10*time.Second)
	mustDo(t, cctx, "open the room", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#rooms a.room[data-id=%q]`, roomID))))
	mustPoll(t, cctx, "the first message", `[...document.querySelectorAll('#thread-msgs .msg-visitor .bubble')].some((b) => b.textContent === 'The checkout page shows an error')`, 5*time.Second)

	t.Run("a pasted screenshot reaches the console as a thumbnail", func(t *testing.T) {
		// A thread taller than its box, scrolled to its end, as an agent
		// in a conversation has it.
		for i := range 24 {
			app.call(t, "POST", "/api/v1/admin/rooms/"+roomID+"/messages", admin, map[string]string{"content": fmt.Sprintf("Let me look into that (%d)", i+1)}, nil)
		}
		const thread = `document.getElementById('thread')`
		const atEnd = `(() => { const t = ` + thread + `; return t.scrollHeight > t.clientHeight + 200 && Math.abs(t.scrollTop + t.clientHeight - t.scrollHeight) <= 2; })()`
		mustPoll(t, cctx, "the console's thread is long and at its end", `document.querySelectorAll('#thread-msgs .msg-admin').length === 24 && `+atEnd, 10*time.Second)

		mustEval[bool](t, ctx, pasteScreenshot)
		mustPoll(t, ctx, "the visitor sees the thumbnail", `!!F().querySelector('#list .msg.me:not(.pending) .file-img img[src^="blob:"]') && F().querySelector('#list .msg.me .file-img img').naturalWidth > 0`, 10*time.Second)
		mustPoll(t, cctx, "the agent sees the thumbnail",
			`(() => { const i = document.querySelector('#thread-msgs .msg-visitor .file-img img'); return !!i && i.src.startsWith('blob:') && i.complete && i.naturalWidth === 320 && i.naturalHeight === 208; })()`, 10*time.Second)
		// The picture grew the thread as it loaded: the thread, at its end
		// before, is at its end still, the thumbnail in view.
		twoFrames(t, cctx)
		if got := mustEval[[]float64](t, cctx, `(() => { const t = `+thread+`; return [t.scrollTop, t.clientHeight, t.scrollHeight]; })()`); len(got) != 3 || got[0]+got[1] < got[2]-2 {
			screenshot(t, cctx, "attachments-console-thumbnail-scroll.png")
			t.Fatalf("after the thumbnail loaded: scrollTop %v + clientHeight %v, scrollHeight %v: the thread left its end", got[0], got[1], got[2])
		}
		twoFrames(t, ctx)
		if got := mustEval[[]float64](t, ctx, `(() => { const s = F().getElementById('scroll'); return [s.scrollTop, s.clientHeight, s.scrollHeight]; })()`); len(got) != 3 || got[0]+got[1] < got[2]-2 {
			t.Fatalf("the widget after its thumbnail loaded: scrollTop %v + clientHeight %v, scrollHeight %v: the list left its end", got[0], got[1], got[2])
		}
		if got := mustEval[string](t, cctx, `document.querySelector('#thread-msgs .msg-visitor .file-img').title`); got != "image.png" {
			t.Errorf("thumbnail title: got %q, want image.png", got)
		}
		// Opening it fetches the full-size picture.
		mustDo(t, cctx, "open full size", chromedp.Click(chromedp.CSS("#thread-msgs .msg-visitor .file-img")))
		mustPoll(t, cctx, "the full-size link", `document.querySelector('#thread-msgs .msg-visitor .file-img').dataset.ready === '1'`, 5*time.Second)
		screenshot(t, cctx, "attachments-console-thumbnail.png")
		var r adminRoom
		app.call(t, "GET", "/api/v1/admin/rooms/"+roomID, admin, nil, &r)
		if n := len(r.Messages); n != 26 {
			t.Errorf("stored messages: got %d, want 26 (the text, 24 replies and the screenshot)", n)
		}
	})

	t.Run("an agent's PDF reaches the visitor as a download", func(t *testing.T) {
		mustEval[bool](t, cctx, `(() => {
  const dt = new DataTransfer();
  dt.items.add(new File(['%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n'], 'invoice.pdf', { type: 'application/pdf' }));
  const i = document.getElementById('attach-file'); i.files = dt.files; i.dispatchEvent(new Event('change'));
  return true;
})()`)
		mustPoll(t, cctx, "the agent sees the file", `!!document.querySelector('#thread-msgs .msg-admin a.file[download="invoice.pdf"]')`, 10*time.Second)
		link := `F().querySelector('#list .msg.them a.file[download="invoice.pdf"]')`
		mustPoll(t, ctx, "the visitor sees the download", `!!`+link+` && `+link+`.textContent.includes('invoice.pdf') && `+link+`.textContent.includes('B')`, 10*time.Second)
		screenshot(t, ctx, "attachments-widget-pdf.png")
		mustEval[bool](t, ctx, `(`+link+`.scrollIntoView({block: 'nearest'}), true)`)
		clickInFrame(t, ctx, `#list .msg.them a.file`)
		mustPoll(t, ctx, "the download link", link+`.dataset.ready === '1' && `+link+`.href.startsWith('blob:')`, 5*time.Second)
		mustEval[bool](t, ctx, `(fetch(`+link+`.href).then((r) => r.text()).then((s) => { F().defaultView.__pdf = s; }), true)`)
		mustPoll(t, ctx, "the file is the PDF", `(F().defaultView.__pdf || '').startsWith('%PDF-1.4')`, 5*time.Second)
	})

	t.Run("a refused file is said in the widget", func(t *testing.T) {
		mustEval[bool](t, ctx, `(() => {
  const win = W().querySelector('iframe').contentWindow;
  const dt = new win.DataTransfer();
  dt.items.add(new win.File(['<!DOCTYPE html><html><script>alert(1)</script></html>'], 'page.html', { type: 'text/html' }));
  F().getElementById('input').dispatchEvent(new win.ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
  return true;
})()`)
		mustPoll(t, ctx, "the notice", `F().getElementById('notice').textContent.startsWith('This type of file cannot be sent.')`, 10*time.Second)
		if got := len(mustEval[[]any](t, ctx, `[...F().querySelectorAll('#list .file, #list .file-img')]`)); got != 2 {
			t.Errorf("files in the conversation: got %d, want the 2 sent before", got)
		}
	})

	// The refused upload is a 415 the page asked for.
	log.checkClean(t, provoked{path: "/attachments", text: "415"})
	consoleLog.checkClean(t)
}

// twoFrames waits until the page has drawn two more frames, so what a load
// handler changed has been laid out.
func twoFrames(t *testing.T, ctx context.Context) {
	t.Helper()
	mustEval[bool](t, ctx, `(window.__frames = 0, requestAnimationFrame(() => requestAnimationFrame(() => { window.__frames = 2; })), true)`)
	mustPoll(t, ctx, "two frames drawn", `window.__frames === 2`, 5*time.Second)
}
