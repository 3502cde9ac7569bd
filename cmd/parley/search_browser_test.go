package main

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestConsoleSearch: the console's search box asks the server, so it finds
// a conversation far below the loaded page, by a word of a message and by
// the first letters of the visitor's name, shows what matched, opens the
// conversation on a click, says when nothing matches, and Esc brings the
// inbox back.
func TestConsoleSearch(t *testing.T) {
	ctx := newBrowser(t)
	app := startTestApp(t, nil)
	console := watchBrowser(ctx)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	// The oldest conversation, then enough newer ones that it is not on the
	// console's first page (50 rooms).
	priya, pt := app.newVisitor(t, "Priya Sharma")
	visitorSays(t, app, pt, priya, "Hello, my parcel with tracking number 4711 never arrived and I am worried.")
	for i := range 55 {
		id, tok := app.newVisitor(t, "Visitor "+strconv.Itoa(i))
		visitorSays(t, app, tok, id, "Question number "+strconv.Itoa(i)+" about pricing")
	}
	// Emptied as a user would (select all, delete): the input event fires.
	clearSearch := chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById('search'); s.select(); document.execCommand('delete'); })()`)
	row := fmt.Sprintf(`document.querySelector('#rooms a.room[data-id=%q]')`, priya)

	loginConsole(t, ctx, app)
	mustPoll(t, ctx, "the first page", `document.querySelectorAll('#rooms a.room').length === 50`, 10*time.Second)
	if mustEval[bool](t, ctx, `!!`+row) {
		t.Fatal("the oldest room is on the first page: the test would not prove a server search")
	}

	t.Run("a word of a message", func(t *testing.T) {
		mustDo(t, ctx, "type in the search box", chromedp.SendKeys(chromedp.CSS("#search"), "parcel 4711"))
		mustPoll(t, ctx, "the room found with its snippet",
			row+`?.querySelector('.room-preview.match')?.textContent === 'Hello, my parcel with tracking number 4711 never arrived and I am worried.'`, 10*time.Second)
		if n := mustEval[int](t, ctx, `document.querySelectorAll('#rooms a.room').length`); n != 1 {
			t.Errorf("got %d rows, want only the room that matches", n)
		}
		if got := mustEval[string](t, ctx, `[...`+row+`.querySelectorAll('.room-preview mark')].map((m) => m.textContent).join(',')`); got != "parcel,4711" {
			t.Errorf("marked words: got %q, want parcel,4711", got)
		}
		screenshot(t, ctx, "console-search.png")
	})

	t.Run("the first letters of a name", func(t *testing.T) {
		mustDo(t, ctx, "type a prefix", clearSearch, chromedp.SendKeys(chromedp.CSS("#search"), "pri"))
		mustPoll(t, ctx, "the room found by its visitor",
			row+`?.querySelector('.room-preview.match')?.textContent === 'Priya Sharma' && document.querySelectorAll('#rooms a.room').length === 1`, 10*time.Second)
	})

	t.Run("a click opens the conversation", func(t *testing.T) {
		mustDo(t, ctx, "click the result", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#rooms a.room[data-id=%q]`, priya))))
		mustPoll(t, ctx, "the conversation", `location.hash === '#/r/`+priya+`' && [...document.querySelectorAll('#thread-msgs .msg-visitor .bubble')].some((b) => b.textContent.includes('parcel with tracking number 4711'))`, 10*time.Second)
		if got := mustEval[string](t, ctx, `document.querySelector('#details .details-head h3').textContent`); got != "Priya Sharma" {
			t.Errorf("details name: got %q, want Priya Sharma", got)
		}
	})

	t.Run("no match", func(t *testing.T) {
		mustDo(t, ctx, "type a word no one wrote", clearSearch, chromedp.SendKeys(chromedp.CSS("#search"), "xylophone"))
		mustPoll(t, ctx, "the empty state",
			`document.getElementById('rooms-empty').textContent.includes('No conversation matches “xylophone”') && document.querySelectorAll('#rooms a.room').length === 0`, 10*time.Second)
	})

	t.Run("esc brings the inbox back", func(t *testing.T) {
		mustDo(t, ctx, "press Esc", chromedp.Focus(chromedp.CSS("#search")), pressKey("Escape", "Escape", 27))
		mustPoll(t, ctx, "the inbox", `document.getElementById('search').value === '' && document.querySelectorAll('#rooms a.room').length >= 50`, 10*time.Second)
	})
	console.checkClean(t)
}
