package redisstore

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Room events on Cluster (docs/ARCHITECTURE.md, "Events, the admin log and
// search on Cluster"): a room script numbers each event it makes (the room
// hash's "evn"), keeps it in the room's capped outbox (keys.Outbox, the
// room's slot: the newest 64) and returns it ("n|JSON"); the room's follow-up
// (lua/place.lua, the partition's slot) appends it to the partition's log
// (keys.PartLog) and publishes it with its place ("L:ms-n" before the
// JSON), event n of a room only after n-1 (the partition records the last
// number per room: keys.PartLogged). A repeat is skipped; a gap (a
// concurrent write of the room whose follow-up came later, or was lost) is
// filled from the outbox first (fillGap); the reconciler closes gaps a dead
// instance left (logRooms). The team's events stay in their scripts, in
// the team log (keys.AdminLog).

// AdminLogs is how many admin logs there are: one per index partition
// (log i is partition i's), then the team log.
const AdminLogs = IndexPartitions + 1

// teamLog is the team log's number.
const teamLog = IndexPartitions

// legacyLog is the number the consumer groups give the admin log of before
// the split (keys.LegacyAdminLog), which they drain (loggroups.go).
const legacyLog = AdminLogs

// logKey is the key of admin log i.
func (s *Store) logKey(i int) string {
	switch i {
	case teamLog:
		return s.keys.AdminLog()
	case legacyLog:
		return s.keys.LegacyAdminLog()
	}
	return s.keys.PartLog(indexTags[i])
}

// roomEvents are the events a follow-up carries: "n|JSON", n consecutive,
// oldest first; upto > 0 (a retried send, whose events were numbered by
// the first try) asks the follow-up to check that the partition has logged
// the room's events up to that number.
type roomEvents struct {
	list []string
	upto int64
}

func (e roomEvents) none() bool { return len(e.list) == 0 && e.upto <= 0 }

// flag is place.lua's ARGV[17].
func (e roomEvents) flag() string {
	if e.upto > 0 {
		return "?" + strconv.FormatInt(e.upto, 10)
	}
	return ""
}

// eventsOf reads the events of a script's reply: one "n|JSON" string ("" =
// none), or an array of them.
func eventsOf(v any) roomEvents {
	switch v := v.(type) {
	case string:
		if v != "" {
			return roomEvents{list: []string{v}}
		}
	case []any:
		var out []string
		for _, x := range v {
			if e, ok := x.(string); ok && e != "" {
				out = append(out, e)
			}
		}
		return roomEvents{list: out}
	}
	return roomEvents{}
}

// eventNum is the number of an "n|JSON" event, 0 when malformed.
func eventNum(e string) int64 {
	n, _, ok := strings.Cut(e, "|")
	if !ok {
		return 0
	}
	v, _ := strconv.ParseInt(n, 10, 64)
	return v
}

// withEvents appends the follow-up's event arguments (lua/place.lua
// ARGV[14..]) to args. On Cluster the events go on the partition's shard
// channel (SPUBLISH, legal in the script: the channel is in the
// partition's slot); elsewhere on the one channel.
func (s *Store) withEvents(args []any, p int, flag string, evs []string) []any {
	channel, publish := s.keys.Events(), "PUBLISH"
	if s.sharded {
		channel, publish = s.keys.PartEvents(indexTags[p]), "SPUBLISH"
	}
	args = append(args, channel, AdminLogLen, strconv.Itoa(p), flag, publish)
	for _, e := range evs {
		args = append(args, e)
	}
	return args
}

// placeReply reads place.lua's reply: its result, and the number of the
// room's last logged event when the events it was given had a gap after
// it (-1: no gap).
func placeReply(res any) (int64, int64, error) {
	switch v := res.(type) {
	case int64:
		return v, -1, nil
	case []any:
		if len(v) == 2 {
			n, ok1 := v[0].(int64)
			gap, ok2 := v[1].(int64)
			if ok1 && ok2 {
				return n, gap, nil
			}
		}
	}
	return 0, 0, fmt.Errorf("redisstore: follow-up: unexpected reply %v", res)
}

// maxGapRounds bounds fillGap: each round logs everything the outbox has
// after the partition's number, so a second is needed only when writes of
// the room raced it.
const maxGapRounds = 4

// fillGap logs a room's events after logged, the partition's number of its
// last logged event: from the room's outbox, and given (the events of the
// follow-up that found the gap, which a deleted room's outbox no longer
// has), in their order. Events lost (trimmed from the outbox, or gone with
// the room) are skipped: the first event there is logged after the gap.
func (s *Store) fillGap(ctx context.Context, roomID string, logged int64, given []string) error {
	p := PartitionOf(roomID)
	for range maxGapRounds {
		out, err := s.rdb.LRange(ctx, s.keys.Outbox(roomID), 0, -1).Result()
		if err != nil {
			return err
		}
		entries := mergeEvents(logged, out, given)
		if len(entries) == 0 {
			return nil // nothing left to log: the room is gone
		}
		flag := ""
		if eventNum(entries[0]) > logged+1 {
			flag = "1" // the events before are lost
		}
		args := s.withEvents(s.placeArgs(p, placeLog, roomID, placement{}), p, flag, entries)
		res, err := s.batch.run(ctx, placeScript, s.partKeys(p), args...).Result()
		if err != nil {
			return err
		}
		_, gap, err := placeReply(res)
		if err != nil {
			return err
		}
		if gap < 0 {
			return nil
		}
		logged = gap
	}
	return fmt.Errorf("redisstore: room %s: its events keep a gap", roomID)
}

// mergeEvents is the events of lists numbered after logged, by number,
// each once, up to the first gap among them.
func mergeEvents(logged int64, lists ...[]string) []string {
	byNum := map[int64]string{}
	var nums []int64
	for _, l := range lists {
		for _, e := range l {
			n := eventNum(e)
			if n <= logged {
				continue
			}
			if _, ok := byNum[n]; !ok {
				nums = append(nums, n)
			}
			byNum[n] = e
		}
	}
	slices.Sort(nums)
	out := make([]string, 0, len(nums))
	for i, n := range nums {
		if i > 0 && n != nums[i-1]+1 {
			break
		}
		out = append(out, byNum[n])
	}
	return out
}

// logRooms closes the event gaps of the reconciler's candidates: a room
// whose number ("evn") is ahead of what its partition logged has its
// missing events logged from its outbox. It returns how many rooms it
// repaired.
func (s *Store) logRooms(ctx context.Context, cands []candidate) (int, error) {
	if len(cands) == 0 {
		return 0, nil
	}
	nums := make([]*redis.StringCmd, len(cands))
	logged := make([]*redis.StringCmd, len(cands))
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, c := range cands {
			nums[i] = p.HGet(ctx, s.keys.Room(c.id), "evn")
			logged[i] = p.HGet(ctx, s.keys.PartLogged(indexTags[c.part]), c.id)
		}
		return nil
	}); err != nil && !isNil(err) {
		return 0, err
	}
	repaired := 0
	for i, c := range cands {
		n, _ := strconv.ParseInt(nums[i].Val(), 10, 64)
		done, _ := strconv.ParseInt(logged[i].Val(), 10, 64)
		if n <= done {
			continue
		}
		if err := s.fillGap(ctx, c.id, done, nil); err != nil {
			return repaired, err
		}
		repaired++
	}
	return repaired, nil
}
