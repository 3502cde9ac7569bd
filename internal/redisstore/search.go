package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
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

// withTerms appends the zset key of each term to keys and the term to args,
// as the index blocks of the scripts take them.
func (s *Store) withTerms(keys []string, args []any, terms []string) ([]string, []any) {
	for _, t := range terms {
		keys = append(keys, s.keys.SearchTerm(t))
		args = append(args, t)
	}
	return keys, args
}

// Search finds the rooms with every term of q in exactly two round trips
// (three the first time after Redis lost its scripts): lua/search.lua
// walks the index, then one pipeline reads each room found and, with
// lua/searchhit.lua, the message, note or visitor detail it matched.
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
	keys := make([]string, len(q.Terms))
	for i, t := range q.Terms {
		keys[i] = s.keys.SearchTerm(t)
	}
	res, err := searchScript.Run(ctx, s.rdb, keys, q.Limit+1, searchBudget, s.keys.RoomPrefix()).Slice()
	if err != nil {
		return chat.SearchPage{}, fail("search", err)
	}
	if len(res) < 2 {
		return chat.SearchPage{}, fmt.Errorf("redisstore: search: unexpected reply %v", res)
	}
	rare, _ := res[0].(int64)
	stopped, _ := res[1].(int64)
	page.More = stopped == 1
	entries := res[2:]
	if len(entries)/2 > q.Limit {
		entries = entries[:2*q.Limit]
		page.More = true
	}
	if len(entries) == 0 {
		return page, nil
	}
	term := q.Terms[0]
	if rare >= 1 && int(rare) <= len(q.Terms) {
		term = q.Terms[rare-1]
	}
	ids := make([]string, 0, len(entries)/2)
	for i := 0; i < len(entries); i += 2 {
		id, _ := entries[i].(string)
		ids = append(ids, id)
	}
	rooms := make([]*redis.StringSliceCmd, len(ids))
	hits := make([]*redis.Cmd, len(ids))
	err = s.pipelineScripts(ctx, searchHitScript, func(p redis.Pipeliner) {
		for i, id := range ids {
			rooms[i] = hmgetRoom(ctx, s.keys.Room(id))
			_ = p.Process(ctx, rooms[i])
			hits[i] = searchHitScript.EvalSha(ctx, p,
				[]string{s.keys.Terms(id), s.keys.Msgs(id), s.keys.Notes(id), s.keys.Room(id)}, term)
		}
	}, func() []*redis.Cmd { return hits })
	if err != nil {
		return chat.SearchPage{}, fail("search", err)
	}
	page.Results = make([]chat.SearchResult, 0, len(ids))
	for i, id := range ids {
		// A room deleted since the walk is skipped.
		r, ok := roomFromValues(id, rooms[i].Val())
		if !ok {
			continue
		}
		hit, _ := hits[i].StringSlice()
		page.Results = append(page.Results, chat.SearchResult{Room: r, Match: searchMatch(r, hit, q.Terms)})
	}
	return page, nil
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
// index (every room of SearchRooms scored before now minus the room TTL
// whose hash is gone), and returns how many it took out. Rooms still there
// are scored again by when they expire. Without a room TTL it does
// nothing. Every step is an idempotent script: instances may sweep at once.
func (s *Store) SweepSearch(ctx context.Context, now time.Time, max int) (int, error) {
	removed, _, err := s.sweepSearch(ctx, now, max)
	return removed, err
}

// sweepSearch is SweepSearch that also tells how many rooms it looked at.
func (s *Store) sweepSearch(ctx context.Context, now time.Time, max int) (removed, seen int, err error) {
	if s.ttlMS <= 0 {
		return 0, 0, nil
	}
	cutoff := now.UnixMilli() - s.ttlMS
	ids, err := s.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: s.keys.SearchRooms(), ByScore: true,
		Start: "-inf", Stop: "(" + strconv.FormatInt(cutoff, 10), Count: int64(max)}).Result()
	if err != nil {
		return 0, 0, fail("sweep search", err)
	}
	if len(ids) == 0 {
		return 0, 0, nil
	}
	cmds := make([]*redis.Cmd, len(ids))
	err = s.pipelineScripts(ctx, searchSweepScript, func(p redis.Pipeliner) {
		for i, id := range ids {
			cmds[i] = searchSweepScript.EvalSha(ctx, p,
				[]string{s.keys.Room(id), s.keys.Terms(id), s.keys.SearchRooms()},
				id, s.keys.SearchTermPrefix(), cutoff, SearchGrace.Milliseconds())
		}
	}, func() []*redis.Cmd { return cmds })
	if err != nil {
		return 0, 0, fail("sweep search", err)
	}
	for _, c := range cmds {
		if n, _ := c.Int64(); n == 1 {
			removed++
		}
	}
	return removed, len(ids), nil
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
			_, seen, err := s.sweepSearch(ctx, time.Now(), sweepBatch)
			if err != nil {
				if ctx.Err() == nil {
					log.Warn("search sweep failed", "err", err)
				}
				break
			}
			if seen < sweepBatch {
				break
			}
		}
	}
}

// IndexRoom indexes a room stored before the search index existed: its
// visitor's name and email and the messages it still has (one read, then
// lua/searchbackfill.lua, which keeps what the room scripts indexed since).
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
	keys := make([]string, 0, 3+len(order))
	keys = append(keys, s.keys.Room(id), s.keys.Terms(id), s.keys.SearchRooms())
	args := make([]any, 0, 2+3*len(order))
	args = append(args, id, SearchGrace.Milliseconds())
	for _, t := range order {
		keys = append(keys, s.keys.SearchTerm(t))
		args = append(args, t, hits[t].where, hits[t].at)
	}
	n, err := searchBackfillScript.Run(ctx, s.rdb, keys, args...).Int64()
	if err != nil {
		return fail("index room", err)
	}
	if n == 0 {
		return chat.ErrRoomNotFound
	}
	return nil
}

// BackfillSearch indexes every room of the room index once (IndexRoom),
// oldest first, then sets SearchIndexed so that later starts skip it; it
// returns how many rooms it indexed. Rooms are read by score, so one that
// moves while the walk goes on is met again rather than missed. Several
// instances may run it at once: it is idempotent.
func (s *Store) BackfillSearch(ctx context.Context) (int, error) {
	done, err := s.rdb.Get(ctx, s.keys.SearchIndexed()).Result()
	if err != nil && !isNil(err) {
		return 0, fail("backfill search", err)
	}
	if done == "1" {
		return 0, nil
	}
	n := 0
	// The partitions, and the global index of before them while it has
	// not been moved yet (MigrateIndex).
	indexes := []string{s.keys.Rooms()}
	for p := range IndexPartitions {
		indexes = append(indexes, s.keys.PartRooms(indexTags[p]))
	}
	for _, index := range indexes {
		if err := s.backfillIndex(ctx, index, &n); err != nil {
			return n, err
		}
	}
	if err := s.rdb.Set(ctx, s.keys.SearchIndexed(), "1", 0).Err(); err != nil {
		return n, fail("backfill search", err)
	}
	return n, nil
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
