package redisstore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/chat"
)

// CreateRoom stores a new room, adds it to the index and publishes the room
// event, in one script.
func (s *Store) CreateRoom(ctx context.Context, r chat.Room) (chat.Room, error) {
	r.Verified = false
	created, _, err := s.createRoom(ctx, r, "")
	return created, err
}

// CreateIdentityRoom is CreateRoom for a verified identity's room, in the
// same script: see lua/create.lua.
func (s *Store) CreateIdentityRoom(ctx context.Context, r chat.Room, identityHash string) (chat.Room, string, error) {
	if identityHash == "" {
		return chat.Room{}, "", fmt.Errorf("redisstore: create identity room: no identity")
	}
	r.Verified = true
	return s.createRoom(ctx, r, identityHash)
}

func (s *Store) createRoom(ctx context.Context, r chat.Room, identityHash string) (chat.Room, string, error) {
	created := r.CreatedAt.Millis()
	// The room's partition hears of it first, so a crash before its
	// follow-up leaves a trace the reconciler finds (index.go).
	if err := s.registerNew(ctx, r.ID); err != nil {
		return chat.Room{}, "", err
	}
	if identityHash != "" {
		holder, err := s.claimIdentity(ctx, identityHash, r.ID)
		if err != nil || holder != "" {
			return chat.Room{}, holder, err
		}
	}
	keys := []string{s.keys.Room(r.ID), s.keys.Outbox(r.ID)}
	args := []any{r.ID, r.VisitorName, r.VisitorEmail, r.Page, created, s.ttlMS, s.keys.Events(), roomEventHead(r.ID), r.ClientKey, AdminLogLen,
		identityHash, r.UserID}
	// The search index's keys and arguments come last (lua/create.lua).
	terms := chat.VisitorTerms(r.VisitorName, r.VisitorEmail)
	keys = append(keys, s.keys.Terms(r.ID))
	args = append(args, s.termsTTL())
	for _, t := range terms {
		args = append(args, t)
	}
	res, err := createScript.Run(ctx, s.rdb, keys, args...).Result()
	if err != nil {
		return chat.Room{}, "", fail("create room", err)
	}
	if n, ok := res.(int64); ok && n == 0 {
		return chat.Room{}, "", fmt.Errorf("redisstore: create room: id %s is taken", r.ID)
	}
	reply, _ := res.([]any)
	if len(reply) != 2 {
		return chat.Room{}, "", fmt.Errorf("redisstore: create room: unexpected reply %v", res)
	}
	pl, ok := placementOf(reply[0])
	if !ok {
		return chat.Room{}, "", fmt.Errorf("redisstore: create room: unexpected reply %v", res)
	}
	// Acked means stored and visible: the 201 waits for the index (and
	// the room event's log).
	if err := s.follow(ctx, "create room", placePut, r.ID, pl, eventsOf(reply[1])); err != nil {
		return chat.Room{}, "", err
	}
	if err := s.searchFollow(ctx, "create room", r.ID, created, "GT", terms, created); err != nil {
		return chat.Room{}, "", err
	}
	return chat.Room{
		ID: r.ID, VisitorName: r.VisitorName, VisitorEmail: r.VisitorEmail, Page: r.Page,
		CreatedAt: chat.TimeFromMillis(created), UpdatedAt: chat.TimeFromMillis(created),
		FirstSeq: 1, ClientKey: r.ClientKey, Status: chat.StatusOpen, Verified: r.Verified, UserID: r.UserID,
	}, "", nil
}

// claimIdentity makes an identity's entry name roomID before the room is
// created (lua/identity.lua), unless a live room, or one being created,
// holds it: then it returns that room's id. A room created after its
// identity's claim can never be a second room of one identity; a claim
// whose room never came (a crash) is taken over by the next visit.
func (s *Store) claimIdentity(ctx context.Context, identityHash, roomID string) (string, error) {
	key := s.keys.Identity(identityHash)
	stale := ""
	for range 2 {
		holder, err := identityScript.Run(ctx, s.rdb, []string{key}, "claim", roomID, stale, s.identityTTL()).Text()
		if err != nil {
			return "", fail("create room", err)
		}
		if holder == "" {
			return "", nil
		}
		// Being created first, then existing: a create's registration goes
		// only once its room exists, so a holder seen in neither, in this
		// order, is gone for good (read the other way round, a create
		// finishing between the two reads would look stale).
		creating, err := s.isNew(ctx, holder)
		if err != nil {
			return "", fail("create room", err)
		}
		if creating {
			return holder, nil
		}
		n, err := s.rdb.Exists(ctx, s.keys.Room(holder)).Result()
		if err != nil {
			return "", fail("create room", err)
		}
		if n == 1 {
			return holder, nil
		}
		stale = holder
	}
	return "", fmt.Errorf("redisstore: create room: %w: the identity's entry keeps changing", chat.ErrUnavailable)
}

// identityTTL is how long an identity's entry lives after its room's last
// refresh: twice the room's longest life, so it outlives the room even if
// one refresh of it is lost, and is gone not long after the room expires.
func (s *Store) identityTTL() int64 {
	if s.ttlMS <= 0 {
		return 0
	}
	return 2 * (s.ttlMS + min(s.ttlMS/100, time.Hour.Milliseconds()))
}

// IdentityRoom returns the room id an identity's index names, or
// chat.ErrRoomNotFound.
func (s *Store) IdentityRoom(ctx context.Context, identityHash string) (string, error) {
	id, err := s.rdb.Get(ctx, s.keys.Identity(identityHash)).Result()
	if errors.Is(err, redis.Nil) {
		return "", chat.ErrRoomNotFound
	}
	if err != nil {
		return "", fail("identity room", err)
	}
	return id, nil
}

// SetVisitorDetails overwrites a room's visitor name and email; see
// lua/setvisitor.lua.
func (s *Store) SetVisitorDetails(ctx context.Context, roomID, name, email string) (chat.Room, error) {
	keys := []string{s.keys.Room(roomID), s.keys.Outbox(roomID), s.keys.Terms(roomID)}
	args := []any{name, email, s.keys.Events(), roomEventHead(roomID), AdminLogLen, SearchGrace.Milliseconds(), roomID}
	terms := chat.VisitorTerms(name, email)
	for _, t := range terms {
		args = append(args, t)
	}
	res, err := setVisitorScript.Run(ctx, s.rdb, keys, args...).Slice()
	if err != nil {
		return chat.Room{}, fail("set visitor", err)
	}
	if len(res) == 1 && res[0] == "blocked" {
		return chat.Room{}, chat.ErrBlocked
	}
	if len(res) == 0 {
		return chat.Room{}, chat.ErrRoomNotFound
	}
	events := eventsOf(res[0])
	res, filled := searchFilled(res[1:])
	r, ok := roomFromFlat(roomID, res)
	if !ok {
		return chat.Room{}, chat.ErrRoomNotFound
	}
	if err := s.logEvents(ctx, "set visitor", roomID, events); err != nil {
		return chat.Room{}, err
	}
	if filled != "" {
		at := r.UpdatedAt.Millis()
		if err := s.searchFollow(ctx, "set visitor", roomID, at, "GT", terms, at); err != nil {
			return chat.Room{}, err
		}
	}
	return r, nil
}

// Room returns a room, or chat.ErrRoomNotFound.
func (s *Store) Room(ctx context.Context, id string) (chat.Room, error) {
	h, err := s.rdb.HGetAll(ctx, s.keys.Room(id)).Result()
	if err != nil {
		return chat.Room{}, fail("room", err)
	}
	r, ok := roomFromMap(id, h)
	if !ok {
		return chat.Room{}, chat.ErrRoomNotFound
	}
	return r, nil
}

// Append stores m with the next seq and publishes it, in one script: see
// lua/send.lua. A repeated clientID returns the original message; if that was
// trimmed away since (the room got MaxMessages newer ones), the message comes
// back as m with the original seq, which is all that is left of it.
func (s *Store) Append(ctx context.Context, m chat.Message, opt chat.AppendOptions) (chat.Message, bool, error) {
	m.CreatedAt = chat.TimeFromMillis(m.CreatedAt.Millis()) // what is stored
	msgJSON, err := messageOpen(m)
	if err != nil {
		return chat.Message{}, false, err
	}
	// The message counts as unread for the other side.
	counter := readFieldsOf(m.Sender.Other()).counter
	agent, agentName, reopen := "", "", "1"
	if m.Sender == chat.SenderAdmin {
		agent, agentName, reopen = m.Agent, m.Author, "0"
	}
	keys := make([]string, 0, 8)
	keys = append(keys, s.keys.Room(m.RoomID), s.keys.Msgs(m.RoomID), s.keys.Dedup(m.RoomID), s.keys.Senders(m.RoomID),
		s.keys.Outbox(m.RoomID), s.keys.Notes(m.RoomID), s.keys.Attachments(m.RoomID), s.keys.AttachmentsPending(m.RoomID))
	// The client's block marker, in a slot of its own, is read just before
	// the send script (which refuses the message after its own checks, as
	// when it read the marker itself); without a client key it is not.
	// Concurrent requests' reads and sends share round trips (batch.go).
	// A message racing its sender's block by the time of that round trip
	// may be stored (docs/ARCHITECTURE.md, Redis Cluster).
	checkClient := "0"
	if opt.ClientKey != "" {
		n, err := s.batch.do(ctx, "exists", s.keys.BlockedClient(opt.ClientKey)).Int64()
		if err != nil {
			return chat.Message{}, false, fail("append", err)
		}
		if n == 1 {
			checkClient = "1"
		}
	}
	args := make([]any, 0, 17+len(m.Attachments))
	// A message of files only shows in the room list by its first file's
	// clip; the names are not known here (send.lua reads them).
	preview := m.Content
	if preview == "" && len(m.Attachments) > 0 {
		preview = "📎"
	}
	args = append(args, m.RoomID, opt.ClientID, msgJSON, string(m.Sender), preview, m.CreatedAt.Millis(),
		counter, refuseBlocked(m.Sender), s.max, s.ttlMS, s.keys.Events(), messageEventHead(m.RoomID), AdminLogLen,
		agent, agentName, reopen, checkClient)
	// The attachments' ids come last (lua/send.lua).
	for _, a := range m.Attachments {
		args = append(args, a.ID)
	}
	// Concurrent sends share round trips (batch.go). The search index
	// follows from the admin log (indexer.go).
	res, err := s.batch.run(ctx, sendScript, keys, args...).Slice()
	if err != nil {
		return chat.Message{}, false, fail("append", err)
	}
	status, _ := res[0].(string)
	switch status {
	case "notfound":
		return chat.Message{}, false, chat.ErrRoomNotFound
	case "blocked":
		return chat.Message{}, false, chat.ErrBlocked
	case "attachment_unknown":
		return chat.Message{}, false, chat.ErrAttachmentUnknown
	case "attachment_used":
		return chat.Message{}, false, chat.ErrAttachmentUsed
	case "ok", "dup":
	default:
		return chat.Message{}, false, fmt.Errorf("redisstore: append: unexpected reply %v", res)
	}
	// The follow-up: acked means stored, visible in the lists and its
	// event logged. A retried send (dup) applies it again, in case the
	// first one failed, and makes sure the room's events are logged.
	var ev roomEvents
	if status == "ok" && len(res) > 6 {
		ev = eventsOf(res[6])
	} else if status == "dup" && len(res) > 4 {
		ev.upto, _ = res[4].(int64)
		if len(res) > 5 {
			ev.uptoAt, _ = res[5].(int64)
		}
	}
	if err := s.followReply(ctx, "append", m.RoomID, res, 3, ev); err != nil {
		return chat.Message{}, false, err
	}
	if status == "ok" && len(res) > 5 {
		if identity, _ := res[4].(string); identity != "" {
			keep, _ := res[5].(int64)
			if err := s.refreshIdentity(ctx, identity, m.RoomID, keep); err != nil {
				return chat.Message{}, false, err
			}
		}
	}
	seq, _ := res[1].(int64)
	if status == "ok" {
		m.Seq = seq
		m.Attachments = nil
		if raw, _ := res[2].(string); raw != "" && raw != "[]" && raw != "{}" {
			if err := json.Unmarshal([]byte(raw), &m.Attachments); err != nil {
				return chat.Message{}, false, fmt.Errorf("redisstore: append: attachments: %w", err)
			}
		}
		if len(m.Attachments) == 0 {
			m.Raw = msgJSON + strconv.FormatInt(seq, 10) + "}" // as send.lua stored it
		}
		return m, true, nil
	}
	if raw, _ := res[2].(string); raw != "" {
		orig, err := decodeMessage(raw)
		if err != nil {
			return chat.Message{}, false, err
		}
		return orig, false, nil
	}
	m.Seq = seq
	return m, false, nil
}

// Sent looks clientID up the way Append does, storing nothing; see
// lua/sent.lua. Only a visitor retries after a refusal, so a blocked room
// refuses it as it refuses the visitor's sends. A message trimmed away since
// is not found.
func (s *Store) Sent(ctx context.Context, roomID, clientID string) (chat.Message, bool, error) {
	res, err := sentScript.Run(ctx, s.rdb,
		[]string{s.keys.Room(roomID), s.keys.Msgs(roomID), s.keys.Dedup(roomID)}, clientID).StringSlice()
	if err != nil {
		return chat.Message{}, false, fail("sent", err)
	}
	switch {
	case len(res) == 0:
		return chat.Message{}, false, chat.ErrRoomNotFound
	case len(res) != 2:
		return chat.Message{}, false, fmt.Errorf("redisstore: sent: unexpected reply %v", res)
	case res[0] == "1":
		return chat.Message{}, false, chat.ErrBlocked
	case res[1] == "":
		return chat.Message{}, false, nil
	}
	m, err := decodeMessage(res[1])
	return m, err == nil, err
}

// Messages returns a page of a room's messages; see lua/messages.lua.
func (s *Store) Messages(ctx context.Context, roomID string, q chat.MessageQuery) ([]chat.Message, bool, error) {
	res, err := messagesScript.Run(ctx, s.rdb, []string{s.keys.Room(roomID), s.keys.Msgs(roomID)},
		q.After, q.Before, q.Limit).Slice()
	if err != nil {
		return nil, false, fail("messages", err)
	}
	if more, _ := res[0].(int64); more < 0 {
		return nil, false, chat.ErrRoomNotFound
	}
	msgs := make([]chat.Message, 0, len(res)-1)
	for _, v := range res[1:] {
		raw, _ := v.(string)
		m, err := decodeMessage(raw)
		if err != nil {
			return nil, false, err
		}
		msgs = append(msgs, m)
	}
	more, _ := res[0].(int64)
	return msgs, more == 1, nil
}

// readAll is a seq beyond any room's last: the read script clamps it to the
// last.
const readAll = math.MaxInt64

// MarkRead moves reader's read mark and, when it moved, publishes the room
// event (and, for the admins, the read event the visitor sees); see
// lua/markread.lua. The admins' counter is the one the unread index
// follows.
func (s *Store) MarkRead(ctx context.Context, roomID string, reader chat.Sender, seq int64) (chat.Room, bool, error) {
	f := readFieldsOf(reader)
	keys := []string{s.keys.Room(roomID), s.keys.Senders(roomID), s.keys.Outbox(roomID)}
	readHead, follows := "", "0"
	if reader == chat.SenderAdmin {
		follows = "1" // the unread view follows the admins' counter
		readHead = readEventHead(roomID)
		if seq <= 0 {
			seq = readAll // the console opening a room reads it all
		}
	}
	res, err := markReadScript.Run(ctx, s.rdb, keys,
		f.mark, f.counter, senderMark(reader.Other()), seq, roomID, s.keys.Events(), roomEventHead(roomID), readHead, AdminLogLen, follows).Slice()
	if err != nil {
		return chat.Room{}, false, fail("mark read", err)
	}
	if len(res) == 0 {
		return chat.Room{}, false, chat.ErrRoomNotFound
	}
	moved, _ := res[0].(int64)
	if len(res) < 3 {
		return chat.Room{}, false, chat.ErrRoomNotFound
	}
	r, ok := roomFromFlat(roomID, res[3:])
	if !ok {
		return chat.Room{}, false, chat.ErrRoomNotFound
	}
	if moved == 1 {
		ev := eventsOf(res[2])
		if follows == "1" {
			err = s.followReply(ctx, "mark read", roomID, res, 1, ev)
		} else {
			err = s.logEvents(ctx, "mark read", roomID, ev)
		}
		if err != nil {
			return chat.Room{}, false, err
		}
	}
	return r, moved == 1, nil
}

// blockMemory is how long a block outlives its room when rooms never expire:
// as long as a visitor token lives then (auth's default).
const blockMemory = 366 * 24 * time.Hour

// SetBlocked blocks or unblocks a room's visitor, keeps or drops the block's
// marker (which lives as long as a visitor token: the room TTL), and
// publishes the room event, in one script; see lua/block.lua.
func (s *Store) SetBlocked(ctx context.Context, roomID string, blocked bool, ipUntil time.Time) (chat.Room, error) {
	flag := "0"
	if blocked {
		flag = "1"
	}
	memory := s.ttlMS
	if memory <= 0 {
		memory = blockMemory.Milliseconds()
	}
	until := ""
	if !ipUntil.IsZero() {
		until = strconv.FormatInt(ipUntil.UnixMilli(), 10)
	}
	res, err := blockScript.Run(ctx, s.rdb, []string{s.keys.Room(roomID), s.keys.BlockedVisitor(roomID), s.keys.Outbox(roomID)},
		flag, s.keys.Events(), roomEventHead(roomID), memory, until, AdminLogLen).Slice()
	if err != nil {
		return chat.Room{}, fail("set blocked", err)
	}
	if len(res) == 0 {
		return chat.Room{}, chat.ErrRoomNotFound
	}
	r, ok := roomFromFlat(roomID, res[1:])
	if !ok {
		return chat.Room{}, chat.ErrRoomNotFound
	}
	if err := s.logEvents(ctx, "set blocked", roomID, eventsOf(res[0])); err != nil {
		return chat.Room{}, err
	}
	return r, nil
}

// WasBlocked tells whether the block marker of a room is there.
func (s *Store) WasBlocked(ctx context.Context, roomID string) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.keys.BlockedVisitor(roomID)).Result()
	if err != nil {
		return false, fail("was blocked", err)
	}
	return n == 1, nil
}

// BlockClient refuses a client key until until; the marker expires then.
func (s *Store) BlockClient(ctx context.Context, key string, until time.Time) error {
	if err := s.rdb.SetArgs(ctx, s.keys.BlockedClient(key), "1", redis.SetArgs{ExpireAt: until}).Err(); err != nil {
		return fail("block client", err)
	}
	return nil
}

// UnblockClient lifts the block of a client key.
func (s *Store) UnblockClient(ctx context.Context, key string) error {
	if err := s.rdb.Del(ctx, s.keys.BlockedClient(key)).Err(); err != nil {
		return fail("unblock client", err)
	}
	return nil
}

// ClientBlocked tells whether a client key is blocked.
func (s *Store) ClientBlocked(ctx context.Context, key string) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.keys.BlockedClient(key)).Result()
	if err != nil {
		return false, fail("client blocked", err)
	}
	return n == 1, nil
}

// FillVisitor sets the visitor's name, email and page where they are still
// empty and, when one was, publishes the room event, in one script.
func (s *Store) FillVisitor(ctx context.Context, roomID string, in chat.NewRoom) (chat.Room, error) {
	keys := []string{s.keys.Room(roomID), s.keys.Outbox(roomID), s.keys.Terms(roomID)}
	args := []any{in.Name, in.Email, in.Page, s.keys.Events(), roomEventHead(roomID), AdminLogLen}
	nameTerms := chat.VisitorTerms(in.Name, "")
	emailTerms := chat.VisitorTerms("", in.Email)
	args = append(args, SearchGrace.Milliseconds(), len(nameTerms), roomID)
	for _, t := range nameTerms {
		args = append(args, t)
	}
	for _, t := range emailTerms {
		args = append(args, t)
	}
	res, err := fillVisitorScript.Run(ctx, s.rdb, keys, args...).Slice()
	if err != nil {
		return chat.Room{}, fail("fill visitor", err)
	}
	if len(res) == 1 && res[0] == "blocked" {
		return chat.Room{}, chat.ErrBlocked
	}
	if len(res) == 0 {
		return chat.Room{}, chat.ErrRoomNotFound
	}
	events := eventsOf(res[0])
	res, filled := searchFilled(res[1:])
	r, ok := roomFromFlat(roomID, res)
	if !ok {
		return chat.Room{}, chat.ErrRoomNotFound
	}
	if err := s.logEvents(ctx, "fill visitor", roomID, events); err != nil {
		return chat.Room{}, err
	}
	// The partition's search sets, for the details the script indexed.
	var terms []string
	if strings.Contains(filled, "n") {
		terms = append(terms, nameTerms...)
	}
	if strings.Contains(filled, "e") {
		terms = append(terms, emailTerms...)
	}
	at := r.UpdatedAt.Millis()
	if err := s.searchFollow(ctx, "fill visitor", roomID, at, "GT", terms, at); err != nil {
		return chat.Room{}, err
	}
	return r, nil
}

// Typing publishes the typing event of one side of a room unless one was
// published within every; see lua/typing.lua. published is false for a call
// within the window.
func (s *Store) Typing(ctx context.Context, roomID string, from chat.Sender, every time.Duration) (bool, error) {
	payload, err := encodeEvent(chat.Event{Type: chat.EventTyping, RoomID: roomID, Sender: from})
	if err != nil {
		return false, err
	}
	n, err := typingScript.Run(ctx, s.rdb, []string{s.keys.Room(roomID), s.keys.Typing(roomID, string(from))},
		every.Milliseconds(), s.keys.Events(), payload, refuseBlocked(from)).Int64()
	if err != nil {
		return false, fail("typing", err)
	}
	switch n {
	case -1:
		return false, chat.ErrRoomNotFound
	case -2:
		return false, chat.ErrBlocked
	}
	return n == 1, nil
}

// DeleteRoom removes every key of a room and its index entries, and publishes
// chat.EventRoomDeleted, in one script; the visitor of a blocked room may
// not.
func (s *Store) DeleteRoom(ctx context.Context, roomID string, by chat.Sender) error {
	payload, err := encodeEvent(chat.Event{Type: chat.EventRoomDeleted, RoomID: roomID})
	if err != nil {
		return err
	}
	res, err := deleteScript.Run(ctx, s.rdb,
		[]string{s.keys.Room(roomID), s.keys.Msgs(roomID), s.keys.Dedup(roomID), s.keys.Senders(roomID),
			s.keys.Outbox(roomID), s.keys.Notes(roomID),
			// the search index's terms hash (lua/delete.lua)
			s.keys.Terms(roomID),
			// the attachments and who the visitor is (lua/delete.lua)
			s.keys.Attachments(roomID), s.keys.AttachmentsPending(roomID),
			s.keys.VisitorPages(roomID), s.keys.VisitorInfo(roomID)},
		roomID, s.keys.Events(), payload, refuseBlocked(by), AdminLogLen).Slice()
	if err != nil {
		return fail("delete room", err)
	}
	n, _ := res[0].(int64)
	switch {
	case n == -1:
		return chat.ErrBlocked
	case n == 0:
		// Stale index entries go all the same (unless the room is being
		// created: lua/place.lua).
		files := len(res) > 1 && res[1] == int64(1)
		if err := s.follow(ctx, "delete room", placeGone, roomID, tombstone(files), roomEvents{}); err != nil {
			return err
		}
		// What a lost step left in the partition's search sets goes too.
		if err := s.searchDrop(ctx, "delete room", roomID, termsOf(res, 2)); err != nil {
			return err
		}
		return chat.ErrRoomNotFound
	case len(res) < 5:
		return fmt.Errorf("redisstore: delete room: unexpected reply %v", res)
	}
	identity, _ := res[1].(string)
	blocked, _ := res[2].(string)
	files, _ := res[3].(int64)
	// The follow-up logs the room's events not logged yet and its
	// room.deleted, the room gone.
	if err := s.follow(ctx, "delete room", placeDel, roomID, tombstone(files == 1), eventsOf(res[4])); err != nil {
		return err
	}
	// After the tombstone, which refuses a late indexer step: the room's
	// terms leave its partition's search sets.
	if err := s.searchDrop(ctx, "delete room", roomID, termsOf(res, 5)); err != nil {
		return err
	}
	// A blocked room's identity entry stays: it leads the user to the
	// block, not to a new room.
	if identity != "" && blocked != "1" {
		if err := identityScript.Run(ctx, s.rdb, []string{s.keys.Identity(identity)}, "release", roomID).Err(); err != nil {
			return fail("delete room", err)
		}
	}
	return nil
}

// tombstone is the follow-up's placement of a deleted room: files makes it
// due for the attachment sweeper.
func tombstone(files bool) placement {
	var p placement
	if files {
		p[7] = "0"
	}
	return p
}

// refreshIdentity renews a verified room's identity entry when the room's
// keys were refreshed (send.lua says so), while it names the room.
func (s *Store) refreshIdentity(ctx context.Context, identityHash, roomID string, keep int64) error {
	ttl := 2 * keep
	if ttl <= 0 {
		return nil
	}
	if err := identityScript.Run(ctx, s.rdb, []string{s.keys.Identity(identityHash)}, "refresh", roomID, ttl).Err(); err != nil {
		return fmt.Errorf("redisstore: append: identity: %w: %w", chat.ErrUnavailable, err)
	}
	return nil
}

// Publish sends ev to every instance's bridge. On Cluster it goes to the
// primary of the channel's slot, where the bridges subscribe (a cluster
// client's PubSub connects to its first channel's node): PUBLISH is keyless,
// and go-redis would send each to a random node, which forwards it over the
// cluster bus, so two events one instance publishes in a row could arrive
// swapped (TestPublishKeepsOrder).
func (s *Store) Publish(ctx context.Context, ev chat.Event) error {
	payload, err := encodeEvent(ev)
	if err != nil {
		return err
	}
	cmd := redis.NewIntCmd(ctx, "publish", s.keys.Events(), payload)
	cmd.SetFirstKeyPos(1) // routed by the channel, as a key
	if err := s.rdb.Process(ctx, cmd); err != nil {
		return fail("publish", err)
	}
	return nil
}

// ListRooms returns a page of the room index in exactly two round trips:
// one pipeline of lua/list.lua over every partition (expired entries out,
// one page of ids, the counts), merged by score then id, then one pipeline
// of HMGET for the page.
func (s *Store) ListRooms(ctx context.Context, q chat.RoomQuery) (chat.RoomPage, error) {
	var curScore, curID string
	if q.Cursor != "" {
		var ok bool
		if curScore, curID, ok = decodeCursor(q.Cursor); !ok {
			return chat.RoomPage{}, chat.Errorf(chat.CodeInvalid, "cursor is malformed")
		}
	}
	counts, entries, err := s.listPartitions(ctx, q.Filter, q.Label, q.Agent, q.Limit+1, curScore, curID)
	if err != nil {
		return chat.RoomPage{}, fail("list rooms", err)
	}
	page := chat.RoomPage{Rooms: []chat.Room{}, Counts: counts}
	page.UnreadRooms = page.Counts.Unread
	if len(entries) > q.Limit {
		entries = entries[:q.Limit]
		last := entries[len(entries)-1]
		page.NextCursor = encodeCursor(last.raw, last.id)
	}
	if len(entries) == 0 {
		return page, nil
	}
	cmds := make([]*redis.StringSliceCmd, len(entries))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, e := range entries {
			cmds[i] = hmgetRoom(ctx, s.keys.Room(e.id))
			_ = p.Process(ctx, cmds[i])
		}
		return nil
	})
	if err != nil {
		return chat.RoomPage{}, fail("list rooms", err)
	}
	page.Rooms = make([]chat.Room, 0, len(entries))
	for i, e := range entries {
		// A hash that expired or was deleted since the index was read is
		// skipped; its index entry goes with the next cleanup, delete or
		// reconciler pass.
		if r, ok := roomFromValues(e.id, cmds[i].Val()); ok {
			page.Rooms = append(page.Rooms, r)
		}
	}
	return page, nil
}

// A cursor is the score and id of the last room of the previous page, so the
// next page starts right after it even when many rooms share one score.
func encodeCursor(score, id string) string {
	if f, err := strconv.ParseFloat(score, 64); err == nil {
		score = strconv.FormatInt(int64(f), 10)
	}
	return base64.RawURLEncoding.EncodeToString([]byte(score + ":" + id))
}

func decodeCursor(c string) (score, id string, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", "", false
	}
	score, id, found := strings.Cut(string(b), ":")
	if !found || id == "" {
		return "", "", false
	}
	if _, err := strconv.ParseInt(score, 10, 64); err != nil {
		return "", "", false
	}
	return score, id, true
}

// refuseBlocked is the scripts' argument telling whether a block refuses
// what side does.
func refuseBlocked(side chat.Sender) string {
	if side.Blockable() {
		return "1"
	}
	return "0"
}

// isNil tells whether err is Redis's "no such key", which never leaves this
// package.
func isNil(err error) bool { return errors.Is(err, redis.Nil) }
