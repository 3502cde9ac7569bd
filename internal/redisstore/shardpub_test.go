package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/redisstore"
	"github.com/parley-chat/parley/internal/redisstore/redistest"
)

// shardChannel is partition p's shard channel under prefix (keys.go
// PartEvents).
func shardChannel(prefix string, p int) string {
	return prefix + "events:{" + redisstore.IndexTag(p) + "}"
}

// shardSubscribers is PUBSUB SHARDNUMSUB of channel on the primary that
// serves its slot.
func shardSubscribers(t *testing.T, c redis.UniversalClient, channel string) int64 {
	t.Helper()
	ctx := context.Background()
	node, err := c.(*redis.ClusterClient).MasterForKey(ctx, channel)
	if err != nil {
		t.Fatal(err)
	}
	n, err := node.PubSubShardNumSub(ctx, channel).Result()
	if err != nil {
		t.Fatalf("PUBSUB SHARDNUMSUB %s on %s: %v", channel, node.Options().Addr, err)
	}
	return n[channel]
}

// roomsInEveryPartition creates rooms until each of the 16 partitions has
// one, and returns them by partition.
func roomsInEveryPartition(t *testing.T, s *redisstore.Store) map[int]string {
	t.Helper()
	rooms := map[int]string{}
	for i := 0; len(rooms) < redisstore.IndexPartitions; i++ {
		if i == 1000 {
			t.Fatalf("1000 rooms cover %d partitions", len(rooms))
		}
		id := chat.NewRoomID()
		p := redisstore.PartitionOf(id)
		if _, ok := rooms[p]; ok {
			continue
		}
		now := time.Now()
		if _, err := s.CreateRoom(context.Background(), chat.Room{ID: id, VisitorName: "Jane",
			CreatedAt: chat.Time{Time: now}, UpdatedAt: chat.Time{Time: now}}); err != nil {
			t.Fatalf("create room on the cluster: %v", err)
		}
		rooms[p] = id
	}
	return rooms
}

// waitRoomEvents reads sub until it has seen an event of each of rooms.
func waitRoomEvents(t *testing.T, sub *chat.Subscription, rooms map[int]string) {
	t.Helper()
	want := map[string]int{}
	for p, id := range rooms {
		want[id] = p
	}
	for len(want) > 0 {
		ev := nextEvent(t, sub)
		if ev.LogID == "" {
			continue
		}
		if p, ok := want[ev.RoomID]; ok {
			if l, _, ok := chat.ParseEventLogID(ev.LogID); !ok || l != p {
				t.Fatalf("room %s of partition %d: event logged as %q", ev.RoomID, p, ev.LogID)
			}
			delete(want, ev.RoomID)
		}
	}
}

// startBridgeLogged is startBridge with the bridge's log in the test's.
func startBridgeLogged(t *testing.T, s *redisstore.Store) *chat.Hub {
	t.Helper()
	hub := chat.NewHub(64)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	go func() { done <- s.Run(ctx, hub, log) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: got %v, want nil after ctx ends", err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("run did not return after ctx ended")
		}
		hub.Close()
	})
	waitFor(t, "the bridge to subscribe", s.Subscribed)
	return hub
}

// TestShardedPubSubOnCluster: on a real cluster the rooms' events go by
// SPUBLISH on their partitions' shard channels, on every primary, and the
// bridge hears them all: it holds one shard subscription per channel, on
// the primary of the channel's slot, while a plain subscriber of the one
// channel sees none of them (they are not broadcast over the cluster bus).
// The team's and the other events stay on the one channel, which the bridge
// hears as well.
func TestShardedPubSubOnCluster(t *testing.T) {
	cl := sharedCluster(t)
	ctx := context.Background()
	prefix := uniquePrefix()
	s, c := mustStore(t, cl.URL(), redisstore.Options{Prefix: prefix, RoomTTL: time.Hour})

	plain := c.Subscribe(ctx, prefix+"events")
	defer plain.Close()
	if _, err := plain.Receive(ctx); err != nil {
		t.Fatalf("plain subscribe: %v", err)
	}
	hub := startBridge(t, s)
	admin := subscribeAdmin(t, hub)
	defer admin.Close()

	nodes := map[string]bool{}
	for p := range redisstore.IndexPartitions {
		ch := shardChannel(prefix, p)
		if n := shardSubscribers(t, c, ch); n != 1 {
			t.Errorf("PUBSUB SHARDNUMSUB %s: %d, want 1 (the bridge)", ch, n)
		}
		addr, err := cl.PrimaryFor(ctx, ch)
		if err != nil {
			t.Fatal(err)
		}
		nodes[addr] = true
	}
	if len(nodes) != 3 {
		t.Errorf("the 16 shard channels are on %d primaries, want 3", len(nodes))
	}

	rooms := roomsInEveryPartition(t, s)
	waitRoomEvents(t, admin, rooms)
	for _, id := range rooms {
		mustSend(t, s, id, chat.SenderVisitor, "hello")
	}
	got := map[string]bool{}
	for len(got) < len(rooms) {
		if ev := nextEvent(t, admin); ev.Type == chat.EventMessage {
			got[ev.RoomID] = true
		}
	}

	// The one channel still carries the rest, to the bridge and to a plain
	// subscriber; nothing of the rooms' came before.
	if err := s.Publish(ctx, chat.Event{Type: chat.EventTyping, RoomID: rooms[0], Sender: chat.SenderVisitor}); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, admin); ev.Type != chat.EventTyping {
		t.Fatalf("bridge: got %+v, want the typing event of the one channel", ev)
	}
	msg, err := plain.ReceiveTimeout(ctx, 5*time.Second)
	if err != nil {
		t.Fatalf("plain subscriber: %v", err)
	}
	m, ok := msg.(*redis.Message)
	if !ok {
		t.Fatalf("plain subscriber: got %T %v", msg, msg)
	}
	if ev, err := redisstore.DecodeEvent(m.Payload); err != nil || ev.Type != chat.EventTyping {
		t.Fatalf("plain subscriber: first message %.200q (%v), want the typing event: the rooms' events were published on the one channel", m.Payload, err)
	}
}

// TestShardedBridgeFailover: the primary serving a partition's shard
// channel dies; the bridge reports itself down, regroups on the promoted
// replica by itself, counts a new generation (streams resume), and the
// partition's events flow again. Its own cluster: it kills a node.
func TestShardedBridgeFailover(t *testing.T) {
	cl := redistest.StartCluster(t)
	ctx := context.Background()
	prefix := uniquePrefix()
	s, c := mustStore(t, cl.URL(), redisstore.Options{Prefix: prefix, RoomTTL: time.Hour})
	hub := startBridgeLogged(t, s)
	admin := subscribeAdmin(t, hub)
	defer func() { admin.Close() }()

	rooms := roomsInEveryPartition(t, s)
	waitRoomEvents(t, admin, rooms)
	gen := s.Generation()

	const p = 5
	ch := shardChannel(prefix, p)
	killed := cl.KillPrimaryFor(t, ch)
	down := false
	deadline := time.Now().Add(30 * time.Second)
	for s.Generation() == gen || !s.Subscribed() {
		if !s.Subscribed() {
			down = true
		}
		if time.Now().After(deadline) {
			t.Fatalf("the bridge did not subscribe again within 30 s of killing %s (generation %d, subscribed %v)",
				killed, s.Generation(), s.Subscribed())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !down {
		t.Errorf("the bridge never reported itself down after killing %s", killed)
	}
	admin = resubscribed(t, hub, admin)
	addr, err := cl.PrimaryFor(ctx, ch)
	if err != nil || addr == killed {
		t.Fatalf("the channel's primary after the failover: %q, %v (killed %s)", addr, err, killed)
	}
	if n := shardSubscribers(t, c, ch); n != 1 {
		t.Errorf("PUBSUB SHARDNUMSUB %s on the promoted %s: %d, want 1", ch, addr, n)
	}

	// A send to the partition's room: the client may meet the failover
	// once (503, retried as a client would with its clientId).
	sendThroughFailover(t, s, admin, rooms[p], "after the failover", "c-failover")
	// Every other partition too, on the primaries that did not change.
	for q, id := range rooms {
		if q != p {
			mustSend(t, s, id, chat.SenderVisitor, "again")
		}
	}
	got := map[string]bool{}
	for len(got) < len(rooms)-1 {
		if ev := nextEvent(t, admin); ev.Type == chat.EventMessage && ev.Message.Content == "again" {
			got[ev.RoomID] = true
		}
	}

	// A manual failover: the primary stays up, the connection too, but its
	// slots move to its replica, and Redis ends their shard subscriptions
	// there (sunsubscribe). The bridge regroups on the new primary.
	cc := c.(*redis.ClusterClient)
	var replica *redis.Client
	var primary string
	var mu sync.Mutex
	_ = cc.ForEachSlave(ctx, func(ctx context.Context, r *redis.Client) error {
		role, err := r.Do(ctx, "ROLE").Slice()
		if err != nil || len(role) < 3 {
			return nil
		}
		host, _ := role[1].(string)
		port, _ := role[2].(int64)
		mu.Lock()
		defer mu.Unlock()
		if replica == nil {
			replica, primary = r, fmt.Sprintf("%s:%d", host, port)
		}
		return nil
	})
	if replica == nil {
		t.Fatal("no replica left to fail over to")
	}
	q := -1
	for i := range redisstore.IndexPartitions {
		if addr, err := cl.PrimaryFor(ctx, shardChannel(prefix, i)); err == nil && addr == primary {
			q = i
			break
		}
	}
	if q < 0 {
		t.Fatalf("no partition's channel is on %s, the primary of %s", primary, replica.Options().Addr)
	}
	gen = s.Generation()
	if err := replica.Do(ctx, "CLUSTER", "FAILOVER").Err(); err != nil {
		t.Fatalf("CLUSTER FAILOVER on %s: %v", replica.Options().Addr, err)
	}
	deadline = time.Now().Add(30 * time.Second)
	for s.Generation() == gen || !s.Subscribed() {
		if time.Now().After(deadline) {
			t.Fatalf("the bridge did not subscribe again within 30 s of the manual failover to %s", replica.Options().Addr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	admin = resubscribed(t, hub, admin)
	if addr, _ := cl.PrimaryFor(ctx, shardChannel(prefix, q)); addr != replica.Options().Addr {
		t.Fatalf("partition %d's channel on %s after the manual failover, want %s", q, addr, replica.Options().Addr)
	}
	if n := shardSubscribers(t, c, shardChannel(prefix, q)); n != 1 {
		t.Errorf("PUBSUB SHARDNUMSUB on the new primary %s: %d, want 1", replica.Options().Addr, n)
	}
	sendThroughFailover(t, s, admin, rooms[q], "after the manual failover", "c-manual")
}

// sendThroughFailover sends a message to a room as a client would across a
// failover (a 503 retried with the same clientId, for up to 10 s) and
// waits until the bridge's subscriber hears it.
func sendThroughFailover(t *testing.T, s *redisstore.Store, admin *chat.Subscription, roomID, content, clientID string) {
	t.Helper()
	m := newMessage(roomID, chat.SenderVisitor, content, time.Now())
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, _, err := s.Append(context.Background(), m, chat.AppendOptions{ClientID: clientID})
		if err == nil {
			break
		}
		if !errors.Is(err, chat.ErrUnavailable) || time.Now().After(deadline) {
			t.Fatalf("send %s: %v", content, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for {
		ev := nextEvent(t, admin)
		if ev.Type == chat.EventMessage && ev.RoomID == roomID && ev.Message.Content == content {
			return
		}
	}
}

// BenchmarkClusterPublish compares PUBLISH and SPUBLISH of a 1 KB event on
// a local 3+3 cluster with one subscriber, as the bridge's cost model
// (docs/SCALING.md): per event, the cluster bus messages every node sent
// (CLUSTER INFO) and the CPU of all six nodes together (INFO cpu).
func BenchmarkClusterPublish(b *testing.B) {
	cl := redistest.StartCluster(b)
	c, err := redisstore.Connect(cl.URL())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	cc := c.(*redis.ClusterClient)
	ctx := context.Background()
	payload := string(make([]byte, 1024))
	const ch = "bench:events:{p00aj}"
	nodes := map[string]*redis.Client{}
	for _, addr := range cl.Addrs() {
		n := redis.NewClient(&redis.Options{Addr: addr})
		defer n.Close()
		nodes[addr] = n
	}
	// totals is the bus messages sent and the CPU seconds of every node.
	totals := func() (msgs, cpu float64) {
		for _, n := range nodes {
			info := n.ClusterInfo(ctx).Val()
			for _, line := range strings.Split(info, "\r\n") {
				if v, ok := strings.CutPrefix(line, "cluster_stats_messages_sent:"); ok {
					f, _ := strconv.ParseFloat(v, 64)
					msgs += f
				}
			}
			for _, line := range strings.Split(n.Info(ctx, "cpu").Val(), "\r\n") {
				for _, k := range []string{"used_cpu_sys:", "used_cpu_user:"} {
					if v, ok := strings.CutPrefix(line, k); ok {
						f, _ := strconv.ParseFloat(v, 64)
						cpu += f
					}
				}
			}
		}
		return msgs, cpu
	}
	for _, mode := range []string{"PUBLISH", "SPUBLISH"} {
		b.Run(mode, func(b *testing.B) {
			var ps *redis.PubSub
			if mode == "PUBLISH" {
				ps = cc.Subscribe(ctx, ch)
			} else {
				ps = cc.SSubscribe(ctx, ch)
			}
			defer ps.Close()
			if _, err := ps.Receive(ctx); err != nil {
				b.Fatal(err)
			}
			got := make(chan int, 1)
			go func() {
				n := 0
				for range ps.Channel() {
					n++
					if n == b.N {
						break
					}
				}
				got <- n
			}()
			msgs0, cpu0 := totals()
			b.ResetTimer()
			for i := 0; i < b.N; {
				pipe := cc.Pipeline()
				for j := 0; j < 100 && i < b.N; j++ {
					pipe.Do(ctx, mode, ch, payload)
					i++
				}
				if _, err := pipe.Exec(ctx); err != nil {
					b.Fatal(err)
				}
			}
			select {
			case <-got:
			case <-time.After(30 * time.Second):
				b.Fatal("the subscriber did not get every event")
			}
			b.StopTimer()
			msgs1, cpu1 := totals()
			b.ReportMetric((msgs1-msgs0)/float64(b.N), "bus-msgs/op")
			b.ReportMetric((cpu1-cpu0)*1e6/float64(b.N), "redis-cpu-µs/op")
		})
	}
}

// TestShardSubscriptionsOnDemand: an instance subscribes to the shard
// channels its streams need, and no others: none with no stream; a
// visitor's room's partition for a visitor stream (which hears its room's
// messages from the moment it is ready); all 16 for an admin stream; and
// once they close, none again after the linger.
func TestShardSubscriptionsOnDemand(t *testing.T) {
	cl := sharedCluster(t)
	prefix := uniquePrefix()
	s, c := mustStore(t, cl.URL(), redisstore.Options{Prefix: prefix, RoomTTL: time.Hour})
	s.SetShardLinger(300 * time.Millisecond)
	hub := startBridge(t, s)
	rooms := roomsInEveryPartition(t, s)
	counts := func() []int64 {
		out := make([]int64, redisstore.IndexPartitions)
		for p := range out {
			out[p] = shardSubscribers(t, c, shardChannel(prefix, p))
		}
		return out
	}
	expect := func(what string, want func(p int) int64) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			got, ok := counts(), true
			for p, n := range got {
				ok = ok && n == want(p)
			}
			if ok {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: PUBSUB SHARDNUMSUB per partition %v", what, got)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	expect("no stream", func(int) int64 { return 0 })

	const p = 7
	visitor := subscribeRoom(t, hub, rooms[p])
	expect("a visitor stream of partition 7", func(q int) int64 {
		if q == p {
			return 1
		}
		return 0
	})
	m := mustSend(t, s, rooms[p], chat.SenderVisitor, "hello")
	for {
		if ev := nextEvent(t, visitor); ev.Type == chat.EventMessage && ev.Message.Seq == m.Seq {
			break
		}
	}

	admin := subscribeAdmin(t, hub)
	expect("an admin stream", func(int) int64 { return 1 })
	for q, id := range rooms {
		if q != p {
			mustSend(t, s, id, chat.SenderVisitor, "hi")
		}
	}
	got := map[string]bool{}
	for len(got) < len(rooms)-1 {
		if ev := nextEvent(t, admin); ev.Type == chat.EventMessage && ev.Message.Content == "hi" {
			got[ev.RoomID] = true
		}
	}

	admin.Close()
	expect("the admin stream closed", func(q int) int64 {
		if q == p {
			return 1
		}
		return 0
	})
	visitor.Close()
	expect("every stream closed", func(int) int64 { return 0 })
}
