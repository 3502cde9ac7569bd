package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/redisstore"
	"github.com/parley-chat/parley/internal/redisstore/redistest"
)

func benchNewStore(b *testing.B, addr string) *redisstore.Store {
	b.Helper()
	c, err := redisstore.Connect("redis://" + addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	var tag [4]byte
	_, _ = rand.Read(tag[:])
	return redisstore.New(c, redisstore.Options{Prefix: "b" + hex.EncodeToString(tag[:]) + ":", RoomTTL: 720 * time.Hour})
}

func benchCreateRooms(b *testing.B, s *redisstore.Store, n int, withMessage bool) []string {
	b.Helper()
	ctx := context.Background()
	ids := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	for w := 0; w < 32; w++ {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				now := time.Now()
				r, err := s.CreateRoom(ctx, chat.Room{ID: chat.NewRoomID(), VisitorName: "Bench " + strconv.Itoa(i),
					Page: "https://example.com/", CreatedAt: chat.Time{Time: now}, UpdatedAt: chat.Time{Time: now}})
				if err == nil && withMessage {
					_, _, err = s.Append(ctx, benchMsg(r.ID, now), chat.AppendOptions{})
				}
				if err != nil {
					failed.Store(err)
					return
				}
				ids[i] = r.ID
			}
		})
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatalf("seed: %v", err)
	}
	return ids
}

func benchMsg(roomID string, now time.Time) chat.Message {
	return chat.Message{ID: chat.NewMessageID(now), RoomID: roomID, Sender: chat.SenderVisitor,
		Content: "Hello! I have a question about my order, it has not arrived yet.", CreatedAt: chat.Time{Time: now}}
}

// BenchmarkAppend is the send script (lua/send.lua, publish included): one
// sender at a time (a round trip per op), then many at once (throughput).
func BenchmarkAppend(b *testing.B) {
	redistest.ForEachB(b, func(b *testing.B, addr string) {
		s := benchNewStore(b, addr)
		ids := benchCreateRooms(b, s, 100, false)
		ctx := context.Background()
		b.Run("serial", func(b *testing.B) {
			b.ReportAllocs()
			defer redisUsec(b, addr)()
			for i := 0; b.Loop(); i++ {
				if _, _, err := s.Append(ctx, benchMsg(ids[i%len(ids)], time.Now()), chat.AppendOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		// What Service.send does with mail on: the send script, then the
		// agents' due entry (one pipelined round trip more).
		b.Run("serial+notify", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				now := time.Now()
				m, _, err := s.Append(ctx, benchMsg(ids[i%len(ids)], now), chat.AppendOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if err := s.ScheduleNotify(ctx, m.RoomID, chat.NotifyAgents, now.Add(time.Minute), ""); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("clientId", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, _, err := s.Append(ctx, benchMsg(ids[i%len(ids)], time.Now()), chat.AppendOptions{ClientID: "c" + strconv.Itoa(i)}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(16)
			var n atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := int(n.Add(1))
					if _, _, err := s.Append(ctx, benchMsg(ids[i%len(ids)], time.Now()), chat.AppendOptions{}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
		// A visitor's send carries its client key, whose block marker is
		// checked (a global key, read before the send script).
		visitor := chat.AppendOptions{ClientKey: "192.0.2.1"}
		b.Run("serial/clientKey", func(b *testing.B) {
			b.ReportAllocs()
			defer redisUsec(b, addr)()
			for i := 0; b.Loop(); i++ {
				if _, _, err := s.Append(ctx, benchMsg(ids[i%len(ids)], time.Now()), visitor); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("parallel/clientKey", func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(16)
			var n atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := int(n.Add(1))
					if _, _, err := s.Append(ctx, benchMsg(ids[i%len(ids)], time.Now()), visitor); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	})
}

// BenchmarkListRooms is one admin page of 50 rooms out of many, first page
// and deep behind a cursor: the list script plus one pipelined HGETALL.
func BenchmarkListRooms(b *testing.B) {
	redistest.ForEachB(b, func(b *testing.B, addr string) {
		n := 10_000
		if strings.HasSuffix(b.Name(), "/redis-server") {
			n = 100_000 // the budget's index size; too slow to seed on the embedded server
		}
		s := benchNewStore(b, addr)
		benchCreateRooms(b, s, n, true)
		ctx := context.Background()
		// Find a cursor at about 90% depth.
		cursor := ""
		for depth := 0; depth < n*9/10; depth += chat.MaxLimit {
			p, err := s.ListRooms(ctx, chat.RoomQuery{Filter: chat.FilterAll, Limit: chat.MaxLimit, Cursor: cursor})
			if err != nil {
				b.Fatal(err)
			}
			cursor = p.NextCursor
		}
		for _, tc := range []struct {
			name string
			q    chat.RoomQuery
		}{
			{"rooms=" + strconv.Itoa(n) + "/first", chat.RoomQuery{Filter: chat.FilterAll, Limit: 50}},
			{"rooms=" + strconv.Itoa(n) + "/unread", chat.RoomQuery{Filter: chat.FilterUnread, Limit: 50}},
			{"rooms=" + strconv.Itoa(n) + "/deep", chat.RoomQuery{Filter: chat.FilterAll, Limit: 50, Cursor: cursor}},
		} {
			b.Run(tc.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					p, err := s.ListRooms(ctx, tc.q)
					if err != nil {
						b.Fatal(err)
					}
					if len(p.Rooms) != 50 {
						b.Fatalf("got %d rooms, want 50", len(p.Rooms))
					}
				}
			})
		}
	})
}

// BenchmarkIsRevoked is the Redis read every admin request adds to its
// token check.
func BenchmarkIsRevoked(b *testing.B) {
	redistest.ForEachB(b, func(b *testing.B, addr string) {
		s := benchNewStore(b, addr)
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.IsRevoked(ctx, "abcdefghijklmnopqrst"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// redisUsec resets the server's command stats, and returns a func that
// reports the server-side time of a script call (EVALSHA) as redis-µs/op:
// what a change to a script costs Redis, without the noise of the round trip.
func redisUsec(b *testing.B, addr string) func() {
	b.Helper()
	c, err := redisstore.Connect("redis://" + addr)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	_ = c.ConfigResetStat(ctx).Err()
	return func() {
		defer c.Close()
		info, err := c.Info(ctx, "commandstats").Result()
		if err != nil {
			return
		}
		for line := range strings.SplitSeq(info, "\n") {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_evalsha:"); ok {
				for kv := range strings.SplitSeq(rest, ",") {
					if v, ok := strings.CutPrefix(kv, "usec_per_call="); ok {
						f, _ := strconv.ParseFloat(v, 64)
						b.ReportMetric(f, "redis-µs/op")
					}
				}
			}
		}
	}
}
