package chat

import (
	"context"
	"errors"
	"testing"
	"time"
)

// roomStore keeps rooms in a map; the Store methods a test does not need
// panic (the embedded interface is nil).
type roomStore struct {
	Store
	rooms map[string]Room
}

func (m *roomStore) CreateRoom(_ context.Context, r Room) (Room, error) {
	m.rooms[r.ID] = r
	return r, nil
}

func (m *roomStore) Room(_ context.Context, id string) (Room, error) {
	r, ok := m.rooms[id]
	if !ok {
		return Room{}, ErrRoomNotFound
	}
	return r, nil
}

func (m *roomStore) FillVisitor(_ context.Context, id string, in NewRoom) (Room, error) {
	r := m.rooms[id]
	if r.VisitorEmail == "" {
		r.VisitorEmail = in.Email
	}
	m.rooms[id] = r
	return r, nil
}

func (m *roomStore) ClientBlocked(context.Context, string) (bool, error) { return false, nil }

func (m *roomStore) WasBlocked(context.Context, string) (bool, error) { return false, nil }

func TestOpenRoom(t *testing.T) {
	ctx := context.Background()
	st := &roomStore{rooms: map[string]Room{}}
	svc := NewService(st, Config{})

	first, created, err := svc.OpenRoom(ctx, NewRoom{Name: " Jane "}, "", "192.0.2.1")
	if err != nil || !created || first.VisitorName != "Jane" {
		t.Fatalf("new visitor: got %+v created=%v err=%v, want a new room for Jane", first, created, err)
	}
	again, created, err := svc.OpenRoom(ctx, NewRoom{Email: "jane@example.com"}, first.ID, "192.0.2.1")
	if err != nil || created || again.ID != first.ID || again.VisitorEmail != "jane@example.com" {
		t.Fatalf("returning visitor: got %+v created=%v err=%v, want room %s resumed with the email", again, created, err, first.ID)
	}
	gone := NewRoomID()
	fresh, created, err := svc.OpenRoom(ctx, NewRoom{}, gone, "192.0.2.1")
	if err != nil || !created || fresh.ID == gone || fresh.ID == first.ID {
		t.Fatalf("room gone: got %+v created=%v err=%v, want a new room", fresh, created, err)
	}
	if _, _, err := svc.OpenRoom(ctx, NewRoom{Email: "not an address"}, first.ID, "192.0.2.1"); ErrorCode(err) != CodeInvalid {
		t.Fatalf("bad email: got %v, want %s", err, CodeInvalid)
	}
	if len(st.rooms) != 2 {
		t.Fatalf("got %d rooms stored, want 2", len(st.rooms))
	}
}

type authFunc func(ctx context.Context, username, password string) (Admin, error)

func (f authFunc) Login(ctx context.Context, username, password string) (Admin, error) {
	return f(ctx, username, password)
}

func TestLogin(t *testing.T) {
	var gotUser string
	accounts := authFunc(func(_ context.Context, username, password string) (Admin, error) {
		gotUser = username
		if password != "right" {
			return Admin{}, ErrBadLogin
		}
		return Admin{Username: username}, nil
	})
	svc := NewService(nil, Config{}) // no login limit: the store is not asked
	ctx := context.Background()

	if a, err := svc.Login(ctx, accounts, Credentials{Username: "  ann\t", Password: "right"}, "192.0.2.1"); err != nil || a.Username != "ann" || gotUser != "ann" {
		t.Fatalf("got %+v, %v (checked %q), want ann logged in under her trimmed name", a, err, gotUser)
	}
	if _, err := svc.Login(ctx, accounts, Credentials{Username: "ann", Password: "wrong"}, "192.0.2.1"); !errors.Is(err, ErrBadLogin) {
		t.Fatalf("wrong password: got %v, want ErrBadLogin", err)
	}
	for _, in := range []Credentials{{Username: " ", Password: "right"}, {Username: "ann"}} {
		gotUser = ""
		if _, err := svc.Login(ctx, accounts, in, "192.0.2.1"); ErrorCode(err) != CodeInvalid || gotUser != "" {
			t.Errorf("%+v: got %v (accounts asked: %v), want %s before any password check", in, err, gotUser != "", CodeInvalid)
		}
	}
}

func TestLoginLimitKey(t *testing.T) {
	long := Credentials{Username: string(make([]byte, 1000))}
	if got := len(long.limitKey()); got != MaxUsername+1 {
		t.Errorf("got a limit key of %d bytes, want %d", got, MaxUsername+1)
	}
	if got := (Credentials{Username: "ann"}).limitKey(); got != "ann" {
		t.Errorf("got %q, want ann", got)
	}
}

func ptr[T any](v T) *T { return &v }

func TestRequestQueries(t *testing.T) {
	msgs := []struct {
		name string
		in   MessagesRequest
		want MessageQuery
		ok   bool
	}{
		{"nothing given", MessagesRequest{}, MessageQuery{Limit: DefaultLimit}, true},
		{"after 0", MessagesRequest{After: ptr[int64](0)}, MessageQuery{Limit: DefaultLimit}, true},
		{"before and limit", MessagesRequest{Before: ptr[int64](9), Limit: ptr[int64](3)}, MessageQuery{Before: 9, Limit: 3}, true},
		{"largest seq", MessagesRequest{After: ptr[int64](MaxSeq)}, MessageQuery{After: MaxSeq, Limit: DefaultLimit}, true},
		{"limit 0", MessagesRequest{Limit: ptr[int64](0)}, MessageQuery{}, false},
		{"limit huge", MessagesRequest{Limit: ptr[int64](1 << 40)}, MessageQuery{}, false},
		{"limit negative", MessagesRequest{Limit: ptr[int64](-1 << 40)}, MessageQuery{}, false},
		{"before 0", MessagesRequest{Before: ptr[int64](0)}, MessageQuery{}, false},
		{"after 0 and before", MessagesRequest{After: ptr[int64](0), Before: ptr[int64](5)}, MessageQuery{}, false},
		{"after beyond the largest seq", MessagesRequest{After: ptr[int64](MaxSeq + 1)}, MessageQuery{}, false},
	}
	for _, tt := range msgs {
		t.Run("messages/"+tt.name, func(t *testing.T) {
			q, err := tt.in.Query()
			if err == nil {
				err = q.Validate()
			}
			if (err == nil) != tt.ok || (tt.ok && q != tt.want) {
				t.Fatalf("got %+v, %v; want %+v ok=%v", q, err, tt.want, tt.ok)
			}
		})
	}
	rooms := []struct {
		name string
		in   RoomsRequest
		want RoomQuery
		ok   bool
	}{
		{"nothing given", RoomsRequest{}, RoomQuery{Filter: FilterAll, Limit: DefaultLimit}, true},
		{"unread", RoomsRequest{Filter: ptr("unread"), Limit: ptr[int64](5)}, RoomQuery{Filter: FilterUnread, Limit: 5}, true},
		{"empty filter", RoomsRequest{Filter: ptr("")}, RoomQuery{}, false},
		{"limit 0", RoomsRequest{Limit: ptr[int64](0)}, RoomQuery{}, false},
		{"limit 201", RoomsRequest{Limit: ptr[int64](201)}, RoomQuery{}, false},
	}
	for _, tt := range rooms {
		t.Run("rooms/"+tt.name, func(t *testing.T) {
			q, err := tt.in.Query()
			if err == nil {
				err = q.Validate()
			}
			if (err == nil) != tt.ok || (tt.ok && q != tt.want) {
				t.Fatalf("got %+v, %v; want %+v ok=%v", q, err, tt.want, tt.ok)
			}
		})
	}
	for _, tt := range []struct {
		in   VisitsRequest
		want int
		ok   bool
	}{{VisitsRequest{}, 0, true}, {VisitsRequest{Days: ptr[int64](7)}, 7, true}, {VisitsRequest{Days: ptr[int64](0)}, 0, false}} {
		if got, err := tt.in.Query(); (err == nil) != tt.ok || got != tt.want {
			t.Errorf("%+v: got %d, %v; want %d ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestReadMark(t *testing.T) {
	for _, tt := range []struct {
		in ReadMark
		ok bool
	}{{ReadMark{}, false}, {ReadMark{Seq: ptr[int64](-1)}, false}, {ReadMark{Seq: ptr[int64](0)}, true}, {ReadMark{Seq: ptr[int64](7)}, true}} {
		if err := tt.in.Validate(); (err == nil) != tt.ok {
			t.Errorf("%+v: got %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
}

func TestSenderRules(t *testing.T) {
	if SenderVisitor.Other() != SenderAdmin || SenderAdmin.Other() != SenderVisitor {
		t.Errorf("got others %q %q, want admin visitor", SenderVisitor.Other(), SenderAdmin.Other())
	}
	if !SenderVisitor.Blockable() || SenderAdmin.Blockable() {
		t.Errorf("got blockable visitor=%v admin=%v, want true false", SenderVisitor.Blockable(), SenderAdmin.Blockable())
	}
}

// visitStore counts the salt look-ups and keeps what RecordVisit stores.
type visitStore struct {
	Store
	saltReads int
	salts     map[string][]byte
	visitors  []string
}

func (v *visitStore) VisitSalt(_ context.Context, day string, candidate []byte, _ time.Duration) ([]byte, error) {
	v.saltReads++
	if _, ok := v.salts[day]; !ok {
		v.salts[day] = candidate
	}
	return v.salts[day], nil
}

func (v *visitStore) RecordVisit(_ context.Context, in NewVisit, _ time.Time) (VisitCount, error) {
	v.visitors = append(v.visitors, in.VisitorID)
	return VisitCount{}, nil
}

// TestVisitSaltReadOncePerDay: the day's salt comes from the store once per
// day and instance, not on every page view, and the same visitor hashes the
// same all day; the next day brings the next day's salt.
func TestVisitSaltReadOncePerDay(t *testing.T) {
	ctx := context.Background()
	st := &visitStore{salts: map[string][]byte{}}
	now := time.Date(2026, 12, 1, 23, 59, 0, 0, time.UTC)
	svc := NewService(st, Config{Now: func() time.Time { return now }})
	for range 3 {
		if _, err := svc.RecordVisit(ctx, NewVisit{Path: "/"}, "192.0.2.1", "UA"); err != nil {
			t.Fatal(err)
		}
	}
	if st.saltReads != 1 || st.visitors[0] != st.visitors[2] {
		t.Fatalf("one day: %d salt reads, visitors %v; want 1 read and one visitor", st.saltReads, st.visitors)
	}
	now = now.Add(2 * time.Minute) // the next day
	if _, err := svc.RecordVisit(ctx, NewVisit{Path: "/"}, "192.0.2.1", "UA"); err != nil {
		t.Fatal(err)
	}
	if st.saltReads != 2 || st.visitors[3] == st.visitors[0] {
		t.Fatalf("next day: %d salt reads, visitor %s (yesterday %s); want 2 reads and another hash", st.saltReads, st.visitors[3], st.visitors[0])
	}
}
