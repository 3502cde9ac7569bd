package chat_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

func mustHours(t *testing.T, spec, zone string) chat.Hours {
	t.Helper()
	h, err := chat.ParseHours(spec, zone)
	if err != nil {
		t.Fatalf("ParseHours(%q, %q): %v", spec, zone, err)
	}
	return h
}

// at reads a wall time in zone.
func at(t *testing.T, zone, wall string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	tm, err := time.ParseInLocation("2006-01-02 15:04", wall, loc)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func TestHoursOpenAt(t *testing.T) {
	// 2026-12-07 is a Monday.
	paris := mustHours(t, "mon-fri 09:00-12:00,14:00-17:00; sat 10:00-13:00", "Europe/Paris")
	night := mustHours(t, "fri 22:00-02:00; sun 23:00-01:00", "Europe/Paris")
	for _, tc := range []struct {
		name string
		h    chat.Hours
		wall string
		want bool
	}{
		{"at opening time", paris, "2026-12-07 09:00", true},
		{"a minute before opening", paris, "2026-12-07 08:59", false},
		{"at closing time", paris, "2026-12-07 12:00", false},
		{"a minute before closing", paris, "2026-12-07 11:59", true},
		{"the lunch break", paris, "2026-12-07 13:00", false},
		{"the second range", paris, "2026-12-07 14:00", true},
		{"saturday", paris, "2026-12-12 12:59", true},
		{"a day with no hours (sunday)", paris, "2026-12-13 10:00", false},
		{"overnight, before midnight", night, "2026-12-11 23:30", true},
		{"overnight, after midnight on the next day", night, "2026-12-12 01:59", true},
		{"overnight, at its end", night, "2026-12-12 02:00", false},
		{"across the week's end, sunday", night, "2026-12-13 23:00", true},
		{"across the week's end, monday", night, "2026-12-14 00:30", true},
		{"across the week's end, after", night, "2026-12-14 01:00", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.h.OpenAt(at(t, "Europe/Paris", tc.wall)); got != tc.want {
				t.Errorf("OpenAt(%s) = %v, want %v", tc.wall, got, tc.want)
			}
		})
	}
	t.Run("the zone's wall clock, not the caller's", func(t *testing.T) {
		// 08:30 UTC is 09:30 in Paris in winter.
		if !paris.OpenAt(time.Date(2026, 12, 7, 8, 30, 0, 0, time.UTC)) {
			t.Error("08:30 UTC on a Monday is closed, want open (09:30 in Paris)")
		}
	})
}

func TestHoursUnsetIsAlwaysOpen(t *testing.T) {
	h := mustHours(t, "", "Europe/Paris")
	now := time.Date(2026, 12, 13, 3, 0, 0, 0, time.UTC)
	if h.IsSet() || !h.OpenAt(now) {
		t.Fatalf("unset hours: IsSet %v OpenAt %v, want false, true", h.IsSet(), h.OpenAt(now))
	}
	if _, ok := h.NextClose(now); ok {
		t.Error("unset hours have a closing time")
	}
	st := h.StateAt(now)
	if !st.Open || st.NextOpen != nil || st.ClosesAt != nil {
		t.Errorf("state = %+v, want open with no times", st)
	}
}

func TestHoursNextOpen(t *testing.T) {
	for _, tc := range []struct {
		name, zone, spec, now, want string
	}{
		{"later today", "Europe/Paris", "mon-fri 09:00-12:00,14:00-17:00", "2026-12-07 12:30", "2026-12-07 14:00"},
		{"tomorrow", "Europe/Paris", "mon-fri 09:00-17:00", "2026-12-07 17:00", "2026-12-08 09:00"},
		{"over a day with no hours", "Europe/Paris", "mon-fri 09:00-17:00; sat 10:00-13:00", "2026-12-12 13:00", "2026-12-14 09:00"},
		{"across the week's end", "Europe/Paris", "mon 09:00-10:00", "2026-12-07 10:00", "2026-12-14 09:00"},
		{"now, when open", "Europe/Paris", "mon 09:00-10:00", "2026-12-07 09:00", "2026-12-07 09:00"},
		// Spring forward: Sunday 29 March 2026, 02:00 CET becomes 03:00 CEST.
		{"a range in the skipped hour does not happen", "Europe/Paris", "sun 02:00-03:00", "2026-03-29 00:00", "2026-04-05 02:00"},
		{"a range that straddles the skipped hour opens at 03:00", "Europe/Paris", "sun 02:30-04:00", "2026-03-29 01:00", "2026-03-29 03:00"},
		{"the day after spring forward", "Europe/Paris", "mon 09:00-17:00", "2026-03-29 12:00", "2026-03-30 09:00"},
		{"overnight from sunday", "UTC", "sun 22:00-02:00", "2026-12-14 03:00", "2026-12-20 22:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := mustHours(t, tc.spec, tc.zone)
			got, ok := h.NextOpen(at(t, tc.zone, tc.now))
			want := at(t, tc.zone, tc.want)
			if !ok || !got.Equal(want) {
				t.Errorf("NextOpen(%s) = %v %v, want %v", tc.now, got, ok, want)
			}
		})
	}
}

func TestHoursDaylightSaving(t *testing.T) {
	t.Run("spring forward: 02:00-03:00 is never open", func(t *testing.T) {
		h := mustHours(t, "sun 02:00-03:00", "Europe/Paris")
		// Every instant of that night, minute by minute in UTC.
		start := time.Date(2026, 3, 28, 23, 0, 0, 0, time.UTC)
		for c := start; c.Before(start.Add(4 * time.Hour)); c = c.Add(time.Minute) {
			if h.OpenAt(c) {
				t.Fatalf("open at %v, want closed (02:00-03:00 does not exist that night)", c.In(time.UTC))
			}
		}
		// A week later it does.
		if !h.OpenAt(at(t, "Europe/Paris", "2026-04-05 02:30")) {
			t.Error("closed at 02:30 on 5 April, want open")
		}
	})
	t.Run("fall back: 02:00-03:00 is open twice, two hours", func(t *testing.T) {
		// Sunday 25 October 2026: 03:00 CEST becomes 02:00 CET.
		h := mustHours(t, "sun 02:00-03:00", "Europe/Paris")
		open := 0
		start := time.Date(2026, 10, 24, 22, 0, 0, 0, time.UTC)
		for c := start; c.Before(start.Add(6 * time.Hour)); c = c.Add(time.Minute) {
			if h.OpenAt(c) {
				open++
			}
		}
		if open != 120 {
			t.Errorf("open %d minutes that night, want 120", open)
		}
		// Closed between the two: 02:00 CEST (00:00 UTC) opens; at 01:00 UTC
		// (the second 02:00, CET) it is open again; it closes at 02:00 UTC.
		first, _ := h.NextOpen(start)
		if want := time.Date(2026, 10, 25, 0, 0, 0, 0, time.UTC); !first.Equal(want) {
			t.Errorf("first opening %v, want %v", first.UTC(), want)
		}
		end, _ := h.NextClose(first)
		if want := time.Date(2026, 10, 25, 2, 0, 0, 0, time.UTC); !end.Equal(want) {
			t.Errorf("closes %v, want %v", end.UTC(), want)
		}
	})
	t.Run("fall back: a range inside the repeated hour opens again", func(t *testing.T) {
		h := mustHours(t, "sun 02:10-02:20", "Europe/Paris")
		// After the first 02:20 (CEST, 00:20 UTC) comes the second 02:10
		// (CET, 01:10 UTC).
		got, ok := h.NextOpen(time.Date(2026, 10, 25, 0, 20, 0, 0, time.UTC))
		if want := time.Date(2026, 10, 25, 1, 10, 0, 0, time.UTC); !ok || !got.Equal(want) {
			t.Errorf("NextOpen = %v %v, want %v", got.UTC(), ok, want)
		}
	})
	t.Run("nine to five keeps its wall clock across the change", func(t *testing.T) {
		h := mustHours(t, "mon-sun 09:00-17:00", "Europe/Paris")
		got, _ := h.NextOpen(at(t, "Europe/Paris", "2026-03-28 18:00"))
		if want := time.Date(2026, 3, 29, 7, 0, 0, 0, time.UTC); !got.Equal(want) {
			t.Errorf("NextOpen = %v, want %v (09:00 CEST)", got.UTC(), want)
		}
	})
}

func TestHoursNextClose(t *testing.T) {
	h := mustHours(t, "mon 09:00-12:00,12:00-17:00; fri 22:00-24:00; sat 00:00-02:00", "Europe/Paris")
	for _, tc := range []struct{ name, now, want string }{
		{"adjacent ranges are one", "2026-12-07 10:00", "2026-12-07 17:00"},
		{"through midnight", "2026-12-11 23:00", "2026-12-12 02:00"},
		{"now, when closed", "2026-12-07 18:00", "2026-12-07 18:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := h.NextClose(at(t, "Europe/Paris", tc.now))
			if want := at(t, "Europe/Paris", tc.want); !ok || !got.Equal(want) {
				t.Errorf("NextClose(%s) = %v %v, want %v", tc.now, got, ok, want)
			}
		})
	}
	always := mustHours(t, "mon-sun 00:00-24:00", "UTC")
	if c, ok := always.NextClose(time.Now()); ok {
		t.Errorf("hours open every minute close at %v", c)
	}
}

func TestHoursStateAt(t *testing.T) {
	h := mustHours(t, "mon-fri 09:00-17:00", "Europe/Paris")
	st := h.StateAt(at(t, "Europe/Paris", "2026-12-11 18:00")) // a Friday evening
	if st.Open || st.NextOpen == nil || !st.NextOpen.Equal(at(t, "Europe/Paris", "2026-12-14 09:00")) || st.ClosesAt != nil {
		t.Errorf("Friday evening: %+v, want closed until Monday 09:00", st)
	}
	st = h.StateAt(at(t, "Europe/Paris", "2026-12-11 10:00"))
	if !st.Open || st.ClosesAt == nil || !st.ClosesAt.Equal(at(t, "Europe/Paris", "2026-12-11 17:00")) {
		t.Errorf("Friday morning: %+v, want open until 17:00", st)
	}
}

func TestParseHours(t *testing.T) {
	h := mustHours(t, "fri-mon 10:00-11:00; wed,thu 08:00-09:00,  13:00-14:00", "America/New_York")
	want := map[string][]string{"fri": {"10:00-11:00"}, "sat": {"10:00-11:00"}, "sun": {"10:00-11:00"}, "mon": {"10:00-11:00"},
		"tue": {}, "wed": {"08:00-09:00", "13:00-14:00"}, "thu": {"08:00-09:00", "13:00-14:00"}}
	b, _ := json.Marshal(h)
	var got struct {
		Timezone string              `json:"timezone"`
		Week     map[string][]string `json:"week"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Timezone != "America/New_York" || len(got.Week) != 7 {
		t.Fatalf("got %s", b)
	}
	for d, w := range want {
		if len(got.Week[d]) != len(w) || len(w) > 0 && got.Week[d][0] != w[0] {
			t.Errorf("%s = %v, want %v", d, got.Week[d], w)
		}
	}
	var back chat.Hours
	if err := json.Unmarshal(b, &back); err != nil || back.Validate() != nil {
		t.Fatalf("round trip: %v", err)
	}
	for _, bad := range []struct{ spec, zone string }{
		{"mon-fri", "UTC"},
		{"mon-fri 9-17", "UTC"},
		{"mon-fri 09:00-09:00", "UTC"},
		{"mon-fri 25:00-26:00", "UTC"},
		{"mon-fri 09:60-10:00", "UTC"},
		{"moon 09:00-10:00", "UTC"},
		{"mon 09:00-10:00", "Mars/Olympus"},
		{"mon 09:00-10:00", "../../etc/passwd"},
		{"mon 01:00-02:00,02:00-03:00,03:00-04:00,04:00-05:00,05:00-06:00,06:00-07:00,07:00-08:00,08:00-09:00,09:00-10:00", "UTC"},
	} {
		if _, err := chat.ParseHours(bad.spec, bad.zone); chat.ErrorCode(err) != chat.CodeInvalid {
			t.Errorf("ParseHours(%q, %q) = %v, want invalid_request", bad.spec, bad.zone, err)
		}
	}
}
