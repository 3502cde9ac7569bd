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

// EnqueueMail implements chat.MailQueue.
func (s *Store) EnqueueMail(ctx context.Context, id string, payload []byte) (bool, error) {
	n, err := mailEnqueueScript.Run(ctx, s.rdb, []string{s.keys.Mail(id), s.keys.MailQueue()},
		id, payload, mailKeep.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("redisstore: enqueue mail: %w", err)
	}
	return n == 1, nil
}

// ensureMailGroup creates the consumer group (from the stream's start, so
// mails queued before any worker ran are read) unless it exists.
func (s *Store) ensureMailGroup(ctx context.Context) error {
	err := s.rdb.XGroupCreateMkStream(ctx, s.keys.MailQueue(), MailGroup, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("redisstore: create mail group: %w", err)
	}
	return nil
}

func isNoGroup(err error) bool { return err != nil && strings.HasPrefix(err.Error(), "NOGROUP") }

// ClaimMail implements chat.MailQueue.
func (s *Store) ClaimMail(ctx context.Context, consumer string, max int, wait, idle time.Duration) ([]chat.QueuedMail, error) {
	if max <= 0 {
		return nil, nil
	}
	msgs, err := s.claimMail(ctx, consumer, max, wait, idle)
	if isNoGroup(err) {
		// First run, or the stream was deleted (FLUSHALL): make the group and
		// try once more.
		if err := s.ensureMailGroup(ctx); err != nil {
			return nil, err
		}
		msgs, err = s.claimMail(ctx, consumer, max, wait, idle)
	}
	if err != nil {
		return nil, fmt.Errorf("redisstore: claim mail: %w", err)
	}
	return s.loadMail(ctx, msgs)
}

func (s *Store) claimMail(ctx context.Context, consumer string, max int, wait, idle time.Duration) ([]redis.XMessage, error) {
	stream := s.keys.MailQueue()
	msgs, _, err := s.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{
		Stream: stream, Group: MailGroup, Consumer: consumer,
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
		Group: MailGroup, Consumer: consumer, Streams: []string{stream, ">"},
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

// loadMail reads the hashes of claimed entries. An entry whose hash is
// gone or finished (an expired or duplicate entry) is acked and dropped.
func (s *Store) loadMail(ctx context.Context, msgs []redis.XMessage) ([]chat.QueuedMail, error) {
	if len(msgs) == 0 {
		return nil, nil
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.SliceCmd, len(msgs))
	for i, m := range msgs {
		id, _ := m.Values["id"].(string)
		cmds[i] = pipe.HMGet(ctx, s.keys.Mail(id), "payload", "state", "attempts")
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("redisstore: load mail: %w", err)
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
		pipe.XAck(ctx, s.keys.MailQueue(), MailGroup, stale...)
		pipe.XDel(ctx, s.keys.MailQueue(), stale...)
		if _, err := pipe.Exec(ctx); err != nil {
			return out, fmt.Errorf("redisstore: drop stale mail entries: %w", err)
		}
	}
	return out, nil
}

// PromoteMail implements chat.MailQueue.
func (s *Store) PromoteMail(ctx context.Context, max int) (int, error) {
	n, err := mailPromoteScript.Run(ctx, s.rdb, []string{s.keys.MailRetry(), s.keys.MailQueue()}, max).Int()
	if err != nil {
		return 0, fmt.Errorf("redisstore: promote mail: %w", err)
	}
	return n, nil
}

// MailSent implements chat.MailQueue.
func (s *Store) MailSent(ctx context.Context, m chat.QueuedMail) error {
	err := mailSentScript.Run(ctx, s.rdb, []string{s.keys.MailQueue(), s.keys.Mail(m.ID)}, MailGroup, m.Entry).Err()
	if err != nil {
		return fmt.Errorf("redisstore: mail sent: %w", err)
	}
	return nil
}

// RetryMail implements chat.MailQueue.
func (s *Store) RetryMail(ctx context.Context, m chat.QueuedMail, delay time.Duration, reason string) error {
	err := mailRetryScript.Run(ctx, s.rdb,
		[]string{s.keys.MailQueue(), s.keys.Mail(m.ID), s.keys.MailRetry()},
		MailGroup, m.Entry, m.ID, max(delay.Milliseconds(), 1), reason).Err()
	if err != nil {
		return fmt.Errorf("redisstore: retry mail: %w", err)
	}
	return nil
}

// BuryMail implements chat.MailQueue.
func (s *Store) BuryMail(ctx context.Context, m chat.QueuedMail, reason string) error {
	err := mailDeadScript.Run(ctx, s.rdb,
		[]string{s.keys.MailQueue(), s.keys.Mail(m.ID), s.keys.MailDead()},
		MailGroup, m.Entry, m.ID, reason, mailDeadMax, mailKeep.Milliseconds()).Err()
	if err != nil {
		return fmt.Errorf("redisstore: bury mail: %w", err)
	}
	return nil
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
