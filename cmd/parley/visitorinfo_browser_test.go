package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestConsoleSeesTheVisitorsPage: a visitor opens the chat on a page with a
// campaign, writes, then the site moves to another page by pushState; the
// agent's console shows the new page and its title live, the campaign, the
// browser and OS, and that the visitor is on the site now.
func TestConsoleSeesTheVisitorsPage(t *testing.T) {
	browser := newBrowser(t)
	app := startTestApp(t, nil)
	admin := app.adminToken(t)
	ctxV, cancelV := context.WithTimeout(browser, 90*time.Second)
	defer cancelV()
	if err := chromedp.Do(ctxV); err != nil {
		t.Fatal(err)
	}
	tabA, cancelA := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	defer cancelA()
	ctxA, cancelA2 := context.WithTimeout(tabA, 90*time.Second)
	defer cancelA2()
	logV, logA := watchBrowser(ctxV), watchBrowser(ctxA)
	serveSitePages(t, ctxV, map[string]string{"shop": `data-locale="en"`})

	openFresh(t, ctxV, app.URL+"/site/shop?utm_source=news&utm_medium=email&utm_campaign=winter")
	typeAndSend(t, ctxV, "where is my order?")
	mustPoll(t, ctxV, "sent", `texts('.msg.me:not(.pending):not(.failed) .text').includes('where is my order?')`, 5*time.Second)
	roomID := theOnlyRoom(t, app, admin)

	loginConsole(t, ctxA, app)
	mustDo(t, ctxA, "open the room", chromedp.Click(chromedp.CSS(`#rooms a.room[data-id="`+roomID+`"]`)))
	const details = `(() => { const q = (s) => (document.querySelector('#details ' + s) || {}).textContent || '';
		return { now: q('[data-visitor-now]'), campaign: q('[data-visitor-campaign]'), browser: q('[data-visitor-browser]'),
			online: q('[data-visitor-online]'), time: q('[data-visitor-time]'), pages: q('.visitor-pages summary') }; })()`
	type shown struct{ Now, Campaign, Browser, Online, Time, Pages string }
	mustPoll(t, ctxA, "the visitor's page in the details", `document.querySelector('#details [data-visitor-now]')?.textContent.includes('A site')`, 10*time.Second)
	got := mustEval[shown](t, ctxA, details)
	if got.Campaign != "news · email · winter" || !strings.Contains(got.Browser, "Linux") || !strings.Contains(got.Browser, "Chrome") || got.Online != "On the site now" {
		t.Errorf("details: got %+v, want the campaign, Chrome on Linux, on the site now", got)
	}
	if !strings.Contains(got.Now, "utm_campaign=winter") {
		t.Errorf("the page shown %q, want its full URL with the query", got.Now)
	}

	// The site navigates by pushState and sets its title.
	mustDo(t, ctxV, "navigate", chromedp.Evaluate[chromedp.Void](`history.pushState({}, '', '/site/shop/checkout?step=2#pay'); document.title = 'Checkout, step 2'`))
	mustPoll(t, ctxA, "the new page, live", `document.querySelector('#details [data-visitor-now]')?.textContent.includes('Checkout, step 2')`, 10*time.Second)
	got = mustEval[shown](t, ctxA, details)
	if !strings.Contains(got.Now, "/site/shop/checkout?step=2#pay") || got.Pages != "Last pages (1)" || got.Time == "" {
		t.Errorf("after the navigation: got %+v, want the checkout URL, one page before, the visitor's clock", got)
	}
	mustDo(t, ctxA, "settle", chromedp.Sleep(300*time.Millisecond))
	screenshot(t, ctxA, "console-visitor-page.png")

	// The visitor's panel goes away (its stream closes): the console says
	// they left.
	mustDo(t, ctxV, "leave", chromedp.Evaluate[chromedp.Void](`document.querySelector('parley-widget').remove()`))
	mustPoll(t, ctxA, "left the site", `document.querySelector('#details [data-visitor-online]')?.textContent === 'Left the site'`, 15*time.Second)

	logV.checkClean(t)
	logA.checkClean(t)
}
