package redisstore

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/chat"
)

// KeyPatterns gives the external tests (the slot audit) each key builder's
// pattern under the default prefix, as TestKeysDocTable reads them.
func KeyPatterns(t *testing.T) map[string]string { t.Helper(); return keyBuilders(t) }

// IndexTag is partition p's hash tag, for the tests that look at the keys.
func IndexTag(p int) string { return indexTags[p] }

// Placement is the recorded placement of a room in its partition ("" when
// none), for the tests of the follow-up's ordering.
func (s *Store) Placement(t *testing.T, roomID string) string {
	t.Helper()
	return s.rdb.HGet(t.Context(), s.keys.PartPlace(indexTags[PartitionOf(roomID)]), roomID).Val()
}

// DropFollowUps makes the store skip every follow-up (on) or run them
// again (off): an instance dying between a room write and its follow-up.
func (s *Store) DropFollowUps(on bool) { s.dropFollowUps.Store(on) }

// CurrentPlacement reads where a room stands now (lua/placement.lua), as a
// follow-up would carry it; ok is false when the room is gone.
func (s *Store) CurrentPlacement(t *testing.T, roomID string) ([8]string, bool) {
	t.Helper()
	res, err := placementScript.Run(t.Context(), s.rdb, []string{s.keys.Room(roomID), s.keys.Attachments(roomID),
		s.keys.AttachmentsPending(roomID)}, time.Now().UnixMilli()).Slice()
	if err != nil {
		t.Fatal(err)
	}
	if len(res) == 0 {
		return [8]string{}, false
	}
	p, ok := placementOf(res)
	if !ok {
		t.Fatalf("malformed placement %v", res)
	}
	return p, true
}

// ApplyPlacement runs the follow-up (lua/place.lua) of a placement, late or
// again: mode put, del or gone. It returns 1 applied, 0 refused.
func (s *Store) ApplyPlacement(t *testing.T, mode, roomID string, p [8]string) int64 {
	t.Helper()
	n, err := s.place(t.Context(), mode, roomID, p, roomEvents{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// AgeNew moves a room's "being created" registration d into the past, as
// if its create had begun then.
func (s *Store) AgeNew(t *testing.T, roomID string, d time.Duration) {
	t.Helper()
	key := s.keys.PartNew(indexTags[PartitionOf(roomID)])
	if err := s.rdb.ZAddXX(t.Context(), key, redis.Z{Score: float64(time.Now().Add(-d).UnixMilli()), Member: roomID}).Err(); err != nil {
		t.Fatal(err)
	}
}

// RegisterNew registers a room as being created, as CreateRoom does first.
func (s *Store) RegisterNew(t *testing.T, roomID string) {
	t.Helper()
	if err := s.registerNew(t.Context(), roomID); err != nil {
		t.Fatal(err)
	}
}

// IsNew tells whether a room is registered as being created.
func (s *Store) IsNew(t *testing.T, roomID string) bool {
	t.Helper()
	ok, err := s.isNew(t.Context(), roomID)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// LogKey is the key of admin log i (AdminLogs of them: the partitions',
// then the team log).
func (s *Store) LogKey(i int) string { return s.logKey(i) }

// TeamLog is the team log's number.
const TeamLog = teamLog

// Outbox returns a room's outbox ("n:t:p|JSON" entries, oldest first).
func (s *Store) Outbox(t *testing.T, roomID string) []string {
	t.Helper()
	out, err := s.rdb.LRange(t.Context(), s.keys.Outbox(roomID), 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// FollowEvent runs a room's follow-up carrying its outbox's event n alone,
// as the follow-up of the write that made it would: a late, repeated or
// early one.
func (s *Store) FollowEvent(t *testing.T, roomID string, n int64) {
	t.Helper()
	for _, e := range s.Outbox(t, roomID) {
		if eventNum(e) == n {
			if _, err := s.place(t.Context(), placeLog, roomID, placement{}, roomEvents{list: []string{e}}); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("room %s: no event %d in its outbox", roomID, n)
}

// SearchTermKey is the key of a term's zset in a room's partition.
func (s *Store) SearchTermKey(roomID, term string) string {
	return s.keys.SearchPartTerm(indexTags[PartitionOf(roomID)], term)
}

// SearchTermCard is how many rooms a term's zsets hold, over every
// partition.
func (s *Store) SearchTermCard(t *testing.T, term string) int64 {
	t.Helper()
	var n int64
	for p := range IndexPartitions {
		c, err := s.rdb.ZCard(t.Context(), s.keys.SearchPartTerm(indexTags[p], term)).Result()
		if err != nil {
			t.Fatal(err)
		}
		n += c
	}
	return n
}

// SearchTermHas tells whether a term's zset holds a room.
func (s *Store) SearchTermHas(t *testing.T, term, roomID string) bool {
	t.Helper()
	_, err := s.rdb.ZScore(t.Context(), s.SearchTermKey(roomID, term), roomID).Result()
	if err != nil && err != redis.Nil {
		t.Fatal(err)
	}
	return err == nil
}

// SearchPut runs the partition's search step (lua/searchput.lua) for a
// room, late or again: 1 applied, 0 refused (tombstoned).
func (s *Store) SearchPut(t *testing.T, roomID string, at int64, terms ...string) int64 {
	t.Helper()
	c := s.searchPutCall(roomID, at, "GT", terms, func(int) int64 { return at })
	n, err := searchPutScript.Run(t.Context(), s.rdb, c.keys, c.args...).Int64()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// SeedGlobalSearch writes an entry of the global search keys of before the
// partitions (a term's zset and the search rooms), which BackfillSearch
// moves into the room's partition.
func (s *Store) SeedGlobalSearch(t *testing.T, roomID, term string) {
	t.Helper()
	now := float64(time.Now().UnixMilli())
	if err := s.rdb.ZAdd(t.Context(), s.keys.SearchTerm(term), redis.Z{Score: now, Member: roomID}).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.rdb.ZAdd(t.Context(), s.keys.SearchRooms(), redis.Z{Score: now, Member: roomID}).Err(); err != nil {
		t.Fatal(err)
	}
}

// DecodeEvent reads an event as the bridge does, for the tests that
// subscribe by themselves.
func DecodeEvent(payload string) (chat.Event, error) { return decodeEvent(payload) }

// SetShardLinger sets how long the bridge keeps a partition's shard
// channel no subscription wants; call it before Run.
func (s *Store) SetShardLinger(d time.Duration) { s.demand.linger = d }
