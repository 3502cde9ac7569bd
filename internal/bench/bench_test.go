package bench

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestSSEReader(t *testing.T) {
	stream := ": ping\n\n" +
		"event: presence\ndata: {\"adminsOnline\":false}\n\n" +
		"id: 7\r\nevent: message\r\ndata: {\"seq\":7}\r\n\r\n" +
		"data: line one\ndata: line two\n\n" +
		"retry: 1000\n\n" +
		"event: message\ndata: " + strings.Repeat("x", 5000) + "\n\n" +
		"event: cut"
	r := newSSEReader(strings.NewReader(stream), 64)
	want := []sseEvent{
		{Name: "presence", Data: []byte(`{"adminsOnline":false}`)},
		{Name: "message", ID: "7", Data: []byte(`{"seq":7}`)},
		{Name: "message", Data: []byte("line one\nline two")},
		{Name: "message", Data: []byte(strings.Repeat("x", 5000))},
	}
	for i, w := range want {
		got, err := r.next()
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if got.Name != w.Name || got.ID != w.ID || string(got.Data) != string(w.Data) {
			t.Errorf("event %d: got %q id %q data %.40q, want %q id %q data %.40q", i, got.Name, got.ID, got.Data, w.Name, w.ID, w.Data)
		}
	}
	if _, err := r.next(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("after a cut event: got %v, want io.ErrUnexpectedEOF", err)
	}
}

func TestSummarize(t *testing.T) {
	var s []time.Duration
	for i := 100; i >= 1; i-- {
		s = append(s, time.Duration(i)*time.Millisecond)
	}
	got := summarize(s)
	want := Latency{Count: 100, Mean: 50.5, P50: 50, P90: 90, P99: 99, Max: 100}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if got := summarize(nil); got != (Latency{}) {
		t.Errorf("empty: got %+v, want zero", got)
	}
}

func TestCheckTarget(t *testing.T) {
	for _, tc := range []struct {
		url    string
		remote bool
		ok     bool
	}{
		{"http://127.0.0.1:8080", false, true},
		{"http://127.0.0.5:8080", false, true},
		{"http://[::1]:8080", false, true},
		{"http://localhost:8080", false, true},
		{"http://192.0.2.1:8080", false, false},
		{"http://192.0.2.1:8080", true, true},
		{"ftp://127.0.0.1", false, false},
		{"127.0.0.1:8080", false, false},
	} {
		_, err := CheckTarget(tc.url, tc.remote)
		if (err == nil) != tc.ok {
			t.Errorf("CheckTarget(%q, %v): got %v, want ok=%v", tc.url, tc.remote, err, tc.ok)
		}
	}
}

func TestTrackerLatency(t *testing.T) {
	tr := newTracker(10)
	tr.started[3].Store(int64(time.Millisecond))
	data := []byte(`{"id":"x","roomId":"r_a","seq":1,"sender":"visitor","author":"","content":"` + tr.content(3) + `"}`)
	if d, ok := tr.latency(data, 5*time.Millisecond); !ok || d != 4*time.Millisecond {
		t.Errorf("got %v %v, want 4ms true", d, ok)
	}
	other := newTracker(10) // another run's tag
	if _, ok := tr.latency([]byte(`{"content":"`+other.content(3)+`"}`), time.Second); ok {
		t.Error("matched another run's message")
	}
	if _, ok := tr.latency([]byte(`{"content":"`+tr.content(4)+`"}`), time.Second); ok {
		t.Error("matched a message that was never sent")
	}
}

func TestScenarios(t *testing.T) {
	got, err := Scenarios("all")
	if err != nil || strings.Join(got, ",") != "baseline,send,list,streams" {
		t.Errorf("all: got %v %v", got, err)
	}
	if got, err := Scenarios("send, list"); err != nil || strings.Join(got, ",") != "send,list" {
		t.Errorf("list: got %v %v", got, err)
	}
	if _, err := Scenarios("sned"); err == nil {
		t.Error("a typo was accepted")
	}
}

// The memory budgets are DESIGN.md's decimal MB and KB, and the figures say
// which unit they are in: 29.5 MB of RSS is 28.1 MiB and under budget, 30.5
// MB is not, and a stream of 15.9 KiB (16,282 bytes) is over 16 KB.
func TestMemoryBudgetUnits(t *testing.T) {
	check := func(idle, perStream float64) (Budget, Budget) {
		r := &Report{Idle: &serverStats{RSS: idle}, Streams: &StreamsReport{Opened: 10_000, RSSPerStream: perStream}}
		var rss, stream Budget
		for _, b := range budgets(r) {
			switch b.What {
			case "idle server RSS":
				rss = b
			case "memory per idle stream (10000 streams)":
				stream = b
			}
		}
		return rss, stream
	}
	rss, stream := check(29.5e6, 15_000)
	if !rss.Met || rss.Measured != "28.1 MiB" || !stream.Met || !strings.HasPrefix(stream.Measured, "14.6 KiB RSS") {
		t.Errorf("under budget: %+v, %+v", rss, stream)
	}
	rss, stream = check(30.5e6, 16_282)
	if rss.Met || stream.Met || stream.Measured[:8] != "15.9 KiB" {
		t.Errorf("over budget: %+v, %+v", rss, stream)
	}
	var text strings.Builder
	(&Report{Idle: &serverStats{RSS: 12 << 20}}).WriteText(&text)
	if !strings.Contains(text.String(), "RSS 12.0 MiB") || strings.Contains(text.String(), " MB") {
		t.Errorf("report text:\n%s", text.String())
	}
}
