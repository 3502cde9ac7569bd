package chat

import (
	"context"
	"time"
)

// CodeEmailOff is the answer of every email route while no PARLEY_SMTP_URL
// is set: Parley sends no mail, so it promises none (409 email_off).
const CodeEmailOff Code = "email_off"

// ErrEmailOff is what the email routes answer without an SMTP server.
var ErrEmailOff = &Error{Code: CodeEmailOff, Message: "email is off on this server: set PARLEY_SMTP_URL (PARLEY_SMTP_URL=log to try it locally)"}

// ErrNoVisitorEmail refuses a transcript for a visitor who gave no email.
var ErrNoVisitorEmail = &Error{Code: CodeInvalid, Message: "this conversation has no email address to send the transcript to"}

// TranscriptLimit is how many transcripts one room may ask for (the
// visitor's and the agents' together).
var TranscriptLimit = Limit{N: 5, Per: time.Hour}

// MaxTranscript is how many messages a transcript lists at most: the
// newest ones.
const MaxTranscript = 1000

// UnsubscribeTTL is how long a visitor's unsubscribe lasts: as long as the
// links that can ask it work.
const UnsubscribeTTL = 366 * 24 * time.Hour

// UnsubscribeStore records a mail recipient's unsubscribe, from the one-click
// link (RFC 8058) or the mailto of List-Unsubscribe
// (RFC 8058). Its reader is the notifier's (see Unsubscribed).
type UnsubscribeStore interface {
	// UnsubscribeVisitor stops the notification mails of a room's visitor,
	// for as long as ttl (the life of the links that can ask it).
	UnsubscribeVisitor(ctx context.Context, roomID string, ttl time.Duration) error
	// UnsubscribeAgent sets an agent's notification preference to never.
	// ErrAdminUnknown when the account is gone.
	UnsubscribeAgent(ctx context.Context, username string) error
}

// AllowTranscript counts one transcript asked for in roomID against
// TranscriptLimit; a rate_limited *Error when over.
func (s *Service) AllowTranscript(ctx context.Context, roomID string) error {
	l := TranscriptLimit
	return s.allow(ctx, &l, "transcript:"+roomID)
}

// Transcript returns the room and up to MaxTranscript of its newest
// messages, oldest first. ErrRoomNotFound.
func (s *Service) Transcript(ctx context.Context, roomID string) (Room, []Message, error) {
	r, err := s.Room(ctx, roomID)
	if err != nil {
		return Room{}, nil, err
	}
	var all []Message
	after := int64(0)
	if r.LastMessage != nil && r.LastMessage.Seq > MaxTranscript {
		after = r.LastMessage.Seq - MaxTranscript
	}
	for len(all) < MaxTranscript {
		page, more, err := s.store.Messages(ctx, roomID, MessageQuery{After: after, Limit: MaxLimit})
		if err != nil {
			return Room{}, nil, err
		}
		all = append(all, page...)
		if !more || len(page) == 0 {
			break
		}
		after = page[len(page)-1].Seq
	}
	return r, all, nil
}

// TranscriptAddress checks an agent's "to" for a transcript: a plain
// address, as a visitor's email must be.
func TranscriptAddress(to string) (string, error) {
	in := NewRoom{Email: to}
	if err := in.Normalize(); err != nil {
		return "", err
	}
	return in.Email, nil
}
