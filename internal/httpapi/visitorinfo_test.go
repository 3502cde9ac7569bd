package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/chat"
)

const chromeLinux = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

type visitorAnswer struct {
	RoomID  string           `json:"roomId"`
	Visitor chat.VisitorInfo `json:"visitor"`
}

func TestVisitorPages(t *testing.T) {
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{})
		admin := e.adminToken()
		room, tok := e.mustRoom(map[string]any{"page": "https://shop.example/landing?utm_source=news&utm_medium=email&utm_campaign=winter#top"})
		if room.Page != "https://shop.example/landing?utm_source=news&utm_medium=email&utm_campaign=winter#top" {
			t.Errorf("start page %q, want the full URL", room.Page)
		}
		path := "/api/v1/rooms/" + room.ID + "/pages"
		ua := map[string]string{"User-Agent": chromeLinux}
		as := e.adminStream(admin).ignore("room", "message", "typing", "room.deleted")

		r := e.do(req{method: "POST", path: path, token: tok, header: ua, body: map[string]string{
			"url":   "https://shop.example/landing?utm_source=news&utm_medium=email&utm_campaign=winter&utm_term=boots&utm_content=a",
			"title": "Winter sale\u0007", "referrer": "https://www.google.com/", "timeZone": "Europe/Paris", "language": "fr-FR"}})
		want(t, r, http.StatusNoContent, "")
		if len(r.body) != 0 {
			t.Errorf("the visitor's answer holds %s, want nothing", r.body)
		}
		ev := as.expect("visitor.page")
		if !strings.Contains(ev.Data, `"Winter sale"`) || !strings.Contains(ev.Data, room.ID) {
			t.Errorf("admin event %s, want the page and the room", ev.Data)
		}

		t.Run("UTM and User-Agent parsed", func(t *testing.T) {
			got := decode[visitorAnswer](t, e.do(req{method: "GET", path: "/api/v1/admin/rooms/" + room.ID + "/visitor", token: admin})).Visitor
			c := got.Campaign
			if c == nil || *c != (chat.Campaign{Source: "news", Medium: "email", Campaign: "winter", Term: "boots", Content: "a"}) {
				t.Errorf("campaign %+v, want news/email/winter/boots/a", c)
			}
			if got.Browser != "Chrome" || got.BrowserVersion != "131" || got.OS != "Linux" {
				t.Errorf("browser %q %q on %q, want Chrome 131 on Linux", got.Browser, got.BrowserVersion, got.OS)
			}
			if got.TimeZone != "Europe/Paris" || got.Language != "fr-FR" || got.Referrer != "https://www.google.com/" {
				t.Errorf("got %+v, want Paris, fr-FR, google", got)
			}
			if len(got.Pages) != 1 || got.Pages[0].Title != "Winter sale" {
				t.Errorf("pages %+v, want the one page, its title cleaned", got.Pages)
			}
		})

		t.Run("bounds", func(t *testing.T) {
			for _, bad := range []map[string]string{
				{"url": ""}, {"url": "javascript:alert(1)"}, {"url": "https://x.example/" + strings.Repeat("a", chat.MaxPageURL)},
			} {
				want(t, e.do(req{method: "POST", path: path, token: tok, body: bad}), http.StatusBadRequest, "invalid_request")
			}
			for i := 0; i < chat.MaxVisitorPages+5; i++ {
				r := e.do(req{method: "POST", path: path, token: tok, header: ua, body: map[string]string{
					"url": fmt.Sprintf("https://shop.example/p/%d?utm_source=later", i), "title": strings.Repeat("t", 500),
					"referrer": "https://other.example/", "timeZone": "Not/AZone", "language": "<script>"}})
				want(t, r, http.StatusNoContent, "")
			}
			got := decode[visitorAnswer](t, e.do(req{method: "GET", path: "/api/v1/admin/rooms/" + room.ID + "/visitor", token: admin})).Visitor
			if len(got.Pages) != chat.MaxVisitorPages {
				t.Fatalf("%d pages kept, want %d", len(got.Pages), chat.MaxVisitorPages)
			}
			if p := got.Pages[0]; p.URL != fmt.Sprintf("https://shop.example/p/%d?utm_source=later", chat.MaxVisitorPages+4) || len([]rune(p.Title)) != chat.MaxPageTitle {
				t.Errorf("newest page %q (title %d runes), want the last one, title cut to %d", p.URL, len([]rune(p.Title)), chat.MaxPageTitle)
			}
			if got.Campaign.Source != "news" || got.Referrer != "https://www.google.com/" {
				t.Errorf("campaign %+v referrer %q: want the first ones kept", got.Campaign, got.Referrer)
			}
			if got.TimeZone != "Europe/Paris" || got.Language != "fr-FR" {
				t.Errorf("zone %q language %q: want bad ones dropped, the good ones kept", got.TimeZone, got.Language)
			}
		})

		t.Run("the visitor cannot read it", func(t *testing.T) {
			for _, r := range []resp{
				e.do(req{method: "GET", path: "/api/v1/rooms/" + room.ID, token: tok}),
				e.do(req{method: "POST", path: "/api/v1/rooms", token: tok, body: map[string]string{}}),
				e.do(req{method: "GET", path: "/api/v1/rooms/" + room.ID + "/messages", token: tok}),
			} {
				if b := string(r.body); strings.Contains(b, "Chrome") || strings.Contains(b, "Winter sale") || strings.Contains(b, "utm_term") || strings.Contains(b, "shop.example/p/") {
					t.Errorf("a visitor answer holds the visitor info: %s", b)
				}
			}
			want(t, e.do(req{method: "GET", path: "/api/v1/admin/rooms/" + room.ID + "/visitor", token: tok}), http.StatusUnauthorized, "unauthorized")
			other, otherTok := e.mustRoom(nil)
			_ = other
			want(t, e.do(req{method: "POST", path: path, token: otherTok, body: map[string]string{"url": "https://x.example/"}}), http.StatusForbidden, "forbidden")
		})

		t.Run("online while the stream is open", func(t *testing.T) {
			vs := e.visitorStream(room.ID, tok, nil)
			vs.expect("presence")
			for {
				ev := as.expect("visitor.page")
				if strings.Contains(ev.Data, `"online":true`) {
					break
				}
			}
			vs.close()
			for {
				ev := as.expect("visitor.page")
				if strings.Contains(ev.Data, `"online":false`) {
					break
				}
			}
		})

		t.Run("deleted with the room", func(t *testing.T) {
			want(t, e.do(req{method: "DELETE", path: "/api/v1/admin/rooms/" + room.ID, token: admin}), http.StatusNoContent, "")
			for _, k := range []string{"room:{" + room.ID + "}:pages", "room:{" + room.ID + "}:visitor"} {
				if e.exists(k) {
					t.Errorf("%s is left after the delete", k)
				}
			}
			want(t, e.do(req{method: "GET", path: "/api/v1/admin/rooms/" + room.ID + "/visitor", token: admin}), http.StatusNotFound, "room_not_found")
		})
	})
}
