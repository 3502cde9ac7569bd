package main

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
)

// sitePages answers the tab's requests for app.URL/site/<name> with a page
// that has the widget tag with those attributes, as a customer's page on
// Parley's own origin (so the test can look into the frame), until the test
// ends; another name gets a page without the widget.
type sitePages struct {
	mu    sync.Mutex
	attrs map[string]string
}

// widgetTagPage is a page with the loader and attrs on its script tag.
const widgetTagPage = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>A site</title></head>
<body><h1>A site</h1>
<script src="/widget.js" %s async></script>
</body></html>`

func serveSitePages(tb testing.TB, ctx context.Context, attrs map[string]string) *sitePages {
	tb.Helper()
	sp := &sitePages{attrs: attrs}
	ictx, cancel := context.WithCancel(ctx)
	paused := chromedp.Events(ictx, fetch.RequestPaused)
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{
		{URLPattern: "*/site/*", RequestStage: fetch.RequestStageRequest},
	}}); err != nil {
		tb.Fatalf("fetch.enable: %v", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev, err := range paused {
			if err != nil {
				return
			}
			name := ev.Request.URL[strings.LastIndex(ev.Request.URL, "/site/")+len("/site/"):]
			name, _, _ = strings.Cut(name, "?") // a page's query (utm_…) names the same page
			sp.mu.Lock()
			a, ok := sp.attrs[name]
			sp.mu.Unlock()
			page := `<!doctype html><link rel="icon" href="data:,"><title>No widget here</title>`
			if ok {
				page = fmt.Sprintf(widgetTagPage, a)
			}
			reply := fetch.FulfillRequestParams{
				RequestID: ev.RequestID, ResponseCode: http.StatusOK,
				ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "text/html; charset=utf-8"}},
				Body:            []byte(page),
			}
			if _, err := chromedp.Call(ctx, fetch.FulfillRequest, reply); err != nil && ictx.Err() == nil {
				tb.Errorf("answer %s: %v", ev.Request.URL, err)
			}
		}
	}()
	tb.Cleanup(func() {
		cancel()
		<-done
	})
	return sp
}

// openFresh loads a site page with nothing stored from an earlier one and
// opens the panel, waiting until it shows its words.
func openFresh(tb testing.TB, ctx context.Context, url string) {
	tb.Helper()
	// On a page without the widget, so that no panel writes behind us.
	mustDo(tb, ctx, "leave the last page", chromedp.Navigate(url[:strings.LastIndex(url, "/site/")]+"/site/none"))
	if err := retryStale(func() error {
		return chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`localStorage.clear(); sessionStorage.clear()`))
	}); err != nil {
		tb.Fatalf("forget the last page: %v", err)
	}
	loadWidgetPage(tb, ctx, url)
	clickBubble(tb, ctx)
	mustPoll(tb, ctx, "the panel is ready", `!!F() && !!F().documentElement && !F().documentElement.classList.contains('loading') && F().activeElement && F().activeElement.id === 'input'`, 5*time.Second)
}

// frameTexts is what a visitor reads of the panel, by element.
type frameTexts struct {
	Lang, Dir, Title, Placeholder, Send, Status, Keys, Greeting, Bubble string
}

const readFrameTexts = `({
  lang: F().documentElement.lang, dir: F().documentElement.dir,
  title: F().getElementById('title').textContent, placeholder: F().getElementById('input').placeholder,
  send: F().getElementById('send').getAttribute('aria-label'), status: F().getElementById('status-text').textContent,
  keys: F().querySelector('.hint').textContent, greeting: F().getElementById('greeting-text').textContent,
  bubble: W().querySelector('button').getAttribute('aria-label'),
})`

// TestWidgetLanguages: the widget speaks the language the site asks for
// (data-locale) or, without one, the browser's; Korean texts and dates;
// Arabic right to left, the visitor's bubbles on the left; an unknown
// locale is English; the owner's texts win over the catalogue, as plain
// text; and each page downloads its one catalogue, English none.
func TestWidgetLanguages(t *testing.T) {
	ctx := newBrowser(t)
	app := startTestApp(t, nil)
	log := watchBrowser(ctx)
	ctx, cancel := context.WithTimeout(ctx, 120*time.Second)
	defer cancel()
	serveSitePages(t, ctx, map[string]string{
		"ko":      `data-locale="ko"`,
		"ar":      `data-locale="ar"`,
		"xx":      `data-locale="xx"`,
		"browser": ``,
		"owner": `data-locale="de" data-title="Hilfe" data-text-open-chat="Fragen?" data-text-send="Los" data-text-greeting="&lt;b&gt;Moin&lt;/b&gt;" ` +
			`data-texts="` + html.EscapeString(`{"placeholder":"Ihre Frage …","send":"ignored: data-text-send wins","bogus":"x","statusIdle":42}`) + `"`,
	})
	catalogues := func() []string { return log.requestsMatching("/widget/i18n/") }

	t.Run("ko", func(t *testing.T) {
		openFresh(t, ctx, app.URL+"/site/ko")
		got := mustEval[frameTexts](t, ctx, readFrameTexts)
		want := frameTexts{Lang: "ko", Dir: "ltr", Title: "채팅 상담", Placeholder: "메시지를 입력하세요…", Send: "메시지 보내기",
			Status: "무엇이든 물어보세요", Keys: "Enter로 보내기 · Shift+Enter로 줄바꿈 · ", Greeting: "안녕하세요! 무엇을 도와드릴까요?", Bubble: "채팅 닫기"}
		if got != want {
			t.Errorf("Korean panel: got %+v, want %+v", got, want)
		}
		typeAndSend(t, ctx, "안녕하세요")
		mustPoll(t, ctx, "the message is sent", `texts('.msg.me:not(.pending):not(.failed) .text').includes('안녕하세요')`, 5*time.Second)
		if day := mustEval[string](t, ctx, `texts('.day')[0]`); day != "오늘" {
			t.Errorf("day label: got %q, want 오늘", day)
		}
		// Korean writes the time with 오전 / 오후 (a.m. / p.m.) first.
		if tm := mustEval[string](t, ctx, `texts('.meta time').pop()`); !strings.HasPrefix(tm, "오전") && !strings.HasPrefix(tm, "오후") {
			t.Errorf("time: got %q, want it in Korean (오전/오후 h:mm)", tm)
		}
		if got := catalogues(); len(got) != 1 || !strings.HasSuffix(got[0], "/widget/i18n/ko.js") || !strings.Contains(got[0], "/v/") {
			t.Errorf("catalogue requests: got %v, want the versioned ko.js only", got)
		}
	})

	t.Run("ar is right to left", func(t *testing.T) {
		before := len(catalogues())
		openFresh(t, ctx, app.URL+"/site/ar")
		got := mustEval[frameTexts](t, ctx, readFrameTexts)
		if got.Lang != "ar" || got.Dir != "rtl" || got.Title != "تحدّث معنا" || got.Placeholder != "اكتب رسالة…" || got.Bubble != "أغلق الدردشة" {
			t.Errorf("Arabic panel: got %+v, want lang ar, dir rtl and Arabic texts", got)
		}
		typeAndSend(t, ctx, "مرحبا")
		mustPoll(t, ctx, "the message is sent", `texts('.msg.me:not(.pending):not(.failed) .text').includes('مرحبا')`, 5*time.Second)
		mustDo(t, ctx, "settle", chromedp.Sleep(300*time.Millisecond))
		screenshot(t, ctx, "widget-arabic-rtl.png")
		// The visitor's bubble hugs the left edge, the greeting (ours) the
		// right; the close button sits at the left end of the header.
		sides := mustEval[struct{ Panel, Mine, Theirs, Close, Avatar []float64 }](t, ctx, `(() => {
			const r = (e) => { const b = e.getBoundingClientRect(); return [b.left, b.right]; };
			return { panel: r(F().getElementById('scroll')), mine: r(F().querySelector('.msg.me .bubble')),
				theirs: r(F().querySelector('#greeting .bubble')), close: r(F().getElementById('close')), avatar: r(F().querySelector('.avatar')) };
		})()`)
		mid := (sides.Panel[0] + sides.Panel[1]) / 2
		if sides.Mine[0]-sides.Panel[0] > 30 || sides.Mine[1] > mid {
			t.Errorf("visitor's bubble at %v in %v: want it on the left", sides.Mine, sides.Panel)
		}
		if sides.Panel[1]-sides.Theirs[1] > 30 {
			t.Errorf("greeting bubble at %v in %v: want it on the right", sides.Theirs, sides.Panel)
		}
		if sides.Close[0] > sides.Avatar[0] {
			t.Errorf("close button at %v, avatar at %v: want the close button left of the avatar", sides.Close, sides.Avatar)
		}
		if tr := mustEval[string](t, ctx, `getComputedStyle(F().querySelector('.send svg')).transform`); tr != "matrix(-1, 0, 0, 1, 0, 0)" {
			t.Errorf("send icon transform: got %q, want it mirrored to point the way the text runs", tr)
		}
		if day := mustEval[string](t, ctx, `texts('.day')[0]`); day != "اليوم" {
			t.Errorf("day label: got %q, want اليوم", day)
		}
		if got := catalogues()[before:]; len(got) != 1 || !strings.HasSuffix(got[0], "/widget/i18n/ar.js") {
			t.Errorf("catalogue requests: got %v, want ar.js only", got)
		}
	})

	t.Run("an unknown locale is English", func(t *testing.T) {
		before := len(catalogues())
		openFresh(t, ctx, app.URL+"/site/xx")
		got := mustEval[frameTexts](t, ctx, readFrameTexts)
		want := frameTexts{Lang: "en", Dir: "ltr", Title: "Chat with us", Placeholder: "Write a message…", Send: "Send message",
			Status: "Ask us anything", Keys: "Enter to send · Shift+Enter for a new line · ", Greeting: "Hi! How can we help you today?", Bubble: "Close chat"}
		if got != want {
			t.Errorf("panel for data-locale=xx: got %+v, want %+v", got, want)
		}
		if got := catalogues()[before:]; len(got) != 0 {
			t.Errorf("catalogue requests for English: got %v, want none", got)
		}
	})

	t.Run("the browser's language", func(t *testing.T) {
		ua := mustEval[string](t, ctx, `navigator.userAgent`)
		for _, c := range []struct{ accept, lang, title string }{
			{"pt-BR,pt", "pt", "Fale conosco"}, // by the primary subtag
			{"zh-TW,ja", "ja", "チャットでお問い合わせ"},  // Traditional Chinese is not zh
			{"sv-SE,fr", "fr", "Discutons"},    // the first with a catalogue
			{"sv-SE", "en", "Chat with us"},
		} {
			if _, err := chromedp.Call(ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: ua, AcceptLanguage: c.accept}); err != nil {
				t.Fatalf("set the browser's languages: %v", err)
			}
			openFresh(t, ctx, app.URL+"/site/browser")
			if got := mustEval[[]string](t, ctx, `[F().documentElement.lang, F().getElementById('title').textContent, navigator.languages.join()]`); got[0] != c.lang || got[1] != c.title {
				t.Errorf("browser languages %q: got lang %q title %q (navigator.languages %s), want %q %q", c.accept, got[0], got[1], got[2], c.lang, c.title)
			}
		}
		if _, err := chromedp.Call(ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: ua, AcceptLanguage: "en-US"}); err != nil {
			t.Fatalf("reset the browser's languages: %v", err)
		}
	})

	t.Run("the owner's texts", func(t *testing.T) {
		openFresh(t, ctx, app.URL+"/site/owner")
		got := mustEval[frameTexts](t, ctx, readFrameTexts)
		want := frameTexts{Lang: "de", Dir: "ltr", Title: "Hilfe", Placeholder: "Ihre Frage …", Send: "Los",
			Status: "Fragen Sie uns alles", Keys: "Enter zum Senden · Umschalt+Enter für eine neue Zeile · ", Greeting: "<b>Moin</b>", Bubble: "Chat schließen"}
		if got != want {
			t.Errorf("panel with the owner's texts: got %+v, want %+v", got, want)
		}
		if n := mustEval[int](t, ctx, `F().querySelectorAll('#greeting b').length`); n != 0 {
			t.Errorf("elements made from an owner's text: got %d, want 0", n)
		}
		clickBubble(t, ctx)
		mustPoll(t, ctx, "the bubble says the owner's words", `W().querySelector('button').getAttribute('aria-label') === 'Fragen?'`, 2*time.Second)
	})

	log.checkClean(t)
}
