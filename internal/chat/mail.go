package chat

import (
	"context"
	"strings"
	"time"
)

// NotifyPref is when an agent wants mail about conversations nobody
// answers: always, only while they have no console open, or never.
type NotifyPref string

// The agents' mail preferences; an account that never chose is
// NotifyOffline.
const (
	NotifyAlways  NotifyPref = "always"
	NotifyOffline NotifyPref = "offline"
	NotifyNever   NotifyPref = "never"
)

// Or returns p, or NotifyOffline when p was never set.
func (p NotifyPref) Or() NotifyPref {
	if p == "" {
		return NotifyOffline
	}
	return p
}

// Wants tells whether an agent with this preference gets the agents' mail,
// online being whether they have an admin stream open anywhere.
func (p NotifyPref) Wants(online bool) bool {
	switch p.Or() {
	case NotifyAlways:
		return true
	case NotifyOffline:
		return !online
	}
	return false
}

// NotifyKind names one of the two mails the notifier sends about a room.
type NotifyKind string

const (
	// NotifyAgents: a visitor's messages no agent answered in time.
	NotifyAgents NotifyKind = "agents"
	// NotifyVisitor: agents' replies the visitor did not see in time.
	NotifyVisitor NotifyKind = "visitor"
)

// NotifyConfig is when the Service schedules mail; a zero delay is off.
type NotifyConfig struct {
	// AgentsAfter is how long a visitor message waits for an agent's answer
	// before the agents are mailed (PARLEY_NOTIFY_AGENTS_AFTER).
	AgentsAfter time.Duration
	// VisitorAfter is how long an agent's reply waits to be seen before the
	// visitor is mailed (PARLEY_NOTIFY_VISITOR_AFTER).
	VisitorAfter time.Duration
	Store        NotifyStore
}

// NotifyClaim is one room a notifier holds the mail of one kind for,
// until it acknowledges the claim or the lease ends.
type NotifyClaim struct {
	RoomID string
	// Token tells this claim from a later one of the same room.
	Token string
}

// NotifyStore keeps what the notifier decides from: a due time per room
// and kind, how far each kind of mail went, the agents online, and who
// unsubscribed. Errors as for Store.
type NotifyStore interface {
	// ScheduleNotify makes set due for the room at due unless it is due
	// already (the first unanswered message starts the wait: later ones
	// join its mail), and cancels clear's due entry ("" for none), in one
	// round trip.
	ScheduleNotify(ctx context.Context, roomID string, set NotifyKind, due time.Time, clear NotifyKind) error
	// ClaimNotify leases up to max rooms whose kind is due at now, for
	// lease (on the store's clock), atomically: of several instances, one
	// holds each room. A room held stays held, and is not taken again
	// even when it is due again meanwhile, until AckNotify or the lease's
	// end; then (the holder crashed) it is due again for anyone.
	ClaimNotify(ctx context.Context, kind NotifyKind, now time.Time, max int, lease time.Duration) ([]NotifyClaim, error)
	// AckNotify ends claim c once its mail was enqueued or decided
	// against, only if c is still the room's claim (false when it ran out
	// and was taken again). A due entry scheduled while c was held stays.
	AckNotify(ctx context.Context, kind NotifyKind, c NotifyClaim) (bool, error)
	// NotifiedSeq returns the seq the last mail of kind about the room
	// covered (0 for none); MarkNotified moves it up (never down) while the
	// room exists.
	NotifiedSeq(ctx context.Context, roomID string, kind NotifyKind) (int64, error)
	MarkNotified(ctx context.Context, roomID string, kind NotifyKind, seq int64) error
	// AgentsHeartbeat records that usernames have an admin stream open on
	// this instance until until, forgetting heartbeats that ended before
	// now; AgentsOnline returns those online anywhere at now.
	AgentsHeartbeat(ctx context.Context, usernames []string, now, until time.Time) error
	AgentsOnline(ctx context.Context, now time.Time) (map[string]bool, error)
	// Unsubscribed tells whether the visitor of roomID (username "") or the
	// agent username (for every room) stopped the notification mails
	// (UnsubscribeStore records it). SetAdminProfile with a preference
	// clears an agent's.
	Unsubscribed(ctx context.Context, roomID, username string) (bool, error)
}

// AdminProfile is what an agent says about themselves: GET/PATCH
// /api/v1/admin/me.
type AdminProfile struct {
	Username    string     `json:"username"`
	DisplayName string     `json:"displayName"`
	Email       string     `json:"email"`
	Notify      NotifyPref `json:"notify"`
	// Role is only answered: an agent cannot change their own (an owner
	// does, through PATCH /api/v1/admin/agents/{username}).
	Role Role `json:"role"`
}

// ProfileUpdate is a PATCH of the profile as it came: a nil field is kept.
type ProfileUpdate struct {
	DisplayName *string `json:"displayName"`
	Email       *string `json:"email"`
	Notify      *string `json:"notify"`
}

// Apply validates u and returns p with it applied.
func (u ProfileUpdate) Apply(p AdminProfile) (AdminProfile, error) {
	if u.DisplayName != nil {
		d := strings.TrimSpace(*u.DisplayName)
		if len(d) > MaxName || strings.ContainsAny(d, "\r\n") {
			return p, invalid("displayName must be at most %d characters on one line", MaxName)
		}
		p.DisplayName = d
	}
	if u.Email != nil {
		e, err := NormalizeAdminEmail(*u.Email)
		if err != nil {
			return p, err
		}
		p.Email = e
	}
	if u.Notify != nil {
		switch n := NotifyPref(*u.Notify); n {
		case NotifyAlways, NotifyOffline, NotifyNever:
			p.Notify = n
		default:
			return p, invalid("notify must be always, offline or never")
		}
	}
	return p, nil
}

// NormalizeAdminEmail trims an agent's address and checks it ("" clears it).
func NormalizeAdminEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s != "" && !validEmail(s) {
		return "", invalid("email must be a valid address of at most %d characters", MaxEmail)
	}
	return s, nil
}

// Profile returns an account's profile.
func (a Admin) Profile() AdminProfile {
	return AdminProfile{Username: a.Username, DisplayName: a.DisplayName, Email: a.Email, Notify: a.Notify.Or(), Role: RoleOf(string(a.Role))}
}

// scheduleNotify is the one extra store call of a stored message: a
// visitor's starts the agents' wait, an agent's ends it and starts the
// visitor's. A failure costs a mail, never the message: it is not returned.
func (s *Service) scheduleNotify(ctx context.Context, m Message) {
	n := s.notify
	if n.Store == nil {
		return
	}
	switch {
	case m.Sender == SenderVisitor && n.AgentsAfter > 0:
		_ = n.Store.ScheduleNotify(ctx, m.RoomID, NotifyAgents, m.CreatedAt.Add(n.AgentsAfter), "")
	case m.Sender == SenderAdmin && n.VisitorAfter > 0:
		_ = n.Store.ScheduleNotify(ctx, m.RoomID, NotifyVisitor, m.CreatedAt.Add(n.VisitorAfter), NotifyAgents)
	case m.Sender == SenderAdmin:
		_ = n.Store.ScheduleNotify(ctx, m.RoomID, "", time.Time{}, NotifyAgents)
	}
}

// AdminProfile returns the calling admin's profile. ErrAdminUnknown.
func (s *Service) AdminProfile(ctx context.Context, username string) (AdminProfile, error) {
	a, err := s.store.Admin(ctx, username)
	if err != nil {
		return AdminProfile{}, err
	}
	return a.Profile(), nil
}

// UpdateAdminProfile applies u to username's profile and returns it.
// invalid_request (nothing changed) or ErrAdminUnknown.
func (s *Service) UpdateAdminProfile(ctx context.Context, username string, u ProfileUpdate) (AdminProfile, error) {
	p, err := s.AdminProfile(ctx, username)
	if err != nil {
		return AdminProfile{}, err
	}
	if p, err = u.Apply(p); err != nil {
		return AdminProfile{}, err
	}
	if err := s.store.SetAdminProfile(ctx, username, p); err != nil {
		return AdminProfile{}, err
	}
	return p, nil
}
