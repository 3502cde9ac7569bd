package mail

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"strconv"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// NotifierConfig is what a Notifier needs.
type NotifierConfig struct {
	Service *chat.Service
	Store   chat.NotifyStore
	Queue   *Queue
	Signer  *Signer
	// PublicURL is Parley's public base URL without a trailing slash.
	PublicURL string
	Log       *slog.Logger
	// Poll is how often due rooms are looked for; 1 s when 0.
	Poll time.Duration
	// OpenTTL is how long a visitor's reopen link works; 30 days when 0.
	OpenTTL time.Duration
	// Lease is how long a claimed room is this notifier's before another
	// may take it (this one crashed, or failed to decide); 2 min when 0.
	Lease time.Duration
}

// Notifier turns the due entries the Service schedules into mails: the
// agents' about unanswered visitor messages, the visitor's about unseen
// replies. Every instance runs one; a room is leased by one of them and
// acknowledged once its mails are enqueued, and a mail's id is derived
// from the room and the last message it covers, so a decision made twice
// (a lease that ran out after the enqueue, before the ack) queues one mail.
type Notifier struct {
	cfg NotifierConfig
}

// NewNotifier checks cfg and returns a Notifier.
func NewNotifier(cfg NotifierConfig) (*Notifier, error) {
	if cfg.Service == nil || cfg.Store == nil || cfg.Queue == nil || cfg.Signer == nil || cfg.Log == nil || cfg.PublicURL == "" {
		return nil, errors.New("mail: notifier needs a service, a store, a queue, a signer, a logger and the public URL")
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.OpenTTL <= 0 {
		cfg.OpenTTL = 30 * 24 * time.Hour
	}
	if cfg.Lease <= 0 {
		cfg.Lease = defaultLease
	}
	return &Notifier{cfg: cfg}, nil
}

// claimBatch is how many due rooms one poll takes of each kind.
const claimBatch = 50

// defaultLease is how long a claim holds a room: far longer than deciding
// and enqueueing its mails takes.
const defaultLease = 2 * time.Minute

// Run polls for due rooms until ctx ends.
func (n *Notifier) Run(ctx context.Context) {
	t := time.NewTicker(n.cfg.Poll)
	defer t.Stop()
	for {
		n.Poll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Poll handles the rooms due now, once.
func (n *Notifier) Poll(ctx context.Context) {
	for _, kind := range []chat.NotifyKind{chat.NotifyAgents, chat.NotifyVisitor} {
		claims, err := n.cfg.Store.ClaimNotify(ctx, kind, n.cfg.Service.Now(), claimBatch, n.cfg.Lease)
		if err != nil {
			if ctx.Err() == nil {
				n.cfg.Log.Error("mail: claim due notifications", "kind", string(kind), "err", err)
			}
			continue
		}
		for _, c := range claims {
			var err error
			if kind == chat.NotifyAgents {
				err = n.agents(ctx, c.RoomID)
			} else {
				err = n.visitor(ctx, c.RoomID)
			}
			if err != nil && !errors.Is(err, chat.ErrRoomNotFound) {
				// Not decided: the claim stays, and when its lease ends
				// the room is due again, here or on another instance.
				n.cfg.Log.Error("mail: notify", "kind", string(kind), "room_id", c.RoomID, "err", err)
				continue
			}
			// Enqueued (or nothing to send). Dying before this ack is
			// harmless: the lease runs out, the room is taken again and
			// decided again, and the same mail ids dedupe in the queue.
			if _, err := n.cfg.Store.AckNotify(context.WithoutCancel(ctx), kind, c); err != nil {
				n.cfg.Log.Error("mail: ack notification", "kind", string(kind), "room_id", c.RoomID, "err", err)
			}
		}
	}
}

// unmailed returns the room's latest messages of side after seq from, and
// (for the visitor's) only those after the other side's last message.
func (n *Notifier) unmailed(ctx context.Context, r chat.Room, side chat.Sender, from int64, afterOther bool) ([]chat.Message, error) {
	msgs, _, err := n.cfg.Service.Messages(ctx, r.ID, chat.MessageQuery{Before: r.MessageCount + 1, Limit: chat.DefaultLimit})
	if err != nil {
		return nil, err
	}
	var out []chat.Message
	for _, m := range msgs {
		switch {
		case m.Sender != side && afterOther:
			out = out[:0] // answered: only what came after counts
		case m.Sender == side && m.Seq > from:
			out = append(out, m)
		}
	}
	return out, nil
}

// agents mails every agent whose preference allows it about the visitor
// messages no agent answered.
func (n *Notifier) agents(ctx context.Context, roomID string) error {
	r, err := n.cfg.Service.Room(ctx, roomID)
	if err != nil {
		return err
	}
	if r.Blocked {
		return nil
	}
	done, err := n.cfg.Store.NotifiedSeq(ctx, roomID, chat.NotifyAgents)
	if err != nil {
		return err
	}
	msgs, err := n.unmailed(ctx, r, chat.SenderVisitor, done, true)
	if err != nil || len(msgs) == 0 {
		return err
	}
	last := msgs[len(msgs)-1].Seq
	admins, err := n.cfg.Service.Store().Admins(ctx)
	if err != nil {
		return err
	}
	online, err := n.cfg.Store.AgentsOnline(ctx, n.cfg.Service.Now())
	if err != nil {
		return err
	}
	who := r.VisitorName
	if who == "" {
		who = "A visitor"
	}
	for _, a := range admins {
		if a.Email == "" || !a.Notify.Wants(online[a.Username]) {
			continue
		}
		if off, err := n.cfg.Store.Unsubscribed(ctx, roomID, a.Username); err != nil || off {
			if err != nil {
				return err
			}
			continue
		}
		m := Mail{
			ID:          fmt.Sprintf("agents.%s.%d.%s", roomID, last, userTag(a.Username)),
			RoomID:      roomID,
			To:          a.Email,
			Recipient:   Recipient{Agent: a.Username},
			Subject:     who + " is waiting for an answer",
			Intro:       fmt.Sprintf("%s wrote on %s and no one has answered yet.", who, pageOr(r.Page)),
			Messages:    lines(msgs, who),
			Link:        &Link{Label: "Open the conversation", URL: n.cfg.PublicURL + "/admin/#/r/" + roomID},
			Unsubscribe: true,
		}
		if err := n.cfg.Queue.Enqueue(ctx, m); err != nil {
			return err
		}
	}
	return n.cfg.Store.MarkNotified(ctx, roomID, chat.NotifyAgents, last)
}

// visitor mails the room's visitor the agents' replies they have not seen.
func (n *Notifier) visitor(ctx context.Context, roomID string) error {
	r, err := n.cfg.Service.Room(ctx, roomID)
	if err != nil {
		return err
	}
	if r.VisitorEmail == "" || r.Blocked {
		return nil
	}
	if off, err := n.cfg.Store.Unsubscribed(ctx, roomID, ""); err != nil || off {
		return err
	}
	done, err := n.cfg.Store.NotifiedSeq(ctx, roomID, chat.NotifyVisitor)
	if err != nil {
		return err
	}
	msgs, err := n.unmailed(ctx, r, chat.SenderAdmin, max(done, r.VisitorReadSeq), false)
	if err != nil || len(msgs) == 0 {
		return err
	}
	last := msgs[len(msgs)-1].Seq
	t, err := n.cfg.Signer.Sign(PurposeOpen, roomID, Visitor, n.cfg.Service.Now().Add(n.cfg.OpenTTL))
	if err != nil {
		return err
	}
	to := (&netmail.Address{Name: r.VisitorName, Address: r.VisitorEmail}).String()
	m := Mail{
		ID:          "visitor." + roomID + "." + strconv.FormatInt(last, 10),
		RoomID:      roomID,
		To:          to,
		Recipient:   Visitor,
		Subject:     "You have an answer",
		Intro:       "You left before we could answer. Here is what we wrote:",
		Messages:    lines(msgs, "Support"),
		Link:        &Link{Label: "Continue the conversation", URL: n.cfg.PublicURL + "/widget/open.html?t=" + t},
		Unsubscribe: true,
	}
	if err := n.cfg.Queue.Enqueue(ctx, m); err != nil {
		return err
	}
	return n.cfg.Store.MarkNotified(ctx, roomID, chat.NotifyVisitor, last)
}

func lines(msgs []chat.Message, fallback string) []Line {
	out := make([]Line, len(msgs))
	for i, m := range msgs {
		who := m.Author
		if who == "" {
			who = fallback
		}
		out[i] = Line{Author: who, Text: m.Content, At: m.CreatedAt.Time}
	}
	return out
}

func pageOr(p string) string {
	if p == "" {
		return "your site"
	}
	return p
}

// userTag is a short fixed digest of a username for a mail id, which
// allows fewer characters than a username.
func userTag(username string) string {
	h := sha256.Sum256([]byte(username))
	return hex.EncodeToString(h[:6])
}
