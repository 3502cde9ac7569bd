package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
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

// forEach runs fn against every Redis the machine has: a fresh embedded
// server, a fresh redis-server, and the package's shared cluster (addr is
// then its redis-cluster:// URL: connect with mustClient or mustStore, and
// keep to a unique prefix).
func forEach(t *testing.T, fn func(t *testing.T, addr string)) {
	t.Helper()
	redistest.ForEachWithCluster(t, fn)
}

// forEachStandalone is forEach without the cluster, for a test that is
// inherently single-node: say why where it is used.
func forEachStandalone(t *testing.T, fn func(t *testing.T, addr string)) {
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
	c, err := redisstore.Connect(redistest.URL(addr))
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

// keysWithPrefix lists every key under prefix (SCAN: tests only), sorted;
// on a cluster it scans every primary.
func keysWithPrefix(tb testing.TB, c redis.UniversalClient, prefix string) []string {
	tb.Helper()
	ctx := context.Background()
	scan := func(ctx context.Context, n redis.Cmdable) ([]string, error) {
		var out []string
		iter := n.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			out = append(out, iter.Val())
		}
		return out, iter.Err()
	}
	var out []string
	var err error
	if cc, ok := c.(*redis.ClusterClient); ok {
		var mu sync.Mutex
		err = cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
			keys, err := scan(ctx, m)
			mu.Lock()
			out = append(out, keys...)
			mu.Unlock()
			return err
		})
	} else {
		out, err = scan(ctx, c)
	}
	if err != nil {
		tb.Fatalf("scan: %v", err)
	}
	slices.Sort(out)
	return slices.Compact(out)
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
