package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"testing/fstest"
	"time"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/httpapi"
	"github.com/parley-chat/parley/internal/httpapi/baseline"
	"github.com/parley-chat/parley/internal/redisstore"
	"github.com/parley-chat/parley/internal/redisstore/redistest"
)

// benchServer is the real router over a real store, wired as cmd/parley
// wires it, with rate limits off and the access log on (at info, discarded).
type benchServer struct {
	handler  http.Handler
	store    *redisstore.Store
	tokens   *auth.Tokens
	accounts *auth.Accounts
}

func newBenchServer(b *testing.B, addr string) *benchServer {
	b.Helper()
	client, err := redisstore.Connect("redis://" + addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = client.Close() })
	store := redisstore.New(client, redisstore.Options{Prefix: "hb" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":", RoomTTL: 720 * time.Hour})
	svc := chat.NewService(store, chat.Config{})
	tokens, err := auth.NewTokens([]byte("bench-secret-bench-secret-bench-secret!"), store, 720*time.Hour, nil)
	if err != nil {
		b.Fatal(err)
	}
	hub := chat.NewHub(256)
	b.Cleanup(hub.Close)
	ctx, cancel := context.WithCancel(context.Background())
	bridgeDone := make(chan struct{})
	go func() {
		defer close(bridgeDone)
		_ = store.Run(ctx, hub, slog.New(slog.DiscardHandler))
	}()
	b.Cleanup(func() { cancel(); <-bridgeDone })
	accounts := auth.NewAccounts(store)
	api := httpapi.New(httpapi.Options{
		Service: svc, Tokens: tokens, Accounts: accounts, Hub: hub,
		Logger: slog.New(slog.NewTextHandler(discard{}, &slog.HandlerOptions{Level: slog.LevelInfo})),
		Widget: fstest.MapFS{}, Admin: fstest.MapFS{},
		Ready: store.Ping, StreamsHealthy: store.Subscribed,
	})
	return &benchServer{handler: api.Handler(), store: store, tokens: tokens, accounts: accounts}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func (s *benchServer) room(b *testing.B) (id, token string) {
	b.Helper()
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v1/rooms", bytes.NewReader([]byte(`{"name":"Bench"}`))))
	if rec.Code != http.StatusCreated {
		b.Fatalf("create room: got %d, want 201: %s", rec.Code, rec.Body)
	}
	var out struct {
		Room  struct{ ID string }
		Token string
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		b.Fatal(err)
	}
	return out.Room.ID, out.Token
}

// BenchmarkSendVisitor is POST /api/v1/rooms/{id}/messages through the whole
// router: middleware, token, validation, the send script, the answer. Its
// allocs/op are the server's share of one send (the bridge's decoding of the
// published event runs in its own goroutine and shows in the CPU time only).
func BenchmarkSendVisitor(b *testing.B) {
	run := func(b *testing.B, addr string) {
		s := newBenchServer(b, addr)
		id, token := s.room(b)
		body := []byte(`{"content":"Hello! I have a question about my order, it has not arrived yet."}`)
		path := "/api/v1/rooms/" + id + "/messages"
		b.ReportAllocs()
		for b.Loop() {
			req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+token)
			rec := httptest.NewRecorder()
			s.handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusCreated {
				b.Fatalf("got %d, want 201: %s", rec.Code, rec.Body)
			}
		}
	}
	redistest.ForEachB(b, run)
}

// BenchmarkBaselineSend is the same send through baseline.Handler: the
// difference with BenchmarkSendVisitor is what Parley's HTTP layer costs.
func BenchmarkBaselineSend(b *testing.B) {
	run := func(b *testing.B, addr string) {
		s := newBenchServer(b, addr)
		id, _ := s.room(b)
		h := baseline.Handler(s.store)
		body := []byte(`{"content":"Hello! I have a question about my order, it has not arrived yet."}`)
		path := "/rooms/" + id + "/messages"
		b.ReportAllocs()
		for b.Loop() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body)))
			if rec.Code != http.StatusCreated {
				b.Fatalf("got %d, want 201: %s", rec.Code, rec.Body)
			}
		}
	}
	redistest.ForEachB(b, run)
}

// BenchmarkListRoomsHTTP is GET /api/v1/admin/rooms?limit=50 through the
// router: admin token (with its revocation read), the list, the JSON of 50
// rooms.
func BenchmarkListRoomsHTTP(b *testing.B) {
	run := func(b *testing.B, addr string) {
		s := newBenchServer(b, addr)
		for i := 0; i < 60; i++ {
			s.room(b)
		}
		// Admin tokens are checked against their account on every request.
		if err := s.accounts.Add(context.Background(), "admin", "Admin", "bench-password-1"); err != nil {
			b.Fatal(err)
		}
		adm, err := s.store.Admin(context.Background(), "admin")
		if err != nil {
			b.Fatal(err)
		}
		token, _, err := s.tokens.IssueAdmin(adm)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			req := httptest.NewRequest(http.MethodGet, "/api/v1/admin/rooms?limit=50", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			rec := httptest.NewRecorder()
			s.handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("got %d, want 200: %s", rec.Code, rec.Body)
			}
		}
	}
	redistest.ForEachB(b, run)
}
