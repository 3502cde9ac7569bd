package redisstore

// Every Redis key and channel name Parley uses is built here, and only here.
// A room's keys share the hash tag {ID} so that one room lives on one Redis
// Cluster slot and the scripts over its keys stay legal there. The team's
// keys (accounts, API tokens, canned replies, labels, webhooks) share the
// tag {team}, each queue its own ({mailq}, {hookq}), each notification
// kind and each day of visit counters theirs, for the same reason.

// keys builds key names under one prefix. The prefix-only parts are
// precomputed so the hot path concatenates once.
type keys struct {
	prefix   string
	room     string // prefix + "room:{"
	rooms    string
	unread   string
	team     string // prefix + "{team}:"
	admins   string
	admin    string
	adminGen string
	revoked  string
	secret   string
	presence string
	events   string
	adminLog string
	rl       string
	visits   string
	blocked  string
	identity string
}

func newKeys(prefix string) keys {
	return keys{
		prefix:   prefix,
		room:     prefix + "room:{",
		rooms:    prefix + "rooms",
		unread:   prefix + "rooms:unread",
		team:     prefix + "{team}:",
		admins:   prefix + "{team}:admins",
		admin:    prefix + "{team}:admin:",
		adminGen: prefix + "{team}:admins:generation",
		revoked:  prefix + "revoked:",
		secret:   prefix + "secret",
		presence: prefix + "presence",
		events:   prefix + "events",
		adminLog: prefix + "adminlog",
		rl:       prefix + "rl:",
		visits:   prefix + "visits:",
		blocked:  prefix + "blocked:",
		identity: prefix + "identity:",
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

// BlockedVisitor returns the marker of a room whose visitor is blocked. It
// is in the room's slot but not one of its keys: it outlives the room, so
// the visitor's token cannot open a new one.
func (k keys) BlockedVisitor(id string) string { return k.room + id + "}:blocked" }

// BlockedClient returns the marker of a client key (an IPv4 address or an
// IPv6 prefix) an admin blocked.
func (k keys) BlockedClient(key string) string { return k.blocked + key }

// Identity returns the string holding the id of the room of one verified
// identity (hash: chat.IdentityHash of the site's user id), in its own slot:
// claimed before the room is created, it lives twice the room's TTL,
// renewed when the room's keys are, and is deleted with the room
// (lua/identity.lua).
func (k keys) Identity(hash string) string { return k.identity + hash }

// The global room index of before the partitions: MigrateIndex moves it
// into them (PartRooms and the rest below) and deletes it. Nothing else
// reads or writes these keys.

// Rooms returns the room index: room id scored by updatedAt (ms).
func (k keys) Rooms() string { return k.rooms }

// Unread returns the index of rooms with unread > 0, same scores as Rooms.
func (k keys) Unread() string { return k.unread }

// RoomsByStatus returns the index of the rooms of one status (open,
// pending, resolved), same scores as Rooms: a room is in exactly one.
func (k keys) RoomsByStatus(status string) string { return k.rooms + ":status:" + status }

// Unassigned returns the index of the open rooms nobody is assigned to, same
// scores as Rooms.
func (k keys) Unassigned() string { return k.rooms + ":unassigned" }

// AgentRooms returns the index of the open rooms assigned to one agent (the
// "Mine" view), same scores as Rooms.
func (k keys) AgentRooms(username string) string { return k.rooms + ":agent:" + username }

// LabelRooms returns the index of the rooms carrying one label (any status),
// same scores as Rooms.
func (k keys) LabelRooms(labelID string) string { return k.rooms + ":label:" + labelID }

// Snoozed returns the sorted set of pending rooms with a snooze, scored by
// when it ends (ms).
func (k keys) Snoozed() string { return k.rooms + ":snoozed" }

// The partitioned room index. A room's entries live in one of
// IndexPartitions partitions, chosen from its id (PartitionOf), and every
// key of a partition carries the partition's hash tag (indexTags), so one
// follow-up script (lua/place.lua) updates all of a room's entries in one
// Cluster slot. Tags and the function are stable forever: changing either
// moves every room (TestIndexPartitionsPinned).

// IndexPartitions is how many partitions the room index has.
const IndexPartitions = 16

// indexTags are the partitions' hash tags: tag i hashes to a slot in the
// i-th sixteenth of 0..16383 (searched for, pinned by a test), so a default
// `redis-cli --cluster create` spreads the partitions evenly over primaries.
var indexTags = [IndexPartitions]string{
	"p00aj", "p01ai", "p02h", "p03bj", "p04c", "p05dj", "p06fi", "p07fj",
	"p08fk", "p09k", "p10c", "p11dc", "p12fa", "p13fb", "p14ac", "p15ad",
}

// PartitionOf is the index partition of a room: CRC16 (the Cluster's, of
// the id) modulo IndexPartitions.
func PartitionOf(roomID string) int { return int(crc16(roomID)) % IndexPartitions }

// crc16 is Redis Cluster's key hash (XMODEM: polynomial 0x1021, initial 0).
func crc16(s string) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc ^= uint16(s[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// PartRooms returns a partition's index of all its rooms: room id scored by
// updatedAt (ms).
func (k keys) PartRooms(tag string) string { return k.rooms + ":{" + tag + "}" }

// PartUnread returns a partition's rooms with unread > 0, same scores.
func (k keys) PartUnread(tag string) string { return k.rooms + ":{" + tag + "}:unread" }

// PartStatus returns a partition's rooms of one status (open, pending,
// resolved), same scores: a room is in exactly one.
func (k keys) PartStatus(tag, status string) string {
	return k.rooms + ":{" + tag + "}:status:" + status
}

// PartUnassigned returns a partition's open rooms nobody is assigned to.
func (k keys) PartUnassigned(tag string) string { return k.rooms + ":{" + tag + "}:unassigned" }

// PartAgent returns a partition's open rooms assigned to one agent.
func (k keys) PartAgent(tag, username string) string {
	return k.rooms + ":{" + tag + "}:agent:" + username
}

// PartAgentPrefix is PartAgent without the username, for lua/place.lua.
func (k keys) PartAgentPrefix(tag string) string { return k.rooms + ":{" + tag + "}:agent:" }

// PartLabel returns a partition's rooms carrying one label (any status).
func (k keys) PartLabel(tag, labelID string) string {
	return k.rooms + ":{" + tag + "}:label:" + labelID
}

// PartLabelPrefix is PartLabel without the label id, for lua/place.lua.
func (k keys) PartLabelPrefix(tag string) string { return k.rooms + ":{" + tag + "}:label:" }

// PartSnoozed returns a partition's pending rooms with a snooze, scored by
// when it ends (ms).
func (k keys) PartSnoozed(tag string) string { return k.rooms + ":{" + tag + "}:snoozed" }

// PartPlace returns the hash room id -> where the partition last placed the
// room ("ver|score|unread|status|assignee|labels|snoozed"), or its
// tombstone ("D|deletedAt"): the version a follow-up must not be older
// than, and the entries the next one removes without reading the room.
func (k keys) PartPlace(tag string) string { return k.rooms + ":{" + tag + "}:place" }

// PartCounts returns the hash of a partition's view sizes (all, unread,
// open, pending, resolved, unassigned, agent:USERNAME -> how many rooms its
// index holds), kept by lua/place.lua with every entry it adds or removes
// and by lua/list.lua with every expired one it drops.
func (k keys) PartCounts(tag string) string { return k.rooms + ":{" + tag + "}:counts" }

// PartNew returns the zset of a partition's rooms being created (id ->
// when, ms): registered before the room exists, removed by its first
// placement, so the reconciler finds a room whose follow-up never ran.
func (k keys) PartNew(tag string) string { return k.rooms + ":{" + tag + "}:new" }

// PartSweep returns a partition's rooms that have files, scored by when the
// attachment sweeper should look at them next (ms): the room's expiry or its
// earliest pending attachment's, 0 for a deleted room.
func (k keys) PartSweep(tag string) string { return k.rooms + ":{" + tag + "}:attsweep" }

// IndexMigrated returns the marker set once the global index of before the
// partitions (Rooms, Unread, … AttachmentSweep) has been moved into them
// and removed (MigrateIndex).
func (k keys) IndexMigrated() string { return k.prefix + "index:migrated" }

// Labels returns the hash of label definitions: label id -> JSON.
func (k keys) Labels() string { return k.team + "labels" }

// Notes returns the list of a room's private notes (JSON, oldest first).
func (k keys) Notes(id string) string { return k.room + id + "}:notes" }

// Activity returns the throttle key of one agent's one activity (viewing,
// typing) in a room, in the room's slot; it lives for the throttle window.
func (k keys) Activity(id, username, activity string) string {
	return k.room + id + "}:activity:" + activity + ":" + username
}

// Admins returns the set of admin usernames, so listing needs no SCAN.
func (k keys) Admins() string { return k.admins }

// Admin returns the hash of one admin account.
func (k keys) Admin(username string) string { return k.admin + username }

// AdminGeneration returns the counter every account's generation is drawn
// from: it only grows, so a generation is never given out twice, even to an
// account removed and created again under the same name.
func (k keys) AdminGeneration() string { return k.adminGen }

// Revoked returns the marker of a revoked token id.
func (k keys) Revoked(jti string) string { return k.revoked + jti }

// Secret returns the string holding the token signing secret.
func (k keys) Secret() string { return k.secret }

// Presence returns the sorted set of instances with admin streams open,
// scored by the expiry (ms) of their last heartbeat.
func (k keys) Presence() string { return k.presence }

// Events returns the pub/sub channel shared by every instance.
func (k keys) Events() string { return k.events }

// PartEvents returns a partition's shard channel on Redis Cluster: the
// follow-up (lua/place.lua) SPUBLISHes the partition's room events there,
// in the partition's slot, and the bridge SSUBSCRIBEs it on the slot's
// primary (bridge.go). A single Redis and Sentinel use Events for all.
func (k keys) PartEvents(tag string) string { return k.events + ":{" + tag + "}" }

// AdminLog returns the team log: the capped stream of the team's events
// (accounts, canned replies, labels, webhooks) admin streams show, in
// publish order, in the team family's slot. The rooms' events are in their
// partitions' logs (PartLog); a console resumes from all of them
// (Last-Event-ID, a vector: adminlog.go).
func (k keys) AdminLog() string { return k.adminLog + ":{team}" }

// LegacyAdminLog returns the one admin log of before the partitioned logs:
// read by the consumer groups until they have drained it (the upgrade).
func (k keys) LegacyAdminLog() string { return k.adminLog }

// PartLog returns a partition's admin log: the capped stream of its rooms'
// events, appended (and published) by the follow-up (lua/place.lua), each
// room's in the order the room numbered them.
func (k keys) PartLog(tag string) string { return k.adminLog + ":{" + tag + "}" }

// PartLogged returns the hash room id -> "n:t", the number and stamp of
// the room's last event the partition's log has (lua/place.lua logs event
// n only after n-1).
func (k keys) PartLogged(tag string) string { return k.rooms + ":{" + tag + "}:logged" }

// Outbox returns a room's capped list of its newest events ("n:t:p|event
// JSON"), numbered by the room hash's "evn" and stamped by its "evt"
// (lua/lib/emit.lua): what a follow-up that finds a
// gap, or the reconciler, reads the missing events from.
func (k keys) Outbox(id string) string { return k.room + id + "}:outbox" }

// RateLimit returns the sliding-window log of one limit key.
func (k keys) RateLimit(key string) string { return k.rl + "{" + key + "}" }

// VisitsTotal returns the all-time page view counter.
func (k keys) VisitsTotal() string { return k.visits + "total" }

// A day's visit keys share the day's hash tag ({YYYY-MM-DD}), so
// lua/visit.lua counts a view in one slot; the all-time total is a key of
// its own, incremented beside it (RecordVisit).

// VisitsViews returns the page view counter of one day (YYYY-MM-DD).
func (k keys) VisitsViews(day string) string { return k.visits + "{" + day + "}:views" }

// VisitsVisitors returns the HyperLogLog of one day's distinct visitors.
func (k keys) VisitsVisitors(day string) string { return k.visits + "{" + day + "}:visitors" }

// VisitsPaths returns the sorted set path → views of one day.
func (k keys) VisitsPaths(day string) string { return k.visits + "{" + day + "}:paths" }

// VisitsSalt returns the secret salt of one day's visitor hashes.
func (k keys) VisitsSalt(day string) string { return k.visits + "{" + day + "}:salt" }

// The mail queue's keys share the tag {mailq}, the webhook queue's {hookq}
// (below), so the queue scripts (lua/mail*.lua) run in one slot.

// MailQueue returns the stream of mails waiting to be sent (field id);
// every instance reads it in the consumer group "mailers" (mailqueue.go).
func (k keys) MailQueue() string { return k.prefix + "{mailq}" }

// MailRetry returns the sorted set of mails waiting for their next attempt,
// scored by when (ms, Redis's clock).
func (k keys) MailRetry() string { return k.prefix + "{mailq}:retry" }

// MailDead returns the dead-letter list (mail ids, newest first).
func (k keys) MailDead() string { return k.prefix + "{mailq}:dead" }

// Mail returns the hash of one outgoing mail.
func (k keys) Mail(id string) string { return k.prefix + "{mailq}:mail:" + id }

// NotifyDue returns the sorted set of rooms whose mail of one kind
// (agents, visitor) is due, scored by when (ms); the kind is its hash tag.
func (k keys) NotifyDue(kind string) string { return k.prefix + "notify:{" + kind + "}" }

// NotifyClaimed returns the sorted set of rooms a notifier holds the mail
// of one kind for, scored by when its lease ends (ms, Redis's clock).
func (k keys) NotifyClaimed(kind string) string { return k.prefix + "notify:{" + kind + "}:claimed" }

// AgentsOnline returns the sorted set of admin usernames with an admin
// stream open on some instance, scored by when that heartbeat ends (ms).
func (k keys) AgentsOnline() string { return k.prefix + "presence:agents" }

// UnsubscribedVisitor returns the marker of a room whose visitor stopped
// the notification mails.
func (k keys) UnsubscribedVisitor(roomID string) string { return k.prefix + "unsub:room:" + roomID }

// UnsubscribedAgent returns the marker of an agent who stopped the
// notification mails.
func (k keys) UnsubscribedAgent(username string) string { return k.team + "unsub:agent:" + username }

// VisitorPages is the list of the last pages a room's visitor was on
// (JSON, newest first).
func (k keys) VisitorPages(id string) string { return k.room + id + "}:pages" }

// VisitorInfo is the hash of who a room's visitor is (browser, OS, zone,
// language, referrer, campaign, stream seen/left).
func (k keys) VisitorInfo(id string) string { return k.room + id + "}:visitor" }

// BusinessHours is the hours an owner saved in the console (JSON).
func (k keys) BusinessHours() string { return k.prefix + "settings:hours" }

// Canned returns the hash of the team's canned replies: id → JSON.
func (k keys) Canned() string { return k.team + "canned" }

// CannedShortcuts returns the hash shortcut → canned reply id, which keeps
// shortcuts unique.
func (k keys) CannedShortcuts() string { return k.team + "canned:shortcuts" }

// The search index (search.go). A term's zset holds every room with that
// term in a message, a note or its visitor's name or email (prefixes of
// those included), scored by the latest of them (ms); the room's terms hash
// says where that latest one is, so deleting the room finds every zset it
// is in without a SCAN. The zsets are the partitions' (SearchPartTerm,
// SearchPartRooms below); SearchTerm, SearchTermPrefix and SearchRooms
// are the global keys of before them, which only the migration reads.

// SearchTerm returns the sorted set room id → ms of the latest activity
// with term, of before the partitions.
func (k keys) SearchTerm(term string) string { return k.prefix + "search:t:" + term }

// SearchTermPrefix returns what every SearchTerm key starts with: the
// migration finds them with it.
func (k keys) SearchTermPrefix() string { return k.prefix + "search:t:" }

// SearchRooms returns the sorted set of indexed rooms of before the
// partitions, scored by their updatedAt.
func (k keys) SearchRooms() string { return k.prefix + "search:rooms" }

// Terms returns the hash term → where a room's latest hit of it is ("m<seq>"
// a message, "n<k>" the k-th note, "v" the visitor's name or email), in the
// room's slot; it outlives the room by SearchGrace so the sweeper can read it.
func (k keys) Terms(id string) string { return k.room + id + "}:terms" }

// SearchIndexed returns the marker that every room stored before the search
// index existed has been indexed (BackfillSearch): "1". Like SearchTerm and
// SearchRooms, a key of before the partitions: MigrateSearch reads and
// deletes them.
func (k keys) SearchIndexed() string { return k.prefix + "search:indexed" }

// The partitioned search index: each room's entries live in its index
// partition (PartitionOf, indexTags), beside the partition's room index and
// its tombstones (PartPlace), so one script over a partition's slot writes
// them, refused for a deleted room.

// SearchPartTerm returns a partition's sorted set room id → ms of the latest
// activity with term.
func (k keys) SearchPartTerm(tag, term string) string {
	return k.prefix + "search:{" + tag + "}:t:" + term
}

// SearchPartRooms returns a partition's indexed rooms, scored by their
// updatedAt (ms): what the sweeper takes expired rooms out of the index from.
func (k keys) SearchPartRooms(tag string) string { return k.prefix + "search:{" + tag + "}:rooms" }

// SearchMigrated returns the marker set once the global search keys of
// before the partitions have been moved into them and deleted, and every
// room stored before the search index existed indexed (MigrateSearch).
func (k keys) SearchMigrated() string { return k.prefix + "search:migrated" }

// Webhooks returns the hash of the registered webhook endpoints: id → JSON
// (with their secrets).
func (k keys) Webhooks() string { return k.team + "webhooks" }

// WebhookFailures returns the hash of the endpoints disabled after a
// delivery was given up: id → JSON (since, reason).
func (k keys) WebhookFailures() string { return k.team + "webhooks:failing" }

// WebhookDeliveries returns the capped list of one endpoint's recent
// delivery attempts (JSON, newest first).
func (k keys) WebhookDeliveries(id string) string { return k.team + "webhooks:deliveries:" + id }

// WebhookQueue returns the stream of webhook deliveries waiting to be sent
// (field id); every instance reads it in the consumer group "webhooks".
func (k keys) WebhookQueue() string { return k.prefix + "{hookq}" }

// WebhookRetry returns the sorted set of deliveries waiting for their next
// attempt, scored by when (ms, Redis's clock).
func (k keys) WebhookRetry() string { return k.prefix + "{hookq}:retry" }

// WebhookDead returns the list of deliveries given up (job ids, newest
// first).
func (k keys) WebhookDead() string { return k.prefix + "{hookq}:dead" }

// WebhookJob returns the hash of one delivery job: its idempotency record.
func (k keys) WebhookJob(id string) string { return k.prefix + "{hookq}:hook:" + id }

// WebhookRoom returns what the webhooks last saw of a room's team-visible
// state (status, assignee, labels, block), to tell a change from a read.
func (k keys) WebhookRoom(roomID string) string { return k.prefix + "hook:room:" + roomID }

// Attachments returns the hash attachment id → Attachment JSON of a room
// (sent and pending alike); it lives as long as the room.
func (k keys) Attachments(id string) string { return k.room + id + "}:att" }

// AttachmentsPending returns the zset of a room's attachments not sent yet,
// scored by when they expire unsent (ms).
func (k keys) AttachmentsPending(id string) string { return k.room + id + "}:attpending" }

// AttachmentSweep returns the zset of rooms that have files, scored by when
// the sweeper should look at them next, of before the partitions (PartSweep
// now; MigrateIndex moves it).
func (k keys) AttachmentSweep() string { return k.prefix + "attachments:sweep" }

// AdminPrefix is Admin without the username, for the script that reads the
// account of an API token's creator (apitokenauth.lua).
func (k keys) AdminPrefix() string { return k.admin }

// APITokens returns the set of API token ids, so listing and the maximum
// need no SCAN.
func (k keys) APITokens() string { return k.team + "apitokens" }

// APIToken returns the hash of one API token (its secret's hash among the
// rest).
func (k keys) APIToken(id string) string { return k.team + "apitoken:" + id }

// GlobalsMigrating returns the lease of the instance renaming the global
// keys of before the hash tags (MigrateGlobals): a token, for a few
// seconds, renewed while it works.
func (k keys) GlobalsMigrating() string { return k.prefix + "globals:migrating" }

// GlobalsMigrated returns the marker set once every global key of before
// the hash tags has its new name (MigrateGlobals): "1".
func (k keys) GlobalsMigrated() string { return k.prefix + "globals:migrated" }

// legacyGlobal is one family of the global keys of before the hash tags,
// which only a single Redis or Sentinel ever held, and its new names: an
// exact old name, or (scan) the prefix of its keys, each key's rest (an
// ID, USERNAME or DAY) giving the new name.
type legacyGlobal struct {
	old   string
	scan  bool
	skip  string // scan: keys with this prefix are another family's
	name  func(rest string) string
	merge mergeMode
}

// legacyGlobals lists the old global families (MigrateGlobals), the
// notification kinds given.
func (k keys) legacyGlobals(kinds []string) []legacyGlobal {
	p := k.prefix
	fixed := func(name string) func(string) string { return func(string) string { return name } }
	out := []legacyGlobal{
		{old: p + "admin:", scan: true, name: k.Admin, merge: mergeHash},
		{old: p + "admins", name: fixed(k.Admins()), merge: mergeSet},
		{old: p + "admins:generation", name: fixed(k.AdminGeneration()), merge: mergeCounter},
		{old: p + "unsub:agent:", scan: true, name: k.UnsubscribedAgent, merge: mergeKeepNew},
		{old: p + "apitoken:", scan: true, name: k.APIToken, merge: mergeHash},
		{old: p + "apitokens", name: fixed(k.APITokens()), merge: mergeSet},
		{old: p + "canned", name: fixed(k.Canned()), merge: mergeHash},
		{old: p + "canned:shortcuts", name: fixed(k.CannedShortcuts()), merge: mergeHash},
		{old: p + "labels", name: fixed(k.Labels()), merge: mergeHash},
		{old: p + "webhooks", name: fixed(k.Webhooks()), merge: mergeHash},
		{old: p + "webhooks:failing", name: fixed(k.WebhookFailures()), merge: mergeHash},
		{old: p + "webhooks:deliveries:", scan: true, name: k.WebhookDeliveries, merge: mergeList},
		{old: p + "mail:", scan: true, name: k.Mail, merge: mergeHash},
		{old: p + "mailq", name: fixed(k.MailQueue()), merge: mergeStream},
		{old: p + "mailq:retry", name: fixed(k.MailRetry()), merge: mergeZSetMin},
		{old: p + "mailq:dead", name: fixed(k.MailDead()), merge: mergeList},
		{old: p + "hook:", scan: true, skip: p + "hook:room:", name: k.WebhookJob, merge: mergeHash},
		{old: p + "hookq", name: fixed(k.WebhookQueue()), merge: mergeStream},
		{old: p + "hookq:retry", name: fixed(k.WebhookRetry()), merge: mergeZSetMin},
		{old: p + "hookq:dead", name: fixed(k.WebhookDead()), merge: mergeList},
		{old: p + "visits:views:", scan: true, name: k.VisitsViews, merge: mergeCounter},
		{old: p + "visits:visitors:", scan: true, name: k.VisitsVisitors, merge: mergeHLL},
		{old: p + "visits:paths:", scan: true, name: k.VisitsPaths, merge: mergeZSetSum},
		{old: p + "visits:salt:", scan: true, name: k.VisitsSalt, merge: mergeKeepNew},
	}
	for _, kind := range kinds {
		out = append(out,
			legacyGlobal{old: p + "notify:" + kind, name: fixed(k.NotifyDue(kind)), merge: mergeZSetMin},
			legacyGlobal{old: p + "notify:" + kind + ":claimed", name: fixed(k.NotifyClaimed(kind)), merge: mergeZSetMax})
	}
	return out
}
