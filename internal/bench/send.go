package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// SendReport is the outcome of the send scenario: visitors with their streams
// open send at a fixed total rate while admins watch.
type SendReport struct {
	Visitors        int            `json:"visitors"`
	Admins          int            `json:"admins"`
	TargetRate      float64        `json:"target_rate"`
	DurationS       float64        `json:"duration_s"`
	Sent            int64          `json:"sent"`
	OK              int64          `json:"ok"`
	Throughput      float64        `json:"throughput"`
	SendLatency     Latency        `json:"send_latency"`
	VisitorDelivery Latency        `json:"visitor_delivery"`
	AdminDelivery   Latency        `json:"admin_delivery"`
	VisitorLost     int64          `json:"visitor_lost"`
	AdminLost       int64          `json:"admin_lost"`
	Errors          map[string]int `json:"errors"`
	Notes           []string       `json:"notes,omitempty"`
}

// Lost is the number of deliveries that never arrived.
func (r *SendReport) Lost() int64 { return r.VisitorLost + r.AdminLost }

// deliveryGrace is how long the tool waits, after the last send, for the
// events still on their way.
const deliveryGrace = 5 * time.Second

// tracker matches the message events on the streams with the sends: each
// message's content starts with the run's tag and its number, so an event is
// matched even when it arrives before the POST's answer does.
type tracker struct {
	base    time.Time
	tag     []byte // `"content":"TAG`
	started []atomic.Int64
}

func newTracker(n int) *tracker {
	return &tracker{base: time.Now(), tag: []byte(`"content":"` + runTag()), started: make([]atomic.Int64, n)}
}

// runTag is a random prefix that no message of an earlier run carries.
func runTag() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return "b" + base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]) + "-"
}

func (t *tracker) content(n int) string {
	return string(t.tag[len(`"content":"`):]) + strconv.Itoa(n) + " hello from parley bench, a message of a typical length."
}

func (t *tracker) now() time.Duration { return time.Since(t.base) }

// latency returns how long ago message n was sent, when data is the JSON of
// one of this run's messages.
func (t *tracker) latency(data []byte, now time.Duration) (time.Duration, bool) {
	i := bytes.Index(data, t.tag)
	if i < 0 {
		return 0, false
	}
	n := 0
	digits := data[i+len(t.tag):]
	j := 0
	for ; j < len(digits) && digits[j] >= '0' && digits[j] <= '9'; j++ {
		n = n*10 + int(digits[j]-'0')
	}
	if j == 0 || n >= len(t.started) {
		return 0, false
	}
	st := t.started[n].Load()
	if st == 0 {
		return 0, false
	}
	return now - time.Duration(st), true
}

// watch reads s until it ends, recording the delivery latency of every
// message event of this run, and returns why it ended: a stream has no
// clean end (io.EOF is a server that hung up), so the error is never nil.
func (t *tracker) watch(s *stream, rec *recorder, seen *atomic.Int64) error {
	for {
		ev, err := s.sse.next()
		if err != nil {
			return err
		}
		if ev.Name != "message" {
			continue
		}
		if d, ok := t.latency(ev.Data, t.now()); ok {
			rec.add(d)
			seen.Add(1)
		}
	}
}

// createVisitors creates n rooms through the API, conc at a time.
func createVisitors(ctx context.Context, c *client, n, conc int, p *progress, label string) ([]visitor, *errorCounts, error) {
	out := make([]visitor, n)
	errs := &errorCounts{}
	var next, done atomic.Int64
	stop := every(func() { p.printf("%s: creating rooms %d/%d", label, done.Load(), n) })
	defer stop()
	var wg sync.WaitGroup
	for w := 0; w < min(conc, n); w++ {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				v, err := c.createRoom(ctx, "bench "+strconv.Itoa(i))
				if err != nil {
					errs.add(err)
					if errs.total() > 100 {
						return
					}
					continue
				}
				out[i] = v
				done.Add(1)
			}
		})
	}
	wg.Wait()
	if err := errs.failed("creating rooms"); err != nil {
		return nil, errs, err
	}
	return out, errs, ctx.Err()
}

// openFirst opens a stream and waits for its first event (presence for a
// visitor, ready for an admin): from then on the server's hub holds the
// subscription.
func openFirst(ctx context.Context, c *client, path, token string) (*stream, error) {
	s, err := c.openStream(ctx, path, token)
	if err != nil {
		return nil, err
	}
	first := make(chan error, 1)
	go func() {
		_, err := s.sse.next()
		first <- err
	}()
	select {
	case err := <-first:
		if err != nil {
			s.close()
			return nil, fmt.Errorf("bench: stream ended before its first event: %w", err)
		}
		return s, nil
	case <-time.After(requestTimeout):
		s.close()
		<-first
		return nil, fmt.Errorf("bench: no first event on %s within %s", path, requestTimeout)
	}
}

func runSend(ctx context.Context, c *client, cfg Config, p *progress) (*SendReport, error) {
	rep := &SendReport{Visitors: cfg.Visitors, Admins: cfg.Admins, TargetRate: cfg.Rate, DurationS: cfg.Duration.Seconds()}
	visitors, _, err := createVisitors(ctx, c, cfg.Visitors, 32, p, "send")
	if err != nil {
		return nil, err
	}
	total := max(int(cfg.Rate*cfg.Duration.Seconds()), 1)
	tr := newTracker(total)
	vRec, aRec := newRecorder(total), newRecorder(total*cfg.Admins)
	var vSeen, aSeen atomic.Int64
	streamErrs := &errorCounts{}

	sctx, cancelStreams := context.WithCancel(ctx)
	defer cancelStreams()
	var readers sync.WaitGroup
	var streams []*stream
	defer func() {
		cancelStreams()
		for _, s := range streams {
			s.close()
		}
		readers.Wait()
	}()
	watch := func(s *stream, rec *recorder, seen *atomic.Int64) {
		streams = append(streams, s)
		readers.Go(func() {
			err := tr.watch(s, rec, seen)
			// The run ends every stream when it is done with it (sctx is
			// cancelled first); one that ends before is an error.
			if sctx.Err() == nil {
				streamErrs.add(fmt.Errorf("stream ended early: %w", err))
			}
		})
	}
	p.printf("send: opening %d visitor and %d admin streams", cfg.Visitors, cfg.Admins)
	for i := 0; i < cfg.Admins; i++ {
		// One login per admin stream, as each console tab of a team would
		// hold (a token may hold only a few streams).
		tok, err := c.login(ctx, cfg.AdminUser, cfg.AdminPassword)
		if err != nil {
			return nil, err
		}
		s, err := openFirst(sctx, c, "/api/v1/admin/events", tok)
		if err != nil {
			return nil, fmt.Errorf("admin stream: %w", err)
		}
		watch(s, aRec, &aSeen)
	}
	for _, v := range visitors {
		s, err := openFirst(sctx, c, "/api/v1/rooms/"+v.roomID+"/events", v.token)
		if err != nil {
			return nil, fmt.Errorf("visitor stream: %w", err)
		}
		watch(s, vRec, &vSeen)
	}

	sendRec := newRecorder(total)
	errs := &errorCounts{}
	var sent, ok atomic.Int64
	workers := min(max(64, int(cfg.Rate/50)), 512)
	jobs := make(chan int, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Go(func() {
			for n := range jobs {
				v := visitors[n%len(visitors)]
				body := sendBody(tr.content(n))
				t0 := tr.now()
				tr.started[n].Store(int64(t0))
				err := c.do(ctx, http.MethodPost, "/api/v1/rooms/"+v.roomID+"/messages", v.token, body, nil)
				if err != nil {
					errs.add(err)
					continue
				}
				sendRec.add(tr.now() - t0)
				ok.Add(1)
			}
		})
	}
	start := time.Now()
	stop := every(func() {
		p.printf("send: %4.1fs/%s sent %d ok %d errors %d · events visitor %d admin %d",
			time.Since(start).Seconds(), cfg.Duration, sent.Load(), ok.Load(), errs.total(), vSeen.Load(), aSeen.Load())
	})
	interval := float64(time.Second) / cfg.Rate
dispatch:
	for n := 0; n < total; n++ {
		if d := time.Until(start.Add(time.Duration(float64(n) * interval))); d > 0 {
			select {
			case <-ctx.Done():
				break dispatch
			case <-time.After(d):
			}
		}
		select {
		case jobs <- n:
			sent.Add(1)
		case <-ctx.Done():
			break dispatch
		}
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	deadline := time.Now().Add(deliveryGrace)
	for time.Now().Before(deadline) && ctx.Err() == nil &&
		(vSeen.Load() < ok.Load() || aSeen.Load() < ok.Load()*int64(cfg.Admins)) {
		time.Sleep(20 * time.Millisecond)
	}
	stop()

	rep.Sent, rep.OK = sent.Load(), ok.Load()
	rep.Throughput = float64(rep.OK) / elapsed.Seconds()
	rep.SendLatency = sendRec.summary()
	rep.VisitorDelivery = vRec.summary()
	rep.AdminDelivery = aRec.summary()
	rep.VisitorLost = max(rep.OK-vSeen.Load(), 0)
	rep.AdminLost = max(rep.OK*int64(cfg.Admins)-aSeen.Load(), 0)
	rep.Errors = errs.snapshot()
	for k, v := range streamErrs.snapshot() {
		rep.Errors[k] += v
	}
	if rateLimited(rep.Errors) {
		rep.Notes = append(rep.Notes, rateLimitNote)
	}
	if rep.Throughput < 0.95*cfg.Rate {
		rep.Notes = append(rep.Notes, fmt.Sprintf("achieved %.0f msg/s of the %.0f asked: the server (or this machine) could not keep up", rep.Throughput, cfg.Rate))
	}
	return rep, ctx.Err()
}
