package bench

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Throughput is one closed-loop run: Concurrency senders post as fast as the
// server answers.
type Throughput struct {
	Target      string         `json:"target"`
	Concurrency int            `json:"concurrency"`
	DurationS   float64        `json:"duration_s"`
	Requests    int64          `json:"requests"`
	OK          int64          `json:"ok"`
	Throughput  float64        `json:"throughput"`
	Latency     Latency        `json:"latency"`
	Errors      map[string]int `json:"errors"`
}

// BaselineReport compares Parley's send path with a bare handler running the
// same store call, on the same rooms, the same Redis and the same machine at
// the same moment (the two are driven in alternating rounds).
type BaselineReport struct {
	Rooms       int         `json:"rooms"`
	Concurrency int         `json:"concurrency"`
	Rounds      int         `json:"rounds"`
	Parley      Throughput  `json:"parley"`
	Baseline    *Throughput `json:"baseline,omitempty"`
	// Ratio is Parley's throughput over the baseline's.
	Ratio float64 `json:"ratio"`
	// RedisPushCeiling is a pipelined RPUSH loop's rate on the same Redis,
	// in operations per second.
	RedisPushCeiling float64  `json:"redis_push_ceiling"`
	Notes            []string `json:"notes,omitempty"`
}

// baselineRounds alternates the two targets so that a change in the
// machine's background load hits both alike.
const baselineRounds = 2

func runBaseline(ctx context.Context, c, bc *client, cfg Config, p *progress) (*BaselineReport, error) {
	rep := &BaselineReport{Rooms: cfg.Visitors, Concurrency: cfg.Concurrency, Rounds: baselineRounds}
	visitors, _, err := createVisitors(ctx, c, cfg.Visitors, 32, p, "baseline")
	if err != nil {
		return nil, err
	}
	round := max(cfg.Duration/baselineRounds, 500*time.Millisecond)
	parley := &closedLoop{target: "parley", c: c, visitors: visitors, conc: cfg.Concurrency, auth: true,
		path: func(v visitor) string { return "/api/v1/rooms/" + v.roomID + "/messages" }}
	var base *closedLoop
	if bc != nil {
		base = &closedLoop{target: "baseline", c: bc, visitors: visitors, conc: cfg.Concurrency,
			path: func(v visitor) string { return "/rooms/" + v.roomID + "/messages" }}
	} else {
		rep.Notes = append(rep.Notes, "no baseline: the tool has no access to the server's Redis (give --redis-url with --url)")
	}
	// Warm up both (connections, script cache, the server's pools), unmeasured.
	warm := min(round/2, time.Second)
	if base != nil {
		if err := base.run(ctx, warm, p, false); err != nil {
			return nil, err
		}
	}
	if err := parley.run(ctx, warm, p, false); err != nil {
		return nil, err
	}
	for i := 0; i < baselineRounds; i++ {
		if base != nil {
			if err := base.run(ctx, round, p, true); err != nil {
				return nil, err
			}
		}
		if err := parley.run(ctx, round, p, true); err != nil {
			return nil, err
		}
	}
	rep.Parley = parley.report()
	if base != nil {
		b := base.report()
		rep.Baseline = &b
		if b.Throughput > 0 {
			rep.Ratio = rep.Parley.Throughput / b.Throughput
		}
	}
	if rateLimited(rep.Parley.Errors) {
		rep.Notes = append(rep.Notes, rateLimitNote)
	}
	if cfg.RedisCeiling != nil {
		p.printf("baseline: raw Redis RPUSH ceiling")
		v, err := cfg.RedisCeiling(ctx)
		if err != nil {
			rep.Notes = append(rep.Notes, "raw Redis ceiling: "+err.Error())
		}
		rep.RedisPushCeiling = v
	}
	return rep, ctx.Err()
}

// closedLoop posts messages from conc senders, each waiting for its answer
// before the next, accumulating over several rounds.
type closedLoop struct {
	target   string
	c        *client
	visitors []visitor
	conc     int
	auth     bool
	path     func(visitor) string

	elapsed time.Duration
	reqs    atomic.Int64
	ok      atomic.Int64
	rec     *recorder
	errs    errorCounts
	seq     atomic.Int64
}

// maxClosedLoopRate bounds the request count of a round, far above what one
// machine serves.
const maxClosedLoopRate = 200_000

// run drives the target for d; unless measure, nothing is recorded (a
// warm-up).
func (l *closedLoop) run(ctx context.Context, d time.Duration, p *progress, measure bool) error {
	if !measure {
		w := &closedLoop{target: l.target, c: l.c, visitors: l.visitors, conc: l.conc, auth: l.auth, path: l.path}
		return w.run(ctx, d, p, true)
	}
	if l.rec == nil {
		l.rec = newRecorder(int(d.Seconds() * 20_000))
	}
	limit := l.reqs.Load() + int64(d.Seconds()*maxClosedLoopRate)
	start := time.Now()
	deadline := start.Add(d)
	stop := every(func() {
		p.printf("baseline: %-8s %4.1fs/%s requests %d ok %d", l.target, time.Since(start).Seconds(), d, l.reqs.Load(), l.ok.Load())
	})
	defer stop()
	var wg sync.WaitGroup
	for w := 0; w < l.conc; w++ {
		v := l.visitors[w%len(l.visitors)]
		path := l.path(v)
		token := ""
		if l.auth {
			token = v.token
		}
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(deadline) && l.reqs.Add(1) <= limit {
				body := sendBody(fmt.Sprintf("closed loop %s %d, a message of a typical length for a chat.", l.target, l.seq.Add(1)))
				t0 := time.Now()
				if err := l.c.do(ctx, http.MethodPost, path, token, body, nil); err != nil {
					l.errs.add(err)
					if ctx.Err() != nil {
						return
					}
					continue
				}
				l.rec.add(time.Since(t0))
				l.ok.Add(1)
			}
		})
	}
	wg.Wait()
	l.elapsed += time.Since(start)
	return ctx.Err()
}

func (l *closedLoop) report() Throughput {
	t := Throughput{
		Target: l.target, Concurrency: l.conc, DurationS: l.elapsed.Seconds(),
		Requests: min(l.reqs.Load(), l.ok.Load()+int64(l.errs.total())), OK: l.ok.Load(),
		Latency: l.rec.summary(), Errors: l.errs.snapshot(),
	}
	if l.elapsed > 0 {
		t.Throughput = float64(t.OK) / l.elapsed.Seconds()
	}
	return t
}
