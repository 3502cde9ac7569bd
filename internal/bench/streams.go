package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// StreamsReport is the outcome of the streams scenario: many idle visitor
// streams held open, and what they cost the server.
type StreamsReport struct {
	Requested   int `json:"requested"`
	Opened      int `json:"opened"`
	SourceAddrs int `json:"source_addrs"`
	// CreateS is the time to create the rooms; OpenS to open every stream
	// (OpenConcurrency at a time), each until its first event.
	CreateS         float64     `json:"create_s"`
	OpenS           float64     `json:"open_s"`
	OpenConcurrency int         `json:"open_concurrency"`
	Open            Latency     `json:"open_latency"`
	Before          serverStats `json:"before"`
	After           serverStats `json:"after"`
	// Per stream: RSS growth, and Go heap + stack growth, divided by the
	// streams opened.
	RSSPerStream       float64 `json:"rss_per_stream_bytes"`
	HeapStackPerStream float64 `json:"heap_stack_per_stream_bytes"`
	// ForcedGC tells whether the server collected garbage before each
	// reading (through the GC hook); without it the numbers include garbage.
	ForcedGC bool           `json:"forced_gc"`
	Errors   map[string]int `json:"errors"`
	Notes    []string       `json:"notes,omitempty"`
}

// streamsOpenConcurrency is how many streams are being opened at once.
const streamsOpenConcurrency = 128

// streamsOpenTimeout bounds the opening phase.
const streamsOpenTimeout = 3 * time.Minute

func runStreams(ctx context.Context, c *client, cfg Config, p *progress) (*StreamsReport, error) {
	n := cfg.Streams
	rep := &StreamsReport{Requested: n, SourceAddrs: max(len(c.dial.addrs), 1), OpenConcurrency: streamsOpenConcurrency}
	t0 := time.Now()
	visitors, _, err := createVisitors(ctx, c, n, 64, p, "streams")
	if err != nil {
		return nil, err
	}
	rep.CreateS = time.Since(t0).Seconds()
	c.reqs.CloseIdleConnections()

	p.printf("streams: settling %s before measuring", cfg.Settle)
	if rep.Before, err = settledStats(ctx, c, cfg, rep); err != nil {
		return nil, err
	}

	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	openCtx, cancelOpen := context.WithTimeout(sctx, streamsOpenTimeout)
	defer cancelOpen()
	rec := newRecorder(n)
	errs := &errorCounts{}
	var opened atomic.Int64
	var mu sync.Mutex
	streams := make([]*stream, 0, n)
	var readers sync.WaitGroup
	defer func() {
		cancel()
		mu.Lock()
		for _, s := range streams {
			s.close()
		}
		mu.Unlock()
		readers.Wait()
	}()

	stop := every(func() { p.printf("streams: open %d/%d errors %d", opened.Load(), n, errs.total()) })
	sem := make(chan struct{}, streamsOpenConcurrency)
	var next atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < streamsOpenConcurrency; w++ {
		wg.Go(func() {
			for openCtx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				v := visitors[i]
				sem <- struct{}{}
				t := time.Now()
				s, err := openFirst(sctx, c, "/api/v1/rooms/"+v.roomID+"/events", v.token)
				<-sem
				if err != nil {
					errs.add(err)
					if errs.total() > 100 {
						cancelOpen()
					}
					continue
				}
				rec.add(time.Since(t))
				opened.Add(1)
				mu.Lock()
				streams = append(streams, s)
				mu.Unlock()
				// Hold the stream: read its keep-alives until the end.
				readers.Go(func() {
					for {
						if _, err := s.sse.next(); err != nil {
							return
						}
					}
				})
			}
		})
	}
	wg.Wait()
	rep.OpenS = time.Since(start).Seconds()
	stop()
	rep.Opened = int(opened.Load())
	rep.Open = rec.summary()
	rep.Errors = errs.snapshot()
	if rateLimited(rep.Errors) {
		rep.Notes = append(rep.Notes, "the server refused streams with 429: over PARLEY_MAX_STREAMS, or rate limits are on")
	}
	if rep.Opened == 0 {
		return rep, fmt.Errorf("no stream opened: %v", rep.Errors)
	}

	p.printf("streams: %d open; settling %s before measuring", rep.Opened, cfg.Settle)
	if rep.After, err = settledStats(ctx, c, cfg, rep); err != nil {
		return nil, err
	}
	if got := int(rep.After.OpenStreams - rep.Before.OpenStreams); got != rep.Opened {
		rep.Notes = append(rep.Notes, fmt.Sprintf("the server counts %d more open streams, the tool %d", got, rep.Opened))
	}
	rep.RSSPerStream = (rep.After.RSS - rep.Before.RSS) / float64(rep.Opened)
	rep.HeapStackPerStream = (rep.After.HeapInuse + rep.After.StackInuse - rep.Before.HeapInuse - rep.Before.StackInuse) / float64(rep.Opened)
	return rep, ctx.Err()
}

// settledStats waits for the server to settle, has it collect garbage when
// it can, and reads its numbers.
func settledStats(ctx context.Context, c *client, cfg Config, rep *StreamsReport) (serverStats, error) {
	if err := sleep(ctx, cfg.Settle); err != nil {
		return serverStats{}, err
	}
	if cfg.GC != nil {
		// Twice: a stack shrinks by half per collection.
		for i := 0; i < 2; i++ {
			if err := cfg.GC(ctx); err != nil {
				rep.Notes = append(rep.Notes, "could not make the server collect garbage: "+err.Error())
				rep.ForcedGC = false
				break
			}
			rep.ForcedGC = true
		}
		if err := sleep(ctx, time.Second); err != nil {
			return serverStats{}, err
		}
	}
	st, err := c.stats(ctx)
	if err != nil {
		return serverStats{}, fmt.Errorf("read /metrics: %w", err)
	}
	return st, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
