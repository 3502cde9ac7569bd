package chat

import (
	"encoding/json"
	"strconv"
	"sync"
	"testing"
	"time"
	"unsafe"
)

// benchMessage is a message of a typical size.
func benchMessage(seq int64) *Message {
	return &Message{
		ID: "01JD4Y3Q8M4X9V7K2B6N5R3T1W", RoomID: "r_abcdefghijklmnopqrstuvwxyz", Seq: seq,
		Sender: SenderVisitor, Content: "Hello! I have a question about my order, it has not arrived yet.",
		CreatedAt: Time{time.Date(2026, 11, 23, 10, 4, 5, 123e6, time.UTC)},
	}
}

func benchRoom() *Room {
	t := Time{time.Date(2026, 11, 23, 10, 4, 5, 123e6, time.UTC)}
	return &Room{
		ID: "r_abcdefghijklmnopqrstuvwxyz", VisitorName: "Jane", Page: "https://example.com/pricing",
		CreatedAt: t, UpdatedAt: t, MessageCount: 7, Unread: 2,
		LastMessage: &LastMessage{Seq: 7, Sender: SenderVisitor, Content: "Hello!", CreatedAt: t},
	}
}

// BenchmarkHubDeliver fans one room's message out to its visitor stream and
// to every admin stream, among many other rooms' idle subscriptions, with a
// consumer draining each subscription as a stream would.
func BenchmarkHubDeliver(b *testing.B) {
	for _, tc := range []struct{ rooms, admins int }{{100, 2}, {10_000, 2}, {10_000, 20}} {
		b.Run("rooms="+strconv.Itoa(tc.rooms)+"/admins="+strconv.Itoa(tc.admins), func(b *testing.B) {
			h := NewHub(256)
			defer h.Close()
			var wg sync.WaitGroup
			drain := func(s *Subscription) {
				wg.Go(func() {
					for {
						select {
						case <-s.Events():
						case <-s.Done():
							return
						}
					}
				})
			}
			ids := make([]string, tc.rooms)
			for i := range ids {
				ids[i] = "r_" + strconv.Itoa(i)
				drain(h.SubscribeRoom(ids[i]))
			}
			for i := 0; i < tc.admins; i++ {
				drain(h.SubscribeAdmin())
			}
			ev := Event{Type: EventMessage, Message: benchMessage(1), Room: benchRoom()}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				ev.RoomID = ids[i%len(ids)]
				h.Deliver(ev)
			}
			b.StopTimer()
			h.Close()
			wg.Wait()
		})
	}
}

// BenchmarkHubDeliverParallel delivers from several goroutines at once (one
// bridge delivers, but streams subscribe and unsubscribe meanwhile): it shows
// contention on the hub's lock.
func BenchmarkHubDeliverParallel(b *testing.B) {
	h := NewHub(1 << 14)
	defer h.Close()
	const rooms = 1000
	ids := make([]string, rooms)
	for i := range ids {
		ids[i] = "r_" + strconv.Itoa(i)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	// Churn: streams opening and closing all the time.
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			s := h.SubscribeRoom(ids[i%rooms])
			s.Close()
		}
	})
	adm := h.SubscribeAdmin()
	wg.Go(func() {
		for {
			select {
			case <-adm.Events():
			case <-adm.Done():
				return
			}
		}
	})
	ev := Event{Type: EventMessage, Message: benchMessage(1), Room: benchRoom()}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		e := ev
		i := 0
		for pb.Next() {
			e.RoomID = ids[i%rooms]
			h.Deliver(e)
			i++
		}
	})
	b.StopTimer()
	close(stop)
	h.Close()
	wg.Wait()
}

// BenchmarkSubscribe is the cost of a stream's subscription: opening and
// closing it, and (reported) the memory its buffer holds while open.
func BenchmarkSubscribe(b *testing.B) {
	for _, buffer := range []int{16, 256} {
		b.Run("buffer="+strconv.Itoa(buffer), func(b *testing.B) {
			h := NewHub(buffer)
			defer h.Close()
			b.ReportAllocs()
			b.ReportMetric(float64(buffer)*float64(unsafe.Sizeof(Event{})), "buffer-bytes")
			for b.Loop() {
				h.SubscribeRoom("r_a").Close()
			}
		})
	}
}

// BenchmarkMessageJSON is the encoding every stream does for every message
// event it writes.
func BenchmarkMessageJSON(b *testing.B) {
	m := benchMessage(7)
	b.Run("message", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(m); err != nil {
				b.Fatal(err)
			}
		}
	})
	r := benchRoom()
	b.Run("room", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(r); err != nil {
				b.Fatal(err)
			}
		}
	})
	ev := Event{Type: EventMessage, RoomID: m.RoomID, Message: m, Room: r}
	b.Run("event", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(ev); err != nil {
				b.Fatal(err)
			}
		}
	})
	raw, _ := json.Marshal(m)
	b.Run("decode-message", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var out Message
			if err := json.Unmarshal(raw, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkNewMessageID is called once per send.
func BenchmarkNewMessageID(b *testing.B) {
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		_ = NewMessageID(now)
	}
}
