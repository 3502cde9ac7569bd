package redisstore

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/chat"
)

// AdminLogLen is about how many events the admin log keeps (XADD MAXLEN ~,
// so a few more): a console that reconnects within that many admin events
// resumes, one that comes back later is told to reload. An entry is one
// published event, a message event with its room hash ~0.8 KB, so the log
// holds ~8 MB at most.
const AdminLogLen = 10000

// AdminEventsAfter returns up to limit events of the admin log that follow
// the entry id after, oldest first, each with its LogID. ok is false when
// after is not an entry of the log: trimmed away, or never there because
// Redis came back with older data (a rollback); the client cannot resume
// from it.
func (s *Store) AdminEventsAfter(ctx context.Context, after string, limit int) ([]chat.Event, bool, error) {
	// The range starts at after itself: its presence is the check.
	entries, err := s.rdb.XRangeN(ctx, s.keys.AdminLog(), after, "+", int64(limit)+1).Result()
	if err != nil {
		return nil, false, fail("admin log", err)
	}
	if len(entries) == 0 || entries[0].ID != after {
		return nil, false, nil
	}
	evs, err := logEvents(entries[1:])
	return evs, err == nil, err
}

// AdminLogEnd returns the id of the newest entry of the admin log, "" when
// it is empty.
func (s *Store) AdminLogEnd(ctx context.Context) (string, error) {
	entries, err := s.rdb.XRevRangeN(ctx, s.keys.AdminLog(), "+", "-", 1).Result()
	if err != nil {
		return "", fail("admin log end", err)
	}
	if len(entries) == 0 {
		return "", nil
	}
	return entries[0].ID, nil
}

func logEvents(entries []redis.XMessage) ([]chat.Event, error) {
	evs := make([]chat.Event, 0, len(entries))
	for _, e := range entries {
		raw, _ := e.Values["e"].(string)
		ev, err := decodeEvent(raw)
		if err != nil {
			return nil, fmt.Errorf("redisstore: admin log entry %s: %w", e.ID, err)
		}
		ev.LogID = e.ID
		evs = append(evs, ev)
	}
	return evs, nil
}
