package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
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

// webhookQueue is the delivery queue: the mail queue's design and code
// (mailqueue.go) on keys of its own.
func (s *Store) webhookQueue() jobQueue {
	return jobQueue{name: "webhook", stream: s.keys.WebhookQueue(), retry: s.keys.WebhookRetry(), dead: s.keys.WebhookDead(),
		group: WebhookGroup, job: s.keys.WebhookJob, keep: hookKeep, deadMax: hookDeadMax}
}

// EnqueueWebhookJob implements chat.WebhookStore.
func (s *Store) EnqueueWebhookJob(ctx context.Context, id string, payload []byte) (bool, error) {
	return s.enqueue(ctx, s.webhookQueue(), id, payload)
}

// ClaimWebhookJobs implements chat.WebhookStore.
func (s *Store) ClaimWebhookJobs(ctx context.Context, consumer string, max int, wait, idle time.Duration) ([]chat.QueuedJob, error) {
	jobs, err := s.claim(ctx, s.webhookQueue(), consumer, max, wait, idle)
	if len(jobs) == 0 {
		return nil, err
	}
	out := make([]chat.QueuedJob, len(jobs))
	for i, j := range jobs {
		out[i] = chat.QueuedJob(j)
	}
	return out, err
}

// PromoteWebhookJobs implements chat.WebhookStore.
func (s *Store) PromoteWebhookJobs(ctx context.Context, max int) (int, error) {
	return s.promote(ctx, s.webhookQueue(), max)
}

// WebhookJobDone implements chat.WebhookStore.
func (s *Store) WebhookJobDone(ctx context.Context, j chat.QueuedJob) error {
	return s.done(ctx, s.webhookQueue(), chat.QueuedMail(j))
}

// RetryWebhookJob implements chat.WebhookStore.
func (s *Store) RetryWebhookJob(ctx context.Context, j chat.QueuedJob, delay time.Duration, reason string) error {
	return s.retryLater(ctx, s.webhookQueue(), chat.QueuedMail(j), delay, reason)
}

// BuryWebhookJob implements chat.WebhookStore.
func (s *Store) BuryWebhookJob(ctx context.Context, j chat.QueuedJob, reason string) error {
	return s.bury(ctx, s.webhookQueue(), chat.QueuedMail(j), reason)
}

// ReadAdminLog implements chat.WebhookStore. A group made here starts at
// the log's end: events from before the first dispatcher ran are not
// delivered.
// ReadAdminLog implements chat.WebhookStore, over every admin log (and the
// one of before the split while its group has entries: loggroups.go),
// each event's LogID "L:ms-n". A group made here starts at its log's end:
// events from before the first dispatcher ran are not delivered.
func (s *Store) ReadAdminLog(ctx context.Context, group, consumer string, max int, wait, idle time.Duration) ([]chat.Event, error) {
	entries, err := s.readLogs(ctx, allLogs, group, "$", consumer, max, wait, idle)
	if err != nil {
		return nil, fail("read admin log", err)
	}
	return s.eventsOfEntries(ctx, group, entries)
}

// EnsureAdminLogGroup makes group on every admin log (at its end) unless
// it exists, so that events from now on are read by the group.
func (s *Store) EnsureAdminLogGroup(ctx context.Context, group string) error {
	if err := s.makeGroups(ctx, allLogs[:AdminLogs], group, "$"); err != nil {
		return fail("admin log group", err)
	}
	return nil
}

// AckAdminLog implements chat.WebhookStore: ids are LogIDs ("L:ms-n").
func (s *Store) AckAdminLog(ctx context.Context, group string, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	return failIf("ack admin log", s.ackLogs(ctx, group, ids))
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
