package httpapi

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/redisstore"
	"github.com/parley-chat/parley/internal/redisstore/redistest"
)

// TestDeliverFillsGaps hands a visitor stream a live message whose
// predecessors it has not seen (as publishes of concurrent sends arriving out
// of order would): it sends the missing ones from the store first, in seq
// order, and later duplicates not at all.
func TestDeliverFillsGaps(t *testing.T) {
	client, err := redisstore.Connect("redis://" + redistest.StartEmbedded(t))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	store := redisstore.New(client, redisstore.Options{Prefix: "gap:"})
	svc := chat.NewService(store, chat.Config{})
	tokens, err := auth.NewTokens(auth.RandomSecret(), store, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := New(Options{Service: svc, Tokens: tokens, Accounts: auth.NewAccounts(store), Hub: chat.NewHub(8)})

	ctx := context.Background()
	room, err := svc.CreateRoom(ctx, chat.NewRoom{}, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	var msgs []chat.Message
	for _, c := range []string{"one", "two", "three", "four"} {
		m, _, err := svc.SendAdmin(ctx, room.ID, "Alice", chat.NewMessage{Content: c})
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m)
	}

	w := &recordedEvents{}
	vs := &visitorStream{s: s, w: w, roomID: room.ID, last: 1}
	for _, i := range []int{2, 1, 2, 3, 0} { // seq 3, then 2 and 3 again, then 4, then 1
		done, err := vs.deliver(ctx, chat.Event{Type: chat.EventMessage, RoomID: room.ID, Message: &msgs[i]})
		if done || err != nil {
			t.Fatalf("deliver seq %d: done %v err %v", msgs[i].Seq, done, err)
		}
	}
	if got := strings.Join(w.ids, " "); got != "message:2 message:3 message:4" {
		t.Fatalf("got events %q, want messages 2, 3 and 4", got)
	}
}

// recordedEvents is an eventWriter that keeps the name and id of each event.
type recordedEvents struct{ ids []string }

func (r *recordedEvents) Event(name string, id int64, _ any) error {
	r.ids = append(r.ids, name+":"+strconv.FormatInt(id, 10))
	return nil
}
