package webhook

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// DefaultBackoff is the wait before each retry: the first within seconds,
// then longer and longer for about a day (5 s … 8 h, ~24 h in all); the
// attempt after the last wait is the last one, and when it fails too the
// endpoint is marked failing and gets nothing more until an owner enables
// it again.
var DefaultBackoff = []time.Duration{
	5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour, 8 * time.Hour,
}

// DefaultRotationGrace is how long a rotated-out secret still signs.
const DefaultRotationGrace = 24 * time.Hour

// deliveriesKept is how many attempts an endpoint's delivery log keeps.
const deliveriesKept = 50

// responseExcerpt is how much of an answer the delivery log keeps.
const responseExcerpt = 512

// Metrics are the webhook counters; any may be nil.
type Metrics struct {
	Delivered func() // an attempt answered 2xx
	Failed    func() // an attempt failed (each retry and the last one)
	Dead      func() // a delivery given up: its endpoint is now failing
}

// Config is what a Service needs; zero durations take the defaults.
type Config struct {
	Store chat.WebhookStore
	Guard *Guard
	Log   *slog.Logger
	// Consumer names this instance in the consumer groups; "" means the
	// host name and a random suffix.
	Consumer string
	Backoff  []time.Duration
	// RotationGrace is how long a rotated-out secret still signs.
	RotationGrace time.Duration
	// Poll is how long one read of the admin log or the queue waits, and
	// the pause after a Redis error; 1 s when 0.
	Poll time.Duration
	// Visibility is how long an entry read by one instance stays its own
	// before another takes it over (the reader crashed); 1 m when 0, and
	// longer than the guard's timeout.
	Visibility time.Duration
	// Batch is how many entries one read takes; 20 when 0.
	Batch   int
	Metrics Metrics
	Now     func() time.Time
	// ConsoleURL, when set, is where a conversation opens in the console,
	// followed by its id (PARLEY_PUBLIC_URL + "/admin/#/r/"): the link in
	// Slack messages.
	ConsoleURL string
}

// Service registers endpoints and, in Run, delivers to them.
type Service struct {
	cfg Config
}

// New checks cfg and returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Guard == nil || cfg.Log == nil {
		return nil, errors.New("webhook: service needs a store, a guard and a logger")
	}
	if cfg.Backoff == nil {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.RotationGrace <= 0 {
		cfg.RotationGrace = DefaultRotationGrace
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Visibility <= 0 {
		cfg.Visibility = time.Minute
	}
	if cfg.Visibility <= cfg.Guard.Timeout() {
		return nil, fmt.Errorf("webhook: visibility %v must be longer than the request timeout %v", cfg.Visibility, cfg.Guard.Timeout())
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 20
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Consumer == "" {
		host, _ := os.Hostname()
		cfg.Consumer = host + "-" + randomHex(4)
	}
	return &Service{cfg: cfg}, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Endpoint is a webhook endpoint as the API shows it. Secret is set only
// on the answers of Create and Rotate.
type Endpoint struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	Events    []string  `json:"events"`
	CreatedAt time.Time `json:"createdAt"`
	// Kind is "slack" for a Slack notifier, absent for a signed webhook.
	Kind   string `json:"kind,omitempty"`
	Secret string `json:"secret,omitempty"`
	// RotatingUntil is set while a rotated-out secret still signs.
	RotatingUntil *time.Time `json:"rotatingUntil,omitempty"`
	// Failing is set once a delivery was given up: nothing is sent until
	// the endpoint is enabled again.
	Failing *chat.WebhookFailure `json:"failing,omitempty"`
}

func (s *Service) endpoint(w chat.Webhook, failures map[string]chat.WebhookFailure) Endpoint {
	e := Endpoint{ID: w.ID, URL: w.URL, Events: w.Events, CreatedAt: w.CreatedAt, Kind: w.Kind}
	if w.PrevSecret != "" && s.cfg.Now().Before(w.PrevUntil) {
		t := w.PrevUntil
		e.RotatingUntil = &t
	}
	if f, ok := failures[w.ID]; ok {
		e.Failing = &f
	}
	return e
}

// NewEndpoint is what an owner registers. Kind "slack" makes a Slack
// notifier (its events default to chat.SlackEvents).
type NewEndpoint struct {
	URL    string   `json:"url"`
	Events []string `json:"events"`
	Kind   string   `json:"kind"`
}

// Create registers an endpoint and returns it with its secret, the one
// time it is shown. CodeInvalid (events), CodeURLRefused (url) or
// CodeLimitReached (chat.MaxWebhooks).
func (s *Service) Create(ctx context.Context, in NewEndpoint) (Endpoint, error) {
	in.URL = strings.TrimSpace(in.URL)
	if in.URL == "" {
		return Endpoint{}, chat.Errorf(chat.CodeInvalid, "url is required")
	}
	if in.Kind == chat.WebhookKindSlack && in.Events == nil {
		in.Events = chat.SlackEvents
	}
	if err := chat.ValidateWebhookEvents(in.Kind, in.Events); err != nil {
		return Endpoint{}, err
	}
	if err := s.cfg.Guard.CheckURL(ctx, in.URL); err != nil {
		return Endpoint{}, err
	}
	after, err := s.cfg.Store.AdminLogEnd(ctx)
	if err != nil {
		return Endpoint{}, err
	}
	w := chat.Webhook{
		ID: "wh_" + randomHex(8), URL: in.URL, Events: in.Events, Kind: in.Kind, After: after,
		CreatedAt: s.cfg.Now().UTC().Truncate(time.Millisecond), Secret: NewSecret(),
	}
	if err := s.cfg.Store.AddWebhook(ctx, w, chat.MaxWebhooks); err != nil {
		return Endpoint{}, err
	}
	e := s.endpoint(w, nil)
	if w.Kind == chat.WebhookKindSigned {
		e.Secret = w.Secret // a Slack notifier signs nothing
	}
	return e, nil
}

// List returns every endpoint, oldest first, without secrets.
func (s *Service) List(ctx context.Context) ([]Endpoint, error) {
	list, err := s.cfg.Store.Webhooks(ctx)
	if err != nil {
		return nil, err
	}
	failures, err := s.cfg.Store.WebhookFailures(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Endpoint, 0, len(list))
	for _, w := range list {
		out = append(out, s.endpoint(w, failures))
	}
	return out, nil
}

// Delete removes an endpoint; deliveries still queued for it are dropped.
func (s *Service) Delete(ctx context.Context, id string) error {
	return s.cfg.Store.DeleteWebhook(ctx, id)
}

// Rotate gives an endpoint a new secret and returns it (shown once); the
// old one signs too for RotationGrace.
func (s *Service) Rotate(ctx context.Context, id string) (Endpoint, error) {
	w, err := s.cfg.Store.Webhook(ctx, id)
	if err != nil {
		return Endpoint{}, err
	}
	if w.Kind != chat.WebhookKindSigned {
		return Endpoint{}, chat.Errorf(chat.CodeInvalid, "a Slack notifier has no secret to rotate")
	}
	w.PrevSecret, w.PrevUntil = w.Secret, s.cfg.Now().Add(s.cfg.RotationGrace).UTC().Truncate(time.Millisecond)
	w.Secret = NewSecret()
	if err := s.cfg.Store.PutWebhook(ctx, w); err != nil {
		return Endpoint{}, err
	}
	e := s.endpoint(w, nil)
	e.Secret = w.Secret
	return e, nil
}

// Enable lifts an endpoint's failing mark: events from now on are
// delivered again.
func (s *Service) Enable(ctx context.Context, id string) error {
	if _, err := s.cfg.Store.Webhook(ctx, id); err != nil {
		return err
	}
	return s.cfg.Store.ClearWebhookFailure(ctx, id)
}

// Deliveries lists an endpoint's recent attempts, newest first (without
// the bodies sent).
func (s *Service) Deliveries(ctx context.Context, id string) ([]chat.WebhookDelivery, error) {
	if _, err := s.cfg.Store.Webhook(ctx, id); err != nil {
		return nil, err
	}
	list, err := s.cfg.Store.WebhookDeliveries(ctx, id, deliveriesKept)
	if err != nil {
		return nil, err
	}
	for i := range list {
		list[i].Body = ""
	}
	return list, nil
}

var errNoDelivery = &chat.Error{Code: chat.CodeNotFound, Message: "no recent delivery of this endpoint with this job id"}

// Resend queues again the event of one of an endpoint's recent deliveries
// (named by its job), with the same webhook-id and body.
func (s *Service) Resend(ctx context.Context, id, jobID string) error {
	if _, err := s.cfg.Store.Webhook(ctx, id); err != nil {
		return err
	}
	list, err := s.cfg.Store.WebhookDeliveries(ctx, id, deliveriesKept)
	if err != nil {
		return err
	}
	for _, d := range list {
		if d.Job != jobID || d.Body == "" {
			continue
		}
		p, err := json.Marshal(job{Endpoint: id, WebhookID: d.ID, Type: d.Type, Body: json.RawMessage(d.Body)})
		if err != nil {
			return fmt.Errorf("webhook: resend: %w", err)
		}
		_, err = s.cfg.Store.EnqueueWebhookJob(ctx, baseJob(jobID)+".resend."+randomHex(4), p)
		return err
	}
	return errNoDelivery
}

// baseJob is the job a resend was made from.
func baseJob(id string) string {
	base, _, _ := strings.Cut(id, ".resend.")
	return base
}
