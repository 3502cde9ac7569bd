package redisstore

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/chat"
)

// The search indexer: a send stores its message and its follow-up appends
// its event to the partition's admin log (lua/send.lua, lua/place.lua);
// the indexer reads the logs in batches with a consumer group per log and writes the messages' terms to the search index
// (lua/index.lua), one script per room of the batch, all in one pipeline.
// Taking the index out of the send script halves what Redis does for a
// send, and a batch writes a word a room repeats once, not once a message.
//
// Every instance runs an indexer (Store.RunSearchIndexer); the group hands
// each entry to one of them, an entry is acked only after it is indexed,
// and the entries of an indexer that died are claimed by another after
// indexIdle, so a crash loses nothing. Indexing an entry twice is harmless
// (index.lua only raises scores). A search first catches up
// (Store.CatchUpSearch): it indexes what no indexer has taken yet and waits
// briefly for what they hold, so a message sent before a search is found by
// it.
const (
	// IndexGroup is the indexers' consumer group on the admin log.
	IndexGroup = "search-index"
	// indexBatch is how many log entries one read takes at most.
	indexBatch = 1000
	// indexWait is how long a read blocks for new entries.
	indexWait = time.Second
	// indexIdle is how long an entry may stay with an indexer before
	// another claims it (it died, or it is stuck).
	indexIdle = 30 * time.Second
	// catchUpIdle is the same for a search catching up: an indexer takes
	// milliseconds for a batch, so one held a second is as good as lost.
	catchUpIdle = time.Second
	// catchUpWait bounds how long a search waits for the batches other
	// indexers hold.
	catchUpWait = 250 * time.Millisecond
	// maxIndexTerms bounds the terms of one index script.
	maxIndexTerms = 256
	// indexPause is how long an indexer rests after a batch that was not
	// full, so that under load a batch holds many messages of each room (a
	// word a room repeats is written once a batch) and costs one round trip
	// for hundreds of sends; searches catch up by themselves meanwhile.
	indexPause = 100 * time.Millisecond
)

// RunSearchIndexer indexes the messages of the admin log until ctx ends.
// A failure (Redis down) is logged and retried after a second.
func (s *Store) RunSearchIndexer(ctx context.Context, log *slog.Logger) {
	for ctx.Err() == nil {
		n, err := s.indexOnce(ctx, indexWait, indexIdle)
		rest := time.Duration(0)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return
			}
			log.Warn("search indexer", "err", err)
			rest = time.Second
		case n > 0 && n < indexBatch:
			rest = indexPause
		}
		if rest > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(rest):
			}
		}
	}
}

// CatchUpSearch indexes the messages of the admin log that no indexer has
// taken yet, and waits up to catchUpWait for the ones being indexed.
func (s *Store) CatchUpSearch(ctx context.Context) error {
	for range 16 {
		n, err := s.indexOnce(ctx, 0, catchUpIdle)
		if err != nil {
			return err
		}
		if n < indexBatch {
			break
		}
	}
	deadline := time.Now().Add(catchUpWait)
	for {
		pending, err := s.pendingLogs(ctx, roomLogs, IndexGroup)
		if err != nil {
			return fail("search catch-up", err)
		}
		if pending == 0 || time.Now().After(deadline) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
}

func (s *Store) indexConsumer() string { return "indexer-" + s.memberTag }

// indexOnce reads one batch (claiming entries held longer than idle,
// waiting up to wait for new ones), indexes it and acks it. It returns how
// many entries it read.
func (s *Store) indexOnce(ctx context.Context, wait, idle time.Duration) (int, error) {
	// A group made now starts at the log's beginning: a message sent before
	// it existed is indexed all the same (again, at worst).
	// The partitions' logs only: the team log has no messages.
	entries, err := s.readLogs(ctx, roomLogs, IndexGroup, "0", s.indexConsumer(), indexBatch, wait, idle)
	if err != nil {
		return 0, fail("search indexer", err)
	}
	if len(entries) == 0 {
		return 0, nil
	}
	msgs := make([]redis.XMessage, len(entries))
	ids := make([]string, len(entries))
	for i, e := range entries {
		msgs[i], ids[i] = e.XMessage, e.id()
	}
	if err := s.index(ctx, msgs); err != nil {
		return 0, err
	}
	if err := s.AckAdminLog(ctx, IndexGroup, ids...); err != nil {
		return 0, err
	}
	return len(entries), nil
}

// indexedEvent is what the indexer reads of a message event.
type indexedEvent struct {
	RoomID  string `json:"roomId"`
	Message struct {
		Seq       int64     `json:"seq"`
		Content   string    `json:"content"`
		CreatedAt chat.Time `json:"createdAt"`
	} `json:"message"`
}

// roomTerms is what a batch indexes for one room.
type roomTerms struct {
	id     string
	latest int64
	order  []string
	hits   map[string]termHit
}

type termHit struct{ seq, at int64 }

// index writes the terms of the message events among entries.
func (s *Store) index(ctx context.Context, entries []redis.XMessage) error {
	var rooms []*roomTerms
	byID := map[string]*roomTerms{}
	for _, e := range entries {
		raw, _ := e.Values["e"].(string)
		if !strings.HasPrefix(raw, `{"type":"message",`) {
			continue
		}
		// Only the message is read: the room hash after it is not needed.
		head, _, _ := cutFlat(raw, "roomHash")
		var ev indexedEvent
		if err := json.Unmarshal([]byte(head), &ev); err != nil || ev.RoomID == "" {
			continue // not a message this version wrote: nothing to index
		}
		r := byID[ev.RoomID]
		if r == nil {
			r = &roomTerms{id: ev.RoomID, hits: map[string]termHit{}}
			byID[ev.RoomID] = r
			rooms = append(rooms, r)
		}
		at := ev.Message.CreatedAt.Millis()
		r.latest = max(r.latest, at)
		for _, t := range chat.SearchTerms(ev.Message.Content) {
			old, seen := r.hits[t]
			if !seen {
				r.order = append(r.order, t)
			}
			if !seen || ev.Message.Seq > old.seq {
				r.hits[t] = termHit{seq: ev.Message.Seq, at: max(at, old.at)}
			}
		}
	}
	if len(rooms) == 0 {
		return nil
	}
	// Two steps, a pipeline each: the room's (lua/index.lua: the terms
	// hash, only while the room exists), then, for the rooms that still
	// exist, the partition's (lua/searchput.lua: the term zsets, refused
	// for a room tombstoned meanwhile).
	ttl := s.termsTTL()
	type chunk struct {
		r     *roomTerms
		terms []string
	}
	var chunks []chunk
	var roomCalls []scriptCall
	for _, r := range rooms {
		for start := 0; start == 0 || start < len(r.order); start += maxIndexTerms {
			terms := r.order[start:min(start+maxIndexTerms, len(r.order))]
			args := make([]any, 0, 1+2*len(terms))
			args = append(args, ttl)
			for _, t := range terms {
				args = append(args, t, "m"+strconv.FormatInt(r.hits[t].seq, 10))
			}
			chunks = append(chunks, chunk{r, terms})
			roomCalls = append(roomCalls, scriptCall{keys: []string{s.keys.Room(r.id), s.keys.Terms(r.id)}, args: args})
		}
	}
	cmds, err := s.runPipelined(ctx, indexScript, roomCalls)
	if err != nil {
		return fail("search indexer", err)
	}
	var partCalls []scriptCall
	for i, c := range cmds {
		if n, _ := c.Int64(); n != 1 {
			continue // the room is gone: nothing to index
		}
		ch := chunks[i]
		partCalls = append(partCalls, s.searchPutCall(ch.r.id, ch.r.latest, "GT", ch.terms,
			func(j int) int64 { return ch.r.hits[ch.terms[j]].at }))
	}
	if len(partCalls) == 0 {
		return nil
	}
	if _, err := s.runPipelined(ctx, searchPutScript, partCalls); err != nil {
		return fail("search indexer", err)
	}
	return nil
}
