package httpapi

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestOriginWarningsAreBounded(t *testing.T) {
	w := newOriginWarnings(3, time.Minute)
	t0 := time.Unix(1_000_000, 0)
	for i, tt := range []struct {
		origin string
		at     time.Duration
		want   bool
	}{
		{"https://a", 0, true},
		{"https://a", 59 * time.Second, false},
		{"https://b", time.Second, true},
		{"https://c", 2 * time.Second, true},
		{"https://d", 3 * time.Second, false}, // full, nothing expired
		{"https://a", 61 * time.Second, true}, // its own entry expired
		{"https://d", 62 * time.Second, true}, // b expired and made room
		{"https://e", 63 * time.Second, true}, // c expired
		{"https://f", 64 * time.Second, false},
	} {
		if got := w.due(tt.origin, t0.Add(tt.at)); got != tt.want {
			t.Fatalf("step %d (%s at %v): got %v, want %v", i, tt.origin, tt.at, got, tt.want)
		}
		if len(w.last) > 3 {
			t.Fatalf("step %d: %d origins remembered, want at most 3", i, len(w.last))
		}
	}
}

// TestOriginWarningsConcurrent runs under -race: many requests warn at once.
func TestOriginWarningsConcurrent(t *testing.T) {
	w := newOriginWarnings(64, time.Minute)
	var wg sync.WaitGroup
	var mu sync.Mutex
	warned := 0
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				if w.due(fmt.Sprintf("https://o%d", (g+i)%16), time.Now()) {
					mu.Lock()
					warned++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if warned != 16 {
		t.Fatalf("got %d warnings, want 16 (one per origin)", warned)
	}
}
