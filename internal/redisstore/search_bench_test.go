package redisstore

import (
	"context"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/redisstore/redistest"
)

// BenchmarkSearch is the search budget: p99 under 50 ms with 100,000 rooms
// and 1,000,000 messages on a real redis-server. The index is filled the
// way the scripts fill it (same keys, same terms, same scores), but with
// plain pipelined commands, one room at a time, so the fill takes a minute
// rather than the send script's quarter of an hour; then 1,000 messages go
// through the real send script and must be found. Each sub-benchmark is
// one kind of query over a rotation of words, and reports its latency
// percentiles (Store.Search: both round trips):
//
//	go test ./internal/redisstore -run XXX -bench Search -benchtime 2000x
//
// PARLEY_BENCH_SEARCH_ROOMS makes the index smaller (10 messages a room).
func BenchmarkSearch(b *testing.B) {
	rooms := 100_000
	if v, err := strconv.Atoi(os.Getenv("PARLEY_BENCH_SEARCH_ROOMS")); err == nil && v > 0 {
		rooms = v
	}
	if !redistest.Installed() {
		b.Skip("redis-server not installed")
	}
	addr := redistest.StartReal(b).Addr()
	c, err := Connect("redis://" + addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	s := New(c, Options{Prefix: "bs:"})
	ctx := context.Background()

	f := newSearchFill(rooms)
	start := time.Now()
	// The fill's pipelines are big: a client of its own, with patience.
	fc := redis.NewClient(&redis.Options{Addr: addr, ReadTimeout: time.Minute, WriteTimeout: time.Minute, Protocol: 2})
	defer fc.Close()
	if err := f.fill(ctx, s, fc); err != nil {
		b.Fatal(err)
	}
	mem, _ := c.Info(ctx, "memory").Result()
	used, _ := strconv.ParseInt(infoLine(mem, "used_memory"), 10, 64)
	// What the index costs: the terms hashes measured on a sample, the term
	// zsets as what is left of used_memory after the rooms' own keys.
	var roomBytes, termsBytes int64
	const sample = 500
	for i := range sample {
		id := f.ids[i*len(f.ids)/sample]
		roomBytes += c.MemoryUsage(ctx, s.keys.Room(id)).Val() + c.MemoryUsage(ctx, s.keys.Msgs(id)).Val()
		termsBytes += c.MemoryUsage(ctx, s.keys.Terms(id)).Val()
	}
	roomBytes = roomBytes * int64(rooms) / sample
	termsBytes = termsBytes * int64(rooms) / sample
	b.Logf("filled %d rooms, %d messages (%d term zsets) in %v; redis used %d MB: rooms and messages ~%d MB, terms hashes ~%d MB, term zsets and indexes ~%d MB",
		rooms, f.messages, f.termCount(), time.Since(start).Round(time.Second), used>>20, roomBytes>>20, termsBytes>>20, (used-roomBytes-termsBytes)>>20)

	// Live sends through the real script are indexed like the fill.
	live := f.ids[:1000]
	for i, id := range live {
		m := chat.Message{ID: chat.NewMessageID(time.Now()), RoomID: id, Sender: chat.SenderVisitor,
			Content: "zqxlive" + strconv.Itoa(i%10) + " " + f.sentence(rand.New(rand.NewPCG(uint64(i), 7))), CreatedAt: chat.Time{Time: time.Now()}}
		if _, _, err := s.Append(ctx, m, chat.AppendOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	p, err := s.Search(ctx, chat.SearchQuery{Terms: []string{"zqxlive3"}, Limit: 50})
	if err != nil || len(p.Results) != 50 || !p.More || p.Results[0].Room.ID != live[993] || p.Results[0].Match.Kind != chat.MatchMessage {
		b.Fatalf("live sends: got %d results (more %v), err %v; want the newest of 100 first", len(p.Results), p.More, err)
	}

	w := func(rank int) string { return f.words[rank] }
	rare := len(f.words) - 1
	kinds := []struct {
		name  string
		query func(i int) []string
	}{
		{"common", func(i int) []string { return []string{w(i % 10)} }},                      // in nearly every room
		{"mid", func(i int) []string { return []string{w(100 + i%400)} }},                    // in 1-10% of rooms
		{"rare", func(i int) []string { return []string{w(rare - i%500)} }},                  // in a few dozen rooms
		{"common+common", func(i int) []string { return []string{w(i % 10), w(10 + i%20)} }}, // dense intersection
		{"common+rare", func(i int) []string { return []string{w(i % 10), w(rare - i%500)} }},
		{"mid+mid", func(i int) []string { return []string{w(100 + i%50), w(150 + i%50)} }}, // sparse intersection
		{"rare+rare", func(i int) []string { return []string{w(rare - i%500), w(rare - 500 - i%500)} }},
		{"three", func(i int) []string { return []string{w(i % 5), w(20 + i%30), w(200 + i%300)} }},
		{"five", func(i int) []string {
			return []string{w(i % 5), w(5 + i%5), w(10 + i%10), w(40 + i%40), w(300 + i%300)}
		}},
		{"name prefix", func(i int) []string { return []string{strings.ToLower(searchFirstNames[i%len(searchFirstNames)][:3])} }},
		{"name+word", func(i int) []string {
			return []string{strings.ToLower(searchLastNames[i%len(searchLastNames)]), w(i % 50)}
		}},
	}
	run := func(b *testing.B, query func(i int) []string) {
		lat := make([]time.Duration, 0, 4096)
		results := 0
		_ = c.ConfigResetStat(ctx).Err()
		for i := 0; b.Loop(); i++ {
			t0 := time.Now()
			p, err := s.Search(ctx, chat.SearchQuery{Terms: query(i), Limit: chat.DefaultSearchLimit})
			lat = append(lat, time.Since(t0))
			if err != nil {
				b.Fatal(err)
			}
			results += len(p.Results)
		}
		slices.Sort(lat)
		pct := func(p float64) float64 {
			return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
		}
		b.ReportMetric(pct(0.50), "p50-ms")
		b.ReportMetric(pct(0.99), "p99-ms")
		b.ReportMetric(float64(results)/float64(len(lat)), "results/op")
		// Redis's own time per search (both round trips' commands), which
		// the machine's other load disturbs less than the wall clock.
		if info, err := c.Info(ctx, "commandstats").Result(); err == nil {
			b.ReportMetric(float64(serverUsec(info))/1000/float64(len(lat)), "redis-ms/op")
		}
	}
	for _, k := range kinds {
		b.Run(k.name, func(b *testing.B) { run(b, k.query) })
	}
	b.Run("mix", func(b *testing.B) {
		run(b, func(i int) []string { return kinds[i%len(kinds)].query(i / len(kinds)) })
	})
}

// serverUsec sums the usec of every command in INFO commandstats.
func serverUsec(info string) int64 {
	var total int64
	for line := range strings.SplitSeq(info, "\n") {
		if !strings.HasPrefix(line, "cmdstat_") || strings.HasPrefix(line, "cmdstat_config:") || strings.HasPrefix(line, "cmdstat_info:") {
			continue
		}
		for kv := range strings.SplitSeq(line[strings.IndexByte(line, ':')+1:], ",") {
			if v, ok := strings.CutPrefix(kv, "usec="); ok {
				n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				total += n
			}
		}
	}
	return total
}

func infoLine(info, name string) string {
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			return v
		}
	}
	return "?"
}

var (
	searchFirstNames = []string{"Priya", "James", "Maria", "Wei", "Olga", "Ahmed", "Sofia", "Kenji", "Liam", "Amara",
		"Lucas", "Chloe", "Mateo", "Yuki", "Noah", "Fatima", "Elena", "Omar", "Hannah", "Ivan", "Zara", "Diego",
		"Mei", "Jonas", "Aisha", "Pierre", "Ingrid", "Ravi", "Nina", "Tomas"}
	searchLastNames = []string{"Sharma", "Smith", "Garcia", "Zhang", "Ivanova", "Hassan", "Rossi", "Tanaka", "Murphy",
		"Okafor", "Silva", "Dubois", "Lopez", "Sato", "Brown", "Khan", "Petrov", "Ali", "Schmidt", "Novak", "Kowalski",
		"Jensen", "Moreau", "Nguyen", "Costa", "Fischer", "Larsen", "Patel", "Berg", "Horvat", "Walsh", "Kim"}
)

// searchFill is a synthetic support inbox: a vocabulary of 3,000 words
// drawn with a Zipf law (the commonest is in almost every room, the rarest
// in a handful), ten messages a room.
type searchFill struct {
	rooms    int
	words    []string
	ids      []string
	messages int
	mu       sync.Mutex
	terms    map[string]bool
}

func newSearchFill(rooms int) *searchFill {
	f := &searchFill{rooms: rooms, terms: map[string]bool{}}
	syl := []string{"ba", "ko", "ri", "te", "lu", "ma", "sen", "dor", "vi", "na", "pel", "qua", "zo", "fi", "gar", "hu", "jen", "wex"}
	seen := map[string]bool{}
	r := rand.New(rand.NewPCG(1, 2))
	for len(f.words) < 3000 {
		n := 1 + r.IntN(3)
		var w strings.Builder
		for range n {
			w.WriteString(syl[r.IntN(len(syl))])
		}
		if s := w.String(); len(s) >= 3 && !seen[s] {
			seen[s] = true
			f.words = append(f.words, s)
		}
	}
	f.ids = make([]string, rooms)
	for i := range f.ids {
		f.ids[i] = chat.NewRoomID()
	}
	return f
}

// sentence is 4 to 16 words of the vocabulary, Zipf-distributed.
func (f *searchFill) sentence(r *rand.Rand) string {
	return f.sentenceOf(r, rand.NewZipf(r, 1.07, 2, uint64(len(f.words)-1)))
}

func (f *searchFill) sentenceOf(r *rand.Rand, z *rand.Zipf) string {
	n := 4 + r.IntN(13)
	ws := make([]string, n)
	for i := range ws {
		ws[i] = f.words[z.Uint64()]
	}
	return strings.Join(ws, " ")
}

func (f *searchFill) termCount() int { return len(f.terms) }

// fill writes every room with 6 writers, 100 rooms a pipeline.
func (f *searchFill) fill(ctx context.Context, s *Store, c *redis.Client) error {
	const writers, batch = 6, 100
	now := time.Now().UnixMilli()
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for lo := w * batch; lo < f.rooms; lo += writers * batch {
				p := c.Pipeline()
				for i := lo; i < min(lo+batch, f.rooms); i++ {
					f.room(ctx, s, p, i, now)
				}
				if _, err := p.Exec(ctx); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// room queues what create.lua and ten send.lua calls would have written of
// room i (the search index, the room hash, its messages, the room index).
func (f *searchFill) room(ctx context.Context, s *Store, p redis.Pipeliner, i int, now int64) {
	r := rand.New(rand.NewPCG(uint64(i), 3))
	id := f.ids[i]
	first, last := searchFirstNames[r.IntN(len(searchFirstNames))], searchLastNames[r.IntN(len(searchLastNames))]
	name := first + " " + last
	email := strings.ToLower(first) + "." + strings.ToLower(last) + strconv.Itoa(i) + "@example.com"
	created := now - r.Int64N(25*24*3600*1000)
	where := map[string]string{}
	score := map[string]int64{}
	for _, t := range chat.VisitorTerms(name, email) {
		where[t], score[t] = "v", created
	}
	msgs := make([]any, 0, 10)
	z := rand.NewZipf(r, 1.07, 2, uint64(len(f.words)-1))
	at := created
	var content string
	for seq := int64(1); seq <= 10; seq++ {
		at += 1000 + r.Int64N(120_000)
		content = f.sentenceOf(r, z)
		sender := chat.SenderVisitor
		if seq%2 == 0 {
			sender = chat.SenderAdmin
		}
		open, _ := messageOpen(chat.Message{ID: chat.NewMessageID(time.UnixMilli(at)), RoomID: id, Sender: sender,
			Content: content, CreatedAt: chat.TimeFromMillis(at)})
		msgs = append(msgs, open+strconv.FormatInt(seq, 10)+"}")
		for _, t := range chat.SearchTerms(content) {
			where[t], score[t] = "m"+strconv.FormatInt(seq, 10), at
		}
	}
	p.HSet(ctx, s.keys.Room(id), fName, name, fEmail, email, fPage, "https://example.com/", fCreatedAt, created,
		fUpdatedAt, at, fSeq, 10, fFirstSeq, 1, fUnread, 5, fVisitorUnread, 0, fAdminRead, 0, fVisitorRead, 0,
		fBlocked, 0, fLastSeq, 10, fLastSender, string(chat.SenderAdmin), fLastContent, content, fLastAt, at, fClient, "")
	p.RPush(ctx, s.keys.Msgs(id), msgs...)
	p.ZAdd(ctx, s.keys.Rooms(), redis.Z{Score: float64(at), Member: id})
	fields := make([]any, 0, 2*len(where))
	tag := indexTags[PartitionOf(id)]
	f.mu.Lock()
	for t, w := range where {
		fields = append(fields, t, w)
		p.ZAdd(ctx, s.keys.SearchPartTerm(tag, t), redis.Z{Score: float64(score[t]), Member: id})
		f.terms[t] = true
	}
	f.messages += 10
	f.mu.Unlock()
	p.HSet(ctx, s.keys.Terms(id), fields...)
	p.ZAdd(ctx, s.keys.SearchPartRooms(tag), redis.Z{Score: float64(at), Member: id})
}
