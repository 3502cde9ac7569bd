package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/chat"
)

// The team inbox keeps, in each room hash, its status, snooze, assignee and
// labels, and places every room in the indexes of the views (see
// lua/inbox.lua): one index per status, the open rooms of nobody and of each
// agent, the rooms of each label, all scored by updatedAt like the room
// index, so every view pages exactly as the room list does, in the same two
// round trips.

// listCounts is how many counts lead the list script's reply.
const listCounts = 7

// countsOf reads the counts that lead the list script's reply.
func countsOf(res []any) chat.RoomCounts {
	n := func(i int) int64 { v, _ := res[i].(int64); return v }
	return chat.RoomCounts{All: n(0), Unread: n(1), Mine: n(2), Unassigned: n(3), Open: n(4), Pending: n(5), Resolved: n(6)}
}

// RoomCounts returns the sizes of the views for agent, expired rooms taken
// out first: lua/list.lua over every partition, in one pipeline.
func (s *Store) RoomCounts(ctx context.Context, agent string) (chat.RoomCounts, error) {
	counts, _, err := s.listPartitions(ctx, chat.FilterAll, "", agent, 0, "", "")
	if err != nil {
		return chat.RoomCounts{}, fail("room counts", err)
	}
	return counts, nil
}

// cutoff is the score below which a room has expired ("" when rooms never
// do).
func (s *Store) cutoff() string {
	if s.ttlMS <= 0 {
		return ""
	}
	return strconv.FormatInt(time.Now().UnixMilli()-s.ttlMS, 10)
}

// inbox runs lua/inbox.lua, one change of a room's place in the inbox, and
// its follow-up in the room's partition when the change was made.
func (s *Store) inbox(ctx context.Context, roomID, mode, v1, v2 string) ([]any, error) {
	res, err := inboxScript.Run(ctx, s.rdb, []string{s.keys.Room(roomID), s.keys.Outbox(roomID)},
		mode, v1, v2, roomID, s.keys.Events(), roomEventHead(roomID), AdminLogLen).Slice()
	if err != nil {
		return nil, err
	}
	switch {
	case len(res) == 2 && res[0] == "notdue":
		// No longer snoozed: the follow-up takes it out of the snoozed set.
		if err := s.followReply(ctx, mode, roomID, res, 1, roomEvents{}); err != nil {
			return nil, err
		}
		return res[:1], nil
	case len(res) > 2:
		if err := s.followReply(ctx, mode, roomID, res, 0, eventsOf(res[1])); err != nil {
			return nil, err
		}
		return res[2:], nil
	}
	return res, nil
}

// inboxRoom runs a change and reads the room it returns; a change that
// changes nothing returns the room as it is.
func (s *Store) inboxRoom(ctx context.Context, op, roomID, mode, v1, v2 string) (chat.Room, error) {
	res, err := s.inbox(ctx, roomID, mode, v1, v2)
	if err != nil {
		return chat.Room{}, fail(op, err)
	}
	if len(res) == 1 {
		return s.Room(ctx, roomID)
	}
	r, ok := roomFromFlat(roomID, res)
	if !ok {
		return chat.Room{}, chat.ErrRoomNotFound
	}
	return r, nil
}

// SetStatus sets a room's status and snooze.
func (s *Store) SetStatus(ctx context.Context, roomID string, st chat.Status, until time.Time) (chat.Room, error) {
	u := ""
	if !until.IsZero() {
		u = strconv.FormatInt(until.UnixMilli(), 10)
	}
	return s.inboxRoom(ctx, "set status", roomID, "status", string(st), u)
}

// Assign sets a room's assignee.
func (s *Store) Assign(ctx context.Context, roomID string, to *chat.AgentRef) (chat.Room, error) {
	if to == nil {
		return s.inboxRoom(ctx, "assign", roomID, "assign", "", "")
	}
	return s.inboxRoom(ctx, "assign", roomID, "assign", to.Username, to.DisplayName)
}

// walkBatch is how many rooms a walk over an index reads per round trip.
const walkBatch = 500

// forEachRoom calls fn with every room id of index, batch by batch; fn may
// take rooms out of it.
func (s *Store) forEachRoom(ctx context.Context, index string, fn func(ids []string) error) error {
	for start := int64(0); ; {
		ids, err := s.rdb.ZRange(ctx, index, start, start+walkBatch-1).Result()
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		before, err := s.rdb.ZCard(ctx, index).Result()
		if err != nil {
			return err
		}
		if err := fn(ids); err != nil {
			return err
		}
		after, err := s.rdb.ZCard(ctx, index).Result()
		if err != nil {
			return err
		}
		// What fn took out shifted the ranks down.
		start += int64(len(ids)) - (before - after)
	}
}

// UnassignAll unassigns every room assigned to username, of any status: it
// walks every partition's room index (an agent's removal is rare; no index
// of every status per agent is kept for it).
func (s *Store) UnassignAll(ctx context.Context, username string) error {
	for p := range IndexPartitions {
		if err := s.unassignIn(ctx, s.keys.PartRooms(indexTags[p]), username); err != nil {
			return fail("unassign all", err)
		}
		// What is left of the agent's index (rooms gone) goes with it, and
		// its size (one slot: a transaction).
		if _, err := s.rdb.TxPipelined(ctx, func(tx redis.Pipeliner) error {
			tx.Del(ctx, s.keys.PartAgent(indexTags[p], username))
			tx.HDel(ctx, s.keys.PartCounts(indexTags[p]), "agent:"+username)
			return nil
		}); err != nil {
			return fail("unassign all", err)
		}
	}
	return nil
}

// unassignIn is UnassignAll over one room index.
func (s *Store) unassignIn(ctx context.Context, index, username string) error {
	return s.forEachRoom(ctx, index, func(ids []string) error {
		cmds := make([]*redis.StringCmd, len(ids))
		if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, id := range ids {
				cmds[i] = p.HGet(ctx, s.keys.Room(id), fAssignee)
			}
			return nil
		}); err != nil && !isNil(err) {
			return err
		}
		for i, id := range ids {
			if cmds[i].Val() != username {
				continue
			}
			if _, err := s.inbox(ctx, id, "unassign", username, ""); err != nil {
				return err
			}
		}
		return nil
	})
}

// DueSnoozes returns up to n rooms whose snooze ended by now, from every
// partition's snoozed set (one pipeline).
func (s *Store) DueSnoozes(ctx context.Context, now time.Time, n int) ([]string, error) {
	cmds := make([]*redis.StringSliceCmd, IndexPartitions)
	err := s.forEachPartition(ctx, func(p redis.Pipeliner, part int) {
		cmds[part] = p.ZRangeArgs(ctx, redis.ZRangeArgs{Key: s.keys.PartSnoozed(indexTags[part]), Start: "-inf",
			Stop: strconv.FormatInt(now.UnixMilli(), 10), ByScore: true, Count: int64(n)})
	})
	if err != nil {
		return nil, fail("due snoozes", err)
	}
	var ids []string
	for _, c := range cmds {
		for _, id := range c.Val() {
			if len(ids) < n {
				ids = append(ids, id)
			}
		}
	}
	return ids, nil
}

// Wake reopens a room whose snooze ended by now. A room gone leaves the
// snoozed set with its tombstone.
func (s *Store) Wake(ctx context.Context, roomID string, now time.Time) (bool, error) {
	res, err := s.inbox(ctx, roomID, "wake", strconv.FormatInt(now.UnixMilli(), 10), "")
	if err != nil {
		return false, fail("wake", err)
	}
	if len(res) == 0 {
		if err := s.follow(ctx, "wake", placeGone, roomID, placement{}, roomEvents{}); err != nil {
			return false, err
		}
	}
	return len(res) > 1, nil
}

// SetRoomLabels replaces a room's labels.
func (s *Store) SetRoomLabels(ctx context.Context, roomID string, labels []string) (chat.Room, error) {
	sorted := append([]string(nil), labels...)
	sort.Strings(sorted)
	return s.inboxRoom(ctx, "set labels", roomID, "labels", strings.Join(sorted, ","), "")
}

// Labels lists the defined labels by name.
func (s *Store) Labels(ctx context.Context) ([]chat.Label, error) {
	vals, err := s.rdb.HVals(ctx, s.keys.Labels()).Result()
	if err != nil {
		return nil, fail("labels", err)
	}
	out := make([]chat.Label, 0, len(vals))
	for _, v := range vals {
		var l chat.Label
		if err := json.Unmarshal([]byte(v), &l); err != nil {
			return nil, fmt.Errorf("redisstore: labels: %w", err)
		}
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := strings.ToLower(out[i].Name), strings.ToLower(out[j].Name)
		return a < b || a == b && out[i].ID < out[j].ID
	})
	return out, nil
}

// labelsEventHead is the start of the labels event, up to the list, which
// the scripts append with its '}'.
const labelsEventHead = `{"type":"labels","labels":`

var (
	errLabelName = chat.Errorf(chat.CodeConflict, "another label has this name")
	errLabelMax  = chat.Errorf(chat.CodeLimitReached, "at most %d labels can be defined", chat.MaxLabels)
)

// PutLabel stores a label definition; see lua/label.lua.
func (s *Store) PutLabel(ctx context.Context, l chat.Label, isNew bool) error {
	b, err := json.Marshal(l)
	if err != nil {
		return fmt.Errorf("redisstore: put label: %w", err)
	}
	mode := "0"
	if isNew {
		mode = "1"
	}
	n, err := labelScript.Run(ctx, s.rdb, []string{s.keys.Labels(), s.keys.AdminLog()},
		l.ID, b, strings.ToLower(l.Name), mode, chat.MaxLabels, s.keys.Events(), labelsEventHead, AdminLogLen).Int64()
	if err != nil {
		return fail("put label", err)
	}
	switch n {
	case 0:
		return errLabelName
	case -1:
		return errLabelMax
	case -2:
		return chat.ErrLabelNotFound
	}
	return nil
}

// DeleteLabel takes a label off every room carrying it, then deletes its
// definition.
func (s *Store) DeleteLabel(ctx context.Context, id string) error {
	ok, err := s.rdb.HExists(ctx, s.keys.Labels(), id).Result()
	if err != nil {
		return fail("delete label", err)
	}
	if !ok {
		return chat.ErrLabelNotFound
	}
	for p := range IndexPartitions {
		index := s.keys.PartLabel(indexTags[p], id)
		err := s.forEachRoom(ctx, index, func(ids []string) error {
			for _, room := range ids {
				res, err := s.inbox(ctx, room, "unlabel", id, "")
				if err != nil {
					return err
				}
				if len(res) == 0 { // the room is gone: its entry goes by hand
					if err := s.rdb.ZRem(ctx, index, room).Err(); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return fail("delete label", err)
		}
	}
	n, err := unlabelScript.Run(ctx, s.rdb, []string{s.keys.Labels(), s.keys.AdminLog()},
		id, s.keys.Events(), labelsEventHead, AdminLogLen).Int64()
	if err != nil {
		return fail("delete label", err)
	}
	if n == 0 {
		return chat.ErrLabelNotFound
	}
	// What is left of the label's indexes (a room labelled meanwhile, by
	// a request that checked the label before it went) goes with it.
	if err := s.forEachPartition(ctx, func(p redis.Pipeliner, part int) {
		p.Del(ctx, s.keys.PartLabel(indexTags[part], id))
	}); err != nil {
		return fail("delete label", err)
	}
	return nil
}

var errNotesFull = chat.Errorf(chat.CodeLimitReached, "a conversation has at most %d notes", chat.MaxNotes)

// AddNote stores a note and publishes it to the admin streams; see
// lua/note.lua.
func (s *Store) AddNote(ctx context.Context, n chat.Note) error {
	b, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("redisstore: add note: %w", err)
	}
	ev, err := encodeEvent(chat.Event{Type: chat.EventNote, RoomID: n.RoomID, Payload: &chat.Payload{Note: &n}})
	if err != nil {
		return err
	}
	keys := []string{s.keys.Room(n.RoomID), s.keys.Notes(n.RoomID), s.keys.Outbox(n.RoomID), s.keys.Terms(n.RoomID)}
	args := []any{b, chat.MaxNotes, s.keys.Events(), ev, AdminLogLen, n.RoomID, n.CreatedAt.Millis(), SearchGrace.Milliseconds()}
	terms := chat.SearchTerms(n.Content)
	for _, t := range terms {
		args = append(args, t)
	}
	res, err := noteScript.Run(ctx, s.rdb, keys, args...).Result()
	if err != nil {
		return fail("add note", err)
	}
	switch res {
	case int64(0):
		return chat.ErrRoomNotFound
	case int64(-1):
		return errNotesFull
	}
	reply, _ := res.([]any)
	if len(reply) != 2 {
		return fmt.Errorf("redisstore: add note: unexpected reply %v", res)
	}
	if err := s.logEvents(ctx, "add note", n.RoomID, eventsOf(reply[1])); err != nil {
		return err
	}
	// The partition's search sets; the room's search rooms entry only if it
	// has none (the sweeper's score is the room's updatedAt).
	at := n.CreatedAt.Millis()
	return s.searchFollow(ctx, "add note", n.RoomID, at, "NX", terms, at)
}

// Notes returns a room's notes, oldest first.
func (s *Store) Notes(ctx context.Context, roomID string) ([]chat.Note, error) {
	var exists *redis.IntCmd
	var list *redis.StringSliceCmd
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		exists = p.Exists(ctx, s.keys.Room(roomID))
		list = p.LRange(ctx, s.keys.Notes(roomID), 0, -1)
		return nil
	}); err != nil {
		return nil, fail("notes", err)
	}
	if exists.Val() == 0 {
		return nil, chat.ErrRoomNotFound
	}
	out := make([]chat.Note, 0, len(list.Val()))
	for _, raw := range list.Val() {
		var n chat.Note
		if err := json.Unmarshal([]byte(raw), &n); err != nil {
			return nil, fmt.Errorf("redisstore: notes: %w", err)
		}
		out = append(out, n)
	}
	return out, nil
}

// Activity publishes an agent's activity in a room, throttled per agent and
// activity; see lua/activity.lua.
func (s *Store) Activity(ctx context.Context, roomID string, who chat.AgentRef, what chat.Activity, every time.Duration) error {
	ev, err := encodeEvent(chat.Event{Type: chat.EventAgentActivity, RoomID: roomID, Payload: &chat.Payload{Actor: &who, Activity: what}})
	if err != nil {
		return err
	}
	n, err := activityScript.Run(ctx, s.rdb, []string{s.keys.Room(roomID), s.keys.Activity(roomID, who.Username, string(what))},
		every.Milliseconds(), s.keys.Events(), ev).Int64()
	if err != nil {
		return fail("activity", err)
	}
	if n == -1 {
		return chat.ErrRoomNotFound
	}
	return nil
}

// MigrateInbox gives every room stored before the team inbox existed its
// status and places it in the views: the migration to the partitioned
// index does both (MigrateIndex, lua/placement.lua), so this is it.
func (s *Store) MigrateInbox(ctx context.Context) (int, error) {
	return s.MigrateIndex(ctx)
}
