package chat

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

func recv(t *testing.T, s *Subscription) Event {
	t.Helper()
	select {
	case ev := <-s.Events():
		return ev
	case <-time.After(2 * time.Second):
		t.Fatal("no event within 2s")
		return Event{}
	}
}

func none(t *testing.T, s *Subscription) {
	t.Helper()
	select {
	case ev := <-s.Events():
		t.Fatalf("got unexpected event %+v", ev)
	default:
	}
}

func TestHubFanOut(t *testing.T) {
	h := NewHub(8)
	defer h.Close()
	a1, a2 := h.SubscribeRoom("r_a"), h.SubscribeRoom("r_a")
	b := h.SubscribeRoom("r_b")
	adm := h.SubscribeAdmin()

	msg := Event{Type: EventMessage, RoomID: "r_a", Message: &Message{Seq: 1}}
	h.Deliver(msg)
	for _, s := range []*Subscription{a1, a2, adm} {
		if got := recv(t, s); got.Type != EventMessage || got.Message.Seq != 1 {
			t.Errorf("got %+v, want the message", got)
		}
	}
	none(t, b)

	// A visitor's own typing goes to admins only; an admin's to the room only.
	h.Deliver(Event{Type: EventTyping, RoomID: "r_a", Sender: SenderVisitor})
	if got := recv(t, adm); got.Type != EventTyping {
		t.Errorf("admin: got %+v, want typing", got)
	}
	none(t, a1)
	h.Deliver(Event{Type: EventTyping, RoomID: "r_a", Sender: SenderAdmin})
	for _, s := range []*Subscription{a1, a2} {
		if got := recv(t, s); got.Sender != SenderAdmin {
			t.Errorf("visitor: got %+v, want admin typing", got)
		}
	}
	none(t, b)
	none(t, adm)

	// Presence reaches every visitor stream, no admin stream.
	h.Deliver(Event{Type: EventPresence, AdminsOnline: true})
	for _, s := range []*Subscription{a1, a2, b} {
		if got := recv(t, s); got.Type != EventPresence || !got.AdminsOnline {
			t.Errorf("got %+v, want presence", got)
		}
	}
	none(t, adm)
}

func TestHubUnsubscribe(t *testing.T) {
	h := NewHub(8)
	defer h.Close()
	var counts []int
	var mu sync.Mutex
	h.OnAdminCount(func(n int) { mu.Lock(); counts = append(counts, n); mu.Unlock() })

	s := h.SubscribeRoom("r_a")
	adm := h.SubscribeAdmin()
	s.Close()
	s.Close() // twice is fine
	select {
	case <-s.Done():
	default:
		t.Fatal("Done not closed after Close")
	}
	h.Deliver(Event{Type: EventMessage, RoomID: "r_a", Message: &Message{Seq: 1}})
	none(t, s)
	if rooms, admins := h.Counts(); rooms != 0 || admins != 1 {
		t.Errorf("counts: got %d rooms %d admins, want 0 and 1", rooms, admins)
	}
	adm.Close()
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(counts) != "[1 0]" {
		t.Errorf("admin counts: got %v, want [1 0]", counts)
	}
}

// TestHubKeepsABehindSubscriber: a subscription that reads what it missed
// elsewhere is not dropped when its buffer is full; it is told, once.
func TestHubKeepsABehindSubscriber(t *testing.T) {
	h := NewHub(2)
	defer h.Close()
	s := h.SubscribeAdmin()
	s.KeepWhenBehind()
	if s.Behind() {
		t.Fatal("behind before any event")
	}
	for i := 1; i <= 5; i++ {
		h.Deliver(Event{Type: EventMessage, RoomID: "r_a", Message: &Message{Seq: int64(i)}})
	}
	select {
	case <-s.Done():
		t.Fatal("the subscription was dropped")
	default:
	}
	if !s.Behind() || s.Behind() {
		t.Fatal("want Behind true once, then false")
	}
	if ev := recv(t, s); ev.Message.Seq != 1 {
		t.Fatalf("got seq %d first, want 1 (the events that fit are kept)", ev.Message.Seq)
	}
}

func TestHubDropsSlowSubscriber(t *testing.T) {
	h := NewHub(4)
	defer h.Close()
	slow := h.SubscribeRoom("r_a")
	fast := h.SubscribeRoom("r_a")
	got := 0
	for i := 1; i <= 10; i++ {
		h.Deliver(Event{Type: EventMessage, RoomID: "r_a", Message: &Message{Seq: int64(i)}})
		if ev := recv(t, fast); ev.Message.Seq != int64(i) {
			t.Fatalf("fast: got seq %d, want %d", ev.Message.Seq, i)
		}
		got++
	}
	select {
	case <-slow.Done():
	default:
		t.Fatal("slow subscriber was not dropped")
	}
	if got != 10 {
		t.Errorf("fast got %d events, want 10", got)
	}
	if rooms, _ := h.Counts(); rooms != 1 {
		t.Errorf("got %d room subscriptions, want 1 (the slow one removed)", rooms)
	}
}

func TestHubConcurrentAndNoLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	h := NewHub(1024)
	var wg sync.WaitGroup
	subs := make([]*Subscription, 50)
	for i := range subs {
		subs[i] = h.SubscribeRoom(fmt.Sprintf("r_%d", i%5))
	}
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				h.Deliver(Event{Type: EventMessage, RoomID: fmt.Sprintf("r_%d", i%5), Message: &Message{Seq: int64(i)}})
				if i%50 == 0 {
					s := h.SubscribeAdmin()
					s.Close()
				}
			}
		}(w)
	}
	wg.Wait()
	for _, s := range subs {
		if n := len(s.Events()); n != 160 {
			t.Errorf("got %d buffered events, want 160", n)
			break
		}
	}
	h.Close()
	for _, s := range subs {
		select {
		case <-s.Done():
		default:
			t.Fatal("subscription still open after hub Close")
		}
	}
	late := h.SubscribeAdmin()
	select {
	case <-late.Done():
	default:
		t.Error("subscription after Close is not done")
	}
	// The workers have called Done but may not have exited yet: give them
	// a moment, then the hub must have left nothing running.
	after := runtime.NumGoroutine()
	for end := time.Now().Add(2 * time.Second); after > before && time.Now().Before(end); after = runtime.NumGoroutine() {
		time.Sleep(5 * time.Millisecond)
	}
	if after > before {
		t.Errorf("goroutines: got %d after, want <= %d", after, before)
	}
}

// TestHubBuffersApart checks that room and admin subscriptions get their own
// buffer sizes: a room subscription is dropped once its small buffer is full,
// while an admin subscription of the same hub takes the same events and more.
func TestHubBuffersApart(t *testing.T) {
	h := NewHubBuffers(2, 8)
	defer h.Close()
	room := h.SubscribeRoom("r_a")
	adm := h.SubscribeAdmin()
	if c, a := cap(room.ch), cap(adm.ch); c != 2 || a != 8 {
		t.Fatalf("buffers: got room %d admin %d, want 2 and 8", c, a)
	}
	for i := 1; i <= 3; i++ {
		h.Deliver(Event{Type: EventMessage, RoomID: "r_a", Message: &Message{Seq: int64(i)}})
	}
	select {
	case <-room.Done():
	default:
		t.Fatal("room subscription with a full buffer of 2 was not dropped")
	}
	select {
	case <-adm.Done():
		t.Fatal("admin subscription dropped with 3 of 8 events buffered")
	default:
	}
	for i := 1; i <= 3; i++ {
		if ev := recv(t, adm); ev.Message.Seq != int64(i) {
			t.Fatalf("admin: got seq %d, want %d", ev.Message.Seq, i)
		}
	}
	if d := NewHubBuffers(0, 0); d.roomBuffer != DefaultRoomBuffer || d.adminBuffer != DefaultAdminBuffer {
		t.Errorf("defaults: got %d/%d", d.roomBuffer, d.adminBuffer)
	}
}

// TestHubSaysWhoWasDropped checks that a subscription dropped for a full
// buffer says so, and one closed by its owner does not.
func TestHubSaysWhoWasDropped(t *testing.T) {
	h := NewHub(1)
	slow, closed := h.SubscribeAdmin(), h.SubscribeAdmin()
	closed.Close()
	ev := Event{Type: EventRoom, RoomID: "r"}
	h.Deliver(ev)
	h.Deliver(ev) // slow's buffer of 1 is full
	<-slow.Done()
	if !slow.Dropped() || closed.Dropped() {
		t.Fatalf("got Dropped %v for the slow one and %v for the closed one, want true and false", slow.Dropped(), closed.Dropped())
	}
}

// TestHubHandsRevocationsOn checks that EventAdminRevoked goes to the
// OnRevoked function and to no subscription.
func TestHubHandsRevocationsOn(t *testing.T) {
	h := NewHub(4)
	admin := h.SubscribeAdmin()
	var got []Event
	h.OnRevoked(func(ev Event) { got = append(got, ev) })
	h.Deliver(Event{Type: EventAdminRevoked, TokenID: "t1"})
	none(t, admin)
	if len(got) != 1 || got[0].TokenID != "t1" {
		t.Fatalf("got %+v, want the revocation of t1", got)
	}
}

// Agents names each admin with a stream open once, while it is open, and
// is safe against concurrent subscribes and closes.
func TestHubAgents(t *testing.T) {
	h := NewHub(4)
	dana1, dana2, sam := h.SubscribeAdminAs("dana"), h.SubscribeAdminAs("dana"), h.SubscribeAdminAs("sam")
	anon := h.SubscribeAdmin()
	defer anon.Close()
	got := h.Agents()
	sort.Strings(got)
	if strings.Join(got, ",") != "dana,sam" {
		t.Fatalf("agents: got %v, want [dana sam]", got)
	}
	sam.Close()
	dana1.Close()
	if got := h.Agents(); len(got) != 1 || got[0] != "dana" {
		t.Fatalf("after sam and one of dana's closed: got %v, want [dana]", got)
	}
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				s := h.SubscribeAdminAs("x")
				_ = h.Agents()
				s.Close()
			}
		}()
	}
	wg.Wait()
	dana2.Close()
	if got := h.Agents(); len(got) != 0 {
		t.Fatalf("after every stream closed: got %v, want none", got)
	}
}

// TestHubBridgeDown: a loss of the event bridge ends every subscription
// open across it, and those made while it is down are born ended, so that
// no stream delivers the events after the hole and moves its resume point
// past the events it never got; once the bridge is up, new subscriptions
// hear every event.
func TestHubBridgeDown(t *testing.T) {
	h := NewHub(8)
	defer h.Close()
	var counts []int
	h.OnAdminCount(func(n int) { counts = append(counts, n) })
	room, adm := h.SubscribeRoom("r_a"), h.SubscribeAdmin()
	h.Deliver(Event{Type: EventMessage, RoomID: "r_a", Message: &Message{Seq: 1}})

	h.BridgeDown()
	for _, s := range []*Subscription{room, adm} {
		select {
		case <-s.Done():
		default:
			t.Fatal("a subscription open across the bridge's loss is still open")
		}
		if s.Dropped() {
			t.Error("ended by the bridge's loss, the subscription says it was dropped as too slow")
		}
		if got := recv(t, s); got.Message == nil || got.Message.Seq != 1 {
			t.Errorf("the event delivered before the loss: got %+v, want seq 1 still buffered", got)
		}
	}
	if len(counts) == 0 || counts[len(counts)-1] != 0 {
		t.Errorf("admin counts told %v, want the last 0", counts)
	}
	// Made while down: born ended, and hears nothing.
	early := h.SubscribeAdmin()
	select {
	case <-early.Done():
	default:
		t.Fatal("a subscription made while the bridge is down is open")
	}
	h.Deliver(Event{Type: EventMessage, RoomID: "r_a", Message: &Message{Seq: 2}})
	for _, s := range []*Subscription{room, adm, early} {
		none(t, s)
	}
	if r, a := h.Counts(); r != 0 || a != 0 {
		t.Errorf("counts while down: %d rooms, %d admins; want none", r, a)
	}

	h.BridgeUp()
	late := h.SubscribeAdmin()
	h.Deliver(Event{Type: EventMessage, RoomID: "r_a", Message: &Message{Seq: 3}})
	if got := recv(t, late); got.Message == nil || got.Message.Seq != 3 {
		t.Errorf("after BridgeUp: got %+v, want seq 3", got)
	}
	none(t, early)
	room.Close() // closing an ended subscription again is harmless
}
