package chat

import (
	"context"
	"time"
)

// Every store method returns ErrUnavailable (wrapped) when the store cannot be
// reached and the command provably never ran, ErrTimeout when it was sent but
// no answer came (a write may be stored: retry with the same clientId), and
// ErrFull when the store is out of memory; never a driver-specific "nil"
// error: "not found" is an *Error.

// RoomStore keeps rooms and their messages.
type RoomStore interface {
	// CreateRoom stores a new room whose ID the caller chose, and publishes
	// EventRoom in the same step.
	CreateRoom(ctx context.Context, r Room) (Room, error)
	// Room returns a room, or ErrRoomNotFound.
	Room(ctx context.Context, id string) (Room, error)
	// Append stores m (its Seq is assigned here) and publishes it, atomically.
	// A non-empty clientID that was already used in the room returns the
	// original message and created=false. Returns ErrRoomNotFound, or
	// ErrBlocked for a visitor message in a blocked room.
	Append(ctx context.Context, m Message, clientID string) (msg Message, created bool, err error)
	// Sent returns the message an earlier Append with clientID stored, if
	// it is still there: what a retry gets back when a new send would be
	// refused. ErrRoomNotFound, ErrBlocked.
	Sent(ctx context.Context, roomID, clientID string) (msg Message, ok bool, err error)
	// Messages returns a page of a room's messages in ascending seq, and
	// whether more exist in the direction of the query; q is as
	// MessageQuery.Validate leaves it. ErrRoomNotFound.
	Messages(ctx context.Context, roomID string, q MessageQuery) ([]Message, bool, error)
	// MarkRead moves side's read mark up to seq (never down; seq beyond the
	// last message is clamped; for the admins seq <= 0 means "everything",
	// for the visitor 0 means "nothing yet") and recounts the
	// unread counter of that side; moved tells whether the mark went up.
	// When it did, it publishes EventRoom in the same step, after an
	// EventRead for the admins' mark. ErrRoomNotFound.
	MarkRead(ctx context.Context, roomID string, side Sender, seq int64) (r Room, moved bool, err error)
	// FillVisitor sets the visitor's name, email and page where they are
	// still empty; a detail once given is never overwritten. When one was
	// set, it publishes EventRoom in the same step. ErrRoomNotFound.
	FillVisitor(ctx context.Context, roomID string, in NewRoom) (Room, error)
	// SetBlocked blocks or unblocks the visitor of a room, and publishes
	// EventRoom in the same step. ErrRoomNotFound.
	SetBlocked(ctx context.Context, roomID string, blocked bool) (Room, error)
	// Typing publishes EventTyping for one side of a room, unless it did
	// within every: published is false then. ErrRoomNotFound.
	Typing(ctx context.Context, roomID string, from Sender, every time.Duration) (published bool, err error)
	// DeleteRoom removes every key of a room and its index entries, and
	// publishes EventRoomDeleted. ErrRoomNotFound.
	DeleteRoom(ctx context.Context, roomID string) error
	// ListRooms returns a page of the room index, most recently updated
	// first; q is as RoomQuery.Validate leaves it.
	ListRooms(ctx context.Context, q RoomQuery) (RoomPage, error)
	// Publish sends an event to every instance's hub.
	Publish(ctx context.Context, ev Event) error
}

// VisitStore keeps the visitor counter.
type VisitStore interface {
	// RecordVisit counts one page view at now and returns the new counts.
	RecordVisit(ctx context.Context, v NewVisit, now time.Time) (VisitCount, error)
	// VisitCount returns the counts at now.
	VisitCount(ctx context.Context, now time.Time) (VisitCount, error)
	// VisitReport returns the last days days up to now, oldest first, with
	// zeros for days without visits, and the top pages over those days.
	VisitReport(ctx context.Context, days int, now time.Time) (VisitReport, error)
}

// Limit is a rate limit: at most N accepted requests in any window of Per.
type Limit struct {
	N   int
	Per time.Duration
}

// Window is one rate limit applied to the requests counted under Key.
type Window struct {
	Key   string
	Limit Limit
}

// Limiter implements sliding-window rate limits. A request is accepted when
// every window has room, and then counted in each; a rejected request is
// counted in none. The quota is that of the window that refused, or else
// of the one with the least room left.
type Limiter interface {
	Allow(ctx context.Context, now time.Time, windows ...Window) (Quota, bool, error)
}

// AdminStore keeps admin accounts.
type AdminStore interface {
	// Admin returns an account or ErrAdminUnknown.
	Admin(ctx context.Context, username string) (Admin, error)
	// AddAdmin creates an account, or returns ErrAdminExists.
	AddAdmin(ctx context.Context, a Admin) error
	// AddFirstAdmin creates a only when no admin exists at all, atomically.
	AddFirstAdmin(ctx context.Context, a Admin) (bool, error)
	// UpdateAdmin replaces an existing account, or returns ErrAdminUnknown.
	UpdateAdmin(ctx context.Context, a Admin) error
	// RemoveAdmin deletes an account, or returns ErrAdminUnknown.
	RemoveAdmin(ctx context.Context, username string) error
	// Admins lists every account, sorted by username.
	Admins(ctx context.Context) ([]Admin, error)
}

// TokenStore keeps what signed tokens need: the signing secret and the ids of
// revoked tokens.
type TokenStore interface {
	// Revoke refuses the token id from now until until.
	Revoke(ctx context.Context, id string, until time.Time) error
	// IsRevoked tells whether a token id was revoked.
	IsRevoked(ctx context.Context, id string) (bool, error)
	// Secret returns the stored signing secret, storing candidate first when
	// there is none (so every instance ends up with the same one).
	Secret(ctx context.Context, candidate []byte) ([]byte, error)
}

// PresenceStore tells whether any admin has a stream open on any instance.
type PresenceStore interface {
	// Heartbeat records that instance has n open admin streams, valid for ttl.
	// n == 0 removes the instance.
	Heartbeat(ctx context.Context, instance string, n int, ttl time.Duration) error
	// AdminsOnline tells whether any instance has a live heartbeat with n > 0.
	AdminsOnline(ctx context.Context) (bool, error)
}

// Store is everything the Service needs from storage.
type Store interface {
	RoomStore
	VisitStore
	Limiter
	AdminStore
	TokenStore
	PresenceStore
	// Ping tells whether the store answers.
	Ping(ctx context.Context) error
	// Ready tells whether the store can take writes: it answers and is not
	// full (ErrFull).
	Ready(ctx context.Context) error
}
