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
// room's slot: the newest 64) and returns it ("n:t:p|JSON", t its stamp, p the one before:
// lua/lib/emit.lua); the room's follow-up
// (lua/place.lua, the partition's slot) appends it to the partition's log
// (keys.PartLog) and publishes it with its place ("L:ms-n" before the
// JSON), event n of a room only after n-1 (the partition records the last
// number and stamp per room: keys.PartLogged). A repeat is skipped; a gap
// (a concurrent write of the room whose follow-up came later, or was lost)
// is filled from the outbox first (fillGap); the reconciler closes gaps a
// dead instance left (logRooms). A room whose last writes a failover lost
// numbers its next events again from where it went back, stamped later:
// fillGap logs them as its new line. The team's events stay in their scripts, in
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

// roomEvents are the events a follow-up carries: "n:t:p|JSON", n
// consecutive, oldest first; upto > 0 (a retried send, whose events were
// numbered by the first try) asks the follow-up to check that the
// partition has logged the room's events up to that number, the last
// stamped uptoAt (0: unknown).
type roomEvents struct {
	list         []string
	upto, uptoAt int64
}

func (e roomEvents) none() bool { return len(e.list) == 0 && e.upto <= 0 }

// flag is place.lua's ARGV[17].
func (e roomEvents) flag() string {
	if e.upto > 0 && e.uptoAt > 0 {
		return "?" + strconv.FormatInt(e.upto, 10) + ":" + strconv.FormatInt(e.uptoAt, 10)
	}
	if e.upto > 0 {
		return "?" + strconv.FormatInt(e.upto, 10)
	}
	return ""
}

// eventsOf reads the events of a script's reply: one "n:t:p|JSON" string ("" =
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

// eventNum is the number of an "n:t:p|JSON" (or "n|JSON") event, 0 when
// malformed.
func eventNum(e string) int64 {
	head, _, ok := strings.Cut(e, "|")
	if !ok {
		return 0
	}
	n, _ := parseStamped(head)
	return n
}

// eventStamp is the stamp of an "n:t:p|JSON" event, 0 when it has none.
func eventStamp(e string) int64 {
	head, _, _ := strings.Cut(e, "|")
	_, t := parseStamped(head)
	return t
}

// parseStamped reads "n:t" or "n:t:p" (or "n": t is 0, unknown), the
// number and stamp of a room's event as the outbox (with the stamp before)
// and the partition record them.
func parseStamped(v string) (n, t int64) {
	num, rest, _ := strings.Cut(v, ":")
	stamp, _, _ := strings.Cut(rest, ":")
	n, _ = strconv.ParseInt(num, 10, 64)
	t, _ = strconv.ParseInt(stamp, 10, 64)
	return n, t
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

// placeReply reads place.lua's reply: its result, and when the events it
// was given had a gap (or the room's new line after a rollback), what the
// partition records of the room's logged events ("n:t"; "" = no gap).
func placeReply(res any) (int64, string, error) {
	switch v := res.(type) {
	case int64:
		return v, "", nil
	case []any:
		if len(v) == 3 {
			n, ok1 := v[0].(int64)
			rec, ok2 := v[2].(string)
			if ok1 && ok2 && rec != "" {
				return n, rec, nil
			}
		}
	}
	return 0, "", fmt.Errorf("redisstore: follow-up: unexpected reply %v", res)
}

// maxGapRounds bounds fillGap: each round logs everything the outbox has
// after the partition's number, so a second is needed only when writes of
// the room raced it.
const maxGapRounds = 4

// fillGap logs a room's events after rec, what its partition records of
// the last one logged ("n:t"): from the room's outbox, and given (the
// events of the follow-up that found the gap, which a deleted room's
// outbox no longer has), in their order. Events lost (trimmed from the
// outbox, or gone with the room) are skipped: the first event there is
// logged after the gap. When the outbox has events numbered at most n but
// stamped after t, a failover rolled the room back: those are its new line
// of events, logged after what the partition has (place.lua's 'R').
func (s *Store) fillGap(ctx context.Context, roomID, rec string, given []string) error {
	p := PartitionOf(roomID)
	for range maxGapRounds {
		out, err := s.rdb.LRange(ctx, s.keys.Outbox(roomID), 0, -1).Result()
		if err != nil {
			return err
		}
		entries, flag := gapEvents(rec, out, given)
		if len(entries) == 0 {
			return nil // nothing left to log: the room is gone
		}
		args := s.withEvents(s.placeArgs(p, placeLog, roomID, placement{}), p, flag, entries)
		res, err := s.batch.run(ctx, placeScript, s.partKeys(p), args...).Result()
		if err != nil {
			return err
		}
		_, next, err := placeReply(res)
		if err != nil {
			return err
		}
		if next == "" {
			return nil
		}
		rec = next
	}
	return fmt.Errorf("redisstore: room %s: its events keep a gap", roomID)
}

// gapEvents is what fillGap logs after rec (the partition's "n:t") from
// lists of a room's events, and place.lua's flag for it: the room's new
// line when it was rolled back (events numbered at most n, stamped after
// t: "R"+rec), else the events after n ("1" when the first is not n+1).
func gapEvents(rec string, lists ...[]string) ([]string, string) {
	logged, at := parseStamped(rec)
	if at > 0 {
		var newer []string
		rolledBack := false
		for _, l := range lists {
			for _, e := range l {
				if eventStamp(e) > at {
					newer = append(newer, e)
					rolledBack = rolledBack || eventNum(e) <= logged
				}
			}
		}
		if rolledBack {
			return mergeEvents(0, newer), "R" + rec
		}
	}
	entries := mergeEvents(logged, lists...)
	if len(entries) > 0 && eventNum(entries[0]) > logged+1 {
		return entries, "1" // the events before are lost
	}
	return entries, ""
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
// whose number ("evn") is ahead of what its partition logged, or whose
// stamp ("evt") is later (a failover rolled it back), has its missing
// events logged from its outbox. It returns how many rooms it repaired.
func (s *Store) logRooms(ctx context.Context, cands []candidate) (int, error) {
	if len(cands) == 0 {
		return 0, nil
	}
	nums := make([]*redis.SliceCmd, len(cands))
	logged := make([]*redis.StringCmd, len(cands))
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, c := range cands {
			nums[i] = p.HMGet(ctx, s.keys.Room(c.id), "evn", "evt")
			logged[i] = p.HGet(ctx, s.keys.PartLogged(indexTags[c.part]), c.id)
		}
		return nil
	}); err != nil && !isNil(err) {
		return 0, err
	}
	repaired := 0
	for i, c := range cands {
		var n, at int64
		if v := nums[i].Val(); len(v) == 2 {
			en, _ := v[0].(string)
			et, _ := v[1].(string)
			n, _ = strconv.ParseInt(en, 10, 64)
			at, _ = strconv.ParseInt(et, 10, 64)
		}
		rec := logged[i].Val()
		done, doneAt := parseStamped(rec)
		if n <= done && (doneAt == 0 || at <= doneAt) {
			continue
		}
		if rec == "" {
			rec = "0"
		}
		if err := s.fillGap(ctx, c.id, rec, nil); err != nil {
			return repaired, err
		}
		repaired++
	}
	return repaired, nil
}
