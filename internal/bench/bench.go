// Package bench is Parley's load generator: it drives a running Parley over
// HTTP exactly as its clients do (visitors create a room, hold its event
// stream and post messages; admins log in and hold the admin stream) and
// reports throughput, latency percentiles and the server's memory, next to
// the ceiling of a bare handler running the same Redis script on the same
// machine. It is the client side only: net/http, no gin, no Redis client; the
// server, the baseline handler and the raw Redis ceiling are handed in by
// cmd/parley.
//
// Every run is bounded in time and in count, and by default it only loads
// loopback servers.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"
)

// Scenario names.
const (
	ScenarioSend     = "send"
	ScenarioStreams  = "streams"
	ScenarioList     = "list"
	ScenarioBaseline = "baseline"
	ScenarioAll      = "all"
)

// Scenarios expands a --scenario value into the scenarios to run, in order.
func Scenarios(s string) ([]string, error) {
	switch s {
	case ScenarioAll:
		return []string{ScenarioBaseline, ScenarioSend, ScenarioList, ScenarioStreams}, nil
	case ScenarioSend, ScenarioStreams, ScenarioList, ScenarioBaseline:
		return []string{s}, nil
	}
	var out []string
	for _, p := range strings.Split(s, ",") {
		switch p = strings.TrimSpace(p); p {
		case ScenarioSend, ScenarioStreams, ScenarioList, ScenarioBaseline:
			out = append(out, p)
		default:
			return nil, fmt.Errorf("bench: unknown scenario %q (want send, streams, list, baseline or all)", p)
		}
	}
	return out, nil
}

// Config is one run of the tool.
type Config struct {
	// URL is the Parley to load (checked with CheckTarget by the caller).
	URL           string
	AdminUser     string
	AdminPassword string
	// MetricsToken is the server's PARLEY_METRICS_TOKEN, sent to read its
	// /metrics.
	MetricsToken string
	Scenarios    []string

	// send
	Visitors int
	Admins   int
	Rate     float64 // messages per second, all visitors together
	Duration time.Duration
	// baseline: closed-loop senders per target
	Concurrency int
	// streams
	Streams     int
	SourceAddrs int // loopback source addresses for the streams (0: one per 20,000 streams)
	Settle      time.Duration
	// list
	Rooms        int
	ListRequests int // requests per kind of page

	// BaselineURL serves the bare send handler (baseline.Handler), or is
	// empty when it cannot run (no access to the server's Redis).
	BaselineURL string
	// RedisCeiling measures the raw pipelined RPUSH rate of the server's
	// Redis, or is nil.
	RedisCeiling func(ctx context.Context) (float64, error)
	// Seed, when set, creates n rooms with one visitor message each straight
	// through the store (much faster than through the API) and reports its
	// progress; nil seeds through the API.
	Seed func(ctx context.Context, n int, progress func(done int)) error

	// GC, when set, makes the server collect garbage (and so shrink idle
	// goroutine stacks) before its memory is read, so that the numbers are
	// what the streams keep rather than what opening them left behind.
	GC func(ctx context.Context) error

	// Server and Redis say what was measured, for the report.
	Server string
	Redis  string
	// InProcess: the server runs in this process, so its RSS includes the
	// load generator's own memory.
	InProcess bool
	// IdleAfter is how long after the start the server's idle memory is
	// read (bench-peer waits 2 s): a server drops the pages only its start
	// used a second in. Zero reads it at once (a server started elsewhere).
	IdleAfter time.Duration

	// Progress receives a status line about once a second; TTY makes it
	// rewrite one line in place.
	Progress io.Writer
	TTY      bool
}

// Limits of the flags: every run stays bounded in count and in time.
const (
	MaxVisitors    = 10_000
	MaxAdmins      = 100
	MaxRate        = 100_000
	MaxDuration    = 10 * time.Minute
	MaxConcurrency = 1_000
	MaxStreams     = 100_000
	MaxRooms       = 2_000_000
	MaxListReqs    = 100_000
)

func (c *Config) validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.Visitors >= 1 && c.Visitors <= MaxVisitors, "--visitors: want 1..%d", MaxVisitors)
	check(c.Admins >= 0 && c.Admins <= MaxAdmins, "--admins: want 0..%d", MaxAdmins)
	check(c.Rate > 0 && c.Rate <= MaxRate, "--rate: want 1..%d", MaxRate)
	check(c.Duration >= 100*time.Millisecond && c.Duration <= MaxDuration, "--duration: want 100ms..%s", MaxDuration)
	check(c.Concurrency >= 1 && c.Concurrency <= MaxConcurrency, "--concurrency: want 1..%d", MaxConcurrency)
	check(c.Streams >= 1 && c.Streams <= MaxStreams, "--streams: want 1..%d", MaxStreams)
	check(c.Rooms >= 1 && c.Rooms <= MaxRooms, "--rooms: want 1..%d", MaxRooms)
	check(c.ListRequests >= 1 && c.ListRequests <= MaxListReqs, "--list-requests: want 1..%d", MaxListReqs)
	check(c.SourceAddrs >= 0 && c.SourceAddrs <= 250, "--source-addrs: want 0..250")
	return errors.Join(errs...)
}

// Machine describes where the run happened.
type Machine struct {
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpu_model"`
	MemTotal  string `json:"mem_total"`
	LoadStart string `json:"load_start"`
	LoadEnd   string `json:"load_end"`
	GoVersion string `json:"go_version"`
}

// Report is the outcome of one run.
type Report struct {
	Started   time.Time       `json:"started"`
	Server    string          `json:"server"`
	Redis     string          `json:"redis"`
	InProcess bool            `json:"in_process"`
	Machine   Machine         `json:"machine"`
	Idle      *serverStats    `json:"idle,omitempty"`
	Baseline  *BaselineReport `json:"baseline,omitempty"`
	Send      *SendReport     `json:"send,omitempty"`
	List      *ListReport     `json:"list,omitempty"`
	Streams   *StreamsReport  `json:"streams,omitempty"`
	Budgets   []Budget        `json:"budgets"`
	Notes     []string        `json:"notes,omitempty"`
}

// Budget is one line of the performance budget of docs/PERFORMANCE.md against what this run
// measured.
type Budget struct {
	What     string `json:"what"`
	Budget   string `json:"budget"`
	Measured string `json:"measured"`
	Met      bool   `json:"met"`
}

// Run runs the configured scenarios against cfg.URL.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.SourceAddrs == 0 {
		cfg.SourceAddrs = (cfg.Streams + 19_999) / 20_000
	}
	if cfg.Settle <= 0 {
		cfg.Settle = 3 * time.Second
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	target, err := CheckTarget(cfg.URL, true) // the caller checked loopback
	if err != nil {
		return nil, err
	}
	p := &progress{w: cfg.Progress, tty: cfg.TTY}
	rep := &Report{
		Started: time.Now().UTC(), Server: cfg.Server, Redis: cfg.Redis, InProcess: cfg.InProcess,
		Machine: machine(),
	}
	conns := max(cfg.Concurrency, 64)
	c := newClient(target.String(), conns, newDialer(cfg.SourceAddrs, target))
	c.metricsToken = cfg.MetricsToken
	defer c.close()

	select {
	case <-time.After(cfg.IdleAfter):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if st, err := c.stats(ctx); err == nil {
		rep.Idle = &st
	} else {
		rep.Notes = append(rep.Notes, "could not read the server's /metrics: "+err.Error())
	}
	for _, sc := range cfg.Scenarios {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		var err error
		switch sc {
		case ScenarioSend:
			rep.Send, err = runSend(ctx, c, cfg, p)
		case ScenarioBaseline:
			var bc *client
			if cfg.BaselineURL != "" {
				bc = newClient(cfg.BaselineURL, conns, newDialer(1, target))
			}
			rep.Baseline, err = runBaseline(ctx, c, bc, cfg, p)
			if bc != nil {
				bc.close()
			}
		case ScenarioList:
			rep.List, err = runList(ctx, c, cfg, p)
		case ScenarioStreams:
			sc := newClient(target.String(), conns, newDialer(cfg.SourceAddrs, target))
			sc.metricsToken = cfg.MetricsToken
			rep.Streams, err = runStreams(ctx, sc, cfg, p)
			sc.close()
		}
		p.done()
		if err != nil {
			return rep, fmt.Errorf("bench: %s: %w", sc, err)
		}
	}
	rep.Machine.LoadEnd = loadAvg()
	rep.Budgets = budgets(rep)
	if cfg.InProcess {
		rep.Notes = append(rep.Notes, "the server ran inside the load tool: its RSS includes the tool's own memory; use --server=process or --url for memory numbers")
	}
	return rep, nil
}

// budgets compares the report with the performance budget of docs/PERFORMANCE.md.
func budgets(r *Report) []Budget {
	var out []Budget
	if b := r.Baseline; b != nil && b.Ratio > 0 {
		out = append(out, Budget{
			What: "send throughput vs bare handler", Budget: ">= 60%",
			Measured: fmt.Sprintf("%.0f%% (%.0f / %.0f msg/s)", 100*b.Ratio, b.Parley.Throughput, b.Baseline.Throughput),
			Met:      b.Ratio >= 0.60,
		})
	}
	if s := r.Send; s != nil && s.VisitorDelivery.Count > 0 {
		p99 := math.Max(s.VisitorDelivery.P99, s.AdminDelivery.P99)
		out = append(out, Budget{
			What:     fmt.Sprintf("delivery p99 at %.0f msg/s", s.TargetRate),
			Budget:   "< 10 ms at 1000 msg/s",
			Measured: fmt.Sprintf("%.2f ms (visitor %.2f, admin %.2f; achieved %.0f msg/s)", p99, s.VisitorDelivery.P99, s.AdminDelivery.P99, s.Throughput),
			Met:      p99 < 10 && s.TargetRate >= 1000 && s.Throughput >= 0.95*s.TargetRate && s.Lost() == 0,
		})
	}
	if s := r.Streams; s != nil && s.Opened > 0 {
		out = append(out, Budget{
			What:     fmt.Sprintf("memory per idle stream (%d streams)", s.Opened),
			Budget:   "< 16 KB (15.6 KiB) each at 10,000",
			Measured: fmt.Sprintf("%.1f KiB RSS, %.1f KiB heap+stack", s.RSSPerStream/1024, s.HeapStackPerStream/1024),
			Met:      !r.InProcess && s.Opened >= 10_000 && s.RSSPerStream < 16_000,
		})
	}
	if l := r.List; l != nil && l.First.Count > 0 {
		p99 := math.Max(math.Max(math.Max(l.First.P99, l.Unread.P99), math.Max(l.Middle.P99, l.Deep.P99)), l.View.P99)
		out = append(out, Budget{
			What:     fmt.Sprintf("room list p99, 50 of %d rooms", l.IndexSize),
			Budget:   "< 5 ms at 100,000",
			Measured: fmt.Sprintf("%.2f ms (first %.2f, unread %.2f, unassigned %.2f, middle %.2f, deep %.2f)", p99, l.First.P99, l.Unread.P99, l.View.P99, l.Middle.P99, l.Deep.P99),
			Met:      p99 < 5 && l.IndexSize >= 100_000,
		})
	}
	if r.Idle != nil {
		out = append(out, Budget{
			What: "idle server RSS", Budget: "< 30 MB (28.6 MiB)",
			Measured: fmt.Sprintf("%.1f MiB", r.Idle.RSS/(1<<20)),
			Met:      !r.InProcess && r.Idle.RSS < 30e6,
		})
	}
	return out
}

// progress writes the status line.
type progress struct {
	w   io.Writer
	tty bool
	mu  sync.Mutex
	on  bool
}

func (p *progress) printf(format string, args ...any) {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	line := fmt.Sprintf(format, args...)
	if p.tty {
		fmt.Fprintf(p.w, "\r\x1b[K%s", line)
		p.on = true
		return
	}
	fmt.Fprintln(p.w, line)
}

// done ends an in-place status line.
func (p *progress) done() {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.on {
		fmt.Fprintln(p.w)
		p.on = false
	}
}

// every calls fn once a second until the returned stop is called.
func every(fn func()) (stop func()) {
	t := time.NewTicker(time.Second)
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				fn()
			}
		}
	}()
	return func() {
		t.Stop()
		close(quit)
		<-done
	}
}

func machine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), LoadStart: loadAvg()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && k == "MemTotal" {
				var kb float64
				if _, err := fmt.Sscanf(strings.TrimSpace(v), "%f kB", &kb); err == nil {
					m.MemTotal = fmt.Sprintf("%.1f GiB", kb/(1<<20))
				}
				break
			}
		}
	}
	return m
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
