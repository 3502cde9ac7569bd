package mail

import (
	"errors"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// Mail is one outgoing mail as it waits in the queue: what to say and to
// whom, not yet MIME. It is composed when it is sent, so its tokens count
// from then and its headers follow the settings of the sending instance.
type Mail struct {
	// ID is the idempotency id: enqueuing the same id again changes nothing,
	// and it is the Message-ID's local part. The notifier derives it from
	// what the mail is about (for example "agents.r_….7.<user tag>" for an
	// agent's mail up to message 7 of a room), so a retried decision queues no second
	// mail. 1-128 characters of [A-Za-z0-9._-].
	ID string `json:"id"`
	// RoomID is the conversation: it threads the mail and is what the reply
	// address and the unsubscribe link are bound to.
	RoomID string `json:"roomId"`
	// To is the recipient's address ("Dana <dana@example.com>").
	To string `json:"to"`
	// Recipient is who To is: the visitor or an agent. Replies to the mail
	// are taken as that recipient's messages.
	Recipient Recipient `json:"recipient"`
	Subject   string    `json:"subject"`
	// Intro is the paragraph above the messages.
	Intro    string `json:"intro,omitempty"`
	Messages []Line `json:"messages,omitempty"`
	// Link is the call to action below the messages (open the conversation
	// in the console, or reopen it as the visitor).
	Link *Link `json:"link,omitempty"`
	// Unsubscribe adds List-Unsubscribe (RFC 8058 one-click) for the
	// recipient and this room, and a line saying how to stop these mails.
	Unsubscribe bool `json:"unsubscribe,omitempty"`
	// NoReply leaves out the reply address: for a mail to an address that
	// is neither the room's visitor nor an agent (a transcript an agent
	// sends elsewhere), whose replies must not post as anyone.
	NoReply bool `json:"noReply,omitempty"`
}

// Line is one chat message quoted in a mail.
type Line struct {
	Author string    `json:"author"`
	Text   string    `json:"text"`
	At     time.Time `json:"at"`
	// Files are the message's attachments, by name, each with a link.
	Files []Link `json:"files,omitempty"`
}

// Link is a labelled URL.
type Link struct {
	Label string `json:"label"`
	URL   string `json:"url"`
}

var mailIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

// Validate checks what composing needs: an id usable as a Message-ID, a
// room id, one parseable recipient address and a subject, neither with a
// line break (no header injection).
func (m Mail) Validate() error {
	if !mailIDPattern.MatchString(m.ID) {
		return errors.New("mail: id must be 1-128 characters of A-Z a-z 0-9 . _ -")
	}
	if !chat.ValidRoomID(m.RoomID) {
		return errors.New("mail: not a room id")
	}
	if strings.ContainsAny(m.To, "\r\n") || strings.ContainsAny(m.Subject, "\r\n") {
		return errors.New("mail: line break in a header")
	}
	if _, err := mail.ParseAddress(m.To); err != nil {
		return errors.New("mail: recipient is not an address")
	}
	if m.Subject == "" {
		return errors.New("mail: no subject")
	}
	return nil
}
