package chat

// EventType names an event on the streams.
type EventType string

// The event types of the two streams (see API.md).
const (
	EventMessage     EventType = "message"
	EventRoom        EventType = "room"
	EventTyping      EventType = "typing"
	EventRead        EventType = "read"
	EventPresence    EventType = "presence"
	EventRoomDeleted EventType = "room.deleted"
	// EventAdminRevoked is on no stream: it tells every instance to end the
	// admin streams of a revoked token (TokenID: logout) or of an account
	// (Username: new password, account removed).
	EventAdminRevoked EventType = "admin.revoked"
)

// Event is something that happened, shared between instances through the
// store and fanned out to local streams by the Hub.
type Event struct {
	Type   EventType `json:"type"`
	RoomID string    `json:"roomId,omitempty"`
	// Message is set on EventMessage.
	Message *Message `json:"message,omitempty"`
	// Room is set on EventRoom, and on EventMessage (the room after the send).
	Room *Room `json:"room,omitempty"`
	// Sender is set on EventTyping and EventRead: the side that typed or read.
	Sender Sender `json:"sender,omitempty"`
	// Seq is set on EventRead: the side has read up to Seq.
	Seq int64 `json:"seq,omitempty"`
	// AdminsOnline is set on EventPresence.
	AdminsOnline bool `json:"adminsOnline,omitempty"`
	// TokenID or Username is set on EventAdminRevoked.
	TokenID  string `json:"tokenId,omitempty"`
	Username string `json:"username,omitempty"`
}

// ForVisitor tells whether the visitor stream of roomID shows ev.
func (ev Event) ForVisitor(roomID string) bool {
	switch ev.Type {
	case EventPresence:
		return true
	case EventMessage, EventRoomDeleted:
		return ev.RoomID == roomID
	case EventTyping, EventRead:
		return ev.RoomID == roomID && ev.Sender == SenderAdmin
	}
	return false
}

// ForAdmin tells whether admin streams show ev.
func (ev Event) ForAdmin() bool {
	switch ev.Type {
	case EventMessage, EventRoom, EventRoomDeleted:
		return true
	case EventTyping:
		return ev.Sender == SenderVisitor
	}
	return false
}
