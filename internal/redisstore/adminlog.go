package redisstore

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/chat"
)

// AdminLogLen is about how many events each admin log keeps (XADD MAXLEN
// ~, so a few more): a console that reconnects within that many admin
// events of each log resumes, one that comes back later is told to reload.
// An entry is one published event, a message event with its room hash
// ~0.8 KB, so a log holds ~8 MB at most; the 16 partitions' logs share the
// rooms' events, so together they keep about 16 times the history the one
// log of before did.
const AdminLogLen = 10000

// teamLogPrefix is the team log's events' LogID prefix.
var teamLogPrefix = strconv.Itoa(teamLog) + ":"

// AdminEventsAfter returns the events of the admin logs that follow the
// vector after (chat.AdminVector), up to limit of each log, each log's
// oldest first, the logs merged by entry time, each event with its LogID
// ("L:ms-n"). ok is false when the client cannot resume from after: a
// vector of another number of logs; a position that is not an entry of its
// log (trimmed away, or never there because Redis came back with older
// data: a rollback); or, for a log the vector has nothing of, a log that
// may have been trimmed since it began (it holds AdminLogLen entries: a
// log is only ever trimmed to about that many, and never otherwise
// shortened, so a shorter one still has its first entry).
func (s *Store) AdminEventsAfter(ctx context.Context, after string, limit int) ([]chat.Event, bool, error) {
	v, ok := chat.ParseAdminVector(after)
	if !ok || len(v) != AdminLogs {
		return nil, false, nil
	}
	ranges := make([]*redis.XMessageSliceCmd, AdminLogs)
	lens := make([]*redis.IntCmd, AdminLogs)
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, pos := range v {
			if pos.IsZero() {
				ranges[i] = p.XRangeN(ctx, s.logKey(i), "-", "+", int64(limit))
				lens[i] = p.XLen(ctx, s.logKey(i))
				continue
			}
			// The range starts at the position itself: its presence is
			// the check.
			ranges[i] = p.XRangeN(ctx, s.logKey(i), pos.String(), "+", int64(limit)+1)
		}
		return nil
	})
	if err != nil {
		return nil, false, fail("admin log", err)
	}
	var out []chat.Event
	for i, pos := range v {
		entries, err := ranges[i].Result()
		if err != nil {
			return nil, false, fail("admin log", err)
		}
		if pos.IsZero() {
			if lens[i].Val() >= AdminLogLen {
				return nil, false, nil // its first entries may be gone
			}
		} else {
			if len(entries) == 0 || entries[0].ID != pos.String() {
				return nil, false, nil
			}
			entries = entries[1:]
		}
		evs, err := logEvents(i, entries)
		if err != nil {
			return nil, false, err
		}
		out = append(out, evs...)
	}
	// Each log's events stay in their order (the sort is stable, and a
	// log's ids grow); the logs interleave by time.
	slices.SortStableFunc(out, func(a, b chat.Event) int {
		_, pa, _ := chat.ParseEventLogID(a.LogID)
		_, pb, _ := chat.ParseEventLogID(b.LogID)
		switch {
		case pa.MS < pb.MS:
			return -1
		case pa.MS > pb.MS:
			return 1
		}
		return 0
	})
	return out, true, nil
}

// AdminLogEnd returns the vector (chat.AdminVector) of the newest entry of
// every admin log, zero for an empty one.
func (s *Store) AdminLogEnd(ctx context.Context) (string, error) {
	cmds := make([]*redis.XMessageSliceCmd, AdminLogs)
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range AdminLogs {
			cmds[i] = p.XRevRangeN(ctx, s.logKey(i), "+", "-", 1)
		}
		return nil
	}); err != nil {
		return "", fail("admin log end", err)
	}
	v := make(chat.AdminVector, AdminLogs)
	for i, c := range cmds {
		if e := c.Val(); len(e) > 0 {
			v[i] = entryPos(e[0].ID)
		}
	}
	return v.String(), nil
}

// entryPos reads an entry id.
func entryPos(id string) chat.LogPos {
	_, p, _ := chat.ParseEventLogID("0:" + id)
	return p
}

// logEvents decodes entries of admin log i.
func logEvents(i int, entries []redis.XMessage) ([]chat.Event, error) {
	evs := make([]chat.Event, 0, len(entries))
	prefix := strconv.Itoa(i) + ":"
	for _, e := range entries {
		raw, _ := e.Values["e"].(string)
		ev, err := decodeEvent(raw)
		if err != nil {
			return nil, fmt.Errorf("redisstore: admin log entry %s: %w", e.ID, err)
		}
		ev.LogID = prefix + e.ID
		evs = append(evs, ev)
	}
	return evs, nil
}
