package redisstore

import (
	"context"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/redisstore/redistest"
)

// BenchmarkListRoomsCluster is the room list on a real local cluster (3
// primaries, 3 replicas): 100,000 rooms written in their own slots and
// placed in their partitions by follow-ups (the room scripts are still
// refused on a cluster: their admin log key), then a page of 50 of every
// kind. Run it by hand:
//
//	go test -run '^$' -bench ListRoomsCluster -benchtime 1000x ./internal/redisstore/
func BenchmarkListRoomsCluster(b *testing.B) {
	if !redistest.ClusterInstalled() {
		b.Skip("redis-server or redis-cli not installed")
	}
	dir, err := os.MkdirTemp("", "parley-cluster-bench-")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(dir)
	cl, err := redistest.NewCluster(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	c, err := Connect(cl.URL())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if err := cl.WaitHealthy(ctx); err != nil {
		b.Fatal(err)
	}
	benchListRooms(b, c)
}

// BenchmarkListRoomsStandalone is BenchmarkListRoomsCluster on one real
// redis-server: the budget's setting (p99 < 5 ms for a page of 50 of
// 100,000 rooms, docs/PERFORMANCE.md), without HTTP.
//
//	go test -run '^$' -bench ListRoomsStandalone -benchtime 2000x ./internal/redisstore/
func BenchmarkListRoomsStandalone(b *testing.B) {
	if !redistest.Installed() {
		b.Skip("redis-server not installed")
	}
	real := redistest.StartReal(b)
	c, err := Connect(redistest.URL(real.Addr()))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	benchListRooms(b, c)
}

// benchListRooms fills 100,000 rooms through c and times pages of 50.
func benchListRooms(b *testing.B, c redis.UniversalClient) {
	ctx := context.Background()
	s := New(c, Options{Prefix: "bench:", RoomTTL: time.Hour})
	const n = 100_000
	now := time.Now().UnixMilli()
	ids := make([]string, n)
	for start := 0; start < n; start += 1000 {
		if _, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := start; i < start+1000; i++ {
				ids[i] = chat.NewRoomID()
				p.HSet(ctx, s.keys.Room(ids[i]), "name", "V", "createdAt", now, "updatedAt", now+int64(i), "seq", 1,
					"firstSeq", 1, "unread", i%3, "status", "open", "ver", 1)
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		calls := make([]scriptCall, 0, 1000)
		for i := start; i < start+1000; i++ {
			unread := "0"
			if i%3 > 0 {
				unread = "1"
			}
			p := PartitionOf(ids[i])
			calls = append(calls, scriptCall{keys: s.partKeys(p), args: s.placeArgs(p, placePut, ids[i],
				placement{"1", strconv.FormatInt(now+int64(i), 10), unread, "open", "", "", "", ""})})
		}
		if _, err := s.runPipelined(ctx, placeScript, calls); err != nil {
			b.Fatal(err)
		}
	}
	cursor := ""
	for depth := 0; depth < n*9/10; depth += chat.MaxLimit {
		p, err := s.ListRooms(ctx, chat.RoomQuery{Limit: chat.MaxLimit, Cursor: cursor})
		if err != nil {
			b.Fatal(err)
		}
		cursor = p.NextCursor
	}
	for _, tc := range []struct {
		name string
		q    chat.RoomQuery
	}{
		{"first", chat.RoomQuery{Limit: 50}},
		{"unread", chat.RoomQuery{Filter: chat.FilterUnread, Limit: 50}},
		{"unassigned", chat.RoomQuery{Filter: chat.FilterUnassigned, Limit: 50}},
		{"deep", chat.RoomQuery{Limit: 50, Cursor: cursor}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var lat []time.Duration
			before := redisCPU(ctx, c)
			for b.Loop() {
				t0 := time.Now()
				p, err := s.ListRooms(ctx, tc.q)
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
				if len(p.Rooms) != 50 || p.Counts.All != n {
					b.Fatalf("got %d rooms of %d, want 50 of %d", len(p.Rooms), p.Counts.All, n)
				}
			}
			reportQuantiles(b, lat)
			if after := redisCPU(ctx, c); before >= 0 && after >= 0 && len(lat) > 0 {
				b.ReportMetric(float64(after-before)/float64(len(lat)), "redis-us/op")
			}
		})
	}
}

// redisCPU is the microseconds Redis spent in commands so far (INFO
// commandstats; -1 on a cluster, where INFO goes to one node).
func redisCPU(ctx context.Context, c redis.UniversalClient) int64 {
	rc, ok := c.(*redis.Client)
	if !ok {
		return -1
	}
	info, err := rc.Info(ctx, "commandstats").Result()
	if err != nil {
		return -1
	}
	var total int64
	for _, line := range strings.Split(info, "\n") {
		_, rest, ok := strings.Cut(line, ",usec=")
		if !ok {
			continue
		}
		v, _, _ := strings.Cut(rest, ",")
		n, _ := strconv.ParseInt(v, 10, 64)
		total += n
	}
	return total
}

// reportQuantiles adds the p50 and p99 of lat to the benchmark's report.
func reportQuantiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	sorted := slices.Clone(lat)
	slices.Sort(sorted)
	b.ReportMetric(float64(sorted[len(sorted)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(sorted[len(sorted)*99/100].Microseconds())/1000, "p99-ms")
}
