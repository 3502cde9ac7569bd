// Package mail owns Parley's email: composing a mail (multipart text and
// HTML, Message-ID, per-conversation threading, Reply-To, one-click
// unsubscribe), the signed tokens its addresses and links carry, sending it
// (go-mail over SMTP, or to the log), and the worker that drains the
// durable outgoing queue (chat.MailQueue, kept in Redis by redisstore) with
// retries, backoff and a dead-letter list, and the notifier that decides
// the agents' and the visitors' mails (notify.go). The inbound SMTP server that
// turns replies back into conversation input is its subpackage inbound;
// mailtest is a recording SMTP server for tests.
//
// It imports neither gin nor go-redis: the queue's storage is behind
// chat.MailQueue and chat.NotifyStore, and what becomes of an inbound reply
// is behind inbound.Handler (inbound.ChatHandler: chat.Service).
package mail
