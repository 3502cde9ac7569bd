package mail_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/mail"
	"github.com/parley-chat/parley/internal/mail/mailtest"
	"github.com/parley-chat/parley/internal/redisstore"
	"github.com/parley-chat/parley/internal/redisstore/redistest"
)

// counters records a queue's metrics.
type counters struct{ sent, failed, dead atomic.Int64 }

func (c *counters) metrics() mail.Metrics {
	return mail.Metrics{
		Sent:   func() { c.sent.Add(1) },
		Failed: func() { c.failed.Add(1) },
		Dead:   func() { c.dead.Add(1) },
	}
}

// instance is one Parley process's share of the mail system: its own
// Redis client over the shared server and prefix, its own worker.
type instance struct {
	store *redisstore.Store
	queue *mail.Queue
	c     *counters
	stop  context.CancelFunc
	done  chan struct{}
}

func testPrefix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "m" + hex.EncodeToString(b[:]) + ":"
}

func newInstance(t *testing.T, addr, prefix string, sender mail.Sender, cfg mail.QueueConfig) *instance {
	t.Helper()
	client, err := redisstore.Connect(redistest.URL(addr))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = client.Close() })
	in := &instance{store: redisstore.New(client, redisstore.Options{Prefix: prefix}), c: &counters{}}
	cfg.Metrics = in.c.metrics()
	if cfg.Poll == 0 {
		cfg.Poll = 50 * time.Millisecond
	}
	q, err := mail.NewQueue(in.store, mustComposer(t, ""), sender, slog.New(slog.DiscardHandler), cfg)
	if err != nil {
		t.Fatalf("NewQueue: %v", err)
	}
	in.queue = q
	return in
}

// run starts the instance's worker; it is stopped when the test ends.
func (in *instance) run(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	in.stop, in.done = cancel, make(chan struct{})
	go func() {
		defer close(in.done)
		_ = in.queue.Run(ctx)
	}()
	t.Cleanup(in.halt)
}

// halt cancels the worker and waits for Run to return.
func (in *instance) halt() {
	if in.stop != nil {
		in.stop()
		<-in.done
	}
}

func waitFor(t *testing.T, what string, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func mustStats(t *testing.T, s *redisstore.Store) chat.MailQueueStats {
	t.Helper()
	st, err := s.MailStats(context.Background())
	if err != nil {
		t.Fatalf("MailStats: %v", err)
	}
	return st
}

// messageIDs counts the received mails by Message-ID.
func messageIDs(t *testing.T, got []mailtest.Received) map[string]int {
	t.Helper()
	ids := map[string]int{}
	for _, r := range got {
		ids[msgID(t, r.Raw, "Message-Id")]++
	}
	return ids
}

func TestQueueEnqueueIsIdempotent(t *testing.T) {
	redistest.ForEachWithCluster(t, func(t *testing.T, addr string) {
		srv := mailtest.Start(t, mailtest.Options{})
		in := newInstance(t, addr, testPrefix(), mustSender(t, srv, mail.STARTTLSOpportunistic), mail.QueueConfig{})
		ctx := context.Background()
		room := chat.NewRoomID()
		for range 3 {
			if err := in.queue.Enqueue(ctx, sampleMail("once", room)); err != nil {
				t.Fatalf("Enqueue: %v", err)
			}
		}
		in.run(t)
		srv.WaitFor(1, 5*time.Second)
		waitFor(t, "an empty queue", 5*time.Second, func() bool { return mustStats(t, in.store).Waiting == 0 })
		// Enqueued again after it was sent: still nothing new.
		if err := in.queue.Enqueue(ctx, sampleMail("once", room)); err != nil {
			t.Fatalf("Enqueue: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
		if n := len(srv.Received()); n != 1 {
			t.Errorf("server got %d mails, want 1 for one id enqueued four times", n)
		}
		if got := in.c.sent.Load(); got != 1 {
			t.Errorf("sent counter: got %d, want 1", got)
		}
	})
}

func TestQueueEnqueueWithSMTPDown(t *testing.T) {
	redistest.ForEachWithCluster(t, func(t *testing.T, addr string) {
		// Nothing listens on this port: enqueuing must not care.
		down, _ := mail.NewSMTPSender(mail.SMTPConfig{Host: "127.0.0.1", Port: 1, Timeout: time.Second})
		in := newInstance(t, addr, testPrefix(), down, mail.QueueConfig{Backoff: []time.Duration{time.Hour}})
		in.run(t)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		for i := range 5 {
			if err := in.queue.Enqueue(ctx, sampleMail(fmt.Sprint("down-", i), chat.NewRoomID())); err != nil {
				t.Fatalf("Enqueue with SMTP down: %v", err)
			}
		}
		// The attempt is counted before its retry is recorded: wait for both.
		waitFor(t, "five failed attempts, five retrying", 5*time.Second, func() bool {
			return in.c.failed.Load() == 5 && mustStats(t, in.store).Retrying == 5
		})
		if st := mustStats(t, in.store); st.Retrying != 5 || st.Dead != 0 || st.Waiting != 0 {
			t.Errorf("stats: got %+v, want 5 retrying", st)
		}
	})
}

func TestQueueTwoInstancesSendEachMailOnce(t *testing.T) {
	redistest.ForEachWithCluster(t, func(t *testing.T, addr string) {
		srv := mailtest.Start(t, mailtest.Options{})
		prefix := testPrefix()
		a := newInstance(t, addr, prefix, mustSender(t, srv, mail.STARTTLSOpportunistic), mail.QueueConfig{Consumer: "a", Batch: 2})
		b := newInstance(t, addr, prefix, mustSender(t, srv, mail.STARTTLSOpportunistic), mail.QueueConfig{Consumer: "b", Batch: 2})
		a.run(t)
		b.run(t)
		const n = 40
		ctx := context.Background()
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Each mail is enqueued by both instances, as two instances
				// deciding the same notification would.
				m := sampleMail(fmt.Sprint("m-", i), chat.NewRoomID())
				if err := a.queue.Enqueue(ctx, m); err != nil {
					t.Errorf("Enqueue: %v", err)
				}
				if err := b.queue.Enqueue(ctx, m); err != nil {
					t.Errorf("Enqueue: %v", err)
				}
			}()
		}
		wg.Wait()
		srv.WaitFor(n, 15*time.Second)
		waitFor(t, "an empty queue", 5*time.Second, func() bool { return mustStats(t, a.store).Waiting == 0 })
		time.Sleep(200 * time.Millisecond)
		got := srv.Received()
		ids := messageIDs(t, got)
		if len(got) != n || len(ids) != n {
			t.Errorf("server got %d mails with %d distinct Message-IDs, want %d of each", len(got), len(ids), n)
		}
		for id, c := range ids {
			if c != 1 {
				t.Errorf("%s arrived %d times, want once", id, c)
			}
		}
		if sa, sb := a.c.sent.Load(), b.c.sent.Load(); sa+sb != n {
			t.Errorf("sent counters: %d + %d, want %d", sa, sb, n)
		} else {
			t.Logf("instance a sent %d, b sent %d", sa, sb)
		}
	})
}

func TestQueueRetriesAfterServerWasDown(t *testing.T) {
	redistest.ForEachWithCluster(t, func(t *testing.T, addr string) {
		srv := mailtest.Start(t, mailtest.Options{})
		srv.Refuse(2, 421)
		in := newInstance(t, addr, testPrefix(), mustSender(t, srv, mail.STARTTLSOpportunistic),
			mail.QueueConfig{Backoff: []time.Duration{50 * time.Millisecond, 100 * time.Millisecond}, MaxAttempts: 5})
		in.run(t)
		if err := in.queue.Enqueue(context.Background(), sampleMail("retry-me", chat.NewRoomID())); err != nil {
			t.Fatalf("Enqueue: %v", err)
		}
		got := srv.WaitFor(1, 10*time.Second)
		if n := srv.Attempts(); n != 3 {
			t.Errorf("server saw %d attempts, want 3 (two refused with 421, then accepted)", n)
		}
		if id := msgID(t, got[0].Raw, "Message-Id"); id != "<retry-me@chat.acme.example>" {
			t.Errorf("got %s, want the queued mail", id)
		}
		waitFor(t, "an empty queue", 5*time.Second, func() bool {
			st := mustStats(t, in.store)
			return st.Waiting == 0 && st.Retrying == 0
		})
		if f, s, d := in.c.failed.Load(), in.c.sent.Load(), in.c.dead.Load(); f != 2 || s != 1 || d != 0 {
			t.Errorf("counters: failed %d sent %d dead %d, want 2, 1, 0", f, s, d)
		}
	})
}

func TestQueueDeadLetter(t *testing.T) {
	redistest.ForEachWithCluster(t, func(t *testing.T, addr string) {
		t.Run("after N temporary failures", func(t *testing.T) {
			srv := mailtest.Start(t, mailtest.Options{})
			srv.Refuse(100, 451)
			in := newInstance(t, addr, testPrefix(), mustSender(t, srv, mail.STARTTLSOpportunistic),
				mail.QueueConfig{Backoff: []time.Duration{20 * time.Millisecond}, MaxAttempts: 3})
			in.run(t)
			if err := in.queue.Enqueue(context.Background(), sampleMail("doomed", chat.NewRoomID())); err != nil {
				t.Fatalf("Enqueue: %v", err)
			}
			waitFor(t, "the dead letter", 10*time.Second, func() bool { return in.c.dead.Load() == 1 })
			time.Sleep(150 * time.Millisecond)
			if n := srv.Attempts(); n != 3 {
				t.Errorf("server saw %d attempts, want 3", n)
			}
			dead, err := in.queue.Dead(context.Background(), 10)
			if err != nil || len(dead) != 1 {
				t.Fatalf("Dead: got %v, %v; want one mail", dead, err)
			}
			if d := dead[0]; d.ID != "doomed" || d.Attempts != 3 || !strings.Contains(d.Reason, "451") || !strings.Contains(string(d.Payload), "Your conversation") {
				t.Errorf("dead mail: got %+v, want doomed after 3 attempts with the 451 and its payload", d)
			}
			if st := mustStats(t, in.store); st.Waiting != 0 || st.Retrying != 0 || st.Dead != 1 {
				t.Errorf("stats: got %+v, want only one dead", st)
			}
			if f := in.c.failed.Load(); f != 3 {
				t.Errorf("failed counter: got %d, want 3", f)
			}
		})
		t.Run("at once on a permanent refusal", func(t *testing.T) {
			srv := mailtest.Start(t, mailtest.Options{})
			srv.Refuse(1, 550)
			in := newInstance(t, addr, testPrefix(), mustSender(t, srv, mail.STARTTLSOpportunistic),
				mail.QueueConfig{Backoff: []time.Duration{20 * time.Millisecond}, MaxAttempts: 3})
			in.run(t)
			if err := in.queue.Enqueue(context.Background(), sampleMail("refused", chat.NewRoomID())); err != nil {
				t.Fatalf("Enqueue: %v", err)
			}
			waitFor(t, "the dead letter", 10*time.Second, func() bool { return in.c.dead.Load() == 1 })
			time.Sleep(150 * time.Millisecond)
			if n := srv.Attempts(); n != 1 {
				t.Errorf("server saw %d attempts, want 1: a 550 is not retried", n)
			}
		})
	})
}

func TestQueueCrashMidSendIsRetriedByAnotherInstance(t *testing.T) {
	redistest.ForEachWithCluster(t, func(t *testing.T, addr string) {
		srv := mailtest.Start(t, mailtest.Options{})
		prefix := testPrefix()
		release := srv.Hang()
		a := newInstance(t, addr, prefix, mustSender(t, srv, mail.STARTTLSOpportunistic),
			mail.QueueConfig{Consumer: "a", SendTimeout: 10 * time.Second, Visibility: 20 * time.Second})
		a.run(t)
		if err := a.queue.Enqueue(context.Background(), sampleMail("crash", chat.NewRoomID())); err != nil {
			t.Fatalf("Enqueue: %v", err)
		}
		waitFor(t, "instance a in the SMTP transaction", 5*time.Second, func() bool { return srv.Attempts() == 1 })
		// a dies mid-send: it never records anything. (The server is let go
		// only once a has stopped: a transaction that completes is a mail
		// sent, and a records it as such.)
		a.stop()
		<-a.done
		release()
		if st := mustStats(t, a.store); st.Sending != 1 {
			t.Fatalf("stats after the crash: got %+v, want the mail still taken", st)
		}
		b := newInstance(t, addr, prefix, mustSender(t, srv, mail.STARTTLSOpportunistic),
			mail.QueueConfig{Consumer: "b", SendTimeout: 100 * time.Millisecond, Visibility: 300 * time.Millisecond})
		b.run(t)
		got := srv.WaitFor(1, 10*time.Second)
		if id := msgID(t, got[0].Raw, "Message-Id"); id != "<crash@chat.acme.example>" {
			t.Errorf("got %s, want the mail a was sending", id)
		}
		waitFor(t, "an empty queue", 5*time.Second, func() bool { return mustStats(t, b.store).Waiting == 0 })
		if a.c.sent.Load() != 0 || b.c.sent.Load() != 1 {
			t.Errorf("sent counters: a %d, b %d; want 0 and 1", a.c.sent.Load(), b.c.sent.Load())
		}
	})
}

func msgID(t *testing.T, raw []byte, name string) string {
	t.Helper()
	p := mustParse(t, raw)
	return p.header.Get(name)
}

func TestQueueSurvivesARedisRestart(t *testing.T) {
	r := redistest.StartReal(t)
	srv := mailtest.Start(t, mailtest.Options{})
	in := newInstance(t, r.Addr(), testPrefix(), mustSender(t, srv, mail.STARTTLSOpportunistic), mail.QueueConfig{})
	in.run(t)
	if err := in.queue.Enqueue(context.Background(), sampleMail("before", chat.NewRoomID())); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	srv.WaitFor(1, 5*time.Second)
	// Redis goes away and comes back empty (no persistence): the worker
	// keeps trying, and makes its consumer group again.
	r.Stop()
	time.Sleep(300 * time.Millisecond)
	r.Start()
	waitFor(t, "an enqueue after the restart", 10*time.Second, func() bool {
		return in.queue.Enqueue(context.Background(), sampleMail("after", chat.NewRoomID())) == nil
	})
	got := srv.WaitFor(2, 10*time.Second)
	if id := msgID(t, got[1].Raw, "Message-Id"); id != "<after@chat.acme.example>" {
		t.Errorf("got %s, want the mail queued after the restart", id)
	}
}

func TestQueueRunStopsWithItsContext(t *testing.T) {
	redistest.ForEachWithCluster(t, func(t *testing.T, addr string) {
		srv := mailtest.Start(t, mailtest.Options{})
		// The default poll: Run is blocked in XREADGROUP when it is stopped.
		in := newInstance(t, addr, testPrefix(), mustSender(t, srv, mail.STARTTLSOpportunistic), mail.QueueConfig{Poll: time.Second})
		in.run(t)
		time.Sleep(100 * time.Millisecond)
		in.stop()
		select {
		case <-in.done:
		case <-time.After(5 * time.Second):
			t.Fatalf("Run did not return within 5 s of its context ending")
		}
	})
}
