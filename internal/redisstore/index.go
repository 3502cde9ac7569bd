package redisstore

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/chat"
)

// The room index is partitioned (keys.go: IndexPartitions, indexTags,
// PartitionOf): a room write runs in two steps, the room script in the
// room's slot, which bumps the room's version and returns where the room
// now stands (a placement), then the follow-up (lua/place.lua) in the
// partition's slot, which applies it unless the partition has seen a newer
// version or the room's tombstone. See docs/ARCHITECTURE.md, "Redis
// Cluster".

// placement is where a room stands in the index, as the room scripts return
// it: {ver, score, unread, status, assignee, labels, snoozedUntil, sweep}.
type placement [8]string

// placementOf reads a placement from a script's reply.
func placementOf(v any) (placement, bool) {
	var p placement
	a, ok := v.([]any)
	if !ok || len(a) != len(p) {
		return p, false
	}
	for i, x := range a {
		switch x := x.(type) {
		case string:
			p[i] = x
		case int64:
			p[i] = strconv.FormatInt(x, 10)
		default:
			return p, false
		}
	}
	return p, true
}

// The follow-up's modes (lua/place.lua).
const (
	placePut   = "put"
	placeDel   = "del"
	placeGone  = "gone"
	placeNew   = "new"
	placeCheck = "check"
	placeLog   = "log"
)

// partKeys are the follow-up's keys for partition p.
func (s *Store) partKeys(p int) []string {
	t := indexTags[p]
	return []string{s.keys.PartPlace(t), s.keys.PartRooms(t), s.keys.PartUnread(t),
		s.keys.PartStatus(t, string(chat.StatusOpen)), s.keys.PartStatus(t, string(chat.StatusPending)),
		s.keys.PartStatus(t, string(chat.StatusResolved)), s.keys.PartUnassigned(t), s.keys.PartSnoozed(t),
		s.keys.PartSweep(t), s.keys.PartNew(t), s.keys.PartCounts(t), s.keys.PartLog(t), s.keys.PartLogged(t)}
}

// placeArgs are the follow-up's arguments.
func (s *Store) placeArgs(p int, mode, roomID string, pl placement) []any {
	t := indexTags[p]
	args := make([]any, 0, 13)
	args = append(args, s.keys.PartAgentPrefix(t), s.keys.PartLabelPrefix(t), time.Now().UnixMilli(), mode, roomID)
	for _, v := range pl[:] {
		args = append(args, v)
	}
	return args
}

// place runs the follow-up of one room write, through the batcher (so
// concurrent requests' follow-ups share round trips, as their sends do),
// with the events the write numbered (events.go): it logs and publishes
// them in the room's order, and when the partition has not logged the
// room's earlier ones yet, those first, from the room's outbox. It returns
// 1 applied, 0 refused (older, or tombstoned), 2 agreed.
func (s *Store) place(ctx context.Context, mode, roomID string, pl placement, ev roomEvents) (int64, error) {
	p := PartitionOf(roomID)
	args := s.placeArgs(p, mode, roomID, pl)
	if !ev.none() {
		args = s.withEvents(args, p, ev.flag(), ev.list)
	}
	res, err := s.batch.run(ctx, placeScript, s.partKeys(p), args...).Result()
	if err != nil {
		return 0, err
	}
	n, rec, err := placeReply(res)
	if err != nil {
		return 0, err
	}
	if rec != "" {
		if err := s.fillGap(ctx, roomID, rec, ev.list); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// follow runs the follow-up of a write the room already committed: if it
// fails, the write is stored but not yet visible in the lists (nor its
// events logged and published), so the caller answers 503 and the client
// retries (the room step dedups, the follow-up is applied again); the
// reconciler repairs it meanwhile if the client never comes back.
func (s *Store) follow(ctx context.Context, op, mode, roomID string, pl placement, ev roomEvents) error {
	if s.dropFollowUps.Load() {
		return nil
	}
	if _, err := s.place(ctx, mode, roomID, pl, ev); err != nil {
		return fmt.Errorf("redisstore: %s: index: %w: %w", op, chat.ErrUnavailable, err)
	}
	return nil
}

// followReply runs the follow-up of a room script whose reply carries a
// placement at index i.
func (s *Store) followReply(ctx context.Context, op, roomID string, res []any, i int, ev roomEvents) error {
	if i >= len(res) {
		return fmt.Errorf("redisstore: %s: no placement in %v", op, res)
	}
	pl, ok := placementOf(res[i])
	if !ok {
		return fmt.Errorf("redisstore: %s: malformed placement %v", op, res[i])
	}
	return s.follow(ctx, op, placePut, roomID, pl, ev)
}

// logEvents runs the follow-up of a room write that changes nothing in the
// index: its events only (mode log).
func (s *Store) logEvents(ctx context.Context, op, roomID string, ev roomEvents) error {
	if ev.none() {
		return nil
	}
	return s.follow(ctx, op, placeLog, roomID, placement{}, ev)
}

// registerNew records a room about to be created in its partition, before
// the room exists, so a crash between the create and its follow-up leaves
// a trace the reconciler finds.
func (s *Store) registerNew(ctx context.Context, roomID string) error {
	if _, err := s.place(ctx, placeNew, roomID, placement{}, roomEvents{}); err != nil {
		return fail("create room", err)
	}
	return nil
}

// isNew tells whether a room is registered as being created.
func (s *Store) isNew(ctx context.Context, roomID string) (bool, error) {
	_, err := s.rdb.ZScore(ctx, s.keys.PartNew(indexTags[PartitionOf(roomID)]), roomID).Result()
	if isNil(err) {
		return false, nil
	}
	return err == nil, err
}

// forEachPartition runs fn for every partition in one pipeline (go-redis
// splits it per node on Cluster); fn queues its commands on p.
func (s *Store) forEachPartition(ctx context.Context, fn func(p redis.Pipeliner, part int)) error {
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for part := range IndexPartitions {
			fn(p, part)
		}
		return nil
	})
	return err
}

// scriptCall is one call of a script in a pipeline.
type scriptCall struct {
	keys []string
	args []any
}

// runPipelined runs calls of one idempotent script in one pipeline
// (EVALSHA; when Redis lacks the script, it is loaded and the pipeline
// sent again) and returns their commands in order.
func (s *Store) runPipelined(ctx context.Context, script *redis.Script, calls []scriptCall) ([]*redis.Cmd, error) {
	for attempt := 0; ; attempt++ {
		cmds := make([]*redis.Cmd, len(calls))
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, c := range calls {
				cmds[i] = script.EvalSha(ctx, p, c.keys, c.args...)
			}
			return nil
		})
		noscript := false
		for _, c := range cmds {
			if c != nil && redis.HasErrorPrefix(c.Err(), "NOSCRIPT") {
				noscript = true
			}
		}
		if noscript && attempt == 0 {
			if err := s.loadScript(ctx, script); err != nil {
				return nil, err
			}
			continue
		}
		return cmds, err
	}
}

// loadScript loads script on every node that may run it (every primary on
// Cluster).
func (s *Store) loadScript(ctx context.Context, script *redis.Script) error {
	if cc, ok := s.rdb.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
			return script.Load(ctx, m).Err()
		})
	}
	return script.Load(ctx, s.rdb).Err()
}

// listKeys are the list script's keys for a view in partition p: the index
// to page and the ones it counts.
func (s *Store) listKeys(p int, f chat.RoomFilter, label, agent string) []string {
	t := indexTags[p]
	open := s.keys.PartStatus(t, string(chat.StatusOpen))
	pending := s.keys.PartStatus(t, string(chat.StatusPending))
	resolved := s.keys.PartStatus(t, string(chat.StatusResolved))
	mine := s.keys.PartAgent(t, agent)
	all, unread, unassigned := s.keys.PartRooms(t), s.keys.PartUnread(t), s.keys.PartUnassigned(t)
	index := all
	switch {
	case label != "":
		index = s.keys.PartLabel(t, label)
	case f == chat.FilterUnread:
		index = unread
	case f == chat.FilterMine:
		index = mine
	case f == chat.FilterUnassigned:
		index = unassigned
	case f == chat.FilterOpen:
		index = open
	case f == chat.FilterPending:
		index = pending
	case f == chat.FilterResolved:
		index = resolved
	}
	return []string{all, unread, index, open, pending, resolved, unassigned, mine, s.keys.PartCounts(t)}
}

// listEntry is one room of a partition's page.
type listEntry struct {
	id    string
	score int64
	raw   string
}

// before tells whether a comes before b in a listing: the most recently
// updated first, ties by id descending (as ZREVRANGE orders them).
func (a listEntry) before(b listEntry) bool {
	return a.score > b.score || a.score == b.score && a.id > b.id
}

// listPartitions reads every partition's part of a listing in one
// pipeline and merges the replies: the counts summed, the pages merged
// into the first n rooms overall (n = 0: the counts only).
//
// Each partition is asked for a share of the page only (listShare), not
// for n: a page of 50 takes about 3 rooms of each of 16 partitions, and
// reading 51 of each would cost 16 times the page in replies. The merge is
// exact up to the earliest last entry of a partition that returned its
// whole share (it may have more after it); when that is short of n, the
// partitions that filled their share are asked for n more after their last
// entry, in a second pipeline (rare: a page's rooms fall in its partitions
// by their random ids).
func (s *Store) listPartitions(ctx context.Context, f chat.RoomFilter, label, agent string, n int, curScore, curID string) (chat.RoomCounts, []listEntry, error) {
	share := listShare(n)
	reqs := make([]listReq, IndexPartitions)
	for p := range IndexPartitions {
		reqs[p] = listReq{keys: s.listKeys(p, f, label, agent), n: share, curScore: curScore, curID: curID, agent: agent}
	}
	parts, err := s.runList(ctx, reqs)
	if err != nil {
		return chat.RoomCounts{}, nil, err
	}
	var counts chat.RoomCounts
	heads := make([][]listEntry, len(parts))
	for p, part := range parts {
		counts = addCounts(counts, part.counts)
		heads[p] = part.page
	}
	if n == 0 {
		return counts, nil, nil
	}
	out, exact := mergeEntries(heads, share, n)
	if exact {
		return counts, out, nil
	}
	var more []listReq
	var which []int
	for p, h := range heads {
		if len(h) == share {
			last := h[len(h)-1]
			more = append(more, listReq{keys: reqs[p].keys, n: n, curScore: last.raw, curID: last.id, agent: agent})
			which = append(which, p)
		}
	}
	tails, err := s.runList(ctx, more)
	if err != nil {
		return chat.RoomCounts{}, nil, err
	}
	for i, p := range which {
		heads[p] = append(heads[p], tails[i].page...)
	}
	out, _ = mergeEntries(heads, 0, n)
	return counts, out, nil
}

// listShare is how many rooms of each partition the first read of a page
// of n takes: twice the even share, and 4 more.
func listShare(n int) int {
	if n <= 0 {
		return 0
	}
	return min(n, 2*((n+IndexPartitions-1)/IndexPartitions)+4)
}

// listReq is one partition's part of a listing: its listKeys, and up to n
// entries of its index (0: the counts only) after the entry curScore,
// curID ("": from the top).
type listReq struct {
	keys            []string
	n               int
	curScore, curID string
	agent           string
}

// listPart is a partition's answer: its views' sizes and its page.
type listPart struct {
	counts chat.RoomCounts
	page   []listEntry
}

// runList reads each partition's part of a listing in one pipeline, with
// plain commands: its oldest entry (is anything expired?), its views'
// sizes and its page. That is what lua/list.lua does, at a third of the
// Redis time (a script call costs more than its three commands); the
// script runs, in a second pipeline, only for the partitions the plain
// read cannot answer: one with expired entries to take out first, or a
// cursor page whose score ties filled the read.
func (s *Store) runList(ctx context.Context, reqs []listReq) ([]listPart, error) {
	cutoff := s.cutoff()
	var cut int64
	if cutoff != "" {
		cut, _ = strconv.ParseInt(cutoff, 10, 64)
	}
	type read struct {
		oldest *redis.ZSliceCmd
		counts *redis.SliceCmd
		page   *redis.ZSliceCmd
	}
	reads := make([]read, len(reqs))
	if _, err := s.rdb.Pipelined(ctx, func(pl redis.Pipeliner) error {
		for i, q := range reqs {
			if cutoff != "" {
				reads[i].oldest = pl.ZRangeWithScores(ctx, q.keys[0], 0, 0)
			}
			reads[i].counts = pl.HMGet(ctx, q.keys[8], "all", "unread", "agent:"+q.agent, "unassigned", "open", "pending", "resolved")
			switch {
			case q.n == 0:
			case q.curScore == "":
				reads[i].page = pl.ZRevRangeWithScores(ctx, q.keys[2], 0, int64(q.n-1))
			default:
				// One more than asked: the cursor room itself, when it has
				// not moved, comes back first and is skipped.
				reads[i].page = pl.ZRevRangeByScoreWithScores(ctx, q.keys[2], &redis.ZRangeBy{
					Max: q.curScore, Min: "-inf", Count: int64(q.n + 1)})
			}
		}
		return nil
	}); err != nil && !isNil(err) {
		return nil, err
	}
	parts := make([]listPart, len(reqs))
	var again []int
	for i, q := range reqs {
		r := reads[i]
		if r.oldest != nil {
			if z := r.oldest.Val(); len(z) == 1 && int64(z[0].Score) < cut {
				again = append(again, i) // expired entries: the script takes them out
				continue
			}
		}
		vals, err := r.counts.Result()
		if err != nil {
			return nil, err
		}
		parts[i].counts = countsOfValues(vals)
		if r.page == nil {
			continue
		}
		zs, err := r.page.Result()
		if err != nil {
			return nil, err
		}
		page := make([]listEntry, 0, q.n)
		var curScore int64
		if q.curScore != "" {
			curScore, _ = strconv.ParseInt(q.curScore, 10, 64)
		}
		for _, z := range zs {
			id, _ := z.Member.(string)
			sc := int64(z.Score)
			if q.curScore != "" && sc == curScore && id >= q.curID {
				continue // the cursor room, or a tie before it
			}
			if len(page) < q.n {
				page = append(page, listEntry{id: id, score: sc, raw: strconv.FormatInt(sc, 10)})
			}
		}
		if q.curScore != "" && len(page) < q.n && len(zs) == q.n+1 {
			again = append(again, i) // ties filled the read: the script pages them
			continue
		}
		parts[i].page = page
	}
	if len(again) == 0 {
		return parts, nil
	}
	calls := make([]scriptCall, len(again))
	for j, i := range again {
		q := reqs[i]
		calls[j] = scriptCall{keys: q.keys, args: []any{cutoff, q.n, q.curScore, q.curID, q.agent}}
	}
	scripted, err := s.runListScript(ctx, calls)
	if err != nil {
		return nil, err
	}
	for j, i := range again {
		parts[i] = scripted[j]
	}
	return parts, nil
}

// addCounts sums the views' sizes of two partitions.
func addCounts(a, b chat.RoomCounts) chat.RoomCounts {
	return chat.RoomCounts{All: a.All + b.All, Unread: a.Unread + b.Unread, Mine: a.Mine + b.Mine,
		Unassigned: a.Unassigned + b.Unassigned, Open: a.Open + b.Open, Pending: a.Pending + b.Pending, Resolved: a.Resolved + b.Resolved}
}

// countsOfValues reads the views' sizes of an HMGET of the counts hash
// (all, unread, mine, unassigned, open, pending, resolved).
func countsOfValues(vals []any) chat.RoomCounts {
	n := func(i int) int64 {
		if i >= len(vals) {
			return 0
		}
		v, _ := vals[i].(string)
		x, _ := strconv.ParseInt(v, 10, 64)
		return x
	}
	return chat.RoomCounts{All: n(0), Unread: n(1), Mine: n(2), Unassigned: n(3), Open: n(4), Pending: n(5), Resolved: n(6)}
}

// runListScript runs list.lua calls in one pipeline and reads their
// counts and pages.
func (s *Store) runListScript(ctx context.Context, calls []scriptCall) ([]listPart, error) {
	cmds, err := s.runPipelined(ctx, listScript, calls)
	if err != nil {
		return nil, err
	}
	parts := make([]listPart, len(cmds))
	for i, c := range cmds {
		res, err := c.Slice()
		if err != nil {
			return nil, err
		}
		if len(res) < listCounts {
			return nil, fmt.Errorf("unexpected reply %v", res)
		}
		parts[i].counts = countsOf(res)
		entries := res[listCounts:]
		parts[i].page = make([]listEntry, 0, len(entries)/2)
		for j := 0; j+1 < len(entries); j += 2 {
			id, _ := entries[j].(string)
			raw, _ := entries[j+1].(string)
			sc, _ := strconv.ParseFloat(raw, 64)
			parts[i].page = append(parts[i].page, listEntry{id: id, score: int64(sc), raw: raw})
		}
	}
	return parts, nil
}

// mergeEntries k-way merges the partitions' pages (each in order) into the
// first n entries. With share > 0, a page of share entries may have more
// after it: the merge stops at the earliest such last entry, and exact
// tells whether n were had before it.
func mergeEntries(heads [][]listEntry, share, n int) ([]listEntry, bool) {
	var bound *listEntry
	if share > 0 {
		for _, h := range heads {
			if len(h) == share && (bound == nil || h[share-1].before(*bound)) {
				last := h[share-1]
				bound = &last
			}
		}
	}
	out := make([]listEntry, 0, n)
	pos := make([]int, len(heads))
	for len(out) < n {
		best := -1
		for p := range heads {
			if pos[p] < len(heads[p]) && (best < 0 || heads[p][pos[p]].before(heads[best][pos[best]])) {
				best = p
			}
		}
		if best < 0 {
			// Every page read through: exact unless one may have more.
			return out, bound == nil
		}
		e := heads[best][pos[best]]
		if bound != nil && bound.before(e) {
			return out, false // past what every partition surely gave
		}
		out = append(out, e)
		pos[best]++
	}
	return out, true
}

// The reconciler (RunReconciler) walks every partition in slices and
// repairs what its rooms no longer agree with: each placement entry is
// checked against the room (lua/placement.lua in the room's slot, then
// lua/place.lua in "check" mode, which writes only when they differ, with
// the room's current version), a room found gone gets its tombstone, a room
// registered as being created for longer than newGrace is placed (or
// forgotten, if it never came), and tombstones older than tombstoneKeep
// are pruned. Repairs are versioned like every follow-up, so instances
// reconciling at once, or beside live writes, converge instead of fighting.
const (
	// reconcileSlice is how many entries of each partition one step reads.
	reconcileSlice = 1
	// reconcileEvery is the pause between steps: 16 rooms every 62.5 ms
	// (about 256 rooms a second, two scripts each) is a pass over 100,000
	// rooms in about 7 minutes. Small steps: each pipeline of scripts
	// holds Redis's one thread for its length, and a step of 128 rooms
	// (8 of each partition every 0.5 s) held it for ~4 ms twice, which
	// every request that met it waited out (the room list's p99).
	reconcileEvery = 62500 * time.Microsecond
	// reconcileOnceSlice is ReconcileOnce's slice: a pass as fast as it
	// goes.
	reconcileOnceSlice = 500
	// newGrace is how long a room may be registered as being created
	// before the reconciler looks at it: far longer than a create takes.
	newGrace = time.Minute
)

// tombstoneKeep is how long a deleted room's tombstone stays: far longer
// than any late follow-up can come, and at least the room TTL.
func (s *Store) tombstoneKeep() time.Duration {
	return max(time.Duration(s.ttlMS)*time.Millisecond, time.Hour)
}

// reconcileCursors are the HSCAN cursors of one reconciler, per partition.
type reconcileCursors [IndexPartitions]uint64

// RunReconciler repairs the index until ctx ends (see above).
func (s *Store) RunReconciler(ctx context.Context, log *slog.Logger) {
	var cur reconcileCursors
	t := time.NewTicker(reconcileEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, _, err := s.reconcileStep(ctx, &cur, reconcileSlice); err != nil && ctx.Err() == nil {
			log.Warn("room index: reconciling failed; the next step goes on", "err", err)
		}
	}
}

// ReconcileOnce runs one whole pass over every partition, synchronously,
// and returns how many index entries it repaired (the rooms whose events
// it logged, closing a gap a lost follow-up left, are not counted).
func (s *Store) ReconcileOnce(ctx context.Context) (int, error) {
	var cur reconcileCursors
	var done [IndexPartitions]bool
	total := 0
	for {
		n, wrapped, err := s.reconcileStep(ctx, &cur, reconcileOnceSlice)
		total += n
		if err != nil {
			return total, err
		}
		all := true
		for p := range done {
			done[p] = done[p] || wrapped[p]
			all = all && done[p]
		}
		if all {
			return total, nil
		}
	}
}

// candidate is one entry a reconciler step checks.
type candidate struct {
	part   int
	id     string
	placed bool // in the placements hash (else: registered as new)
}

// reconcileStep checks one slice of every partition; wrapped tells which
// partitions' walks came back to their start.
func (s *Store) reconcileStep(ctx context.Context, cur *reconcileCursors, slice int) (int, [IndexPartitions]bool, error) {
	var wrapped [IndexPartitions]bool
	now := time.Now()
	scans := make([]*redis.ScanCmd, IndexPartitions)
	news := make([]*redis.StringSliceCmd, IndexPartitions)
	err := s.forEachPartition(ctx, func(p redis.Pipeliner, part int) {
		t := indexTags[part]
		scans[part] = p.HScan(ctx, s.keys.PartPlace(t), cur[part], "", int64(slice))
		news[part] = p.ZRangeArgs(ctx, redis.ZRangeArgs{Key: s.keys.PartNew(t), ByScore: true, Start: "-inf",
			Stop: strconv.FormatInt(now.Add(-newGrace).UnixMilli(), 10), Count: int64(slice)})
	})
	if err != nil {
		return 0, wrapped, fail("reconcile", err)
	}
	var cands []candidate
	type prune struct {
		part int
		id   string
	}
	var prunes []prune
	pruneBefore := now.Add(-s.tombstoneKeep()).UnixMilli()
	for part := range IndexPartitions {
		kv, next := scans[part].Val()
		cur[part] = next
		wrapped[part] = next == 0
		for i := 0; i+1 < len(kv); i += 2 {
			id, v := kv[i], kv[i+1]
			if at, ok := strings.CutPrefix(v, "D|"); ok {
				if ms, _ := strconv.ParseInt(at, 10, 64); ms < pruneBefore {
					prunes = append(prunes, prune{part, id})
				}
				continue
			}
			cands = append(cands, candidate{part: part, id: id, placed: true})
		}
		for _, id := range news[part].Val() {
			cands = append(cands, candidate{part: part, id: id})
		}
	}
	if len(prunes) > 0 {
		// A tombstone only ever stays one: deleting it races with nothing.
		if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, x := range prunes {
				p.HDel(ctx, s.keys.PartPlace(indexTags[x.part]), x.id)
				p.HDel(ctx, s.keys.PartLogged(indexTags[x.part]), x.id)
			}
			return nil
		}); err != nil {
			return 0, wrapped, fail("reconcile", err)
		}
	}
	n, err := s.placeRooms(ctx, cands, now)
	if err != nil {
		return n, wrapped, fail("reconcile", err)
	}
	// The events of those rooms: counted apart (a room whose follow-up was
	// lost is repaired in both).
	if _, err := s.logRooms(ctx, cands); err != nil {
		return n, wrapped, fail("reconcile", err)
	}
	return n, wrapped, nil
}

// placeRooms reads where each candidate room stands and applies it in its
// partition ("check": written only where the partition disagrees); a room
// gone is tombstoned if it was placed, forgotten if it was only registered.
// It returns how many entries it changed.
func (s *Store) placeRooms(ctx context.Context, cands []candidate, now time.Time) (int, error) {
	if len(cands) == 0 {
		return 0, nil
	}
	reads := make([]scriptCall, len(cands))
	for i, c := range cands {
		reads[i] = scriptCall{keys: []string{s.keys.Room(c.id), s.keys.Attachments(c.id), s.keys.AttachmentsPending(c.id)},
			args: []any{now.UnixMilli()}}
	}
	cmds, err := s.runPipelined(ctx, placementScript, reads)
	if err != nil {
		return 0, err
	}
	var puts []scriptCall
	var forget []candidate
	for i, c := range cands {
		res, err := cmds[i].Slice()
		if err != nil {
			return 0, err
		}
		if len(res) == 0 {
			if !c.placed {
				forget = append(forget, c)
				continue
			}
			puts = append(puts, scriptCall{keys: s.partKeys(c.part), args: s.placeArgs(c.part, placeGone, c.id, placement{})})
			continue
		}
		pl, ok := placementOf(res)
		if !ok {
			return 0, fmt.Errorf("malformed placement %v", res)
		}
		puts = append(puts, scriptCall{keys: s.partKeys(c.part), args: s.placeArgs(c.part, placeCheck, c.id, pl)})
	}
	changed := 0
	if len(forget) > 0 {
		if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, c := range forget {
				p.ZRem(ctx, s.keys.PartNew(indexTags[c.part]), c.id)
			}
			return nil
		}); err != nil {
			return 0, err
		}
		changed += len(forget)
	}
	if len(puts) == 0 {
		return changed, nil
	}
	placed, err := s.runPipelined(ctx, placeScript, puts)
	if err != nil {
		return changed, err
	}
	for _, c := range placed {
		if n, _ := c.Int64(); n == 1 {
			changed++
		}
	}
	return changed, nil
}

// MigrateIndex moves a database of before the partitions (the global
// indexes Rooms, Unread, RoomsByStatus, Unassigned, AgentRooms, LabelRooms,
// Snoozed and AttachmentSweep) into them, once: every room of the global
// index is placed from its own hash (lua/placement.lua, which also gives a
// room of before the inbox its status), the sweep set's entries are copied,
// then the global keys are deleted, the room index last, and IndexMigrated
// is set. Every step is idempotent and versioned like a follow-up, so
// several instances may run it at once, beside live traffic, and a crash
// leaves it to the next start to run again from the top. It returns how
// many rooms it placed.
func (s *Store) MigrateIndex(ctx context.Context) (int, error) {
	done, err := s.rdb.Exists(ctx, s.keys.IndexMigrated()).Result()
	if err != nil {
		return 0, fail("migrate index", err)
	}
	if done == 1 {
		return 0, nil
	}
	placed := 0
	now := time.Now()
	err = s.forEachRoom(ctx, s.keys.Rooms(), func(ids []string) error {
		cands := make([]candidate, len(ids))
		for i, id := range ids {
			cands[i] = candidate{part: PartitionOf(id), id: id}
		}
		n, err := s.placeRooms(ctx, cands, now)
		placed += n
		return err
	})
	if err != nil {
		return placed, fail("migrate index", err)
	}
	// The attachment sweep: the partitions keep an entry they have (the
	// sweeper's lease, or a newer write's).
	for start := int64(0); ; start += walkBatch {
		zs, err := s.rdb.ZRangeWithScores(ctx, s.keys.AttachmentSweep(), start, start+walkBatch-1).Result()
		if err != nil {
			return placed, fail("migrate index", err)
		}
		if len(zs) == 0 {
			break
		}
		if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, z := range zs {
				id, _ := z.Member.(string)
				p.ZAddNX(ctx, s.keys.PartSweep(indexTags[PartitionOf(id)]), redis.Z{Score: z.Score, Member: id})
			}
			return nil
		}); err != nil {
			return placed, fail("migrate index", err)
		}
	}
	// The global keys go, the room index last: until it is gone, a start
	// after a crash walks it again.
	old := []string{s.keys.Unread(), s.keys.RoomsByStatus(string(chat.StatusOpen)),
		s.keys.RoomsByStatus(string(chat.StatusPending)), s.keys.RoomsByStatus(string(chat.StatusResolved)),
		s.keys.Unassigned(), s.keys.Snoozed()}
	for _, pattern := range []string{s.keys.AgentRooms("*"), s.keys.LabelRooms("*")} {
		keys, err := s.scanKeys(ctx, pattern)
		if err != nil {
			return placed, fail("migrate index", err)
		}
		old = append(old, keys...)
	}
	old = append(old, s.keys.AttachmentSweep(), s.keys.Rooms())
	for _, k := range old {
		if err := s.rdb.Unlink(ctx, k).Err(); err != nil {
			return placed, fail("migrate index", err)
		}
	}
	if err := s.rdb.Set(ctx, s.keys.IndexMigrated(), "1", 0).Err(); err != nil {
		return placed, fail("migrate index", err)
	}
	return placed, nil
}

// scanKeys lists the keys matching pattern, on every primary of a cluster.
func (s *Store) scanKeys(ctx context.Context, pattern string) ([]string, error) {
	scan := func(ctx context.Context, c redis.Cmdable) ([]string, error) {
		var out []string
		iter := c.Scan(ctx, 0, pattern, 500).Iterator()
		for iter.Next(ctx) {
			out = append(out, iter.Val())
		}
		return out, iter.Err()
	}
	cc, ok := s.rdb.(*redis.ClusterClient)
	if !ok {
		return scan(ctx, s.rdb)
	}
	var mu sync.Mutex
	var out []string
	err := cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		keys, err := scan(ctx, m)
		mu.Lock()
		out = append(out, keys...)
		mu.Unlock()
		return err
	})
	return out, err
}
