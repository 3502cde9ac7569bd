package httpapi

import (
	"context"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

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

	rec := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(rec)
	c.Request = httptest.NewRequest("GET", "/", nil)
	vs := &visitorStream{s: s, w: startStream(c), roomID: room.ID, last: 1}
	for _, i := range []int{2, 1, 2, 3, 0} { // seq 3, then 2 and 3 again, then 4, then 1
		done, err := vs.deliver(ctx, chat.Event{Type: chat.EventMessage, RoomID: room.ID, Message: &msgs[i]})
		if done || err != nil {
			t.Fatalf("deliver seq %d: done %v err %v", msgs[i].Seq, done, err)
		}
	}
	var ids []string
	for _, m := range regexp.MustCompile(`(?m)^id: (\d+)$`).FindAllStringSubmatch(rec.Body.String(), -1) {
		ids = append(ids, m[1])
	}
	if got := len(ids); got != 3 || ids[0] != "2" || ids[1] != "3" || ids[2] != "4" {
		t.Fatalf("got ids %v, want [2 3 4]\n%s", ids, rec.Body.String())
	}
}
