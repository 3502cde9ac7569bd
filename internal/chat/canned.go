package chat

import (
	"context"
	"crypto/rand"
	"errors"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Canned replies are the team's snippets: a shortcut an agent types after
// "/" in the reply box and the body that takes its place. Every agent may
// add, change and remove them; they are shared by the whole team.

// Bounds of the canned replies.
const (
	MaxShortcut   = 32
	MaxCannedBody = MaxContent // what a reply may hold
	// MaxCanned is how many canned replies a team may have: the console
	// loads them all, and every change sends one event to every console.
	MaxCanned = 500
)

// The canned replies' errors.
var (
	ErrCannedNotFound = &Error{Code: CodeNotFound, Message: "no canned reply with this id"}
	ErrShortcutTaken  = &Error{Code: CodeConflict, Message: "another canned reply has this shortcut"}
	ErrCannedLimit    = &Error{Code: CodeLimitReached, Message: "the team has the most canned replies it may have (500): delete one first"}
	// ErrCannedChanged is the store's answer when the item changed
	// between the read and the write: UpdateCanned reads it again. It is
	// never a client's answer.
	ErrCannedChanged = errors.New("chat: canned reply changed meanwhile")
)

var shortcutPattern = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)

// Canned is one canned reply.
type Canned struct {
	ID       string `json:"id"`
	Shortcut string `json:"shortcut"`
	Body     string `json:"body"`
	// CreatedBy is the username of the agent who added it.
	CreatedBy string `json:"createdBy"`
	UpdatedAt Time   `json:"updatedAt"`
}

// NewCanned is the body of POST /api/v1/admin/canned.
type NewCanned struct {
	Shortcut string `json:"shortcut"`
	Body     string `json:"body"`
}

// CannedUpdate is the body of PATCH /api/v1/admin/canned/{id}: a nil field
// is kept.
type CannedUpdate struct {
	Shortcut *string `json:"shortcut"`
	Body     *string `json:"body"`
}

// NormalizeShortcut trims a shortcut, drops one leading "/" (as it is
// typed in the reply box), lowercases it and checks it.
func NormalizeShortcut(s string) (string, error) {
	s = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(s), "/"))
	if !shortcutPattern.MatchString(s) {
		return "", invalid("shortcut must be 1-%d letters, digits, '-' or '_'", MaxShortcut)
	}
	return s, nil
}

// NormalizeCannedBody trims a body and checks it.
func NormalizeCannedBody(s string) (string, error) {
	s = strings.TrimSpace(s)
	n := utf8.RuneCountInString(s)
	if n == 0 {
		return "", invalid("body must not be empty")
	}
	if n > MaxCannedBody {
		return "", invalid("body must be at most %d characters", MaxCannedBody)
	}
	if hasForbiddenControl(s) {
		return "", invalid("body must be valid text")
	}
	return s, nil
}

// ValidCannedID tells whether id is shaped like the ids AddCanned gives.
func ValidCannedID(id string) bool {
	return len(id) == 19 && strings.HasPrefix(id, "cr_") && cannedIDPattern.MatchString(id[3:])
}

var cannedIDPattern = regexp.MustCompile(`^[a-z2-7]{16}$`)

// NewCannedID returns a random canned reply id: "cr_" and 80 random bits.
func NewCannedID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return "cr_" + lowerBase32.EncodeToString(b[:])
}

// CannedStore keeps the canned replies. Each write publishes
// EventCannedUpdated or EventCannedDeleted in the same step.
type CannedStore interface {
	// CannedReplies returns every canned reply, sorted by shortcut.
	CannedReplies(ctx context.Context) ([]Canned, error)
	// CannedReply returns one, or ErrCannedNotFound.
	CannedReply(ctx context.Context, id string) (Canned, error)
	// AddCanned stores a new canned reply unless its shortcut is taken
	// (ErrShortcutTaken) or max are stored already (ErrCannedLimit).
	AddCanned(ctx context.Context, c Canned, max int) error
	// UpdateCanned replaces old by c (same id), unless the stored item is
	// no longer old (ErrCannedChanged), is gone (ErrCannedNotFound), or
	// c's shortcut belongs to another one (ErrShortcutTaken).
	UpdateCanned(ctx context.Context, old, c Canned) error
	// DeleteCanned removes one, or returns ErrCannedNotFound.
	DeleteCanned(ctx context.Context, id string) error
}

// CannedReplies returns the team's canned replies, sorted by shortcut.
func (s *Service) CannedReplies(ctx context.Context) ([]Canned, error) {
	return s.store.CannedReplies(ctx)
}

// AddCanned checks and stores a new canned reply by the agent username.
// invalid_request, ErrShortcutTaken, ErrCannedLimit.
func (s *Service) AddCanned(ctx context.Context, username string, in NewCanned) (Canned, error) {
	sc, err := NormalizeShortcut(in.Shortcut)
	if err != nil {
		return Canned{}, err
	}
	body, err := NormalizeCannedBody(in.Body)
	if err != nil {
		return Canned{}, err
	}
	c := Canned{ID: NewCannedID(), Shortcut: sc, Body: body, CreatedBy: username, UpdatedAt: Time{s.now()}}
	if err := s.store.AddCanned(ctx, c, MaxCanned); err != nil {
		return Canned{}, err
	}
	return c, nil
}

// UpdateCanned changes the fields of a canned reply that u sets.
// ErrCannedNotFound, invalid_request, ErrShortcutTaken.
func (s *Service) UpdateCanned(ctx context.Context, id string, u CannedUpdate) (Canned, error) {
	if !ValidCannedID(id) {
		return Canned{}, ErrCannedNotFound
	}
	var sc, body string
	var err error
	if u.Shortcut != nil {
		if sc, err = NormalizeShortcut(*u.Shortcut); err != nil {
			return Canned{}, err
		}
	}
	if u.Body != nil {
		if body, err = NormalizeCannedBody(*u.Body); err != nil {
			return Canned{}, err
		}
	}
	// A concurrent change between the read and the write is retried on
	// the new item, so that two PATCHes of different fields both hold.
	for range 5 {
		old, err := s.store.CannedReply(ctx, id)
		if err != nil {
			return Canned{}, err
		}
		c := old
		if u.Shortcut != nil {
			c.Shortcut = sc
		}
		if u.Body != nil {
			c.Body = body
		}
		c.UpdatedAt = Time{s.now()}
		err = s.store.UpdateCanned(ctx, old, c)
		if !errors.Is(err, ErrCannedChanged) {
			if err != nil {
				return Canned{}, err
			}
			return c, nil
		}
	}
	return Canned{}, Errorf(CodeConflict, "the canned reply is being changed by someone else; try again")
}

// DeleteCanned removes a canned reply. ErrCannedNotFound.
func (s *Service) DeleteCanned(ctx context.Context, id string) error {
	if !ValidCannedID(id) {
		return ErrCannedNotFound
	}
	return s.store.DeleteCanned(ctx, id)
}
