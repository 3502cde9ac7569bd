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
	// EventNote carries an agent's private note: admin streams only.
	EventNote EventType = "note"
	// EventLabels carries the whole list of defined labels after a change.
	EventLabels EventType = "labels"
	// EventAgentActivity tells the agents that one of them is viewing or
	// typing in a conversation (Agent, Activity); like typing, it is not
	// logged for resumption.
	EventAgentActivity EventType = "agent.activity"
	// EventCannedUpdated carries a canned reply added or changed;
	// EventCannedDeleted the id of one removed. Admin streams only.
	EventCannedUpdated EventType = "canned.updated"
	EventCannedDeleted EventType = "canned.deleted"
	// EventReset tells a stream's client that what it holds may be wrong
	// (the store came back with older data, or its resume point is gone):
	// it drops it and reloads. Written by the streams; never published.
	EventReset EventType = "reset"
	// EventAdminRevoked is on no stream: it tells every instance to end the
	// admin streams of a revoked token (TokenID: logout) or of an account
	// (Username: new password, account removed).
	EventAdminRevoked EventType = "admin.revoked"
	// EventAgentUpdated and EventAgentRemoved tell the consoles that an
	// account was created or changed (Agent), or removed (Username).
	EventAgentUpdated EventType = "agent.updated"
	EventAgentRemoved EventType = "agent.removed"
	// EventHours carries the business hours after an owner changed them
	// (Payload.Hours): every visitor stream tells its visitor the new state
	// as a presence event. It is on no stream under its own name.
	EventHours EventType = "hours"
	// EventVisitor carries who a room's visitor is after a navigation or
	// when their stream opened or closed (Payload.Visitor): admin streams
	// only, never logged.
	EventVisitor EventType = "visitor.page"
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
	// LogID is the event's place in the admin logs ("L:ms-n": log L, entry
	// ms-n; see AdminVector), set on the events admin streams resume by; ""
	// on the others (typing, presence).
	LogID string `json:"-"`
	// TokenID or Username is set on EventAdminRevoked; Username on
	// EventAgentRemoved.
	TokenID  string `json:"tokenId,omitempty"`
	Username string `json:"username,omitempty"`
	// Payload carries the data of the team's own events (notes, labels,
	// agents, their activity, canned replies); nil on the others. Behind one
	// pointer, so that an Event stays small: every stream's buffer holds
	// Events by value. Its fields are read as ev.Payload.Note etc.; the JSON
	// has them at the top level, as if they were Event's own.
	*Payload
}

// Payload is the data of the team's events (see Event.Payload).
type Payload struct {
	// Visitor is set on EventVisitor.
	Visitor *VisitorInfo `json:"visitor,omitempty"`
	// Hours is set on EventHours.
	Hours *Hours `json:"hours,omitempty"`
	// Note is set on EventNote.
	Note *Note `json:"note,omitempty"`
	// Labels is set on EventLabels.
	Labels []Label `json:"labels,omitempty"`
	// Actor and Activity are set on EventAgentActivity.
	Actor    *AgentRef `json:"actor,omitempty"`
	Activity Activity  `json:"activity,omitempty"`
	// Canned is set on EventCannedUpdated.
	Canned *Canned `json:"canned,omitempty"`
	// CannedID is set on EventCannedDeleted.
	CannedID string `json:"cannedId,omitempty"`
	// Agent is set on EventAgentUpdated.
	Agent *Agent `json:"agent,omitempty"`
}

// Data returns the event's team payload, an empty one when it has none.
func (ev Event) Data() Payload {
	if ev.Payload == nil {
		return Payload{}
	}
	return *ev.Payload
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
	case EventMessage, EventRoom, EventRoomDeleted, EventNote, EventLabels, EventAgentActivity,
		EventCannedUpdated, EventCannedDeleted, EventAgentUpdated, EventAgentRemoved, EventVisitor:
		return true
	case EventTyping:
		return ev.Sender == SenderVisitor
	}
	return false
}

// ParseLogID splits an admin log entry id "ms-n", or an event's LogID
// "L:ms-n" (see AdminVector), into its two numbers.
func ParseLogID(id string) (ms, n uint64, ok bool) {
	if _, p, ok := ParseEventLogID(id); ok {
		return p.MS, p.N, true
	}
	return parseEntryID(id)
}

// LogIDAfter tells whether the admin log id a comes after b; a malformed id
// comes after nothing and nothing comes after it.
func LogIDAfter(a, b string) bool {
	ams, an, ok1 := ParseLogID(a)
	bms, bn, ok2 := ParseLogID(b)
	return ok1 && ok2 && (ams > bms || ams == bms && an > bn)
}
