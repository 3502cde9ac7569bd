package webhook

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/parley-chat/parley/internal/chat"
)

// Group is the consumer group the dispatchers read the admin log in.
const Group = "webhooks"

// job is one queued delivery: one event to one endpoint. Body is the exact
// body every attempt sends, WebhookID the webhook-id every attempt carries.
type job struct {
	Endpoint  string          `json:"endpoint"`
	WebhookID string          `json:"webhookId"`
	Type      string          `json:"type"`
	Body      json.RawMessage `json:"body"`
}

// Body is a delivery's JSON body (Standard Webhooks).
type Body struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      any       `json:"data"`
}

// conversationData and messageData are the data of the events.
type conversationData struct {
	Conversation any `json:"conversation"`
}

type messageData struct {
	Conversation *chat.Room    `json:"conversation"`
	Message      *chat.Message `json:"message"`
}

type deletedRoom struct {
	ID string `json:"id"`
}

// Run dispatches and delivers until ctx ends, then returns once both loops
// have stopped. A delivery under way when ctx ends is abandoned
// unrecorded: its entry stays pending and another worker (or this one,
// restarted) sends it again after the visibility timeout.
func (s *Service) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.runDispatch(ctx) }()
	go func() { defer wg.Done(); s.runDeliver(ctx) }()
	wg.Wait()
}

// EnsureGroup makes the admin log's consumer group (at the log's end) so
// that every event from now on is dispatched; Run does it too.
func (s *Service) EnsureGroup(ctx context.Context) error {
	return s.cfg.Store.EnsureAdminLogGroup(ctx, Group)
}

func (s *Service) runDispatch(ctx context.Context) {
	for ctx.Err() == nil {
		if err := s.EnsureGroup(ctx); err == nil {
			break
		} else if ctx.Err() == nil {
			s.cfg.Log.Error("webhook: create the admin log group", "err", err)
			sleep(ctx, s.cfg.Poll)
		}
	}
	for ctx.Err() == nil {
		evs, err := s.cfg.Store.ReadAdminLog(ctx, Group, s.cfg.Consumer, s.cfg.Batch, s.cfg.Poll, s.cfg.Visibility)
		if err != nil {
			if ctx.Err() == nil {
				s.cfg.Log.Error("webhook: read the admin log", "err", err)
				sleep(ctx, s.cfg.Poll)
			}
			continue
		}
		if len(evs) == 0 {
			continue
		}
		if err := s.Dispatch(ctx, evs); err != nil && ctx.Err() == nil {
			s.cfg.Log.Error("webhook: dispatch", "err", err)
			sleep(ctx, s.cfg.Poll)
		}
	}
}

// Dispatch turns admin log events into queued deliveries, one per event and
// subscribed endpoint, and acknowledges each event once its deliveries are
// queued. An event not acknowledged (an error) is read again after the
// visibility timeout; its job ids are the same, so it is queued once.
func (s *Service) Dispatch(ctx context.Context, evs []chat.Event) error {
	hooks, err := s.cfg.Store.Webhooks(ctx)
	if err != nil {
		return err
	}
	failures, err := s.cfg.Store.WebhookFailures(ctx)
	if err != nil {
		return err
	}
	hooks = slices.DeleteFunc(hooks, func(w chat.Webhook) bool { _, bad := failures[w.ID]; return bad })
	var done []string
	for _, ev := range evs {
		if len(hooks) > 0 {
			if err := s.dispatchOne(ctx, ev, hooks); err != nil {
				_ = s.cfg.Store.AckAdminLog(ctx, Group, done...)
				return err
			}
		}
		done = append(done, ev.LogID)
	}
	return s.cfg.Store.AckAdminLog(ctx, Group, done...)
}

type outEvent struct {
	typ  string
	data any
}

func (s *Service) dispatchOne(ctx context.Context, ev chat.Event, hooks []chat.Webhook) error {
	at := logTime(ev.LogID)
	outs, fp, err := s.mapEvent(ctx, ev)
	if err != nil {
		return err
	}
	for _, o := range outs {
		for _, w := range hooks {
			if !w.Wants(o.typ) || (w.After != "" && !chat.AdminLogIDAfter(ev.LogID, w.After)) {
				continue
			}
			id := ev.LogID + "." + w.ID + "." + o.typ
			var body []byte
			if w.Kind == chat.WebhookKindSlack {
				if body = slackBody(o.typ, ev, s.cfg.ConsoleURL); body == nil {
					continue // not for Slack (an agent's message)
				}
			} else if body, err = json.Marshal(Body{Type: o.typ, Timestamp: at, Data: o.data}); err != nil {
				return err
			}
			p, err := json.Marshal(job{Endpoint: w.ID, WebhookID: "msg_" + strings.ReplaceAll(id, ".", "_"), Type: o.typ, Body: body})
			if err != nil {
				return err
			}
			if _, err := s.cfg.Store.EnqueueWebhookJob(ctx, id, p); err != nil {
				return err
			}
		}
	}
	if fp != nil {
		// After the enqueue: dying in between queues the same jobs again
		// (deduplicated) on the next read, never none.
		return s.cfg.Store.SetRoomFingerprint(ctx, ev.RoomID, *fp)
	}
	return nil
}

// mapEvent returns the webhook events of an admin log event and, when the
// room's team-visible state is to be remembered, its new fingerprint. A
// room event is conversation.created for a new room and
// conversation.updated only when status, assignment, labels, block or
// the visitor's details changed (not for a read mark).
func (s *Service) mapEvent(ctx context.Context, ev chat.Event) ([]outEvent, *string, error) {
	switch ev.Type {
	case chat.EventRoomDeleted:
		empty := ""
		return []outEvent{{chat.WebhookConversationDeleted, conversationData{deletedRoom{ID: ev.RoomID}}}}, &empty, nil
	case chat.EventMessage:
		if ev.Message == nil {
			return nil, nil, nil
		}
		outs := []outEvent{{chat.WebhookMessageCreated, messageData{Conversation: ev.Room, Message: ev.Message}}}
		if ev.Room == nil {
			return outs, nil, nil
		}
		fp := fingerprint(*ev.Room)
		old, err := s.cfg.Store.RoomFingerprint(ctx, ev.RoomID)
		if err != nil {
			return nil, nil, err
		}
		if old != "" && old != fp { // a visitor's message reopened the room
			outs = append(outs, outEvent{chat.WebhookConversationUpdated, conversationData{ev.Room}})
		}
		return outs, &fp, nil
	case chat.EventRoom:
		if ev.Room == nil {
			return nil, nil, nil
		}
		fp := fingerprint(*ev.Room)
		old, err := s.cfg.Store.RoomFingerprint(ctx, ev.RoomID)
		if err != nil {
			return nil, nil, err
		}
		// A new room's event is the only one before any fingerprint with
		// no message yet (block, assignment and details keep updatedAt).
		if old == "" && ev.Room.MessageCount == 0 && ev.Room.CreatedAt.Equal(ev.Room.UpdatedAt.Time) {
			return []outEvent{{chat.WebhookConversationCreated, conversationData{ev.Room}}}, &fp, nil
		}
		if old == fp {
			return nil, nil, nil
		}
		return []outEvent{{chat.WebhookConversationUpdated, conversationData{ev.Room}}}, &fp, nil
	}
	return nil, nil, nil
}

// fingerprint is what conversation.updated is about in a room.
func fingerprint(r chat.Room) string {
	var b strings.Builder
	b.WriteString(string(r.Status))
	b.WriteByte('|')
	if r.Assignee != nil {
		b.WriteString(*r.Assignee)
	}
	b.WriteByte('|')
	labels := slices.Clone(r.Labels)
	slices.Sort(labels)
	b.WriteString(strings.Join(labels, ","))
	b.WriteString("|" + strconv.FormatBool(r.Blocked) + "|" + r.VisitorName + "|" + r.VisitorEmail + "|")
	if r.SnoozedUntil != nil {
		b.WriteString(strconv.FormatInt(r.SnoozedUntil.UnixMilli(), 10))
	}
	return b.String()
}

// logTime is when an admin log entry was written (its id's milliseconds).
func logTime(id string) time.Time {
	ms, _, _ := chat.ParseLogID(id)
	return time.UnixMilli(int64(ms)).UTC()
}

func (s *Service) runDeliver(ctx context.Context) {
	for ctx.Err() == nil {
		if _, err := s.cfg.Store.PromoteWebhookJobs(ctx, s.cfg.Batch*10); err != nil && ctx.Err() == nil {
			s.cfg.Log.Error("webhook: promote retries", "err", err)
		}
		jobs, err := s.cfg.Store.ClaimWebhookJobs(ctx, s.cfg.Consumer, s.cfg.Batch, s.cfg.Poll, s.cfg.Visibility)
		if err != nil {
			if ctx.Err() == nil {
				s.cfg.Log.Error("webhook: read queue", "err", err)
				sleep(ctx, s.cfg.Poll)
			}
			continue
		}
		for _, j := range jobs {
			if ctx.Err() != nil {
				break
			}
			s.deliver(ctx, j)
		}
	}
}

// deliver makes one attempt at j and records it.
func (s *Service) deliver(ctx context.Context, j chat.QueuedJob) {
	log := s.cfg.Log.With("webhook_job", j.ID, "attempt", j.Attempts+1)
	var p job
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		s.bury(ctx, log, j, "", "undecodable payload")
		return
	}
	w, err := s.cfg.Store.Webhook(ctx, p.Endpoint)
	if chat.ErrorCode(err) == chat.CodeNotFound {
		_ = s.cfg.Store.WebhookJobDone(ctx, j) // endpoint deleted: nothing to send
		return
	}
	if err != nil {
		log.Error("webhook: load endpoint", "err", err) // left to the visibility timeout
		return
	}
	failures, err := s.cfg.Store.WebhookFailures(ctx)
	if err != nil {
		log.Error("webhook: load failures", "err", err)
		return
	}
	if _, bad := failures[w.ID]; bad {
		s.bury(ctx, log, j, "", "endpoint is failing: enable it to deliver again")
		return
	}
	now := s.cfg.Now()
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "Parley-Webhooks/1")
	if w.Kind == chat.WebhookKindSigned {
		if err := s.signHeaders(h, w, p, now); err != nil {
			s.bury(ctx, log, j, "", "bad secret")
			return
		}
	}
	res, err := s.cfg.Guard.Post(ctx, w.URL, h, p.Body)
	if err != nil && ctx.Err() != nil {
		return // shutting down: left to the visibility timeout
	}
	d := chat.WebhookDelivery{
		ID: p.WebhookID, Job: j.ID, Type: p.Type, Attempt: j.Attempts + 1, At: now.UTC(),
		Status: res.Status, LatencyMS: res.Latency.Milliseconds(), Response: excerpt(res.Body),
		Body: string(p.Body),
	}
	d.OK = err == nil && res.Status >= 200 && res.Status < 300
	reason := ""
	switch {
	case err != nil:
		reason = err.Error()
	case !d.OK:
		reason = "answered " + strconv.Itoa(res.Status)
	}
	d.Error = reason
	bg := context.WithoutCancel(ctx)
	if err := s.cfg.Store.RecordWebhookDelivery(bg, w.ID, d, deliveriesKept); err != nil {
		log.Error("webhook: record delivery", "err", err)
	}
	if d.OK {
		count(s.cfg.Metrics.Delivered)
		if err := s.cfg.Store.WebhookJobDone(bg, j); err != nil {
			log.Error("webhook: record delivered", "err", err)
		}
		return
	}
	count(s.cfg.Metrics.Failed)
	if j.Attempts+1 > len(s.cfg.Backoff) {
		s.bury(ctx, log, j, w.ID, reason)
		return
	}
	delay := s.cfg.Backoff[j.Attempts]
	log.Warn("webhook: delivery failed, will retry", "endpoint", w.ID, "reason", reason, "retry_in", delay)
	if err := s.cfg.Store.RetryWebhookJob(bg, j, delay, reason); err != nil {
		log.Error("webhook: schedule retry", "err", err)
	}
}

// signHeaders sets the Standard Webhooks headers of one attempt: the
// signature with the secret, and during a rotation's overlap with the old
// one too.
func (s *Service) signHeaders(h http.Header, w chat.Webhook, p job, now time.Time) error {
	ts := now.Unix()
	sig, err := Sign(w.Secret, p.WebhookID, ts, p.Body)
	if err != nil {
		return err
	}
	if w.PrevSecret != "" && now.Before(w.PrevUntil) {
		if old, err := Sign(w.PrevSecret, p.WebhookID, ts, p.Body); err == nil {
			sig += " " + old
		}
	}
	h.Set("webhook-id", p.WebhookID)
	h.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	h.Set("webhook-signature", sig)
	return nil
}

// bury gives j up; with endpointID the endpoint is marked failing.
func (s *Service) bury(ctx context.Context, log *slog.Logger, j chat.QueuedJob, endpointID, reason string) {
	bg := context.WithoutCancel(ctx)
	if err := s.cfg.Store.BuryWebhookJob(bg, j, reason); err != nil {
		log.Error("webhook: record given-up delivery", "err", err)
		return
	}
	count(s.cfg.Metrics.Dead)
	if endpointID == "" {
		return
	}
	log.Error("webhook: gave up a delivery; the endpoint is marked failing and gets nothing until enabled", "endpoint", endpointID, "reason", reason)
	f := chat.WebhookFailure{Since: s.cfg.Now().UTC(), Reason: reason}
	if err := s.cfg.Store.SetWebhookFailure(bg, endpointID, f); err != nil {
		log.Error("webhook: mark endpoint failing", "err", err)
	}
}

// excerpt is the start of an answer, cut at a rune boundary.
func excerpt(b []byte) string {
	if len(b) > responseExcerpt {
		b = b[:responseExcerpt]
	}
	for len(b) > 0 && !utf8.Valid(b) {
		b = b[:len(b)-1]
	}
	return string(b)
}

func count(f func()) {
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
