package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/redisstore"
	"github.com/parley-chat/parley/internal/redisstore/redistest"
)

func TestMain(m *testing.M) {
	redisstore.SetDriverLog(slog.New(slog.DiscardHandler))
	code := m.Run()
	stopSharedCluster()
	os.Exit(code)
}

// forEach runs fn against every Redis the machine has.
func forEach(t *testing.T, fn func(t *testing.T, addr string)) {
	t.Helper()
	redistest.ForEach(t, fn)
}

// uniquePrefix keeps tests that share a server apart.
func uniquePrefix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "t" + hex.EncodeToString(b[:]) + ":"
}

func mustClient(tb testing.TB, addr string) redis.UniversalClient {
	tb.Helper()
	c, err := redisstore.Connect("redis://" + addr)
	if err != nil {
		tb.Fatalf("connect: %v", err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// mustStore returns a store with a unique prefix over addr.
func mustStore(tb testing.TB, addr string, opts redisstore.Options) (*redisstore.Store, redis.UniversalClient) {
	tb.Helper()
	c := mustClient(tb, addr)
	if opts.Prefix == "" {
		opts.Prefix = uniquePrefix()
	}
	return redisstore.New(c, opts), c
}

func mustRoom(tb testing.TB, s *redisstore.Store, at time.Time) chat.Room {
	tb.Helper()
	r, err := s.CreateRoom(context.Background(), chat.Room{
		ID: chat.NewRoomID(), VisitorName: "Jane", VisitorEmail: "jane@example.com",
		Page: "https://example.com/pricing", CreatedAt: chat.Time{Time: at}, UpdatedAt: chat.Time{Time: at},
	})
	if err != nil {
		tb.Fatalf("create room: %v", err)
	}
	return r
}

func newMessage(roomID string, from chat.Sender, content string, at time.Time) chat.Message {
	m := chat.Message{ID: chat.NewMessageID(at), RoomID: roomID, Sender: from, Content: content, CreatedAt: chat.Time{Time: at}}
	if from == chat.SenderAdmin {
		m.Author = "Ann"
	}
	return m
}

func mustSend(tb testing.TB, s *redisstore.Store, roomID string, from chat.Sender, content string) chat.Message {
	tb.Helper()
	m, created, err := s.Append(context.Background(), newMessage(roomID, from, content, time.Now()), chat.AppendOptions{})
	if err != nil {
		tb.Fatalf("append: %v", err)
	}
	if !created {
		tb.Fatalf("append: got created=false, want true")
	}
	return m
}

func mustGetRoom(tb testing.TB, s *redisstore.Store, id string) chat.Room {
	tb.Helper()
	r, err := s.Room(context.Background(), id)
	if err != nil {
		tb.Fatalf("room %s: %v", id, err)
	}
	return r
}

// keysWithPrefix lists every key under prefix (SCAN: tests only).
func keysWithPrefix(tb testing.TB, c redis.UniversalClient, prefix string) []string {
	tb.Helper()
	var out []string
	iter := c.Scan(context.Background(), 0, prefix+"*", 1000).Iterator()
	for iter.Next(context.Background()) {
		out = append(out, iter.Val())
	}
	if err := iter.Err(); err != nil {
		tb.Fatalf("scan: %v", err)
	}
	return out
}

// roomKeys is keysWithPrefix without the admin logs (the partitions' and
// the team's), which the rooms' events go to and no room owns.
func roomKeys(tb testing.TB, c redis.UniversalClient, prefix string) []string {
	tb.Helper()
	var out []string
	for _, k := range keysWithPrefix(tb, c, prefix) {
		if k != prefix+"adminlog" && !strings.HasPrefix(k, prefix+"adminlog:{") {
			out = append(out, k)
		}
	}
	return out
}

func wantCode(tb testing.TB, err error, want chat.Code) {
	tb.Helper()
	if got := chat.ErrorCode(err); got != want {
		tb.Fatalf("got error %v (code %q), want code %q", err, got, want)
	}
}

func isUnavailable(err error) bool {
	var e *chat.Error
	return errors.As(err, &e) && e.Code == chat.CodeUnavailable
}
