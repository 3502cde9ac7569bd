package chat

import (
	"strconv"
	"time"
)

// TimeLayout is the wire format of every timestamp: RFC 3339, UTC,
// millisecond precision.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// Time is a time.Time that marshals in TimeLayout.
type Time struct{ time.Time }

// TimeFromMillis converts Unix milliseconds into a Time in UTC.
func TimeFromMillis(ms int64) Time { return Time{time.UnixMilli(ms).UTC()} }

// Millis returns t as Unix milliseconds.
func (t Time) Millis() int64 { return t.UnixMilli() }

// MarshalJSON writes t in TimeLayout.
func (t Time) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(TimeLayout)+2)
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, TimeLayout)
	return append(b, '"'), nil
}

// UnmarshalJSON reads any RFC 3339 time.
func (t *Time) UnmarshalJSON(b []byte) error {
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return err
	}
	p, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return err
	}
	t.Time = p.UTC()
	return nil
}

// Sender says which side wrote a message.
type Sender string

// The two sides of a conversation.
const (
	SenderVisitor Sender = "visitor"
	SenderAdmin   Sender = "admin"
)

// Other returns the other side of the conversation.
func (s Sender) Other() Sender {
	if s == SenderAdmin {
		return SenderVisitor
	}
	return SenderAdmin
}

// Blockable tells whether blocking a room refuses this side's messages: only
// the visitor is ever blocked.
func (s Sender) Blockable() bool { return s == SenderVisitor }

// Message is one chat message. Seq starts at 1 in every room and grows by one
// with each message; it is never reused.
type Message struct {
	ID        string `json:"id"`
	RoomID    string `json:"roomId"`
	Seq       int64  `json:"seq"`
	Sender    Sender `json:"sender"`
	Author    string `json:"author"`
	Content   string `json:"content"`
	CreatedAt Time   `json:"createdAt"`
	// Attachments are the files the message carries, in the order sent;
	// absent for a message of text only. On the way into the store they
	// hold only their IDs.
	Attachments []Attachment `json:"attachments,omitempty"`
	// Agent is the username behind an admin message, for the store only:
	// it is on no wire.
	Agent string `json:"-"`
	// Raw is the message's JSON as the store wrote it, when the store read
	// the message from it with every field and nothing else (no
	// attachments): what the message encodes to, in another field order.
	// The streams write it as it is instead of encoding the message again.
	// Empty otherwise; code that changes a message it read must clear it.
	Raw string `json:"-"`
}

// LastMessage is the summary of a room's newest message.
type LastMessage struct {
	Seq       int64  `json:"seq"`
	Sender    Sender `json:"sender"`
	Content   string `json:"content"`
	CreatedAt Time   `json:"createdAt"`
}

// Room is a conversation between one visitor and the site's admins.
type Room struct {
	ID            string       `json:"id"`
	VisitorName   string       `json:"visitorName"`
	VisitorEmail  string       `json:"visitorEmail"`
	Page          string       `json:"page"`
	CreatedAt     Time         `json:"createdAt"`
	UpdatedAt     Time         `json:"updatedAt"`
	MessageCount  int64        `json:"messageCount"`
	LastMessage   *LastMessage `json:"lastMessage"`
	Unread        int64        `json:"unread"`
	VisitorUnread int64        `json:"visitorUnread"`
	Blocked       bool         `json:"blocked"`
	// IPBlockedUntil is set while the address this room was opened from is
	// blocked through this room (see BlockRequest).
	IPBlockedUntil *Time `json:"ipBlockedUntil,omitempty"`
	// ClientKey names the client that opened the room (ClientKey of its IP),
	// for an admin's IP block; it is never sent to anyone.
	ClientKey string `json:"-"`
	// AdminReadSeq and VisitorReadSeq are the read marks of each side: every
	// message of the other side with seq <= the mark has been read.
	AdminReadSeq   int64 `json:"adminReadSeq"`
	VisitorReadSeq int64 `json:"visitorReadSeq"`
	// FirstSeq is the oldest seq still stored (older ones were trimmed).
	FirstSeq int64 `json:"firstSeq"`
	// Status is open, pending or resolved; SnoozedUntil is when a pending
	// room reopens by itself (nil: when the visitor writes).
	Status       Status `json:"status,omitempty"`
	SnoozedUntil *Time  `json:"snoozedUntil,omitempty"`
	// Assignee is the username of the agent the room is assigned to (nil:
	// nobody), AssigneeName their display name when assigned: the visitor
	// sees only that.
	Assignee     *string `json:"assignee"`
	AssigneeName string  `json:"assigneeName,omitempty"`
	// Labels are the ids of the room's labels.
	Labels []string `json:"labels,omitempty"`
	// Verified is set when the site's backend signed the visitor's user id
	// (see IdentityClaim); UserID is that id, or with Verified false the id
	// an unsigned identify only claimed. The visitor's view leaves UserID
	// out.
	Verified bool   `json:"verified"`
	UserID   string `json:"userId,omitempty"`
}

// ForVisitor returns r as its visitor may see it: the team's own fields
// (status, assignee's username, labels, the site's user id) are left out.
func (r Room) ForVisitor() Room {
	r.Status, r.SnoozedUntil, r.Assignee, r.Labels, r.UserID = "", nil, nil, nil, ""
	return r
}

// NewRoom is what a visitor tells about themselves when a room is created.
type NewRoom struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Page  string `json:"page"`
	// Identity or IdentityToken (a site's HS256 JWT) name the site's
	// logged-in user; see OpenRoom.
	Identity      *IdentityClaim `json:"identity,omitempty"`
	IdentityToken string         `json:"identityToken,omitempty"`
}

// BlockRequest is an admin's block of a room's visitor. With IP, the address
// the room was opened from (its IPv6 /64) is blocked too, for For (a Go
// duration, DefaultIPBlock when empty, between MinIPBlock and MaxIPBlock).
type BlockRequest struct {
	IP  bool   `json:"ip"`
	For string `json:"for"`
}

// AppendOptions are how Store.Append is to store a message, beyond the
// message itself.
type AppendOptions struct {
	// ClientID makes a retry of the same send return the first one ("" for
	// none).
	ClientID string
	// ClientKey is the sender's client key (see Service.ipKey): the message
	// is refused with ErrBlocked if an admin blocked it ("" for no check).
	ClientKey string
}

// NewMessage is a message as a client submits it.
type NewMessage struct {
	Content  string `json:"content"`
	ClientID string `json:"clientId"`
	// Attachments are ids of attachments uploaded into the room and not
	// sent yet.
	Attachments []string `json:"attachments"`
}

// MessagesRequest is a client's request for a page of a room's messages, as
// it came: a nil field was not given. Query turns it into a MessageQuery.
type MessagesRequest struct {
	After  *int64
	Before *int64
	Limit  *int64
}

// ReadMark is a visitor's report of how far they have read.
type ReadMark struct {
	Seq *int64 `json:"seq"`
}

// MessageQuery selects a page of a room's messages. At most one of After and
// Before is non-zero; with neither, the first Limit messages are returned.
type MessageQuery struct {
	After  int64
	Before int64
	Limit  int
}

// RoomFilter narrows the admin's room list.
type RoomFilter string

// The room list filters.
const (
	FilterAll    RoomFilter = "all"
	FilterUnread RoomFilter = "unread"
)

// RoomQuery selects a page of the admin's room list, most recently updated
// first. Cursor is opaque to clients; it comes from the previous page.
type RoomQuery struct {
	Filter RoomFilter
	// Label narrows the list to the rooms carrying one label (any status);
	// it goes with FilterAll only.
	Label  string
	Limit  int
	Cursor string
	// Agent is who asks: FilterMine and the Mine count are theirs.
	Agent string
}

// RoomsRequest is an admin's request for a page of the room list, as it
// came: a nil field was not given. Query turns it into a RoomQuery.
type RoomsRequest struct {
	Filter *string
	Label  *string
	Limit  *int64
	Cursor string
}

// RoomPage is one page of the room list.
type RoomPage struct {
	Rooms       []Room `json:"rooms"`
	NextCursor  string `json:"nextCursor"`
	UnreadRooms int64  `json:"unreadRooms"`
	// Counts are the sizes of the inbox views.
	Counts RoomCounts `json:"counts"`
}

// Admin is an account of the admin console.
type Admin struct {
	Username    string `json:"username"`
	DisplayName string `json:"displayName"`
	// Email is where the agent's notification mails go ("" = none), Notify
	// when (see NotifyPref).
	Email  string     `json:"-"`
	Notify NotifyPref `json:"-"`
	// Role is what the account may do; "" (an account from before roles)
	// reads as RoleOwner (see RoleOf).
	Role         Role   `json:"-"`
	PasswordHash []byte `json:"-"`
	// TokensAfter is when the password was last set: admin tokens without a
	// generation (issued before generations existed) issued before it are
	// refused.
	TokensAfter Time `json:"-"`
	// Generation changes with every password change and every new account
	// of this name (the store draws it from one counter that only grows):
	// an admin token carries the generation it was issued under and is
	// refused once the account's differs. 0 for an account not changed since
	// generations existed.
	Generation int64 `json:"-"`
}

// Credentials are what an admin logs in with.
type Credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// NewVisit is one page view reported by a site.
type NewVisit struct {
	Path      string `json:"path"`
	VisitorID string `json:"visitorId"`
}

// VisitCount is the public visitor counter.
type VisitCount struct {
	Total         int64 `json:"total"`
	Today         int64 `json:"today"`
	VisitorsToday int64 `json:"visitorsToday"`
}

// DayVisits is one day of the admin's visit series.
type DayVisits struct {
	Date     string `json:"date"`
	Views    int64  `json:"views"`
	Visitors int64  `json:"visitors"`
}

// PageViews counts views of one path.
type PageViews struct {
	Path  string `json:"path"`
	Views int64  `json:"views"`
}

// VisitsRequest is an admin's request for the visit report, as it came: a
// nil field was not given.
type VisitsRequest struct {
	Days *int64
}

// VisitReport is the admin's view of the visitor counter.
type VisitReport struct {
	Days     []DayVisits `json:"days"`
	Total    int64       `json:"total"`
	TopPages []PageViews `json:"topPages"`
}

// DayKey formats a day of the visit series (UTC).
func DayKey(t time.Time) string { return t.UTC().Format("2006-01-02") }
