package chat

import (
	"context"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// Bounds of what a visitor's panel reports about them.
const (
	// MaxVisitorPages is how many of the last pages a room keeps.
	MaxVisitorPages = 20
	// MaxPageTitle bounds a page's title (longer ones are cut).
	MaxPageTitle = 200
	// maxUTM bounds each campaign parameter (longer ones are cut).
	maxUTM = 100
	// maxLanguage bounds a BCP 47 tag.
	maxLanguage = 35
)

// pagesPerMinute bounds a room's page reports: a single-page app that
// rewrites its URL on every keystroke must not flood the store.
var pagesPerMinute = Limit{N: 30, Per: time.Minute}

// PageVisit is one page the visitor was on.
type PageVisit struct {
	URL   string `json:"url"`
	Title string `json:"title"`
	At    Time   `json:"at"`
}

// Campaign is the utm_* parameters of the first page that had any.
type Campaign struct {
	Source   string `json:"source,omitempty"`
	Medium   string `json:"medium,omitempty"`
	Campaign string `json:"campaign,omitempty"`
	Term     string `json:"term,omitempty"`
	Content  string `json:"content,omitempty"`
}

// IsZero tells whether no parameter is set.
func (c Campaign) IsZero() bool { return c == Campaign{} }

// VisitorInfo is who the visitor is, for the agents only: it is never in a
// visitor route's answer, a transcript or a mail.
type VisitorInfo struct {
	// Pages are the last pages, newest (the current one) first.
	Pages    []PageVisit `json:"pages"`
	Referrer string      `json:"referrer,omitempty"`
	Campaign *Campaign   `json:"campaign,omitempty"`
	Browser  string      `json:"browser,omitempty"`
	// BrowserVersion is the major version.
	BrowserVersion string `json:"browserVersion,omitempty"`
	OS             string `json:"os,omitempty"`
	Device         string `json:"device,omitempty"`
	// TimeZone is the visitor's IANA zone, their clock's.
	TimeZone string `json:"timeZone,omitempty"`
	Language string `json:"language,omitempty"`
	// Online is true while the visitor's panel has its event stream open
	// (their page is open).
	Online bool `json:"online"`
}

// PageReport is what the panel reports on a navigation, after the visitor
// opened the chat.
type PageReport struct {
	URL      string `json:"url"`
	Title    string `json:"title"`
	Referrer string `json:"referrer"`
	TimeZone string `json:"timeZone"`
	Language string `json:"language"`
}

// ClientAgent is the browser and OS the edge parsed from User-Agent.
type ClientAgent struct {
	Browser, BrowserVersion, OS, Device string
}

// VisitorFacts are the fields of a page report the store keeps beside the
// pages: Latest ones replace what is stored, First ones are kept once set
// (the referrer and campaign of the visit's landing).
type VisitorFacts struct {
	Latest map[string]string
	First  map[string]string
}

// Validate bounds and cleans a report: the URL must be http(s) and at most
// MaxPageURL characters; the title is cut and stripped of control
// characters; a bad referrer, zone or language is dropped.
func (p *PageReport) Validate() error {
	p.URL = strings.TrimSpace(p.URL)
	if p.URL == "" || utf8.RuneCountInString(p.URL) > MaxPageURL || !validPage(p.URL) || hasControl(p.URL) {
		return invalid("url must be an http(s) URL of at most %d characters", MaxPageURL)
	}
	p.Title = cut(clean(p.Title), MaxPageTitle)
	if p.Referrer = strings.TrimSpace(p.Referrer); p.Referrer != "" &&
		(utf8.RuneCountInString(p.Referrer) > MaxPageURL || !validPage(p.Referrer) || hasControl(p.Referrer)) {
		p.Referrer = ""
	}
	if p.TimeZone != "" {
		if len(p.TimeZone) > maxZone || strings.Contains(p.TimeZone, "..") || p.TimeZone == "Local" {
			p.TimeZone = ""
		} else if _, err := time.LoadLocation(p.TimeZone); err != nil {
			p.TimeZone = ""
		}
	}
	if !validLanguage(p.Language) {
		p.Language = ""
	}
	return nil
}

// validLanguage accepts BCP 47-like tags: letters, digits and hyphens.
func validLanguage(s string) bool {
	if s == "" || len(s) > maxLanguage {
		return false
	}
	for _, r := range s {
		if !(r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// clean turns control characters into spaces and trims.
func clean(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "")
	}
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s))
}

// cut keeps at most n runes of s.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// CampaignOf reads the utm_* parameters of a page URL.
func CampaignOf(page string) Campaign {
	u, err := url.Parse(page)
	if err != nil {
		return Campaign{}
	}
	q := u.Query()
	get := func(k string) string { return cut(clean(q.Get(k)), maxUTM) }
	return Campaign{Source: get("utm_source"), Medium: get("utm_medium"), Campaign: get("utm_campaign"),
		Term: get("utm_term"), Content: get("utm_content")}
}

// facts are the stored fields of a report and its client.
func (p PageReport) facts(a ClientAgent) VisitorFacts {
	f := VisitorFacts{Latest: map[string]string{}, First: map[string]string{}}
	set := func(m map[string]string, k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	set(f.Latest, "browser", cut(a.Browser, 40))
	set(f.Latest, "browserVersion", cut(a.BrowserVersion, 20))
	set(f.Latest, "os", cut(a.OS, 40))
	set(f.Latest, "device", cut(a.Device, 20))
	set(f.Latest, "timeZone", p.TimeZone)
	set(f.Latest, "language", p.Language)
	set(f.First, "referrer", p.Referrer)
	if c := CampaignOf(p.URL); !c.IsZero() {
		set(f.First, "utm_source", c.Source)
		set(f.First, "utm_medium", c.Medium)
		set(f.First, "utm_campaign", c.Campaign)
		set(f.First, "utm_term", c.Term)
		set(f.First, "utm_content", c.Content)
	}
	return f
}

// VisitorInfoFrom builds the info from the stored fields.
func VisitorInfoFrom(pages []PageVisit, f map[string]string) VisitorInfo {
	info := VisitorInfo{Pages: pages, Referrer: f["referrer"], Browser: f["browser"], BrowserVersion: f["browserVersion"],
		OS: f["os"], Device: f["device"], TimeZone: f["timeZone"], Language: f["language"],
		Online: f["seen"] != "" && f["seen"] > f["left"]}
	if info.Pages == nil {
		info.Pages = []PageVisit{}
	}
	c := Campaign{Source: f["utm_source"], Medium: f["utm_medium"], Campaign: f["utm_campaign"], Term: f["utm_term"], Content: f["utm_content"]}
	if !c.IsZero() {
		info.Campaign = &c
	}
	return info
}

// ReportPage records the page the visitor of roomID is on (rate-limited
// per room), with what the edge parsed of their browser, and tells the
// agents (EventVisitor).
func (s *Service) ReportPage(ctx context.Context, roomID string, p PageReport, a ClientAgent) (VisitorInfo, error) {
	if err := p.Validate(); err != nil {
		return VisitorInfo{}, err
	}
	if err := s.allow(ctx, &pagesPerMinute, "pages:"+roomID); err != nil {
		return VisitorInfo{}, err
	}
	visit := PageVisit{URL: p.URL, Title: p.Title, At: Time{Time: s.now().UTC()}}
	info, err := s.store.RecordPage(ctx, roomID, visit, p.facts(a), MaxVisitorPages)
	if err != nil {
		return VisitorInfo{}, err
	}
	s.publishVisitor(ctx, roomID, info)
	return info, nil
}

// VisitorSeen records that the visitor's stream opened (online) or closed,
// and tells the agents. Best effort: it fails silently for a room without
// visitor info (the chat was never opened with a page report).
func (s *Service) VisitorSeen(ctx context.Context, roomID string, online bool) {
	info, ok, err := s.store.MarkVisitorSeen(ctx, roomID, online, s.now())
	if err == nil && ok {
		s.publishVisitor(ctx, roomID, info)
	}
}

// Visitor returns the room's visitor info (empty when none was reported).
func (s *Service) Visitor(ctx context.Context, roomID string) (VisitorInfo, error) {
	if _, err := s.store.Room(ctx, roomID); err != nil {
		return VisitorInfo{}, err
	}
	return s.store.VisitorInfo(ctx, roomID)
}

func (s *Service) publishVisitor(ctx context.Context, roomID string, info VisitorInfo) {
	_ = s.store.Publish(ctx, Event{Type: EventVisitor, RoomID: roomID, Payload: &Payload{Visitor: &info}})
}
