package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/redisstore"
	"github.com/parley-chat/parley/internal/redisstore/redistest"
)

// partitionTags are the index partitions' hash tags (redisstore's
// indexTags, pinned forever by TestIndexPartitionsPinned): a room's
// follow-up (its index entry, its admin log) runs in the slot of
// parley:rooms:{TAG} of its partition.
var partitionTags = [redisstore.IndexPartitions]string{
	"p00aj", "p01ai", "p02h", "p03bj", "p04c", "p05dj", "p06fi", "p07fj",
	"p08fk", "p09k", "p10c", "p11dc", "p12fa", "p13fb", "p14ac", "p15ad",
}

// failoverRoom is one visitor's room of the failover test.
type failoverRoom struct {
	id, token          string
	roomNode, partNode string // the primaries of its room's and its partition's slots
	hit                bool   // one of them is the primary killed
}

// failoverSend is one message a sender tried to store, under one clientId
// (its content too), retried until acked.
type failoverSend struct {
	room    int
	content string
	acked   bool
	sentAt  time.Time // its first attempt
	ackedAt time.Time
}

// failoverAttempt is one POST of a send.
type failoverAttempt struct {
	room   int
	at     time.Time
	took   time.Duration
	status int    // 0: no answer (transport error)
	code   string // the error code of a non-2xx
}

// TestFailoverOnCluster kills a primary of a real Redis Cluster while two
// instances take visitor sends of rooms on every shard, each sender retrying
// a 503 with the same clientId as the widget does, and an admin stream on
// one instance reconnects with its Last-Event-ID whenever it ends. Every
// request answers within a few seconds (503 while a slot it needs has no
// primary, never a 500); the sends of the rooms whose slots were on the
// killed primary come back by themselves once its replica is promoted;
// every acked message is stored exactly once. "replicated" kills the
// primary once its replica has every acknowledged write (nothing acked may
// be lost); "crash" kills it as it runs, and the test counts the acked
// messages that asynchronous replication lost (logged, not failed).
func TestFailoverOnCluster(t *testing.T) {
	if !redistest.ClusterInstalled() {
		t.Skip("redis-server and redis-cli are needed for a local cluster")
	}
	t.Run("replicated", func(t *testing.T) { runFailover(t, true, 0) })
	// On loopback a replica is microseconds behind, so a plain crash
	// rarely loses anything: the replica is stalled for 300 ms before it,
	// as a replica on a busy host or a slow link would lag.
	t.Run("crash", func(t *testing.T) { runFailover(t, false, 300*time.Millisecond) })
}

// runFailover runs the load, kills the primary (after syncing its replica
// when replicated; else with the replica lag behind) and checks.
func runFailover(t *testing.T, replicated bool, lag time.Duration) {
	const (
		senders   = 20
		killAfter = 2 * time.Second
		loadFor   = 8 * time.Second // from the start of the load
		hangLimit = 5500 * time.Millisecond
	)
	cl := redistest.StartCluster(t)
	env := map[string]string{"PARLEY_REDIS_URL": cl.URL()}
	a := startTestApp(t, env)
	b := startTestApp(t, env)
	apps := []*testApp{a, b}
	admin := b.adminToken(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// A visitor send also reads its address's block marker, a key of its
	// own slot: the test kills another primary, so that the rooms of the
	// shards left are not all stopped by it (see the closing log).
	blockedNode, err := cl.PrimaryFor(ctx, "parley:blocked:127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	var all []failoverRoom
	perNode := map[string]int{}
	for i := range 24 {
		id, tok := apps[i%2].newVisitor(t, fmt.Sprintf("Visitor %d", i))
		r := failoverRoom{id: id, token: tok}
		if r.roomNode, err = cl.PrimaryFor(ctx, "parley:room:{"+id+"}"); err != nil {
			t.Fatal(err)
		}
		if r.partNode, err = cl.PrimaryFor(ctx, "parley:rooms:{"+partitionTags[redisstore.PartitionOf(id)]+"}"); err != nil {
			t.Fatal(err)
		}
		all = append(all, r)
		if r.roomNode != blockedNode {
			perNode[r.roomNode]++
		}
	}
	victim := ""
	for n, c := range perNode {
		if victim == "" || c > perNode[victim] || (c == perNode[victim] && n < victim) {
			victim = n
		}
	}
	// Up to 6 rooms the kill hits (their room's slot first, then those hit
	// through their partition only) and 6 it does not.
	var rooms []failoverRoom
	var hitByRoom, hitByPart, clear []failoverRoom
	for _, r := range all {
		switch {
		case r.roomNode == victim:
			r.hit = true
			hitByRoom = append(hitByRoom, r)
		case r.partNode == victim:
			r.hit = true
			hitByPart = append(hitByPart, r)
		default:
			clear = append(clear, r)
		}
	}
	hit := append(hitByRoom, hitByPart...)
	if len(hitByRoom) == 0 || len(clear) < 2 {
		t.Fatalf("rooms: %d on the victim's slots, %d clear of it; want some of each", len(hitByRoom), len(clear))
	}
	rooms = append(rooms, hit[:min(6, len(hit))]...)
	rooms = append(rooms, clear[:min(6, len(clear))]...)
	killKey := "parley:room:{" + hitByRoom[0].id + "}"

	// The admin stream on B, reconnecting with its last id.
	var (
		smu        sync.Mutex
		seen       = map[string]int{} // message content → times streamed
		resets     int
		resetAt    time.Time // the last reset's
		reconnects int
		refused    = map[int]int{} // status of a refused (re)connect → count
	)
	streamCtx, stopStream := context.WithCancel(ctx)
	streamDone := make(chan struct{})
	ready := make(chan struct{})
	go func() {
		defer close(streamDone)
		lastID := ""
		first := true
		for streamCtx.Err() == nil {
			events, status := dialStream(streamCtx, b, "/api/v1/admin/events", admin, lastID)
			if status != 200 {
				smu.Lock()
				refused[status]++
				smu.Unlock()
				select {
				case <-streamCtx.Done():
				case <-time.After(100 * time.Millisecond):
				}
				continue
			}
			for ev := range events {
				if ev.ID != "" {
					lastID = ev.ID
				}
				switch ev.Event {
				case "ready":
					if first {
						first = false
						close(ready)
					}
				case "reset":
					smu.Lock()
					resets++
					resetAt = time.Now()
					smu.Unlock()
				case "message":
					var m streamMessage
					if err := json.Unmarshal([]byte(ev.Data), &m); err == nil && m.Sender == "visitor" {
						smu.Lock()
						seen[m.RoomID+"/"+m.Content]++
						smu.Unlock()
					}
				}
			}
			smu.Lock()
			reconnects++
			smu.Unlock()
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("the admin stream is not ready within 10 s")
	}

	// The senders.
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: senders}}
	defer client.CloseIdleConnections()
	var (
		mu       sync.Mutex
		sends    []*failoverSend
		attempts []failoverAttempt
		wg       sync.WaitGroup
	)
	start := time.Now()
	stopAt := start.Add(loadFor)
	giveUp := stopAt.Add(10 * time.Second)
	for g := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ri := g % len(rooms)
			r, app := rooms[ri], apps[g%2]
			for i := 0; time.Now().Before(stopAt); i++ {
				s := &failoverSend{room: ri, content: fmt.Sprintf("g%d-%d", g, i), sentAt: time.Now()}
				mu.Lock()
				sends = append(sends, s)
				mu.Unlock()
				for time.Now().Before(giveUp) && ctx.Err() == nil {
					at := time.Now()
					status, code := postSend(ctx, client, app, r, s.content)
					mu.Lock()
					attempts = append(attempts, failoverAttempt{room: ri, at: at, took: time.Since(at), status: status, code: code})
					if status == 201 || status == 200 {
						s.acked, s.ackedAt = true, time.Now()
					}
					mu.Unlock()
					if s.acked || (status != 503 && status != 0) {
						break
					}
					time.Sleep(50 * time.Millisecond) // the client's short backoff
				}
				time.Sleep(10 * time.Millisecond)
			}
		}()
	}

	// The kill, mid-run; the cluster is whole again once the replica is
	// promoted and every node agrees.
	time.Sleep(time.Until(start.Add(killAfter - lag)))
	var killed string
	if replicated {
		killed = cl.KillPrimaryFor(t, killKey)
	} else {
		if lag > 0 {
			cl.StallReplicaOf(t, killKey, 2*lag)
			time.Sleep(lag)
		}
		killed = cl.KillPrimaryNow(t, killKey)
	}
	killedAt := time.Now()
	if killed != victim {
		t.Fatalf("killed %s, want %s", killed, victim)
	}
	healthyErr := cl.WaitHealthy(ctx)
	promoted := time.Since(killedAt)
	wg.Wait()
	if healthyErr != nil {
		t.Fatalf("after the kill: %v", healthyErr)
	}

	// Every answer came promptly, and was a 2xx or a 503 of the store.
	mu.Lock()
	defer mu.Unlock()
	var slowest time.Duration
	codes := map[string]int{}
	for _, at := range attempts {
		slowest = max(slowest, at.took)
		switch {
		case at.took > hangLimit:
			t.Errorf("a send took %v (status %d): want an answer within %v", at.took, at.status, hangLimit)
		case at.status == 0:
			t.Errorf("a send got no answer within %v", client.Timeout)
		case at.status == 503 && (at.code == "store_unavailable" || at.code == "store_timeout"):
			codes[at.code]++
		case at.status != 200 && at.status != 201:
			t.Errorf("a send answered %d %s; want 201, 200 or 503 store_unavailable/store_timeout", at.status, at.code)
		}
	}
	for _, s := range sends {
		if !s.acked {
			t.Errorf("send %s of room %d was never acked, retried for %v after the load", s.content, s.room, giveUp.Sub(stopAt))
		}
	}

	// The gap each room saw: the longest time without an ack after the kill
	// (from the kill to the first ack after it, then between acks).
	gap := make([]time.Duration, len(rooms))
	failed := make([]int, len(rooms))
	acks := make([][]time.Time, len(rooms))
	for _, s := range sends {
		if s.acked {
			acks[s.room] = append(acks[s.room], s.ackedAt)
		}
	}
	for _, at := range attempts {
		if at.status == 503 {
			failed[at.room]++
		}
	}
	for i := range rooms {
		slices.SortFunc(acks[i], func(x, y time.Time) int { return x.Compare(y) })
		prev := killedAt
		for _, at := range acks[i] {
			if at.Before(killedAt) {
				continue
			}
			gap[i] = max(gap[i], at.Sub(prev))
			prev = at
		}
		if prev == killedAt {
			t.Errorf("room %d (hit %v) had no ack after the kill", i, rooms[i].hit)
		}
	}
	var hitGap, clearGap time.Duration
	var hitFailed, clearFailed int
	for i, r := range rooms {
		if r.hit {
			hitGap, hitFailed = max(hitGap, gap[i]), hitFailed+failed[i]
		} else {
			clearGap, clearFailed = max(clearGap, gap[i]), clearFailed+failed[i]
		}
	}
	for i, r := range rooms {
		if r.hit && failed[i] == 0 {
			t.Errorf("room %d, its room or partition slot on the killed primary, had no send refused: the kill was not seen", i)
		}
	}
	if clearGap >= hitGap {
		t.Errorf("the rooms clear of the killed primary waited up to %v for an ack, the rooms on it %v: want the others disturbed less", clearGap, hitGap)
	}

	// Every acked message is in its room once; count those lost.
	stored := map[string]int{}
	for _, r := range rooms {
		for after := 0; ; {
			var page struct {
				Messages []struct {
					Seq     int
					Content string
				}
				HasMore bool
			}
			path := fmt.Sprintf("/api/v1/rooms/%s/messages?after=%d&limit=200", r.id, after)
			if st := a.call(t, "GET", path, r.token, nil, &page); st != 200 {
				t.Fatalf("GET %s: %d", path, st)
			}
			for _, m := range page.Messages {
				stored[r.id+"/"+m.Content]++
				after = m.Seq
			}
			if !page.HasMore || len(page.Messages) == 0 {
				break
			}
		}
	}
	acked, lost, extra := 0, 0, 0
	for _, s := range sends {
		key := rooms[s.room].id + "/" + s.content
		if s.acked {
			acked++
			if stored[key] == 0 {
				lost++
			}
		} else if stored[key] > 0 {
			extra++
		}
	}
	for k, n := range stored {
		if n > 1 {
			t.Errorf("message %s is stored %d times; want once", k, n)
		}
	}
	if replicated && lost > 0 {
		t.Errorf("%d acked messages lost though the replica had every write; want 0", lost)
	}

	// The admin stream: every stored message once, or a reset (then the
	// console reloads the room list, which must show every room as stored).
	deadline := time.Now().Add(5 * time.Second)
	missing := 0
	for {
		smu.Lock()
		missing = 0
		for k := range stored {
			if seen[k] == 0 {
				missing++
			}
		}
		r := resets
		smu.Unlock()
		if missing == 0 || r > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	stopStream()
	<-streamDone
	streamedLost := 0 // streamed, then lost with the primary
	streamedTwice := 0
	for k, n := range seen {
		if n > 1 && replicated {
			t.Errorf("the admin stream got message %s %d times; want once", k, n)
		}
		if n > 1 {
			streamedTwice++
		}
		if stored[k] == 0 {
			streamedLost++
		}
	}
	if replicated && resets > 0 {
		t.Errorf("the admin stream got %d resets though nothing was lost: want its resumes exact", resets)
	}
	// After a reset the stream is live: a message sent after it is streamed.
	missedLive := 0
	if resets > 0 {
		for _, s := range sends {
			key := rooms[s.room].id + "/" + s.content
			if s.sentAt.After(resetAt) && stored[key] > 0 && seen[key] == 0 {
				missedLive++
			}
		}
		// A room whose last writes the crash lost numbers its events
		// again from where it went back: they are new all the same, and
		// streamed (place.lua's stamps).
		if missedLive > 0 {
			t.Errorf("the admin stream missed %d messages stored after its reset", missedLive)
		}
	}
	switch {
	case resets > 0:
		var list struct {
			Rooms []struct {
				ID           string
				MessageCount int
			}
		}
		if st := b.call(t, "GET", "/api/v1/admin/rooms?limit=50", admin, nil, &list); st != 200 {
			t.Fatalf("room list after the reset: %d", st)
		}
		counts := map[string]int{}
		for _, r := range list.Rooms {
			counts[r.ID] = r.MessageCount
		}
		for _, r := range rooms {
			n := 0
			for k, c := range stored {
				if strings.HasPrefix(k, r.id+"/") {
					n += c
				}
			}
			if counts[r.id] < n {
				t.Errorf("room %s after the reset: listed with %d messages, %d stored", r.id, counts[r.id], n)
			}
		}
	case missing > 0:
		// Which rooms: a room's slot on the killed primary and its
		// partition's elsewhere was the case of a room whose event numbers
		// went back with its lost writes while its partition had them
		// logged (its new events were skipped as repeats, before they
		// were stamped: docs/ARCHITECTURE.md, "Redis Cluster").
		by := map[string]int{}
		for k := range stored {
			if seen[k] > 0 {
				continue
			}
			id, _, _ := strings.Cut(k, "/")
			for _, r := range rooms {
				if r.id == id {
					by[fmt.Sprintf("room on killed %v, partition on killed %v", r.roomNode == killed, r.partNode == killed)]++
				}
			}
		}
		t.Errorf("the admin stream missed %d of the %d stored messages, with no reset: %v", missing, len(stored), by)
	}

	if streamedTwice > 0 && !replicated {
		// A room whose partition lost logged events fills the gap again
		// from its outbox: the stream, live across the failover, gets
		// those events a second time (same message, same seq).
		t.Logf("KNOWN ISSUE: the admin stream got %d messages twice (re-logged after the partition's log lost them)", streamedTwice)
	}
	mode := fmt.Sprintf("crash (KillPrimaryNow, the replica stalled %v before)", lag)
	if replicated {
		mode = "replicated (KillPrimaryFor)"
	}
	t.Logf("%s: killed %s at +%v; cluster whole again %v later", mode, killed, killAfter, promoted.Round(time.Millisecond))
	t.Logf("sends: %d attempts, %d messages, %d acked, %d acked and lost, %d stored without an ack; 503s %v; slowest answer %v",
		len(attempts), len(sends), acked, lost, extra, codes, slowest.Round(time.Millisecond))
	t.Logf("rooms hit by the kill (room or partition slot on it): %d, longest gap %v, %d 503s", countHit(rooms, true), hitGap.Round(time.Millisecond), hitFailed)
	t.Logf("rooms clear of it: %d, longest gap %v, %d 503s", countHit(rooms, false), clearGap.Round(time.Millisecond), clearFailed)
	t.Logf("admin stream: %d reconnects, refused %v, %d resets, %d of %d stored messages not streamed (%d of them sent after the reset), %d streamed and then lost", reconnects, refused, resets, missing, len(stored), missedLive, streamedLost)
}

func countHit(rooms []failoverRoom, hit bool) int {
	n := 0
	for _, r := range rooms {
		if r.hit == hit {
			n++
		}
	}
	return n
}

// postSend sends one visitor message with content as its clientId and
// returns the status (0 when no answer came) and the error code.
func postSend(ctx context.Context, client *http.Client, app *testApp, r failoverRoom, content string) (int, string) {
	body, _ := json.Marshal(map[string]string{"content": content, "clientId": content})
	req, err := http.NewRequestWithContext(ctx, "POST", app.URL+"/api/v1/rooms/"+r.id+"/messages", bytes.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+r.token)
	res, err := client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	var e struct{ Error struct{ Code string } }
	_ = json.Unmarshal(data, &e)
	return res.StatusCode, e.Error.Code
}

// dialStream is openStream for a stream that may be refused: it returns
// the status, and the events only on a 200.
func dialStream(ctx context.Context, app *testApp, path, token, lastID string) (<-chan sseEvent, int) {
	req, err := http.NewRequestWithContext(ctx, "GET", app.URL+path, nil)
	if err != nil {
		return nil, 0
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, 0
	}
	if res.StatusCode != 200 {
		res.Body.Close()
		return nil, res.StatusCode
	}
	out := make(chan sseEvent, 256)
	go func() {
		defer res.Body.Close()
		defer close(out)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Event != "" {
					select {
					case out <- ev:
					case <-ctx.Done():
						return
					}
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.Event = line[len("event: "):]
			case strings.HasPrefix(line, "id: "):
				ev.ID = line[len("id: "):]
			case strings.HasPrefix(line, "data: "):
				ev.Data = line[len("data: "):]
			}
		}
	}()
	return out, 200
}
