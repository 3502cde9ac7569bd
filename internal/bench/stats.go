package bench

import (
	"errors"
	"fmt"
	"math"
	"net"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Latency summarises a set of durations, in milliseconds.
type Latency struct {
	Count int     `json:"count"`
	Mean  float64 `json:"mean_ms"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

// maxSamples bounds the memory of one recorder; every run is bounded in
// count well below it, so it only guards against a flag typo.
const maxSamples = 4 << 20

// recorder collects durations from many goroutines.
type recorder struct {
	mu      sync.Mutex
	samples []time.Duration
	dropped int
}

func newRecorder(expected int) *recorder {
	return &recorder{samples: make([]time.Duration, 0, min(max(expected, 16), maxSamples))}
}

func (r *recorder) add(d time.Duration) {
	r.mu.Lock()
	if len(r.samples) < maxSamples {
		r.samples = append(r.samples, d)
	} else {
		r.dropped++
	}
	r.mu.Unlock()
}

func (r *recorder) summary() Latency {
	r.mu.Lock()
	s := slices.Clone(r.samples)
	r.mu.Unlock()
	return summarize(s)
}

// summarize sorts s in place and reads nearest-rank percentiles.
func summarize(s []time.Duration) Latency {
	if len(s) == 0 {
		return Latency{}
	}
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	rank := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return ms(s[max(i, 0)])
	}
	return Latency{
		Count: len(s),
		Mean:  ms(sum / time.Duration(len(s))),
		P50:   rank(0.50),
		P90:   rank(0.90),
		P99:   rank(0.99),
		Max:   ms(s[len(s)-1]),
	}
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// errorCounts counts failures by what the server answered ("429
// rate_limited") or by what went wrong on the way ("transport: timeout").
type errorCounts struct {
	mu sync.Mutex
	m  map[string]int
}

func (e *errorCounts) add(err error) {
	key := errorKey(err)
	e.mu.Lock()
	if e.m == nil {
		e.m = make(map[string]int)
	}
	e.m[key]++
	e.mu.Unlock()
}

func (e *errorCounts) snapshot() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]int, len(e.m))
	for k, v := range e.m {
		out[k] = v
	}
	return out
}

func (e *errorCounts) total() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, v := range e.m {
		n += v
	}
	return n
}

// rateLimited tells whether the server answered 429 at least once.
func rateLimited(m map[string]int) bool {
	for k := range m {
		if strings.HasPrefix(k, "429") {
			return true
		}
	}
	return false
}

// failed is the error of a set-up step that counted errors (nil when there
// were none), naming them and, when the server answered 429, why.
func (e *errorCounts) failed(what string) error {
	m := e.snapshot()
	if len(m) == 0 {
		return nil
	}
	note := ""
	if rateLimited(m) {
		note = "; " + rateLimitNote
	}
	return fmt.Errorf("%s failed: %v%s", what, m, note)
}

const rateLimitNote = "the server answered 429: its rate limits are on; run it with PARLEY_RATE_LIMITS=off for load runs"

func errorKey(err error) string {
	var se *statusError
	if errors.As(err, &se) {
		return fmt.Sprintf("%d %s", se.Status, se.Code)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "transport: timeout"
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return "transport: " + oe.Op + ": " + errors.Unwrap(oe).Error()
	}
	msg := err.Error()
	if len(msg) > 80 {
		msg = msg[:80]
	}
	return "other: " + msg
}

// sortedKeys returns the keys of m in order, for stable output.
func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
