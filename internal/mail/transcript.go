package mail

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// OpenTTL is how long a reopen link works.
const OpenTTL = 30 * 24 * time.Hour

// OpenURL returns the link that reopens a room as its visitor, on any
// device: PARLEY_PUBLIC_URL/widget/open.html?t=<open token>, good for
// OpenTTL. The page exchanges the token for a visitor token of that room
// (POST /api/v1/rooms/open).
func (c *Composer) OpenURL(roomID string) (string, error) {
	t, err := c.cfg.Signer.Sign(PurposeOpen, roomID, Visitor, c.cfg.Now().Add(OpenTTL))
	if err != nil {
		return "", err
	}
	return c.cfg.PublicURL + "/widget/open.html?t=" + t, nil
}

// TranscriptID is the idempotency id of a room's transcript up to its
// last message, to one address: asking twice (a double click) before a new
// message queues one mail.
func TranscriptID(room chat.Room, to string) string {
	last := int64(0)
	if room.LastMessage != nil {
		last = room.LastMessage.Seq
	}
	sum := sha256.Sum256([]byte(strings.ToLower(to)))
	return "transcript." + room.ID + "." + strconv.FormatInt(last, 10) + "." + hex.EncodeToString(sum[:6])
}

// Transcript is the mail of a conversation's messages, with their times
// and authors, to to. For the visitor it links back to the conversation
// (openURL, "" for none). Sent to any other address (an agent's choice) it
// has no reply address: a reply from there must not post as anyone.
func Transcript(room chat.Room, msgs []chat.Message, to string, r Recipient, openURL string) Mail {
	m := Mail{
		ID:        TranscriptID(room, to),
		RoomID:    room.ID,
		To:        to,
		Recipient: r,
		Subject:   "Your conversation with us",
		Intro:     "Here is the conversation, as of now.",
		NoReply:   !r.IsVisitor(),
	}
	if !r.IsVisitor() {
		who := room.VisitorName
		if who == "" {
			who = room.VisitorEmail
		}
		if who == "" {
			who = "a visitor"
		}
		m.Subject = "Transcript of the conversation with " + who
	}
	if len(msgs) == 0 {
		m.Intro = "This conversation has no messages yet."
	}
	for _, x := range msgs {
		author := x.Author
		if author == "" {
			if x.Sender == chat.SenderVisitor {
				author = "Visitor"
				if room.VisitorName != "" {
					author = room.VisitorName
				}
			} else {
				author = "Support"
			}
		}
		m.Messages = append(m.Messages, Line{Author: author, Text: x.Content, At: x.CreatedAt.Time})
	}
	if openURL != "" {
		m.Link = &Link{Label: "Continue the conversation", URL: openURL}
	}
	return m
}

// FileLinkTTL is how long the attachment links of a transcript work.
const FileLinkTTL = 7 * 24 * time.Hour

// AddFiles lists each message's attachments in a transcript made of msgs,
// by name with the link link gives (a signed URL: the reader has no token).
func AddFiles(m *Mail, msgs []chat.Message, link func(roomID string, a chat.Attachment) string) {
	for i, x := range msgs {
		if i >= len(m.Messages) {
			return
		}
		for _, a := range x.Attachments {
			m.Messages[i].Files = append(m.Messages[i].Files, Link{Label: a.Name, URL: link(x.RoomID, a)})
		}
	}
}

// PublicURL is Parley's public base URL, without a trailing slash.
func (c *Composer) PublicURL() string { return c.cfg.PublicURL }
