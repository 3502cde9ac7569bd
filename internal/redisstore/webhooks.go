package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/chat"
)

// Webhooks (chat.WebhookStore): the endpoints hash, their failure marks and
// delivery logs, and the delivery queue. The queue has the mail queue's
// shape and runs on its scripts (mailenqueue.lua, mailsent.lua,
// mailretry.lua, mailpromote.lua, maildead.lua), over its own keys:
//
//	EnqueueWebhookJob ─► hash parley:hook:ID state=queued + entry in parley:hookq
//	ClaimWebhookJobs  ─► entry pending for one consumer of WebhookGroup
//	WebhookJobDone    ─► acked and deleted, state=sent
//	RetryWebhookJob   ─► acked and deleted, state=retry, id in parley:hookq:retry
//	PromoteWebhookJobs─► out of the retry set, a new entry
//	BuryWebhookJob    ─► acked and deleted, state=dead, id in parley:hookq:dead
//
// The admin log is read by the webhook dispatchers in the consumer group
// WebhookGroup too (ReadAdminLog): an entry leaves its pending list once
// the jobs it makes are queued.

// WebhookGroup is the consumer group of the webhook dispatchers (on the
// admin log) and of the delivery workers (on the webhook queue).
const WebhookGroup = "webhooks"

const (
	// hookKeep is a job hash's life: the idempotency window of an event's
	// delivery to one endpoint, longer than its retries (about a day).
	hookKeep    = 3 * 24 * time.Hour
	hookDeadMax = 1000
	// hookRoomKeep is how long a room's last-seen state is kept.
	hookRoomKeep = 30 * 24 * time.Hour
)

var _ chat.WebhookStore = (*Store)(nil)

// AddWebhook implements chat.WebhookStore.
func (s *Store) AddWebhook(ctx context.Context, w chat.Webhook, max int) error {
	b, err := json.Marshal(w)
	if err != nil {
		return fmt.Errorf("redisstore: add webhook: %w", err)
	}
	n, err := webhookAddScript.Run(ctx, s.rdb, []string{s.keys.Webhooks()}, w.ID, b, max).Int()
	if err != nil {
		return fail("add webhook", err)
	}
	if n == 0 {
		return chat.Errorf(chat.CodeLimitReached, "a site may register %d webhook endpoints: delete one first", max)
	}
	return nil
}

var errNoWebhook = &chat.Error{Code: chat.CodeNotFound, Message: "no webhook endpoint with this id"}

// Webhooks implements chat.WebhookStore.
func (s *Store) Webhooks(ctx context.Context) ([]chat.Webhook, error) {
	all, err := s.rdb.HGetAll(ctx, s.keys.Webhooks()).Result()
	if err != nil {
		return nil, fail("list webhooks", err)
	}
	out := make([]chat.Webhook, 0, len(all))
	for id, raw := range all {
		var w chat.Webhook
		if err := json.Unmarshal([]byte(raw), &w); err != nil {
			return nil, fmt.Errorf("redisstore: webhook %s: %w", id, err)
		}
		out = append(out, w)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// Webhook implements chat.WebhookStore.
func (s *Store) Webhook(ctx context.Context, id string) (chat.Webhook, error) {
	raw, err := s.rdb.HGet(ctx, s.keys.Webhooks(), id).Result()
	if errors.Is(err, redis.Nil) {
		return chat.Webhook{}, errNoWebhook
	}
	if err != nil {
		return chat.Webhook{}, fail("get webhook", err)
	}
	var w chat.Webhook
	if err := json.Unmarshal([]byte(raw), &w); err != nil {
		return chat.Webhook{}, fmt.Errorf("redisstore: webhook %s: %w", id, err)
	}
	return w, nil
}

// PutWebhook implements chat.WebhookStore.
func (s *Store) PutWebhook(ctx context.Context, w chat.Webhook) error {
	b, err := json.Marshal(w)
	if err != nil {
		return fmt.Errorf("redisstore: put webhook: %w", err)
	}
	n, err := webhookPutScript.Run(ctx, s.rdb, []string{s.keys.Webhooks()}, w.ID, b).Int()
	if err != nil {
		return fail("put webhook", err)
	}
	if n == 0 {
		return errNoWebhook
	}
	return nil
}

// DeleteWebhook implements chat.WebhookStore.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	var del *redis.IntCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		del = p.HDel(ctx, s.keys.Webhooks(), id)
		p.HDel(ctx, s.keys.WebhookFailures(), id)
		p.Del(ctx, s.keys.WebhookDeliveries(id))
		return nil
	})
	if err != nil {
		return fail("delete webhook", err)
	}
	if del.Val() == 0 {
		return errNoWebhook
	}
	return nil
}

// WebhookFailures implements chat.WebhookStore.
func (s *Store) WebhookFailures(ctx context.Context) (map[string]chat.WebhookFailure, error) {
	all, err := s.rdb.HGetAll(ctx, s.keys.WebhookFailures()).Result()
	if err != nil {
		return nil, fail("webhook failures", err)
	}
	out := make(map[string]chat.WebhookFailure, len(all))
	for id, raw := range all {
		var f chat.WebhookFailure
		if json.Unmarshal([]byte(raw), &f) == nil {
			out[id] = f
		}
	}
	return out, nil
}

// SetWebhookFailure implements chat.WebhookStore.
func (s *Store) SetWebhookFailure(ctx context.Context, id string, f chat.WebhookFailure) error {
	b, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("redisstore: webhook failure: %w", err)
	}
	err = webhookFailingScript.Run(ctx, s.rdb, []string{s.keys.Webhooks(), s.keys.WebhookFailures()}, id, b).Err()
	return failIf("mark webhook failing", err)
}

// ClearWebhookFailure implements chat.WebhookStore.
func (s *Store) ClearWebhookFailure(ctx context.Context, id string) error {
	return failIf("clear webhook failure", s.rdb.HDel(ctx, s.keys.WebhookFailures(), id).Err())
}

// RecordWebhookDelivery implements chat.WebhookStore.
func (s *Store) RecordWebhookDelivery(ctx context.Context, endpointID string, d chat.WebhookDelivery, keep int) error {
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("redisstore: record delivery: %w", err)
	}
	key := s.keys.WebhookDeliveries(endpointID)
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.LPush(ctx, key, b)
		p.LTrim(ctx, key, 0, int64(keep)-1)
		p.PExpire(ctx, key, hookKeep)
		return nil
	})
	return failIf("record delivery", err)
}

// WebhookDeliveries implements chat.WebhookStore.
func (s *Store) WebhookDeliveries(ctx context.Context, endpointID string, max int) ([]chat.WebhookDelivery, error) {
	raws, err := s.rdb.LRange(ctx, s.keys.WebhookDeliveries(endpointID), 0, int64(max)-1).Result()
	if err != nil {
		return nil, fail("webhook deliveries", err)
	}
	out := make([]chat.WebhookDelivery, 0, len(raws))
	for _, raw := range raws {
		var d chat.WebhookDelivery
		if json.Unmarshal([]byte(raw), &d) == nil {
			out = append(out, d)
		}
	}
	return out, nil
}

// EnqueueWebhookJob implements chat.WebhookStore (mailenqueue.lua).
func (s *Store) EnqueueWebhookJob(ctx context.Context, id string, payload []byte) (bool, error) {
	n, err := mailEnqueueScript.Run(ctx, s.rdb, []string{s.keys.WebhookJob(id), s.keys.WebhookQueue()},
		id, payload, hookKeep.Milliseconds()).Int()
	if err != nil {
		return false, fail("enqueue webhook", err)
	}
	return n == 1, nil
}

// ClaimWebhookJobs implements chat.WebhookStore.
func (s *Store) ClaimWebhookJobs(ctx context.Context, consumer string, max int, wait, idle time.Duration) ([]chat.QueuedJob, error) {
	if max <= 0 {
		return nil, nil
	}
	msgs, err := s.readGroup(ctx, s.keys.WebhookQueue(), WebhookGroup, "0", consumer, max, wait, idle)
	if err != nil {
		return nil, fail("claim webhooks", err)
	}
	if len(msgs) == 0 {
		return nil, nil
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.SliceCmd, len(msgs))
	for i, m := range msgs {
		id, _ := m.Values["id"].(string)
		cmds[i] = pipe.HMGet(ctx, s.keys.WebhookJob(id), "payload", "state", "attempts")
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fail("load webhooks", err)
	}
	out := make([]chat.QueuedJob, 0, len(msgs))
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
		out = append(out, chat.QueuedJob{ID: id, Entry: m.ID, Payload: []byte(payload), Attempts: attempts})
	}
	if len(stale) > 0 {
		pipe := s.rdb.Pipeline()
		pipe.XAck(ctx, s.keys.WebhookQueue(), WebhookGroup, stale...)
		pipe.XDel(ctx, s.keys.WebhookQueue(), stale...)
		if _, err := pipe.Exec(ctx); err != nil {
			return out, fail("drop stale webhook entries", err)
		}
	}
	return out, nil
}

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
		block = -1 // no BLOCK argument (BLOCK 0 would wait forever)
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

// PromoteWebhookJobs implements chat.WebhookStore (mailpromote.lua).
func (s *Store) PromoteWebhookJobs(ctx context.Context, max int) (int, error) {
	n, err := mailPromoteScript.Run(ctx, s.rdb, []string{s.keys.WebhookRetry(), s.keys.WebhookQueue()}, max).Int()
	if err != nil {
		return 0, fail("promote webhooks", err)
	}
	return n, nil
}

// WebhookJobDone implements chat.WebhookStore (mailsent.lua).
func (s *Store) WebhookJobDone(ctx context.Context, j chat.QueuedJob) error {
	err := mailSentScript.Run(ctx, s.rdb, []string{s.keys.WebhookQueue(), s.keys.WebhookJob(j.ID)}, WebhookGroup, j.Entry).Err()
	return failIf("webhook done", err)
}

// RetryWebhookJob implements chat.WebhookStore (mailretry.lua).
func (s *Store) RetryWebhookJob(ctx context.Context, j chat.QueuedJob, delay time.Duration, reason string) error {
	err := mailRetryScript.Run(ctx, s.rdb,
		[]string{s.keys.WebhookQueue(), s.keys.WebhookJob(j.ID), s.keys.WebhookRetry()},
		WebhookGroup, j.Entry, j.ID, max(delay.Milliseconds(), 1), reason).Err()
	return failIf("retry webhook", err)
}

// BuryWebhookJob implements chat.WebhookStore (maildead.lua).
func (s *Store) BuryWebhookJob(ctx context.Context, j chat.QueuedJob, reason string) error {
	err := mailDeadScript.Run(ctx, s.rdb,
		[]string{s.keys.WebhookQueue(), s.keys.WebhookJob(j.ID), s.keys.WebhookDead()},
		WebhookGroup, j.Entry, j.ID, reason, hookDeadMax, hookKeep.Milliseconds()).Err()
	return failIf("bury webhook", err)
}

// ReadAdminLog implements chat.WebhookStore. A group made here starts at
// the log's end: events from before the first dispatcher ran are not
// delivered.
func (s *Store) ReadAdminLog(ctx context.Context, group, consumer string, max int, wait, idle time.Duration) ([]chat.Event, error) {
	msgs, err := s.readGroup(ctx, s.keys.AdminLog(), group, "$", consumer, max, wait, idle)
	if err != nil {
		return nil, fail("read admin log", err)
	}
	evs := make([]chat.Event, 0, len(msgs))
	var bad []string
	for _, m := range msgs {
		one, err := logEvents([]redis.XMessage{m})
		if err != nil || len(one) != 1 {
			bad = append(bad, m.ID) // undecodable: nothing to deliver
			continue
		}
		evs = append(evs, one[0])
	}
	if len(bad) > 0 {
		if err := s.AckAdminLog(ctx, group, bad...); err != nil {
			return evs, err
		}
	}
	return evs, nil
}

// EnsureAdminLogGroup makes group on the admin log (at its end) unless it
// exists, so that events from now on are read by the group.
func (s *Store) EnsureAdminLogGroup(ctx context.Context, group string) error {
	err := s.rdb.XGroupCreateMkStream(ctx, s.keys.AdminLog(), group, "$").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return fail("admin log group", err)
	}
	return nil
}

// AckAdminLog implements chat.WebhookStore.
func (s *Store) AckAdminLog(ctx context.Context, group string, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	return failIf("ack admin log", s.rdb.XAck(ctx, s.keys.AdminLog(), group, ids...).Err())
}

// RoomFingerprint implements chat.WebhookStore.
func (s *Store) RoomFingerprint(ctx context.Context, roomID string) (string, error) {
	v, err := s.rdb.Get(ctx, s.keys.WebhookRoom(roomID)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fail("room fingerprint", err)
	}
	return v, nil
}

// SetRoomFingerprint implements chat.WebhookStore; "" forgets the room.
func (s *Store) SetRoomFingerprint(ctx context.Context, roomID, fp string) error {
	if fp == "" {
		return failIf("room fingerprint", s.rdb.Del(ctx, s.keys.WebhookRoom(roomID)).Err())
	}
	return failIf("room fingerprint", s.rdb.Set(ctx, s.keys.WebhookRoom(roomID), fp, hookRoomKeep).Err())
}
