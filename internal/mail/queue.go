package mail

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// DefaultBackoff is the wait before each retry: after the first failure
// 30 s, then 2 m, 10 m, 1 h and 6 h; the attempt after the last wait is the
// last one (MaxAttempts defaults to len(DefaultBackoff)+1 = 6).
var DefaultBackoff = []time.Duration{30 * time.Second, 2 * time.Minute, 10 * time.Minute, time.Hour, 6 * time.Hour}

// Metrics are the queue's counters; any may be nil. httpapi/metrics.go
// can pass prometheus counters' Inc.
type Metrics struct {
	// Sent counts mails the server accepted.
	Sent func()
	// Failed counts failed attempts (each retry and the last one).
	Failed func()
	// Dead counts mails that went to the dead-letter list.
	Dead func()
}

// QueueConfig tunes a Queue; zero values take the defaults.
type QueueConfig struct {
	// Consumer names this instance in the consumer group; "" means the host
	// name and a random suffix (a restarted process is a new consumer, and
	// its predecessor's unfinished mails are reclaimed after Visibility).
	Consumer string
	// Backoff is the wait before each retry; DefaultBackoff when nil.
	Backoff []time.Duration
	// MaxAttempts is how many attempts a mail gets before it is dead;
	// len(Backoff)+1 when 0. A permanent refusal (5xx) makes it dead at once.
	MaxAttempts int
	// SendTimeout bounds one attempt (dial to QUIT); 1 m when 0.
	SendTimeout time.Duration
	// Visibility is how long a mail taken by a worker stays its own before
	// another worker may take it over (the taker is presumed crashed). It
	// must be longer than SendTimeout; 5 m when 0.
	Visibility time.Duration
	// Poll is how long one read waits for new mail, and the pause after a
	// Redis error; 1 s when 0. Retries become due at this granularity.
	Poll time.Duration
	// Batch is how many mails one read takes at most; 10 when 0.
	Batch   int
	Metrics Metrics
}

// Queue enqueues mail durably and, in Run, sends it: one worker per
// instance, every instance's worker in one consumer group, so each mail is
// taken by one of them at a time.
type Queue struct {
	store    chat.MailQueue
	composer *Composer
	sender   Sender
	log      *slog.Logger
	cfg      QueueConfig
}

// NewQueue returns a Queue over store that composes with composer and
// sends with sender.
func NewQueue(store chat.MailQueue, composer *Composer, sender Sender, log *slog.Logger, cfg QueueConfig) (*Queue, error) {
	if cfg.Backoff == nil {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = len(cfg.Backoff) + 1
	}
	if cfg.SendTimeout <= 0 {
		cfg.SendTimeout = time.Minute
	}
	if cfg.Visibility <= 0 {
		cfg.Visibility = 5 * time.Minute
	}
	if cfg.Visibility <= cfg.SendTimeout {
		return nil, fmt.Errorf("mail: queue: visibility %v must be longer than the send timeout %v", cfg.Visibility, cfg.SendTimeout)
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 10
	}
	if cfg.Consumer == "" {
		host, _ := os.Hostname()
		var b [4]byte
		_, _ = rand.Read(b[:])
		cfg.Consumer = host + "-" + hex.EncodeToString(b[:])
	}
	if store == nil || composer == nil || sender == nil || log == nil {
		return nil, errors.New("mail: queue needs a store, a composer, a sender and a logger")
	}
	return &Queue{store: store, composer: composer, sender: sender, log: log, cfg: cfg}, nil
}

// Enqueue stores m in the queue and returns at once; it never talks to the
// SMTP server. Enqueuing an id again (within the store's keep window)
// changes nothing and is not an error: the mail is sent once.
func (q *Queue) Enqueue(ctx context.Context, m Mail) error {
	if err := m.Validate(); err != nil {
		return err
	}
	payload, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("mail: enqueue: %w", err)
	}
	if _, err := q.store.EnqueueMail(ctx, m.ID, payload); err != nil {
		return fmt.Errorf("mail: enqueue %s: %w", m.ID, err)
	}
	return nil
}

// Stats counts the queue's mails by state (for /metrics gauges and the
// console).
func (q *Queue) Stats(ctx context.Context) (chat.MailQueueStats, error) {
	return q.store.MailStats(ctx)
}

// Dead lists up to max dead mails, newest first (for the console).
func (q *Queue) Dead(ctx context.Context, max int) ([]chat.DeadMail, error) {
	return q.store.DeadMail(ctx, max)
}

// Run sends queued mail until ctx ends, then returns nil. A send under
// way when ctx ends is abandoned unrecorded: the mail stays taken and is
// retried by a worker after the visibility timeout.
func (q *Queue) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		if _, err := q.store.PromoteMail(ctx, q.cfg.Batch*10); err != nil && ctx.Err() == nil {
			q.log.Error("mail: promote retries", "err", err)
		}
		jobs, err := q.store.ClaimMail(ctx, q.cfg.Consumer, q.cfg.Batch, q.cfg.Poll, q.cfg.Visibility)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			q.log.Error("mail: read queue", "err", err)
			sleep(ctx, q.cfg.Poll)
			continue
		}
		for _, j := range jobs {
			if ctx.Err() != nil {
				break
			}
			q.deliver(ctx, j)
		}
	}
	return nil
}

// deliver makes one attempt at j and records its outcome.
func (q *Queue) deliver(ctx context.Context, j chat.QueuedMail) {
	log := q.log.With("mail_id", j.ID, "attempt", j.Attempts+1)
	var m Mail
	if err := json.Unmarshal(j.Payload, &m); err != nil {
		q.bury(ctx, log, j, "undecodable payload")
		return
	}
	msg, err := q.composer.Compose(m)
	if err != nil {
		q.bury(ctx, log, j, "compose: "+err.Error())
		return
	}
	sctx, cancel := context.WithTimeout(ctx, q.cfg.SendTimeout)
	err = q.sender.Send(sctx, msg)
	cancel()
	if err == nil {
		q.count(q.cfg.Metrics.Sent)
		// The server has the mail. Should this record fail (Redis gone) or
		// the process die right here, the entry stays pending and is sent
		// again after the visibility timeout: the one window in which a mail
		// can arrive twice (with the same Message-ID).
		if err := q.store.MailSent(context.WithoutCancel(ctx), j); err != nil {
			log.Error("mail: record sent mail", "err", err)
		}
		return
	}
	if ctx.Err() != nil {
		return // shutting down: left to the visibility timeout
	}
	q.count(q.cfg.Metrics.Failed)
	reason := err.Error()
	if Permanent(err) || j.Attempts+1 >= q.cfg.MaxAttempts {
		q.bury(ctx, log, j, reason)
		return
	}
	delay := q.cfg.Backoff[min(j.Attempts, len(q.cfg.Backoff)-1)]
	log.Warn("mail: send failed, will retry", "err", err, "retry_in", delay)
	if err := q.store.RetryMail(ctx, j, delay, reason); err != nil {
		log.Error("mail: schedule retry", "err", err)
	}
}

func (q *Queue) bury(ctx context.Context, log *slog.Logger, j chat.QueuedMail, reason string) {
	log.Error("mail: gave up, mail is in the dead-letter list", "reason", reason)
	if err := q.store.BuryMail(ctx, j, reason); err != nil {
		log.Error("mail: record dead mail", "err", err)
		return
	}
	q.count(q.cfg.Metrics.Dead)
}

func (q *Queue) count(f func()) {
	if f != nil {
		f()
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
