package chat

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
	// The zones are compiled in: a machine without /usr/share/zoneinfo
	// (a scratch container) still knows Europe/Paris.
	_ "time/tzdata"
)

// Bounds of the business hours.
const (
	// MaxSpansPerDay bounds the ranges of one day.
	MaxSpansPerDay = 8
	// maxZone bounds a time zone's name (the longest IANA name is 32).
	maxZone = 64
	// maxHoursSpec bounds PARLEY_BUSINESS_HOURS.
	maxHoursSpec = 1024
)

// dayNames are the week's days as the API and PARLEY_BUSINESS_HOURS spell
// them, indexed by time.Weekday (sun = 0).
var dayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// Span is one opening range of a day, in minutes after the day's midnight
// on the wall clock of the hours' zone. To is at most 24:00; a To at or
// before From ends on the next day (22:00-02:00 is open from 22:00 to 02:00
// the next morning, sun 22:00-02:00 into Monday).
type Span struct {
	From, To int
}

// String is the span as HH:MM-HH:MM.
func (s Span) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", s.From/60, s.From%60, s.To/60, s.To%60)
}

// Hours are a team's weekly business hours in one time zone. Times are wall
// clock times: on the day clocks spring forward, a range inside the skipped
// hour (02:00-03:00 in Europe/Paris) does not happen, and a range that
// straddles it opens at the first minute that exists; on the day they fall
// back, the repeated hour is open twice if its wall time is in a range.
//
// Hours with no range at all are unset: the team is always open and
// presence alone says whether anyone answers. To be closed on a day, give
// that day no range.
type Hours struct {
	Zone string
	Days [7][]Span // by time.Weekday
	loc  *time.Location
}

// IsSet tells whether any day has a range.
func (h Hours) IsSet() bool {
	for _, d := range h.Days {
		if len(d) > 0 {
			return true
		}
	}
	return false
}

// location is the hours' zone, loaded once by ParseHours or Validate.
func (h *Hours) location() *time.Location {
	if h.loc == nil {
		loc, err := time.LoadLocation(h.Zone)
		if err != nil {
			loc = time.UTC
		}
		h.loc = loc
	}
	return h.loc
}

// Validate checks the zone and every range, and loads the zone.
func (h *Hours) Validate() error {
	if h.Zone == "" {
		h.Zone = "UTC"
	}
	if len(h.Zone) > maxZone || strings.ContainsAny(h.Zone, " \\") || strings.HasPrefix(h.Zone, "/") || strings.Contains(h.Zone, "..") {
		return Errorf(CodeInvalid, "timezone must be an IANA time zone such as Europe/Paris")
	}
	loc, err := time.LoadLocation(h.Zone)
	if err != nil || h.Zone == "Local" {
		return Errorf(CodeInvalid, "timezone must be an IANA time zone such as Europe/Paris")
	}
	h.loc = loc
	for d, spans := range h.Days {
		if len(spans) > MaxSpansPerDay {
			return Errorf(CodeInvalid, "%s has more than %d ranges", dayNames[d], MaxSpansPerDay)
		}
		for _, s := range spans {
			if s.From < 0 || s.From >= 24*60 || s.To <= 0 || s.To > 24*60 || s.From == s.To {
				return Errorf(CodeInvalid, "%s: %s is not a range such as 09:00-17:00", dayNames[d], s)
			}
		}
		sort.Slice(h.Days[d], func(i, j int) bool { return h.Days[d][i].From < h.Days[d][j].From })
	}
	return nil
}

// parseClock reads HH:MM (00:00–24:00) as minutes.
func parseClock(s string) (int, bool) {
	var hh, mm int
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	if _, err := fmt.Sscanf(s, "%02d:%02d", &hh, &mm); err != nil || hh > 24 || mm > 59 || (hh == 24 && mm != 0) {
		return 0, false
	}
	return hh*60 + mm, true
}

// parseSpan reads HH:MM-HH:MM.
func parseSpan(s string) (Span, bool) {
	from, to, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return Span{}, false
	}
	f, ok1 := parseClock(strings.TrimSpace(from))
	t, ok2 := parseClock(strings.TrimSpace(to))
	if !ok1 || !ok2 || f == 24*60 || t == 0 && f == 0 {
		return Span{}, false
	}
	if t == 0 {
		t = 24 * 60 // 22:00-00:00 ends at midnight
	}
	return Span{From: f, To: t}, true
}

// dayIndex reads mon, tue… (any case).
func dayIndex(s string) (int, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for i, n := range dayNames {
		if n == s {
			return i, true
		}
	}
	return 0, false
}

// ParseHours reads the PARLEY_BUSINESS_HOURS form: groups split by ";",
// each days then ranges, as "mon-fri 09:00-12:00,14:00-17:00; sat
// 10:00-13:00". Days are a day, a list (mon,wed) or a range (mon-fri,
// fri-mon wraps). A day named twice gets the ranges of both groups. An
// empty spec is unset hours.
func ParseHours(spec, zone string) (Hours, error) {
	h := Hours{Zone: strings.TrimSpace(zone)}
	if len(spec) > maxHoursSpec {
		return h, Errorf(CodeInvalid, "business hours are longer than %d characters", maxHoursSpec)
	}
	for _, group := range strings.Split(spec, ";") {
		group = strings.TrimSpace(group)
		if group == "" {
			continue
		}
		days, ranges, ok := strings.Cut(group, " ")
		if !ok {
			return h, Errorf(CodeInvalid, "%q: want days then ranges, such as mon-fri 09:00-17:00", group)
		}
		var which []int
		for _, part := range strings.Split(days, ",") {
			a, b, isRange := strings.Cut(part, "-")
			i, ok1 := dayIndex(a)
			j, ok2 := i, true
			if isRange {
				j, ok2 = dayIndex(b)
			}
			if !ok1 || !ok2 {
				return h, Errorf(CodeInvalid, "%q: days are mon, tue, wed, thu, fri, sat, sun", part)
			}
			for d := i; ; d = (d + 1) % 7 {
				which = append(which, d)
				if d == j {
					break
				}
			}
		}
		for _, r := range strings.Split(ranges, ",") {
			s, ok := parseSpan(r)
			if !ok {
				return h, Errorf(CodeInvalid, "%q: want a range such as 09:00-17:00", strings.TrimSpace(r))
			}
			for _, d := range which {
				h.Days[d] = append(h.Days[d], s)
			}
		}
	}
	return h, h.Validate()
}

// hoursJSON is the wire form: {"timezone": "Europe/Paris", "week":
// {"mon": ["09:00-17:00"], "sun": []}}, every day present.
type hoursJSON struct {
	Timezone string              `json:"timezone"`
	Week     map[string][]string `json:"week"`
}

// MarshalJSON writes the wire form.
func (h Hours) MarshalJSON() ([]byte, error) {
	w := hoursJSON{Timezone: h.Zone, Week: make(map[string][]string, 7)}
	if w.Timezone == "" {
		w.Timezone = "UTC"
	}
	for d, spans := range h.Days {
		list := make([]string, 0, len(spans))
		for _, s := range spans {
			list = append(list, s.String())
		}
		w.Week[dayNames[d]] = list
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads the wire form and validates it.
func (h *Hours) UnmarshalJSON(b []byte) error {
	var w hoursJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*h = Hours{Zone: w.Timezone}
	for name, list := range w.Week {
		d, ok := dayIndex(name)
		if !ok || name != dayNames[d] {
			return Errorf(CodeInvalid, "week: %q is not a day (mon, tue, wed, thu, fri, sat, sun)", name)
		}
		if len(list) > MaxSpansPerDay {
			return Errorf(CodeInvalid, "%s has more than %d ranges", name, MaxSpansPerDay)
		}
		for _, r := range list {
			s, ok := parseSpan(r)
			if !ok {
				return Errorf(CodeInvalid, "%s: %q is not a range such as 09:00-17:00", name, r)
			}
			h.Days[d] = append(h.Days[d], s)
		}
	}
	return h.Validate()
}

// OpenAt tells whether t is inside the hours (unset hours: always). A range
// includes its opening minute and excludes its closing one.
func (h Hours) OpenAt(t time.Time) bool {
	if !h.IsSet() {
		return true
	}
	lt := t.In(h.location())
	minute := lt.Hour()*60 + lt.Minute()
	today := lt.Weekday()
	for _, s := range h.Days[today] {
		if s.To > s.From && minute >= s.From && minute < s.To || s.To <= s.From && minute >= s.From {
			return true
		}
	}
	for _, s := range h.Days[(today+6)%7] { // yesterday's overnight ranges
		if s.To <= s.From && minute < s.To {
			return true
		}
	}
	return false
}

// NextOpen is the first instant at or after t that is inside the hours; ok
// is false when there is none (no range at all, or only ranges that never
// happen).
func (h Hours) NextOpen(t time.Time) (next time.Time, ok bool) {
	return h.nextState(t, true)
}

// NextClose is the first instant at or after t that is outside the hours;
// ok is false when the hours never close (unset, or every minute open).
func (h Hours) NextClose(t time.Time) (next time.Time, ok bool) {
	return h.nextState(t, false)
}

// nextState finds the first instant at or after t whose OpenAt is open.
// Whether the hours are open changes only at an instant whose wall clock is
// a range's end or start, or where the zone's offset changes: the first
// such instant after t in the right state is the answer. Eight days cover a
// week plus an overnight range.
func (h Hours) nextState(t time.Time, open bool) (time.Time, bool) {
	if !h.IsSet() {
		return t, open
	}
	if h.OpenAt(t) == open {
		return t, true
	}
	loc := h.location()
	minutes := map[int]bool{}
	for _, spans := range h.Days {
		for _, s := range spans {
			minutes[s.From] = true
			minutes[s.To%(24*60)] = true
		}
	}
	lt := t.In(loc)
	var best time.Time
	consider := func(c time.Time) {
		if c.After(t) && h.OpenAt(c) == open && (best.IsZero() || c.Before(best)) {
			best = c
		}
	}
	for day := 0; day <= 8; day++ {
		y, m, d := lt.Date()
		midnight := time.Date(y, m, d+day, 0, 0, 0, 0, loc)
		// Offset changes (DST) in this day.
		_, end := midnight.ZoneBounds()
		if !end.IsZero() && end.Sub(midnight) <= 25*time.Hour {
			consider(end)
		}
		offsets := offsetsAround(midnight)
		for min := range minutes {
			for _, off := range offsets {
				// The instant whose wall clock is min under offset off; kept
				// only if the zone is at that offset then (a repeated hour
				// has two such instants, a skipped one none).
				wall := time.Date(y, m, d+day, min/60, min%60, 0, 0, time.UTC)
				c := wall.Add(-time.Duration(off) * time.Second).In(loc)
				if _, o := c.Zone(); o == off {
					consider(c)
				}
			}
		}
		if !best.IsZero() && best.Before(time.Date(y, m, d+day+1, 0, 0, 0, 0, loc)) {
			break // later days only hold later instants
		}
	}
	return best, !best.IsZero()
}

// offsetsAround are the zone's UTC offsets during the day that starts at
// midnight (two on a DST day).
func offsetsAround(midnight time.Time) []int {
	_, a := midnight.Zone()
	_, b := midnight.Add(26 * time.Hour).Zone()
	if a == b {
		return []int{a}
	}
	return []int{a, b}
}

// HoursState is what a visitor is told about the hours at one instant.
type HoursState struct {
	// Open is true inside the hours, and always while they are unset.
	Open bool `json:"open"`
	// NextOpen is when the team is back, while closed (absent if never).
	NextOpen *Time `json:"nextOpen,omitempty"`
	// ClosesAt is when the hours end, while open (absent if they never do).
	ClosesAt *Time `json:"closesAt,omitempty"`
}

// StateAt is the hours' state at t, to the second.
func (h Hours) StateAt(t time.Time) HoursState {
	st := HoursState{Open: h.OpenAt(t)}
	if !h.IsSet() {
		return st
	}
	if st.Open {
		if c, ok := h.NextClose(t); ok {
			st.ClosesAt = &Time{Time: c.UTC()}
		}
	} else if o, ok := h.NextOpen(t); ok {
		st.NextOpen = &Time{Time: o.UTC()}
	}
	return st
}

// HoursSource says where the hours in effect come from.
type HoursSource string

// The sources of the hours in effect.
const (
	HoursFromConsole HoursSource = "console" // saved by an owner: wins
	HoursFromEnv     HoursSource = "env"     // PARLEY_BUSINESS_HOURS
	HoursUnset       HoursSource = "none"    // neither: always open
)

// BusinessHours returns the hours in effect: an owner's saved ones, else
// the environment's.
func (s *Service) BusinessHours(ctx context.Context) (Hours, HoursSource, error) {
	h, ok, err := s.store.BusinessHours(ctx)
	if err != nil {
		return Hours{}, "", err
	}
	if ok {
		return h, HoursFromConsole, nil
	}
	if s.hours.IsSet() {
		return s.hours, HoursFromEnv, nil
	}
	return s.hours, HoursUnset, nil
}

// EnvHours are the hours of the environment, which saved ones override.
func (s *Service) EnvHours() Hours { return s.hours }

// HoursNow is the hours' state now, for the visitors.
func (s *Service) HoursNow(ctx context.Context) (HoursState, error) {
	h, _, err := s.BusinessHours(ctx)
	if err != nil {
		return HoursState{}, err
	}
	return h.StateAt(s.now()), nil
}

// SetBusinessHours validates and saves an owner's hours, which then win
// over the environment's, and tells every visitor stream.
func (s *Service) SetBusinessHours(ctx context.Context, h Hours) (Hours, error) {
	if err := h.Validate(); err != nil {
		return Hours{}, err
	}
	if err := s.store.SetBusinessHours(ctx, h); err != nil {
		return Hours{}, err
	}
	s.publishHours(ctx, h)
	return h, nil
}

// ResetBusinessHours forgets the saved hours: the environment's apply again.
func (s *Service) ResetBusinessHours(ctx context.Context) error {
	if err := s.store.DeleteBusinessHours(ctx); err != nil {
		return err
	}
	s.publishHours(ctx, s.hours)
	return nil
}

// publishHours tells the visitor streams of every instance the new hours;
// a lost publish only leaves streams with the old state until they
// reconnect.
func (s *Service) publishHours(ctx context.Context, h Hours) {
	_ = s.store.Publish(ctx, Event{Type: EventHours, Payload: &Payload{Hours: &h}})
}
