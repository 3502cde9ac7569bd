package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/chat"
)

// The outgoing mail queue (chat.MailQueue). A mail's life:
//
//	EnqueueMail ─► hash state=queued + stream entry
//	ClaimMail   ─► entry pending for one consumer of MailGroup
//	MailSent    ─► entry acked and deleted, hash state=sent (no payload)
//	RetryMail   ─► entry acked and deleted, hash state=retry, id in the retry set
//	PromoteMail ─► id out of the retry set, a new stream entry
//	BuryMail    ─► entry acked and deleted, hash state=dead, id in the dead list
//
// An entry a consumer took and never finished (it crashed) stays pending
// and is taken over by XAUTOCLAIM once it has been idle longer than the
// visibility timeout the worker gives.

// MailGroup is the consumer group every instance's mail worker reads in.
const MailGroup = "mailers"

const (
	// mailKeep is how long a mail's hash (its idempotency record) lives
	// after it was queued, and a dead mail's after it died.
	mailKeep = 7 * 24 * time.Hour
	// mailDeadMax bounds the dead-letter list.
	mailDeadMax = 1000
)

var _ chat.MailQueue = (*Store)(nil)

// jobQueue names one durable queue of the design above: the mail queue and
// the webhook delivery queue (webhooks.go) are two of them, run by the same
// code and the same scripts (lua/mail*.lua take every key as KEYS).
type jobQueue struct {
	name    string // for errors: "mail", "webhook"
	stream  string
	retry   string
	dead    string
	group   string
	job     func(id string) string // the hash of one job
	keep    time.Duration          // a job hash's life (its idempotency record)
	deadMax int                    // the dead-letter list's bound
}

func (s *Store) mailQueue() jobQueue {
	return jobQueue{name: "mail", stream: s.keys.MailQueue(), retry: s.keys.MailRetry(), dead: s.keys.MailDead(),
		group: MailGroup, job: s.keys.Mail, keep: mailKeep, deadMax: mailDeadMax}
}

// enqueue stores a job's hash and its stream entry, only when the id is
// new (lua/mailenqueue.lua); queued is false for an id already there.
func (s *Store) enqueue(ctx context.Context, q jobQueue, id string, payload []byte) (queued bool, err error) {
	n, err := mailEnqueueScript.Run(ctx, s.rdb, []string{q.job(id), q.stream}, id, payload, q.keep.Milliseconds()).Int()
	if err != nil {
		return false, fail("enqueue "+q.name, err)
	}
	return n == 1, nil
}

// claim takes up to max jobs for consumer (see readGroup), with their
// hashes.
func (s *Store) claim(ctx context.Context, q jobQueue, consumer string, max int, wait, idle time.Duration) ([]chat.QueuedMail, error) {
	if max <= 0 {
		return nil, nil
	}
	// A missing group (first run, or the stream was deleted: FLUSHALL) is
	// made from the stream's start, so jobs queued before any worker ran
	// are read.
	msgs, err := s.readGroup(ctx, q.stream, q.group, "0", consumer, max, wait, idle)
	if err != nil {
		return nil, fail("claim "+q.name, err)
	}
	return s.load(ctx, q, msgs)
}

func isNoGroup(err error) bool { return err != nil && strings.HasPrefix(err.Error(), "NOGROUP") }

// readGroup reads up to max entries of stream in group for consumer: first
// those pending longer than idle (their reader crashed), then new ones,
// waiting up to wait for the first. A missing group is made, from start
// ("0": the whole stream, "$": what comes next).
func (s *Store) readGroup(ctx context.Context, stream, group, start, consumer string, max int, wait, idle time.Duration) ([]redis.XMessage, error) {
	msgs, err := s.readGroupOnce(ctx, stream, group, consumer, max, wait, idle)
	if isNoGroup(err) {
		err = s.rdb.XGroupCreateMkStream(ctx, stream, group, start).Err()
		if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
			return nil, err
		}
		msgs, err = s.readGroupOnce(ctx, stream, group, consumer, max, wait, idle)
	}
	return msgs, err
}

func (s *Store) readGroupOnce(ctx context.Context, stream, group, consumer string, max int, wait, idle time.Duration) ([]redis.XMessage, error) {
	msgs, _, err := s.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{
		Stream: stream, Group: group, Consumer: consumer,
		MinIdle: idle, Start: "0-0", Count: int64(max),
	}).Result()
	if err != nil {
		return nil, err
	}
	if len(msgs) >= max {
		return msgs, nil
	}
	block := wait
	if len(msgs) > 0 || block <= 0 {
		block = -1 // go-redis: no BLOCK argument (BLOCK 0 would wait forever)
	}
	res, err := s.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: group, Consumer: consumer, Streams: []string{stream, ">"},
		Count: int64(max - len(msgs)), Block: block,
	}).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return msgs, err
	}
	for _, st := range res {
		msgs = append(msgs, st.Messages...)
	}
	return msgs, nil
}

// load reads the hashes of claimed entries. An entry whose hash is gone or
// finished (an expired or duplicate entry) is acked and dropped.
func (s *Store) load(ctx context.Context, q jobQueue, msgs []redis.XMessage) ([]chat.QueuedMail, error) {
	if len(msgs) == 0 {
		return nil, nil
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.SliceCmd, len(msgs))
	for i, m := range msgs {
		id, _ := m.Values["id"].(string)
		cmds[i] = pipe.HMGet(ctx, q.job(id), "payload", "state", "attempts")
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fail("load "+q.name, err)
	}
	out := make([]chat.QueuedMail, 0, len(msgs))
	var stale []string
	for i, m := range msgs {
		id, _ := m.Values["id"].(string)
		v := cmds[i].Val()
		payload, _ := v[0].(string)
		state, _ := v[1].(string)
		if id == "" || payload == "" || (state != "queued" && state != "retry") {
			stale = append(stale, m.ID)
			continue
		}
		attempts, _ := strconv.Atoi(fmt.Sprint(v[2]))
		out = append(out, chat.QueuedMail{ID: id, Entry: m.ID, Payload: []byte(payload), Attempts: attempts})
	}
	if len(stale) > 0 {
		pipe := s.rdb.Pipeline()
		pipe.XAck(ctx, q.stream, q.group, stale...)
		pipe.XDel(ctx, q.stream, stale...)
		if _, err := pipe.Exec(ctx); err != nil {
			return out, fail("drop stale "+q.name+" entries", err)
		}
	}
	return out, nil
}

// promote moves up to max due jobs from the retry set back into the
// stream (lua/mailpromote.lua).
func (s *Store) promote(ctx context.Context, q jobQueue, max int) (int, error) {
	n, err := mailPromoteScript.Run(ctx, s.rdb, []string{q.retry, q.stream}, max).Int()
	if err != nil {
		return 0, fail("promote "+q.name, err)
	}
	return n, nil
}

// done finishes a job (lua/mailsent.lua).
func (s *Store) done(ctx context.Context, q jobQueue, j chat.QueuedMail) error {
	return failIf(q.name+" done", mailSentScript.Run(ctx, s.rdb, []string{q.stream, q.job(j.ID)}, q.group, j.Entry).Err())
}

// retryLater puts a job in the retry set for delay (lua/mailretry.lua).
func (s *Store) retryLater(ctx context.Context, q jobQueue, j chat.QueuedMail, delay time.Duration, reason string) error {
	err := mailRetryScript.Run(ctx, s.rdb, []string{q.stream, q.job(j.ID), q.retry},
		q.group, j.Entry, j.ID, max(delay.Milliseconds(), 1), reason).Err()
	return failIf("retry "+q.name, err)
}

// bury ends a job in the dead-letter list (lua/maildead.lua).
func (s *Store) bury(ctx context.Context, q jobQueue, j chat.QueuedMail, reason string) error {
	err := mailDeadScript.Run(ctx, s.rdb, []string{q.stream, q.job(j.ID), q.dead},
		q.group, j.Entry, j.ID, reason, q.deadMax, q.keep.Milliseconds()).Err()
	return failIf("bury "+q.name, err)
}

// EnqueueMail implements chat.MailQueue.
func (s *Store) EnqueueMail(ctx context.Context, id string, payload []byte) (bool, error) {
	return s.enqueue(ctx, s.mailQueue(), id, payload)
}

// ClaimMail implements chat.MailQueue.
func (s *Store) ClaimMail(ctx context.Context, consumer string, max int, wait, idle time.Duration) ([]chat.QueuedMail, error) {
	return s.claim(ctx, s.mailQueue(), consumer, max, wait, idle)
}

// PromoteMail implements chat.MailQueue.
func (s *Store) PromoteMail(ctx context.Context, max int) (int, error) {
	return s.promote(ctx, s.mailQueue(), max)
}

// MailSent implements chat.MailQueue.
func (s *Store) MailSent(ctx context.Context, m chat.QueuedMail) error {
	return s.done(ctx, s.mailQueue(), m)
}

// RetryMail implements chat.MailQueue.
func (s *Store) RetryMail(ctx context.Context, m chat.QueuedMail, delay time.Duration, reason string) error {
	return s.retryLater(ctx, s.mailQueue(), m, delay, reason)
}

// BuryMail implements chat.MailQueue.
func (s *Store) BuryMail(ctx context.Context, m chat.QueuedMail, reason string) error {
	return s.bury(ctx, s.mailQueue(), m, reason)
}

// DeadMail implements chat.MailQueue. A dead mail whose hash has expired
// is left out.
func (s *Store) DeadMail(ctx context.Context, max int) ([]chat.DeadMail, error) {
	ids, err := s.rdb.LRange(ctx, s.keys.MailDead(), 0, int64(max)-1).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: list dead mail: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.SliceCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.HMGet(ctx, s.keys.Mail(id), "payload", "attempts", "reason", "updatedAt", "state")
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("redisstore: list dead mail: %w", err)
	}
	out := make([]chat.DeadMail, 0, len(ids))
	for i, id := range ids {
		v := cmds[i].Val()
		if state, _ := v[4].(string); state != "dead" {
			continue
		}
		payload, _ := v[0].(string)
		reason, _ := v[2].(string)
		attempts, _ := strconv.Atoi(fmt.Sprint(v[1]))
		at, _ := strconv.ParseInt(fmt.Sprint(v[3]), 10, 64)
		out = append(out, chat.DeadMail{ID: id, Payload: []byte(payload), Attempts: attempts, Reason: reason, At: time.UnixMilli(at)})
	}
	return out, nil
}

// MailStats implements chat.MailQueue.
func (s *Store) MailStats(ctx context.Context) (chat.MailQueueStats, error) {
	pipe := s.rdb.Pipeline()
	xlen := pipe.XLen(ctx, s.keys.MailQueue())
	retry := pipe.ZCard(ctx, s.keys.MailRetry())
	dead := pipe.LLen(ctx, s.keys.MailDead())
	if _, err := pipe.Exec(ctx); err != nil {
		return chat.MailQueueStats{}, fmt.Errorf("redisstore: mail stats: %w", err)
	}
	st := chat.MailQueueStats{Waiting: xlen.Val(), Retrying: retry.Val(), Dead: dead.Val()}
	if st.Waiting > 0 {
		p, err := s.rdb.XPending(ctx, s.keys.MailQueue(), MailGroup).Result()
		if err != nil && !isNoGroup(err) {
			return st, fmt.Errorf("redisstore: mail stats: %w", err)
		}
		if p != nil {
			st.Sending = p.Count
		}
	}
	return st, nil
}
