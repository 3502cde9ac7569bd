package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/chat"
)

// The search index is an inverted index kept by the scripts that write what
// it finds (create, send, fillvisitor; note.lua for notes) and
// emptied of a room by delete.lua and, once the room expired, by the
// sweeper (searchsweep.lua). See docs/ARCHITECTURE.md, "Search".

// SearchGrace is how long a room's terms hash outlives the room when rooms
// expire, so that the sweeper can still read which term zsets the room is
// in: a sweeper that was down for longer leaves those entries to the search
// script, which drops the hits whose room is gone as it meets them.
const SearchGrace = 24 * time.Hour

// searchBudget is how many entries of the rarest term's zset one search
// looks at, at most: it bounds the work of a search whatever the index.
const searchBudget = 5000

// sweepBatch is how many expired rooms one sweep takes out of the index.
const sweepBatch = 500

// termsTTL is the TTL of a terms hash written with the room TTL, 0 for none.
func (s *Store) termsTTL() int64 {
	if s.ttlMS <= 0 {
		return 0
	}
	return s.ttlMS + SearchGrace.Milliseconds()
}

// searchPutCall is the partition's step (lua/searchput.lua) indexing terms
// of one room, each scored by at(i), with the room's search rooms entry
// scored roomAt (how: GT or NX). It is refused for a tombstoned room.
func (s *Store) searchPutCall(roomID string, roomAt int64, how string, terms []string, at func(i int) int64) scriptCall {
	t := indexTags[PartitionOf(roomID)]
	keys := make([]string, 0, 2+len(terms))
	keys = append(keys, s.keys.PartPlace(t), s.keys.SearchPartRooms(t))
	args := make([]any, 0, 3+len(terms))
	args = append(args, roomID, roomAt, how)
	for i, term := range terms {
		keys = append(keys, s.keys.SearchPartTerm(t, term))
		args = append(args, at(i))
	}
	return scriptCall{keys: keys, args: args}
}

// searchFollow runs the partition's step of a room script that wrote terms
// of the room's terms hash, all scored at, through the batcher (as the
// index's follow-ups). Like those, a failure answers 503 unavailable: what
// the room script stored is there, not yet found by a search, and the
// client's retry indexes it again.
func (s *Store) searchFollow(ctx context.Context, op, roomID string, roomAt int64, how string, terms []string, at int64) error {
	if len(terms) == 0 || s.dropFollowUps.Load() {
		return nil
	}
	c := s.searchPutCall(roomID, roomAt, how, terms, func(int) int64 { return at })
	if err := s.batch.run(ctx, searchPutScript, c.keys, c.args...).Err(); err != nil {
		return fmt.Errorf("redisstore: %s: search: %w: %w", op, chat.ErrUnavailable, err)
	}
	return nil
}

// searchDrop takes a room out of its partition's search sets (the terms its
// terms hash named: lua/searchdrop.lua), after its tombstone, then deletes
// the terms hash, which was kept until then so that a retry finds them.
func (s *Store) searchDrop(ctx context.Context, op, roomID string, terms []string) error {
	if len(terms) == 0 {
		return nil
	}
	t := indexTags[PartitionOf(roomID)]
	keys := make([]string, 0, 1+len(terms))
	keys = append(keys, s.keys.SearchPartRooms(t))
	for _, term := range terms {
		keys = append(keys, s.keys.SearchPartTerm(t, term))
	}
	if err := s.batch.run(ctx, searchDropScript, keys, roomID).Err(); err != nil {
		return fmt.Errorf("redisstore: %s: search: %w: %w", op, chat.ErrUnavailable, err)
	}
	if err := s.rdb.Del(ctx, s.keys.Terms(roomID)).Err(); err != nil {
		return fmt.Errorf("redisstore: %s: search: %w: %w", op, chat.ErrUnavailable, err)
	}
	return nil
}

// termsOf reads the terms a room script returned from index i on.
func termsOf(res []any, i int) []string {
	if i >= len(res) {
		return nil
	}
	out := make([]string, 0, len(res)-i)
	for _, v := range res[i:] {
		if t, ok := v.(string); ok {
			out = append(out, t)
		}
	}
	return out
}

// searchFilled reads the "_searchFilled" pair fillvisitor.lua and
// setvisitor.lua end their reply with ('n' name, 'e' email) and returns the
// reply without it.
func searchFilled(res []any) ([]any, string) {
	if n := len(res); n >= 2 && res[n-2] == "_searchFilled" {
		f, _ := res[n-1].(string)
		return res[:n-2], f
	}
	return res, ""
}

// searchHitOf is one room a partition's search found.
type searchHitOf struct {
	id    string
	score float64
	term  string // the rarest term in its partition: what its match shows
}

// Search finds the rooms with every term of q: lua/search.lua walks the
// index partitions in steps (searchPartitions: one pipeline each, split
// per node on Cluster; most searches take one), then one pipeline reads
// each room found and, with lua/searchhit.lua, the message, note or
// visitor detail it matched. A step after Redis lost its scripts takes one
// round trip more.
func (s *Store) Search(ctx context.Context, q chat.SearchQuery) (chat.SearchPage, error) {
	page := chat.SearchPage{Results: []chat.SearchResult{}}
	if len(q.Terms) == 0 {
		return page, nil
	}
	// What was sent before the search is found by it (indexer.go). Best
	// effort: when the catch-up fails (Redis full refuses its writes), the
	// search runs on the index as it is, and fails on its own if Redis is
	// gone; only the caller's end stops it here.
	if err := s.CatchUpSearch(ctx); err != nil && ctx.Err() != nil {
		return chat.SearchPage{}, fail("search", ctx.Err())
	}
	found, more, err := s.searchPartitions(ctx, q)
	if err != nil {
		return chat.SearchPage{}, fail("search", err)
	}
	page.More = more
	if len(found) == 0 {
		return page, nil
	}
	rooms := make([]*redis.StringSliceCmd, len(found))
	hits := make([]*redis.Cmd, len(found))
	err = s.pipelineScripts(ctx, searchHitScript, func(p redis.Pipeliner) {
		for i, f := range found {
			id := f.id
			rooms[i] = hmgetRoom(ctx, s.keys.Room(id))
			_ = p.Process(ctx, rooms[i])
			hits[i] = searchHitScript.EvalSha(ctx, p,
				[]string{s.keys.Terms(id), s.keys.Msgs(id), s.keys.Notes(id), s.keys.Room(id)}, f.term)
		}
	}, func() []*redis.Cmd { return hits })
	if err != nil {
		return chat.SearchPage{}, fail("search", err)
	}
	page.Results = make([]chat.SearchResult, 0, len(found))
	for i, f := range found {
		// A room deleted since the walk, or expired and not yet swept, is
		// skipped.
		r, ok := roomFromValues(f.id, rooms[i].Val())
		if !ok {
			continue
		}
		hit, _ := hits[i].StringSlice()
		page.Results = append(page.Results, chat.SearchResult{Room: r, Match: searchMatch(r, hit, q.Terms)})
	}
	return page, nil
}

// searchWalk is where one partition's walk of a search stands.
type searchWalk struct {
	rare  int64   // the term walked (1-based), 0 before the first step
	next  int64   // the rank in its zset to go on from
	done  bool    // the zset's end was reached
	last  float64 // the score of the last entry looked at
	moved bool    // it looked at an entry at all
}

// searchPartitions walks every partition (lua/search.lua) for the rooms
// with every term of q, newest first, as one walk of a global index would:
// each step asks each partition for a share of the page only, and a next
// step (one pipeline again) asks only the partitions whose walk stopped
// above the page's last hit so far — one step for most searches, a few for
// a sparse intersection — until the page is exact, every zset is walked,
// or searchBudget entries were looked at (more is then true, as it is when
// more rooms than q.Limit match). It returns up to q.Limit hits in order.
func (s *Store) searchPartitions(ctx context.Context, q chat.SearchQuery) ([]searchHitOf, bool, error) {
	want := q.Limit + 1
	share := listShare(want)
	walkN := int64(32)
	if len(q.Terms) == 1 {
		walkN = int64(share) // every entry is a hit
	}
	var walks [IndexPartitions]searchWalk
	active := make([]int, IndexPartitions)
	for p := range active {
		active[p] = p
	}
	var found []searchHitOf
	seen := map[string]bool{}
	looked, more := int64(0), false
	for len(active) > 0 {
		calls := make([]scriptCall, len(active))
		for i, p := range active {
			t := indexTags[p]
			keys := make([]string, 0, 1+len(q.Terms))
			keys = append(keys, s.keys.PartPlace(t))
			for _, term := range q.Terms {
				keys = append(keys, s.keys.SearchPartTerm(t, term))
			}
			w := walks[p]
			calls[i] = scriptCall{keys: keys, args: []any{share, walkN, w.next, w.rare}}
		}
		cmds, err := s.runPipelined(ctx, searchScript, calls)
		if err != nil {
			return nil, false, err
		}
		for i, c := range cmds {
			res, err := c.Slice()
			if err != nil {
				return nil, false, err
			}
			if len(res) < 5 {
				return nil, false, fmt.Errorf("unexpected reply %v", res)
			}
			w := &walks[active[i]]
			w.rare, _ = res[0].(int64)
			w.next, _ = res[1].(int64)
			done, _ := res[2].(int64)
			w.done = done == 1
			n, _ := res[3].(int64)
			looked += n
			if raw, _ := res[4].(string); raw != "" {
				w.last, _ = strconv.ParseFloat(raw, 64)
				w.moved = true
			}
			term := q.Terms[0]
			if w.rare >= 1 && int(w.rare) <= len(q.Terms) {
				term = q.Terms[w.rare-1]
			}
			for j := 5; j+1 < len(res); j += 2 {
				id, _ := res[j].(string)
				raw, _ := res[j+1].(string)
				if seen[id] {
					continue // met again: a write moved the ranks between steps
				}
				seen[id] = true
				sc, _ := strconv.ParseFloat(raw, 64)
				found = append(found, searchHitOf{id: id, score: sc, term: term})
			}
		}
		// Newest first, ties by id descending (as ZREVRANGE orders them).
		sort.Slice(found, func(i, j int) bool {
			a, b := found[i], found[j]
			return a.score > b.score || a.score == b.score && a.id > b.id
		})
		// The page is exact once no partition's walk stopped above its
		// last hit: what a partition has not looked at scores below that.
		var next []int
		for _, p := range active {
			w := walks[p]
			if w.done {
				continue
			}
			if len(found) < want || !w.moved || w.last >= found[want-1].score {
				next = append(next, p)
			}
		}
		if len(next) > 0 && looked >= searchBudget {
			more = true // the bound of work ended the walk before it knew
			break
		}
		active = next
		walkN = min(2*walkN, 256)
	}
	if len(found) > q.Limit {
		found = found[:q.Limit]
		more = true
	}
	return found, more, nil
}

// pipelineScripts runs fill's commands in one pipeline. Its scripts go as
// EVALSHA, which a Redis that lost its scripts (a restart) refuses with
// NOSCRIPT: script is loaded then and the pipeline sent again.
func (s *Store) pipelineScripts(ctx context.Context, script *redis.Script, fill func(redis.Pipeliner), scripts func() []*redis.Cmd) error {
	for attempt := 0; ; attempt++ {
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error { fill(p); return nil })
		if err == nil || isNil(err) {
			return nil
		}
		noScript := false
		for _, c := range scripts() {
			if c != nil && redis.HasErrorPrefix(c.Err(), "NOSCRIPT") {
				noScript = true
				break
			}
		}
		if !noScript || attempt > 0 {
			return err
		}
		if err := script.Load(ctx, s.rdb).Err(); err != nil {
			return err
		}
	}
}

// storedNote is what this package reads of a note of the Notes list.
type storedNote struct {
	Author     string    `json:"author"`
	AuthorName string    `json:"authorName"`
	Content    string    `json:"content"`
	CreatedAt  chat.Time `json:"createdAt"`
}

// searchMatch reads the answer of lua/searchhit.lua: {where, JSON}.
func searchMatch(r chat.Room, hit []string, terms []string) chat.SearchMatch {
	where, raw := "", ""
	if len(hit) > 0 {
		where = hit[0]
	}
	if len(hit) > 1 {
		raw = hit[1]
	}
	switch {
	case where == "v":
		text := r.VisitorName
		if r.VisitorEmail != "" {
			if text != "" {
				text += " · "
			}
			text += r.VisitorEmail
		}
		return chat.SearchMatch{Kind: chat.MatchVisitor, Text: text}
	case len(where) > 1 && where[0] == 'm':
		seq, _ := strconv.ParseInt(where[1:], 10, 64)
		if raw == "" {
			return chat.SearchMatch{Kind: chat.MatchMessage, Seq: seq}
		}
		m, err := decodeMessage(raw)
		if err != nil {
			return chat.SearchMatch{Kind: chat.MatchMessage, Seq: seq}
		}
		at := m.CreatedAt
		return chat.SearchMatch{Kind: chat.MatchMessage, Text: chat.Snippet(m.Content, terms), Seq: m.Seq,
			Sender: m.Sender, Author: m.Author, CreatedAt: &at}
	case len(where) > 1 && where[0] == 'n':
		var n storedNote
		if raw == "" || json.Unmarshal([]byte(raw), &n) != nil {
			return chat.SearchMatch{Kind: chat.MatchNote}
		}
		author := n.AuthorName
		if author == "" {
			author = n.Author
		}
		at := n.CreatedAt
		return chat.SearchMatch{Kind: chat.MatchNote, Text: chat.Snippet(n.Content, terms), Author: author, CreatedAt: &at}
	}
	// The room no longer has the term where the walk found it (its terms
	// hash expired before the room, or a write came in between): its last
	// message stands for it.
	m := chat.SearchMatch{Kind: chat.MatchMessage}
	if r.LastMessage != nil {
		at := r.LastMessage.CreatedAt
		m.Text, m.Seq, m.Sender, m.CreatedAt = chat.Snippet(r.LastMessage.Content, terms), r.LastMessage.Seq, r.LastMessage.Sender, &at
	}
	return m
}

// SweepSearch takes up to max rooms that expired by now out of the search
// index (every room of a partition's search rooms scored before now minus
// the room TTL whose hash is gone), and returns how many it took out. Rooms
// still there are scored again by when they expire. Without a room TTL it
// does nothing. Every step is idempotent: instances may sweep at once.
func (s *Store) SweepSearch(ctx context.Context, now time.Time, max int) (int, error) {
	removed, _, err := s.sweepSearch(ctx, now, max)
	return removed, err
}

// sweepSearch is SweepSearch that also tells whether a partition had more
// expired rooms than this sweep took.
// A room is swept in four steps, each a pipeline over the rooms found:
// its own (lua/searchsweep.lua: still there, or gone with the terms its
// terms hash names), its tombstone (lua/place.lua "gone", so a late
// indexer step cannot index it again), its partition's (lua/searchdrop.lua),
// then its terms hash deleted. A step that fails leaves the room to the
// next sweep.
func (s *Store) sweepSearch(ctx context.Context, now time.Time, max int) (removed int, more bool, err error) {
	if s.ttlMS <= 0 {
		return 0, false, nil
	}
	cutoff := now.UnixMilli() - s.ttlMS
	stop := "(" + strconv.FormatInt(cutoff, 10)
	share := int64((max + IndexPartitions - 1) / IndexPartitions)
	found := make([]*redis.StringSliceCmd, IndexPartitions)
	if err := s.forEachPartition(ctx, func(p redis.Pipeliner, part int) {
		found[part] = p.ZRangeArgs(ctx, redis.ZRangeArgs{Key: s.keys.SearchPartRooms(indexTags[part]), ByScore: true,
			Start: "-inf", Stop: stop, Count: share})
	}); err != nil {
		return 0, false, fail("sweep search", err)
	}
	var ids []string
	for _, c := range found {
		ids = append(ids, c.Val()...)
		more = more || int64(len(c.Val())) == share
	}
	if len(ids) == 0 {
		return 0, false, nil
	}
	calls := make([]scriptCall, len(ids))
	for i, id := range ids {
		calls[i] = scriptCall{keys: []string{s.keys.Room(id), s.keys.Terms(id)}, args: []any{SearchGrace.Milliseconds()}}
	}
	cmds, err := s.runPipelined(ctx, searchSweepScript, calls)
	if err != nil {
		return 0, false, fail("sweep search", err)
	}
	type goneRoom struct {
		id    string
		terms []string
	}
	var gone []goneRoom
	var places []scriptCall
	var drops []scriptCall
	rescore := map[string]int64{}
	for i, c := range cmds {
		res, err := c.Slice()
		if err != nil || len(res) == 0 {
			return 0, false, fail("sweep search", fmt.Errorf("unexpected reply %v: %w", res, err))
		}
		id := ids[i]
		if n, _ := res[0].(int64); n == 0 {
			// Looked at again when it expires; one without a TTL in a day.
			pttl := int64(24 * time.Hour / time.Millisecond)
			if len(res) > 1 {
				if v, _ := res[1].(int64); v >= 0 { // 0: it expires now
					pttl = v
				}
			}
			rescore[id] = cutoff + pttl
			continue
		}
		g := goneRoom{id: id, terms: termsOf(res, 1)}
		gone = append(gone, g)
		p := PartitionOf(id)
		places = append(places, scriptCall{keys: s.partKeys(p), args: s.placeArgs(p, placeGone, id, tombstone(false))})
		t := indexTags[p]
		keys := []string{s.keys.SearchPartRooms(t)}
		for _, term := range g.terms {
			keys = append(keys, s.keys.SearchPartTerm(t, term))
		}
		drops = append(drops, scriptCall{keys: keys, args: []any{id}})
	}
	if len(rescore) > 0 {
		if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for id, at := range rescore {
				p.ZAddXX(ctx, s.keys.SearchPartRooms(indexTags[PartitionOf(id)]), redis.Z{Score: float64(at), Member: id})
			}
			return nil
		}); err != nil {
			return 0, false, fail("sweep search", err)
		}
	}
	if len(gone) == 0 {
		return 0, more, nil
	}
	if _, err := s.runPipelined(ctx, placeScript, places); err != nil {
		return 0, false, fail("sweep search", err)
	}
	if _, err := s.runPipelined(ctx, searchDropScript, drops); err != nil {
		return 0, false, fail("sweep search", err)
	}
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, g := range gone {
			p.Del(ctx, s.keys.Terms(g.id))
		}
		return nil
	}); err != nil {
		return 0, false, fail("sweep search", err)
	}
	return len(gone), more, nil
}

// RunSearchSweeper sweeps the search index (SweepSearch) every interval
// until ctx ends; a sweep that finds a full batch goes on at once.
func (s *Store) RunSearchSweeper(ctx context.Context, every time.Duration, log *slog.Logger) {
	if s.ttlMS <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for ctx.Err() == nil {
			_, more, err := s.sweepSearch(ctx, time.Now(), sweepBatch)
			if err != nil {
				if ctx.Err() == nil {
					log.Warn("search sweep failed", "err", err)
				}
				break
			}
			if !more {
				break
			}
		}
	}
}

// IndexRoom indexes a room stored before the search index existed: its
// visitor's name and email and the messages it still has (one read, then
// lua/searchbackfill.lua in the room's slot, which keeps what the room
// scripts indexed since, then lua/searchput.lua in its partition's).
// Returns chat.ErrRoomNotFound.
func (s *Store) IndexRoom(ctx context.Context, id string) error {
	var vals *redis.SliceCmd
	var msgs *redis.StringSliceCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		vals = p.HMGet(ctx, s.keys.Room(id), fName, fEmail, fCreatedAt)
		msgs = p.LRange(ctx, s.keys.Msgs(id), 0, -1)
		return nil
	})
	if err != nil && !isNil(err) {
		return fail("index room", err)
	}
	v := vals.Val()
	str := func(i int) string { x, _ := v[i].(string); return x }
	if len(v) < 3 || str(2) == "" {
		return chat.ErrRoomNotFound
	}
	type hit struct {
		where string
		at    int64
	}
	hits := map[string]hit{}
	var order []string
	put := func(t, where string, at int64) {
		if _, ok := hits[t]; !ok {
			order = append(order, t)
		}
		hits[t] = hit{where, at}
	}
	for _, t := range chat.VisitorTerms(str(0), str(1)) {
		put(t, "v", atoi(str(2)))
	}
	for _, raw := range msgs.Val() {
		m, err := decodeMessage(raw)
		if err != nil {
			continue
		}
		for _, t := range chat.SearchTerms(m.Content) {
			put(t, "m"+strconv.FormatInt(m.Seq, 10), m.CreatedAt.Millis())
		}
	}
	args := make([]any, 0, 1+2*len(order))
	args = append(args, SearchGrace.Milliseconds())
	for _, t := range order {
		args = append(args, t, hits[t].where)
	}
	at, err := searchBackfillScript.Run(ctx, s.rdb, []string{s.keys.Room(id), s.keys.Terms(id)}, args...).Int64()
	if err != nil {
		return fail("index room", err)
	}
	if at == 0 {
		return chat.ErrRoomNotFound
	}
	// The partition's step, refused if the room was deleted meanwhile.
	for start := 0; start < len(order); start += maxIndexTerms {
		terms := order[start:min(start+maxIndexTerms, len(order))]
		c := s.searchPutCall(id, at, "GT", terms, func(i int) int64 { return hits[terms[i]].at })
		if err := searchPutScript.Run(ctx, s.rdb, c.keys, c.args...).Err(); err != nil {
			return fail("index room", err)
		}
	}
	return nil
}

// BackfillSearch brings the search index to the partitions once, then sets
// SearchMigrated so that later starts skip it (MigrateSearch is its other
// name); it returns how many rooms it indexed. First every entry of the
// global search keys of before the partitions (SearchTerm, SearchRooms) is
// copied into the room's partition (lua/searchcopy.lua: ZADD GT, refused
// for a room the partition has a tombstone for) and the global key
// deleted; then, unless SearchIndexed says the rooms stored before the
// search index existed were indexed, every room of the room index is
// (IndexRoom), oldest first. Rooms are read by score, so one that moves
// while the walk goes on is met again rather than missed. Idempotent:
// several instances may run it at once, beside live traffic, and one
// stopped half way is run again by the next start.
func (s *Store) BackfillSearch(ctx context.Context) (int, error) {
	done, err := s.rdb.Get(ctx, s.keys.SearchMigrated()).Result()
	if err != nil && !isNil(err) {
		return 0, fail("backfill search", err)
	}
	if done == "1" {
		return 0, nil
	}
	indexed, err := s.rdb.Get(ctx, s.keys.SearchIndexed()).Result()
	if err != nil && !isNil(err) {
		return 0, fail("backfill search", err)
	}
	if err := s.copyGlobalSearch(ctx); err != nil {
		return 0, err
	}
	n := 0
	if indexed != "1" {
		// The partitions, and the global index of before them while it
		// has not been moved yet (MigrateIndex).
		indexes := []string{s.keys.Rooms()}
		for p := range IndexPartitions {
			indexes = append(indexes, s.keys.PartRooms(indexTags[p]))
		}
		for _, index := range indexes {
			if err := s.backfillIndex(ctx, index, &n); err != nil {
				return n, err
			}
		}
	}
	if err := s.rdb.Set(ctx, s.keys.SearchMigrated(), "1", 0).Err(); err != nil {
		return n, fail("backfill search", err)
	}
	if err := s.rdb.Del(ctx, s.keys.SearchIndexed()).Err(); err != nil {
		return n, fail("backfill search", err)
	}
	return n, nil
}

// MigrateSearch is BackfillSearch: the move of the search index into the
// partitions, with the backfill of rooms older than the index.
func (s *Store) MigrateSearch(ctx context.Context) (int, error) { return s.BackfillSearch(ctx) }

// copyGlobalSearch copies every global search zset of before the
// partitions into the partitions, a page at a time, and deletes it (the
// search rooms last, so a crash before leaves the sweeper's entries).
func (s *Store) copyGlobalSearch(ctx context.Context) error {
	keys, err := s.scanKeys(ctx, s.keys.SearchTermPrefix()+"*")
	if err != nil {
		return fail("migrate search", err)
	}
	keys = append(keys, s.keys.SearchRooms())
	for _, k := range keys {
		term, isTerm := strings.CutPrefix(k, s.keys.SearchTermPrefix())
		target := func(tag string) string {
			if isTerm {
				return s.keys.SearchPartTerm(tag, term)
			}
			return s.keys.SearchPartRooms(tag)
		}
		const page = 1000
		for start := int64(0); ; start += page {
			zs, err := s.rdb.ZRangeWithScores(ctx, k, start, start+page-1).Result()
			if err != nil {
				return fail("migrate search", err)
			}
			var byPart [IndexPartitions][]any
			for _, z := range zs {
				id, _ := z.Member.(string)
				p := PartitionOf(id)
				byPart[p] = append(byPart[p], id, int64(z.Score))
			}
			var calls []scriptCall
			for p, args := range byPart {
				if len(args) > 0 {
					t := indexTags[p]
					calls = append(calls, scriptCall{keys: []string{s.keys.PartPlace(t), target(t)}, args: args})
				}
			}
			if len(calls) > 0 {
				if _, err := s.runPipelined(ctx, searchCopyScript, calls); err != nil {
					return fail("migrate search", err)
				}
			}
			if len(zs) < page {
				break
			}
		}
		if err := s.rdb.Unlink(ctx, k).Err(); err != nil {
			return fail("migrate search", err)
		}
	}
	return nil
}

// backfillIndex is BackfillSearch over one room index.
func (s *Store) backfillIndex(ctx context.Context, index string, n *int) error {
	const page = 200
	min, seen := "-inf", map[string]bool{}
	for {
		zs, err := s.rdb.ZRangeArgsWithScores(ctx, redis.ZRangeArgs{Key: index, ByScore: true,
			Start: min, Stop: "+inf", Count: page + int64(len(seen))}).Result()
		if err != nil {
			return fail("backfill search", err)
		}
		fresh := 0
		last := min
		next := map[string]bool{}
		for _, z := range zs {
			id, _ := z.Member.(string)
			score := strconv.FormatFloat(z.Score, 'f', -1, 64)
			if score != last {
				last, next = score, map[string]bool{}
			}
			next[id] = true
			if seen[id] && score == min {
				continue // met on the page before, at the same score
			}
			fresh++
			if err := s.IndexRoom(ctx, id); err != nil && chat.ErrorCode(err) != chat.CodeRoomNotFound {
				return err
			}
			*n++
		}
		if fresh == 0 || len(zs) < page+len(seen) {
			return nil
		}
		min, seen = last, next // inclusive: the rest of that score comes again
	}
}
