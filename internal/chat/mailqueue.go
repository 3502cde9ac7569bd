package chat

import (
	"context"
	"time"
)

// QueuedMail is one outgoing mail as a worker holds it: its idempotency
// id, the queue entry that delivered it, the payload the mail package
// encoded, and how many attempts have failed so far.
type QueuedMail struct {
	ID       string
	Entry    string
	Payload  []byte
	Attempts int
}

// DeadMail is a mail that ended in the dead-letter list.
type DeadMail struct {
	ID       string
	Payload  []byte
	Attempts int
	Reason   string
	At       time.Time
}

// MailQueueStats counts the queue's mails by state.
type MailQueueStats struct {
	Waiting  int64 // in the stream: not yet taken, or taken and not finished
	Sending  int64 // taken by a worker and not finished (part of Waiting)
	Retrying int64 // failed, waiting for their next attempt
	Dead     int64 // in the dead-letter list
}

// MailQueue is the durable outgoing mail queue every instance shares
// (redisstore implements it on a Redis Stream with a consumer group). A
// mail is taken by one consumer at a time; it leaves the stream only when
// the worker says it was sent, must be retried, or is dead.
type MailQueue interface {
	// EnqueueMail stores payload under id and queues it. An id seen before
	// (queued, retrying, sent or dead, within the keep window) changes
	// nothing: it returns false.
	EnqueueMail(ctx context.Context, id string, payload []byte) (bool, error)
	// ClaimMail returns up to max mails for consumer: first the ones another
	// consumer took more than idle ago and never finished (it crashed),
	// then new ones, waiting up to wait for the first.
	ClaimMail(ctx context.Context, consumer string, max int, wait, idle time.Duration) ([]QueuedMail, error)
	// PromoteMail queues again up to max mails whose retry time has come,
	// on Redis's clock, and returns how many.
	PromoteMail(ctx context.Context, max int) (int, error)
	// MailSent finishes m as sent.
	MailSent(ctx context.Context, m QueuedMail) error
	// RetryMail finishes this attempt of m as failed and schedules the next
	// one after delay.
	RetryMail(ctx context.Context, m QueuedMail, delay time.Duration, reason string) error
	// BuryMail finishes m as dead: the dead-letter list keeps it.
	BuryMail(ctx context.Context, m QueuedMail, reason string) error
	// DeadMail lists up to max dead mails, newest first.
	DeadMail(ctx context.Context, max int) ([]DeadMail, error)
	// MailStats counts the queue's mails.
	MailStats(ctx context.Context) (MailQueueStats, error)
}
