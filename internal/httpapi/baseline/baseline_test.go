package baseline_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/httpapi/baseline"
	"github.com/parley-chat/parley/internal/redisstore"
	"github.com/parley-chat/parley/internal/redisstore/redistest"
)

func TestHandler(t *testing.T) {
	client, err := redisstore.Connect("redis://" + redistest.StartEmbedded(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	store := redisstore.New(client, redisstore.Options{Prefix: "baseline-test:"})
	ctx := context.Background()
	now := time.Now()
	room, err := store.CreateRoom(ctx, chat.Room{ID: chat.NewRoomID(), VisitorName: "Bench",
		CreatedAt: chat.Time{Time: now}, UpdatedAt: chat.Time{Time: now}})
	if err != nil {
		t.Fatal(err)
	}
	h := baseline.Handler(store)
	post := func(roomID, body string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/rooms/"+roomID+"/messages", strings.NewReader(body)))
		return rec
	}

	t.Run("send", func(t *testing.T) {
		rec := post(room.ID, `{"content":"hello"}`)
		if rec.Code != http.StatusCreated {
			t.Fatalf("got %d %s, want 201", rec.Code, rec.Body)
		}
		var out struct{ Message chat.Message }
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("decode %s: %v", rec.Body, err)
		}
		if out.Message.RoomID != room.ID || out.Message.Content != "hello" || out.Message.Sender != chat.SenderVisitor {
			t.Errorf("got message %+v, want the visitor's hello in %s", out.Message, room.ID)
		}
		msgs, _, err := store.Messages(ctx, room.ID, chat.MessageQuery{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 1 || msgs[0].ID != out.Message.ID {
			t.Errorf("got stored messages %+v, want the one sent", msgs)
		}
	})
	t.Run("unknown room", func(t *testing.T) {
		rec := post(chat.NewRoomID(), `{"content":"hello"}`)
		if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), string(chat.CodeRoomNotFound)) {
			t.Errorf("got %d %s, want 404 %s", rec.Code, rec.Body, chat.CodeRoomNotFound)
		}
	})
	t.Run("malformed body", func(t *testing.T) {
		if rec := post(room.ID, `{"content":`); rec.Code != http.StatusBadRequest {
			t.Errorf("got %d, want 400", rec.Code)
		}
	})
}
