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
	// CreateIdentityRoom is CreateRoom for the room of a verified identity
	// (r.Verified, r.UserID), indexed under identityHash: it stores r only
	// when no existing room holds the identity, and makes the index point
	// to it, in one step. Otherwise nothing is stored and holder is the id
	// of the room that holds it.
	CreateIdentityRoom(ctx context.Context, r Room, identityHash string) (created Room, holder string, err error)
	// IdentityRoom returns the id of the room an identity's index points to,
	// or ErrRoomNotFound when none does (the room may be gone all the same).
	IdentityRoom(ctx context.Context, identityHash string) (string, error)
	// SetVisitorDetails sets the visitor's name and email of a room, over
	// what it had (a verified identity's details follow the site), and
	// publishes EventRoom in the same step. ErrRoomNotFound, ErrBlocked.
	SetVisitorDetails(ctx context.Context, roomID, name, email string) (Room, error)
	// Room returns a room, or ErrRoomNotFound.
	Room(ctx context.Context, id string) (Room, error)
	// Append stores m (its Seq is assigned here) and publishes it, atomically.
	// A non-empty clientID that was already used in the room returns the
	// original message and created=false. Returns ErrRoomNotFound, or
	// ErrBlocked for a visitor message in a blocked room. The attachments of
	// m name ids only: each must be one of the room's and not sent yet
	// (ErrAttachmentUnknown, ErrAttachmentUsed, nothing stored), and comes
	// back whole. opt.ClientKey, when set, refuses the message with
	// ErrBlocked, storing nothing, if an admin blocked that client key.
	Append(ctx context.Context, m Message, opt AppendOptions) (msg Message, created bool, err error)
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
	// set, it publishes EventRoom in the same step. ErrRoomNotFound, or
	// ErrBlocked (nothing set) when the visitor is blocked.
	FillVisitor(ctx context.Context, roomID string, in NewRoom) (Room, error)
	// SetBlocked blocks or unblocks the visitor of a room, and publishes
	// EventRoom in the same step. A block is also remembered apart from the
	// room for as long as the visitor's token can live, so that it outlives
	// the room (see WasBlocked); an unblock forgets it. ipUntil is when the
	// IP block made with it ends (zero for none), as the room shows it.
	// ErrRoomNotFound.
	SetBlocked(ctx context.Context, roomID string, blocked bool, ipUntil time.Time) (Room, error)
	// WasBlocked tells whether the visitor of a room (which may be gone) is
	// blocked.
	WasBlocked(ctx context.Context, roomID string) (bool, error)
	// Typing publishes EventTyping for one side of a room, unless it did
	// within every: published is false then. ErrRoomNotFound, or ErrBlocked
	// for the visitor of a blocked room.
	Typing(ctx context.Context, roomID string, from Sender, every time.Duration) (published bool, err error)
	// DeleteRoom removes every key of a room and its index entries, and
	// publishes EventRoomDeleted. ErrRoomNotFound, or ErrBlocked (nothing
	// removed) when by is the visitor of a blocked room.
	DeleteRoom(ctx context.Context, roomID string, by Sender) error
	// ListRooms returns a page of the room index, most recently updated
	// first; q is as RoomQuery.Validate leaves it.
	ListRooms(ctx context.Context, q RoomQuery) (RoomPage, error)
	// Publish sends an event to every instance's hub.
	Publish(ctx context.Context, ev Event) error
	// AdminEventsAfter returns events of the admin logs (every event admin
	// streams show but typing, each log in publish order) that follow the
	// vector after (AdminVector's String), at most limit of each log, each
	// with its LogID, every log's oldest first. ok is false when it cannot
	// resume from after: a log trimmed past it, or the store came back
	// with older data, or a vector of other logs.
	AdminEventsAfter(ctx context.Context, after string, limit int) (evs []Event, ok bool, err error)
	// AdminLogEnd returns the vector (AdminVector's String) of the newest
	// entry of every admin log.
	AdminLogEnd(ctx context.Context) (string, error)
}

// ClientBlockStore keeps the admins' blocks of client addresses, by
// ClientKey.
type ClientBlockStore interface {
	// BlockClient refuses the client key from now until until.
	BlockClient(ctx context.Context, key string, until time.Time) error
	// UnblockClient lifts the block of a client key, if any.
	UnblockClient(ctx context.Context, key string) error
	// ClientBlocked tells whether a client key is blocked.
	ClientBlocked(ctx context.Context, key string) (bool, error)
}

// VisitStore keeps the visitor counter.
type VisitStore interface {
	// RecordVisit counts one page view at now and returns the new counts;
	// v.VisitorID is the distinct visitor as the Service named it.
	RecordVisit(ctx context.Context, v NewVisit, now time.Time) (VisitCount, error)
	// VisitSalt returns the secret salt of day (YYYY-MM-DD), storing
	// candidate for ttl first when the day has none yet, so every instance
	// hashes with the same one.
	VisitSalt(ctx context.Context, day string, candidate []byte, ttl time.Duration) ([]byte, error)
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

// Backoff slows down the attempts logged under Key: once Free of them fall
// within Per, the next one must wait Waits[0] after the last, the one after
// Waits[1], and so on; the last wait repeats.
type Backoff struct {
	Key   string
	Per   time.Duration
	Free  int
	Waits []time.Duration
}

// Attempt is an attempt Reserve counted, for Release to take back.
type Attempt struct {
	// Member is the store's id of the attempt in each log.
	Member string
	// Windows are the keys of the windows it was counted in.
	Windows []string
	// Backoff is the key of the backoff log it was counted in ("" none).
	Backoff string
}

// Limiter implements sliding-window rate limits. A request is accepted when
// every window has room, and then counted in each; a rejected request is
// counted in none. The quota is that of the window that refused, or else
// of the one with the least room left.
type Limiter interface {
	Allow(ctx context.Context, now time.Time, windows ...Window) (Quota, bool, error)
	// Reserve is Allow for an attempt that counts only if it fails: it is
	// counted at once (so concurrent attempts cannot overrun a window) in
	// every window and, when b is not nil, in b's log unless b's wait is
	// not over, all or nothing; the quota, when refused, is that of the
	// window or backoff that frees up last. Release takes it back.
	Reserve(ctx context.Context, now time.Time, b *Backoff, windows ...Window) (Attempt, Quota, bool, error)
	// Release takes a reserved attempt that succeeded out of its windows
	// and clears its backoff log.
	Release(ctx context.Context, a Attempt) error
}

// AdminStore keeps admin accounts.
type AdminStore interface {
	// Admin returns an account or ErrAdminUnknown.
	Admin(ctx context.Context, username string) (Admin, error)
	// AddAdmin creates an account (with its role and email) under a
	// generation no account had before (a.Generation is ignored), or returns
	// ErrAdminExists; it publishes EventAgentUpdated.
	AddAdmin(ctx context.Context, a Admin) error
	// AddFirstAdmin creates a only when no admin exists at all, atomically.
	AddFirstAdmin(ctx context.Context, a Admin) (bool, error)
	// UpdateAdmin replaces an existing account (a new password) and moves
	// it to a new generation, or returns ErrAdminUnknown.
	UpdateAdmin(ctx context.Context, a Admin) error
	// RemoveAdmin deletes an account, or returns ErrAdminUnknown; its tokens
	// die with it (EventAdminRevoked) and EventAgentRemoved is published.
	RemoveAdmin(ctx context.Context, username string) error
	// RemoveAgent is RemoveAdmin that keeps an owner: ErrLastOwner when
	// username is the last one (nothing is removed).
	RemoveAgent(ctx context.Context, username string) error
	// SetAgent applies ch to an account, keeping its password and
	// generation, publishes EventAgentUpdated and returns the account.
	// ErrAdminUnknown, or ErrLastOwner when ch would make the last owner
	// an agent (nothing is changed).
	SetAgent(ctx context.Context, username string, ch AgentChange) (Admin, error)
	// Admins lists every account, sorted by username.
	Admins(ctx context.Context) ([]Admin, error)
}

// ProfileStore keeps the admins' profiles, apart from their passwords.
type ProfileStore interface {
	// SetAdminProfile sets an existing account's display name, email and
	// mail preference, keeping its password and generation (its tokens stay
	// good), and clears the agent's unsubscribe when p.Notify is set.
	// ErrAdminUnknown.
	SetAdminProfile(ctx context.Context, username string, p AdminProfile) error
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
	// Heartbeat records that instance has n open admin streams, valid for ttl
	// (n == 0 removes the instance), drops the heartbeats that ran out, and
	// tells whether any instance is left with a live one.
	Heartbeat(ctx context.Context, instance string, n int, ttl time.Duration) (online bool, err error)
	// AdminsOnline tells whether any instance has a live heartbeat with n > 0.
	AdminsOnline(ctx context.Context) (bool, error)
}

// SettingsStore keeps the settings owners save in the console, which win
// over the environment's.
type SettingsStore interface {
	// BusinessHours returns the saved hours; ok is false when none are
	// saved.
	BusinessHours(ctx context.Context) (h Hours, ok bool, err error)
	// SetBusinessHours saves h (validated).
	SetBusinessHours(ctx context.Context, h Hours) error
	// DeleteBusinessHours forgets the saved hours.
	DeleteBusinessHours(ctx context.Context) error
}

// VisitorInfoStore keeps who a room's visitor is (pages, browser, campaign),
// under the room's hash tag, deleted with the room.
type VisitorInfoStore interface {
	// RecordPage adds visit as the newest of at most max pages and stores
	// facts, with the room's remaining TTL; ErrRoomNotFound when the room
	// does not exist. It returns the info after.
	RecordPage(ctx context.Context, roomID string, visit PageVisit, facts VisitorFacts, max int) (VisitorInfo, error)
	// MarkVisitorSeen records that the visitor's stream opened or closed at
	// now; ok is false (and nothing is written) when the room has no info.
	MarkVisitorSeen(ctx context.Context, roomID string, online bool, now time.Time) (info VisitorInfo, ok bool, err error)
	// VisitorInfo returns the room's info, empty when none.
	VisitorInfo(ctx context.Context, roomID string) (VisitorInfo, error)
}

// Store is everything the Service needs from storage.
type Store interface {
	RoomStore
	SettingsStore
	VisitorInfoStore
	SearchStore
	ClientBlockStore
	VisitStore
	Limiter
	AdminStore
	ProfileStore
	TokenStore
	PresenceStore
	InboxStore
	CannedStore
	// Ping tells whether the store answers.
	Ping(ctx context.Context) error
	// Ready tells whether the store can take writes: it answers and is not
	// full (ErrFull).
	Ready(ctx context.Context) error
}
