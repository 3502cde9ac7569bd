package redisstore

// Every Redis key and channel name Parley uses is built here, and only here.
// A room's keys share the hash tag {ID} so that one room lives on one Redis
// Cluster slot and the scripts over its keys stay legal there.

// keys builds key names under one prefix. The prefix-only parts are
// precomputed so the hot path concatenates once.
type keys struct {
	prefix   string
	room     string // prefix + "room:{"
	rooms    string
	unread   string
	admins   string
	admin    string
	revoked  string
	secret   string
	presence string
	events   string
	rl       string
	visits   string
}

func newKeys(prefix string) keys {
	return keys{
		prefix:   prefix,
		room:     prefix + "room:{",
		rooms:    prefix + "rooms",
		unread:   prefix + "rooms:unread",
		admins:   prefix + "admins",
		admin:    prefix + "admin:",
		revoked:  prefix + "revoked:",
		secret:   prefix + "secret",
		presence: prefix + "presence",
		events:   prefix + "events",
		rl:       prefix + "rl:",
		visits:   prefix + "visits:",
	}
}

// Room returns the hash of a room.
func (k keys) Room(id string) string { return k.room + id + "}" }

// Msgs returns the list of a room's messages (JSON, ascending seq).
func (k keys) Msgs(id string) string { return k.room + id + "}:msgs" }

// Dedup returns the hash clientId → seq of a room.
func (k keys) Dedup(id string) string { return k.room + id + "}:dedup" }

// Senders returns the string holding one byte per message of a room: byte
// seq-1 is the first byte of that message's sender (see senderMark), so the
// read script counts one side's messages without reading their JSON.
func (k keys) Senders(id string) string { return k.room + id + "}:senders" }

// Typing returns the throttle key of one side's typing events in a room,
// in the room's slot; it lives for the throttle window only.
func (k keys) Typing(id, side string) string { return k.room + id + "}:typing:" + side }

// Rooms returns the room index: room id scored by updatedAt (ms).
func (k keys) Rooms() string { return k.rooms }

// Unread returns the index of rooms with unread > 0, same scores as Rooms.
func (k keys) Unread() string { return k.unread }

// Admins returns the set of admin usernames, so listing needs no SCAN.
func (k keys) Admins() string { return k.admins }

// Admin returns the hash of one admin account.
func (k keys) Admin(username string) string { return k.admin + username }

// Revoked returns the marker of a revoked token id.
func (k keys) Revoked(jti string) string { return k.revoked + jti }

// Secret returns the string holding the token signing secret.
func (k keys) Secret() string { return k.secret }

// Presence returns the sorted set of instances with admin streams open,
// scored by the expiry (ms) of their last heartbeat.
func (k keys) Presence() string { return k.presence }

// Events returns the pub/sub channel shared by every instance.
func (k keys) Events() string { return k.events }

// RateLimit returns the sliding-window log of one limit key.
func (k keys) RateLimit(key string) string { return k.rl + "{" + key + "}" }

// VisitsTotal returns the all-time page view counter.
func (k keys) VisitsTotal() string { return k.visits + "total" }

// VisitsViews returns the page view counter of one day (YYYY-MM-DD).
func (k keys) VisitsViews(day string) string { return k.visits + "views:" + day }

// VisitsVisitors returns the HyperLogLog of one day's distinct visitors.
func (k keys) VisitsVisitors(day string) string { return k.visits + "visitors:" + day }

// VisitsPaths returns the sorted set path → views of one day.
func (k keys) VisitsPaths(day string) string { return k.visits + "paths:" + day }

// MailQueue returns the stream of mails waiting to be sent (field id);
// every instance reads it in the consumer group "mailers" (mailqueue.go).
func (k keys) MailQueue() string { return k.prefix + "mailq" }

// MailRetry returns the sorted set of mails waiting for their next attempt,
// scored by when (ms, Redis's clock).
func (k keys) MailRetry() string { return k.prefix + "mailq:retry" }

// MailDead returns the dead-letter list (mail ids, newest first).
func (k keys) MailDead() string { return k.prefix + "mailq:dead" }

// Mail returns the hash of one outgoing mail.
func (k keys) Mail(id string) string { return k.prefix + "mail:" + id }
