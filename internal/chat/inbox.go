package chat

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Status is where a conversation stands in the team's work.
type Status string

// The statuses of a conversation. A room without one (created before
// statuses existed) is open.
const (
	StatusOpen     Status = "open"
	StatusPending  Status = "pending"
	StatusResolved Status = "resolved"
)

// Valid tells whether s is one of the three statuses.
func (s Status) Valid() bool { return s == StatusOpen || s == StatusPending || s == StatusResolved }

// The room list views beyond FilterAll and FilterUnread: each is one index.
const (
	FilterMine       RoomFilter = "mine"       // open, assigned to the caller
	FilterUnassigned RoomFilter = "unassigned" // open, assigned to nobody
	FilterOpen       RoomFilter = "open"
	FilterPending    RoomFilter = "pending"
	FilterResolved   RoomFilter = "resolved"
)

// RoomCounts are the sizes of the inbox views, as the console's sidebar
// shows them.
type RoomCounts struct {
	All        int64 `json:"all"`
	Unread     int64 `json:"unread"`
	Mine       int64 `json:"mine"`
	Unassigned int64 `json:"unassigned"`
	Open       int64 `json:"open"`
	Pending    int64 `json:"pending"`
	Resolved   int64 `json:"resolved"`
}

// The bounds of a snooze.
const (
	MinSnooze = time.Minute
	MaxSnooze = 366 * 24 * time.Hour
)

// StatusRequest is an agent setting a conversation's status; Until is only
// for pending (a snooze: the conversation reopens by itself then; nil for
// "until the visitor writes").
type StatusRequest struct {
	Status Status `json:"status"`
	Until  *Time  `json:"until"`
}

// Validate checks r at now.
func (r StatusRequest) Validate(now time.Time) error {
	if !r.Status.Valid() {
		return invalid("status must be open, pending or resolved")
	}
	if r.Until == nil {
		return nil
	}
	if r.Status != StatusPending {
		return invalid("until is only for pending")
	}
	d := r.Until.Sub(now)
	if d < MinSnooze-time.Second || d > MaxSnooze {
		return invalid("until must be between %s and %d days from now", MinSnooze, int(MaxSnooze/(24*time.Hour)))
	}
	return nil
}

// AssignRequest is an agent assigning a conversation: Username nil (JSON
// null) unassigns it.
type AssignRequest struct {
	Username *string `json:"username"`
	// given tells whether the body named username at all: {} is a mistake,
	// not an unassignment.
	given bool
}

// UnmarshalJSON reads {"username": "…"|null}.
func (r *AssignRequest) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	v, ok := raw["username"]
	r.given = ok
	if !ok || string(v) == "null" {
		r.Username = nil
		return nil
	}
	var name string
	if err := json.Unmarshal(v, &name); err != nil {
		return err
	}
	r.Username = &name
	return nil
}

// AssignTo builds the request that assigns to username, or to nobody when
// it is nil.
func AssignTo(username *string) AssignRequest { return AssignRequest{Username: username, given: true} }

// Label is a team-wide tag on conversations.
type Label struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Color string `json:"color"`
}

// LabelInput is an owner defining or changing a label; a nil field is not
// changed.
type LabelInput struct {
	Name  *string `json:"name"`
	Color *string `json:"color"`
}

// Label bounds.
const (
	MaxLabelName   = 40
	MaxLabels      = 100 // defined labels
	MaxRoomLabels  = 10  // labels on one conversation
	labelIDPrefix  = "l_"
	labelIDPattern = `^l_[a-z2-7]{10}$`
)

var (
	labelIDRe    = regexp.MustCompile(labelIDPattern)
	labelColorRe = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
)

// ValidLabelID tells whether id has the shape of a label id.
func ValidLabelID(id string) bool { return labelIDRe.MatchString(id) }

// DefaultLabelColor is the colour of a label defined without one.
const DefaultLabelColor = "#6b7280"

// apply checks in and applies it to l.
func (in LabelInput) apply(l *Label) error {
	if in.Name != nil {
		name := strings.Join(strings.Fields(*in.Name), " ")
		if name == "" || utf8.RuneCountInString(name) > MaxLabelName || hasControl(name) || strings.Contains(name, ",") {
			return invalid("name must be 1 to %d characters of text, without commas", MaxLabelName)
		}
		l.Name = name
	}
	if in.Color != nil {
		if !labelColorRe.MatchString(*in.Color) {
			return invalid("color must be #rrggbb")
		}
		l.Color = strings.ToLower(*in.Color)
	}
	return nil
}

// RoomLabels is an agent setting the labels of a conversation (the whole
// set, replacing the one before).
type RoomLabels struct {
	Labels []string `json:"labels"`
}

// Note is an agents-only remark in a conversation: never shown to the
// visitor, never in a transcript or a mail.
type Note struct {
	ID         string `json:"id"`
	RoomID     string `json:"roomId"`
	Author     string `json:"author"`     // username
	AuthorName string `json:"authorName"` // display name when written
	Content    string `json:"content"`
	CreatedAt  Time   `json:"createdAt"`
}

// NewNote is a note as an agent submits it.
type NewNote struct {
	Content string `json:"content"`
}

// MaxNotes bounds the notes of one conversation.
const MaxNotes = 1000

// Normalize trims the note and checks its bounds.
func (n *NewNote) Normalize() error {
	n.Content = strings.TrimSpace(n.Content)
	if n.Content == "" || utf8.RuneCountInString(n.Content) > MaxContent || !utf8.ValidString(n.Content) || hasForbiddenControl(n.Content) {
		return invalid("content must be 1 to %d characters", MaxContent)
	}
	return nil
}

// Activity is what an agent is doing in a conversation, for the other agents.
type Activity string

// The activities other agents see.
const (
	ActivityViewing Activity = "viewing"
	ActivityTyping  Activity = "typing"
)

// AgentRef names an agent as the others see them.
type AgentRef struct {
	Username    string `json:"username"`
	DisplayName string `json:"displayName"`
}

// InboxStore keeps what the team inbox adds to a room: status, assignee,
// labels and notes. Every change publishes EventRoom (or EventNote) in the
// same step, and the indexes of the views change with the room.
type InboxStore interface {
	// SetStatus sets a room's status (until: the end of a snooze, zero for
	// none). ErrRoomNotFound.
	SetStatus(ctx context.Context, roomID string, s Status, until time.Time) (Room, error)
	// Assign sets a room's assignee (nil: nobody). ErrRoomNotFound.
	Assign(ctx context.Context, roomID string, to *AgentRef) (Room, error)
	// UnassignAll unassigns every room assigned to username.
	UnassignAll(ctx context.Context, username string) error
	// DueSnoozes returns up to n rooms whose snooze ended by now.
	DueSnoozes(ctx context.Context, now time.Time, n int) ([]string, error)
	// Wake reopens a pending room whose snooze ended by now; woke is false
	// when it is no longer due (changed since, or woken by another instance).
	Wake(ctx context.Context, roomID string, now time.Time) (woke bool, err error)
	// SetRoomLabels replaces a room's labels. ErrRoomNotFound.
	SetRoomLabels(ctx context.Context, roomID string, labels []string) (Room, error)
	// Labels lists the defined labels, by name.
	Labels(ctx context.Context) ([]Label, error)
	// PutLabel stores a new or changed label definition, refusing a name
	// another label has (CodeConflict) or a new one beyond MaxLabels, and
	// publishes EventLabels.
	PutLabel(ctx context.Context, l Label, isNew bool) error
	// DeleteLabel removes a label definition and takes it off every room.
	// ErrLabelNotFound.
	DeleteLabel(ctx context.Context, id string) error
	// AddNote stores a note and publishes EventNote. ErrRoomNotFound, or
	// CodeConflict beyond MaxNotes.
	AddNote(ctx context.Context, n Note) error
	// Notes returns a room's notes, oldest first. ErrRoomNotFound.
	Notes(ctx context.Context, roomID string) ([]Note, error)
	// Activity publishes EventAgentActivity for an agent in a room, unless
	// the same agent's same activity was published within every.
	Activity(ctx context.Context, roomID string, who AgentRef, what Activity, every time.Duration) error
	// RoomCounts returns the sizes of the views for agent.
	RoomCounts(ctx context.Context, agent string) (RoomCounts, error)
}

// ErrLabelNotFound answers a label id that is not defined.
var ErrLabelNotFound = &Error{Code: CodeNotFound, Message: "no such label"}

// SetStatus sets a conversation's status.
func (s *Service) SetStatus(ctx context.Context, roomID string, in StatusRequest) (Room, error) {
	if err := in.Validate(s.now()); err != nil {
		return Room{}, err
	}
	var until time.Time
	if in.Until != nil {
		until = in.Until.Time
	}
	return s.store.SetStatus(ctx, roomID, in.Status, until)
}

// errUnknownAgent answers an assignment to an account that does not exist.
var errUnknownAgent = Errorf(CodeNotFound, "no such agent")

// Assign assigns a conversation to an agent, or to nobody.
func (s *Service) Assign(ctx context.Context, roomID string, in AssignRequest) (Room, error) {
	if !in.given {
		return Room{}, invalid("username is required: an agent's username, or null to unassign")
	}
	if in.Username == nil {
		return s.store.Assign(ctx, roomID, nil)
	}
	name := strings.TrimSpace(*in.Username)
	if name == "" || len(name) > MaxUsername {
		return Room{}, invalid("username must be an agent's username, or null")
	}
	a, err := s.store.Admin(ctx, name)
	if err != nil {
		if errors.Is(err, ErrAdminUnknown) {
			return Room{}, errUnknownAgent
		}
		return Room{}, err
	}
	return s.store.Assign(ctx, roomID, &AgentRef{Username: a.Username, DisplayName: displayName(a)})
}

func displayName(a Admin) string {
	if a.DisplayName != "" {
		return a.DisplayName
	}
	return a.Username
}

// UnassignAll gives every conversation assigned to username back to
// nobody: what removing an agent does.
func (s *Service) UnassignAll(ctx context.Context, username string) error {
	return s.store.UnassignAll(ctx, username)
}

// snoozeBatch is how many due snoozes WakeSnoozes takes per store call.
const snoozeBatch = 100

// WakeSnoozes reopens every conversation whose snooze has ended, and
// returns how many it woke. Several instances may run it at once: each room
// wakes once.
func (s *Service) WakeSnoozes(ctx context.Context) (int, error) {
	woke := 0
	for {
		now := s.now()
		ids, err := s.store.DueSnoozes(ctx, now, snoozeBatch)
		if err != nil || len(ids) == 0 {
			return woke, err
		}
		for _, id := range ids {
			ok, err := s.store.Wake(ctx, id, now)
			if err != nil {
				return woke, err
			}
			if ok {
				woke++
			}
		}
		if len(ids) < snoozeBatch {
			return woke, nil
		}
	}
}

// RunSnoozes wakes snoozed conversations every interval until ctx ends;
// errors are reported to logf and retried at the next tick.
func (s *Service) RunSnoozes(ctx context.Context, every time.Duration, logf func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.WakeSnoozes(ctx); err != nil && ctx.Err() == nil && logf != nil {
			logf(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SetRoomLabels replaces a conversation's labels with in.Labels, each of
// which must be defined.
func (s *Service) SetRoomLabels(ctx context.Context, roomID string, in RoomLabels) (Room, error) {
	if len(in.Labels) > MaxRoomLabels {
		return Room{}, invalid("a conversation has at most %d labels", MaxRoomLabels)
	}
	defined, err := s.store.Labels(ctx)
	if err != nil {
		return Room{}, err
	}
	known := make(map[string]bool, len(defined))
	for _, l := range defined {
		known[l.ID] = true
	}
	seen := make(map[string]bool, len(in.Labels))
	ids := make([]string, 0, len(in.Labels))
	for _, id := range in.Labels {
		if !known[id] {
			return Room{}, ErrLabelNotFound
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return s.store.SetRoomLabels(ctx, roomID, ids)
}

// Labels lists the defined labels.
func (s *Service) Labels(ctx context.Context) ([]Label, error) { return s.store.Labels(ctx) }

// CreateLabel defines a label.
func (s *Service) CreateLabel(ctx context.Context, in LabelInput) (Label, error) {
	if in.Name == nil {
		return Label{}, invalid("name is required")
	}
	l := Label{ID: NewLabelID(), Color: DefaultLabelColor}
	if err := in.apply(&l); err != nil {
		return Label{}, err
	}
	if err := s.store.PutLabel(ctx, l, true); err != nil {
		return Label{}, err
	}
	return l, nil
}

// UpdateLabel renames or recolours a label.
func (s *Service) UpdateLabel(ctx context.Context, id string, in LabelInput) (Label, error) {
	l, err := s.label(ctx, id)
	if err != nil {
		return Label{}, err
	}
	if err := in.apply(&l); err != nil {
		return Label{}, err
	}
	if err := s.store.PutLabel(ctx, l, false); err != nil {
		return Label{}, err
	}
	return l, nil
}

// DeleteLabel removes a label from the team and from every conversation.
func (s *Service) DeleteLabel(ctx context.Context, id string) error {
	if !ValidLabelID(id) {
		return ErrLabelNotFound
	}
	return s.store.DeleteLabel(ctx, id)
}

func (s *Service) label(ctx context.Context, id string) (Label, error) {
	if !ValidLabelID(id) {
		return Label{}, ErrLabelNotFound
	}
	all, err := s.store.Labels(ctx)
	if err != nil {
		return Label{}, err
	}
	for _, l := range all {
		if l.ID == id {
			return l, nil
		}
	}
	return Label{}, ErrLabelNotFound
}

// AddNote stores an agent's private note in a conversation.
func (s *Service) AddNote(ctx context.Context, roomID string, by AgentRef, in NewNote) (Note, error) {
	if err := in.Normalize(); err != nil {
		return Note{}, err
	}
	now := s.now().UTC()
	n := Note{ID: NewMessageID(now), RoomID: roomID, Author: by.Username, AuthorName: by.DisplayName,
		Content: in.Content, CreatedAt: TimeFromMillis(now.UnixMilli())}
	if err := s.store.AddNote(ctx, n); err != nil {
		return Note{}, err
	}
	return n, nil
}

// Notes returns a conversation's notes.
func (s *Service) Notes(ctx context.Context, roomID string) ([]Note, error) {
	return s.store.Notes(ctx, roomID)
}

// activityEvery is the least time between two events of one agent's one
// activity in a room: the console announces viewing every few seconds and
// typing on every key.
const activityEvery = 2 * time.Second

// Activity tells the other agents that who is viewing or typing in a room.
func (s *Service) Activity(ctx context.Context, roomID string, who AgentRef, what Activity) error {
	if !ValidRoomID(roomID) {
		return ErrRoomNotFound
	}
	return s.store.Activity(ctx, roomID, who, what, activityEvery)
}

// RoomCounts returns the sizes of the inbox views for agent.
func (s *Service) RoomCounts(ctx context.Context, agent string) (RoomCounts, error) {
	return s.store.RoomCounts(ctx, agent)
}

// AgentOpen is an agent opening a conversation: it is marked read for the
// admins, the other agents are told who is viewing it, and it comes with its
// latest messages and its notes.
func (s *Service) AgentOpen(ctx context.Context, roomID string, who AgentRef) (Room, []Message, []Note, error) {
	r, msgs, err := s.AdminOpen(ctx, roomID)
	if err != nil {
		return Room{}, nil, nil, err
	}
	notes, err := s.store.Notes(ctx, roomID)
	if err != nil {
		return Room{}, nil, nil, err
	}
	if who.Username != "" {
		if err := s.store.Activity(ctx, roomID, who, ActivityViewing, activityEvery); err != nil {
			return Room{}, nil, nil, err
		}
	}
	return r, msgs, notes, nil
}

// AgentTyping tells the visitor that the admins are typing (as Typing does)
// and the other agents which of them is.
func (s *Service) AgentTyping(ctx context.Context, roomID string, who AgentRef) error {
	if err := s.Typing(ctx, roomID, SenderAdmin); err != nil {
		return err
	}
	return s.store.Activity(ctx, roomID, who, ActivityTyping, activityEvery)
}
