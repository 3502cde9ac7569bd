package chat

import (
	"context"
	"time"
)

// The events a webhook endpoint can subscribe to (docs/API.md, Webhooks).
const (
	WebhookConversationCreated = "conversation.created"
	WebhookConversationUpdated = "conversation.updated"
	WebhookConversationDeleted = "conversation.deleted"
	WebhookMessageCreated      = "message.created"
)

// WebhookEvents lists every event type an endpoint may subscribe to.
var WebhookEvents = []string{WebhookConversationCreated, WebhookConversationUpdated, WebhookConversationDeleted, WebhookMessageCreated}

// The kinds of endpoint: a signed webhook (Standard Webhooks) or a Slack
// incoming webhook (Slack's message format, new conversations and visitor
// messages only).
const (
	WebhookKindSigned = ""
	WebhookKindSlack  = "slack"
)

// SlackEvents are the events a Slack endpoint may subscribe to (its
// message.created is the visitors' messages only).
var SlackEvents = []string{WebhookConversationCreated, WebhookMessageCreated}

// MaxWebhooks is how many endpoints a site may register.
const MaxWebhooks = 10

// CodeURLRefused refuses a webhook URL that is not https, does not parse,
// or names a host Parley does not deliver to (loopback, private,
// link-local…): SSRF protection.
const CodeURLRefused Code = "url_not_allowed"

// Webhook is a registered endpoint as the store keeps it: the secrets are
// never on a list answer.
type Webhook struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	Events    []string  `json:"events"`
	CreatedAt time.Time `json:"createdAt"`
	// Kind is WebhookKindSigned ("") or WebhookKindSlack.
	Kind string `json:"kind,omitempty"`
	// After is where the admin logs ended when the endpoint was registered
	// (an AdminVector; "ms-n", the one log's last entry id, for an endpoint
	// registered before the logs were split, compared by time): it gets
	// the events after it (AdminLogIDAfter).
	After string `json:"after,omitempty"`
	// Secret signs deliveries ("whsec_" + base64). PrevSecret, until
	// PrevUntil, signs them too: the overlap of a rotation.
	Secret     string    `json:"secret"`
	PrevSecret string    `json:"prevSecret,omitempty"`
	PrevUntil  time.Time `json:"prevUntil,omitzero"`
}

// Wants tells whether w subscribes to event type t.
func (w Webhook) Wants(t string) bool {
	for _, e := range w.Events {
		if e == t {
			return true
		}
	}
	return false
}

// ValidateWebhookEvents checks an endpoint's event list for its kind: at
// least one, each known (for Slack, one of SlackEvents), none twice.
func ValidateWebhookEvents(kind string, events []string) error {
	allowed := WebhookEvents
	switch kind {
	case WebhookKindSigned:
	case WebhookKindSlack:
		allowed = SlackEvents
	default:
		return Errorf(CodeInvalid, "unknown kind %q: want slack, or none for a signed webhook", kind)
	}
	if len(events) == 0 {
		return Errorf(CodeInvalid, "events must name at least one of %v", allowed)
	}
	if len(events) > len(allowed) {
		return Errorf(CodeInvalid, "events names %d events; there are only %d", len(events), len(allowed))
	}
	seen := map[string]bool{}
	for _, e := range events {
		known := false
		for _, k := range allowed {
			known = known || e == k
		}
		if !known {
			return Errorf(CodeInvalid, "unknown event %q: want one of %v", e, allowed)
		}
		if seen[e] {
			return Errorf(CodeInvalid, "event %q is listed twice", e)
		}
		seen[e] = true
	}
	return nil
}

// WebhookFailure marks an endpoint whose deliveries kept failing until one
// was given up: nothing more is sent to it until an owner enables it.
type WebhookFailure struct {
	Since  time.Time `json:"since"`
	Reason string    `json:"reason"`
}

// WebhookDelivery is one attempt at delivering an event to an endpoint, as
// the console lists it.
type WebhookDelivery struct {
	// ID is the webhook-id header: the same on every retry and resend.
	ID string `json:"id"`
	// Job is the queue job the attempt belongs to (what a resend names).
	Job     string    `json:"job"`
	Type    string    `json:"type"`
	Attempt int       `json:"attempt"`
	At      time.Time `json:"at"`
	OK      bool      `json:"ok"`
	// Status is the HTTP status answered, 0 when none (refused, timed out).
	Status    int    `json:"status"`
	LatencyMS int64  `json:"latencyMs"`
	Response  string `json:"response"`
	Error     string `json:"error,omitempty"`
	// Body is the exact body sent, kept for a resend; never on the wire.
	Body string `json:"body,omitempty"`
}

// QueuedJob is one webhook delivery job as a worker holds it (see
// QueuedMail: the same queue shape).
type QueuedJob struct {
	ID       string
	Entry    string
	Payload  []byte
	Attempts int
}

// WebhookStore keeps the endpoints, their delivery log and the delivery
// queue (redisstore implements it).
type WebhookStore interface {
	// AddWebhook stores a new endpoint; CodeLimitReached when max are
	// registered already.
	AddWebhook(ctx context.Context, w Webhook, max int) error
	// Webhooks lists the endpoints, oldest first.
	Webhooks(ctx context.Context) ([]Webhook, error)
	// Webhook returns one endpoint; CodeNotFound when there is none.
	Webhook(ctx context.Context, id string) (Webhook, error)
	// PutWebhook replaces an existing endpoint; CodeNotFound when gone.
	PutWebhook(ctx context.Context, w Webhook) error
	// DeleteWebhook removes an endpoint with its failure mark and delivery
	// log; CodeNotFound when there is none.
	DeleteWebhook(ctx context.Context, id string) error

	// WebhookFailures returns the failure marks by endpoint id.
	WebhookFailures(ctx context.Context) (map[string]WebhookFailure, error)
	// SetWebhookFailure marks an endpoint failing (only if it exists).
	SetWebhookFailure(ctx context.Context, id string, f WebhookFailure) error
	// ClearWebhookFailure lifts the mark.
	ClearWebhookFailure(ctx context.Context, id string) error

	// RecordWebhookDelivery prepends d to the endpoint's delivery log,
	// which keeps the newest keep.
	RecordWebhookDelivery(ctx context.Context, endpointID string, d WebhookDelivery, keep int) error
	// WebhookDeliveries lists up to max deliveries of an endpoint, newest
	// first.
	WebhookDeliveries(ctx context.Context, endpointID string, max int) ([]WebhookDelivery, error)

	// The delivery queue, the mail queue's shape (see MailQueue).
	EnqueueWebhookJob(ctx context.Context, id string, payload []byte) (bool, error)
	ClaimWebhookJobs(ctx context.Context, consumer string, max int, wait, idle time.Duration) ([]QueuedJob, error)
	PromoteWebhookJobs(ctx context.Context, max int) (int, error)
	WebhookJobDone(ctx context.Context, j QueuedJob) error
	RetryWebhookJob(ctx context.Context, j QueuedJob, delay time.Duration, reason string) error
	BuryWebhookJob(ctx context.Context, j QueuedJob, reason string) error

	// ReadAdminLog reads the admin logs in the consumer group group (one
	// per log): first entries another consumer read more than idle ago and
	// never acknowledged, then new ones, waiting up to wait. Each event has
	// its LogID.
	ReadAdminLog(ctx context.Context, group, consumer string, max int, wait, idle time.Duration) ([]Event, error)
	// EnsureAdminLogGroup makes group on every admin log, at its end,
	// unless it exists: events from then on are read in it.
	EnsureAdminLogGroup(ctx context.Context, group string) error
	// AdminLogEnd returns the vector (AdminVector) of the admin logs'
	// newest entries.
	AdminLogEnd(ctx context.Context) (string, error)
	// AckAdminLog acknowledges entries of the admin logs in group, by
	// their events' LogIDs.
	AckAdminLog(ctx context.Context, group string, ids ...string) error

	// RoomFingerprint returns what the webhooks last saw of a room's
	// team-visible state ("" when nothing); SetRoomFingerprint records it.
	RoomFingerprint(ctx context.Context, roomID string) (string, error)
	SetRoomFingerprint(ctx context.Context, roomID, fp string) error
}
