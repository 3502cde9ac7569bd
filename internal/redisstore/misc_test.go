package redisstore_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/redisstore"
)

func TestAllowSlidingWindow(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		s, _ := mustStore(t, addr, redisstore.Options{})
		l := chat.Limit{N: 3, Per: time.Minute}
		t0 := time.Now().Truncate(time.Millisecond)
		for i := range 3 {
			q, ok, err := s.Allow(ctx, t0.Add(time.Duration(i)*time.Second), chat.Window{Key: "messages:r1", Limit: l})
			if err != nil || !ok {
				t.Fatalf("request %d: got ok=%v err=%v, want accepted", i+1, ok, err)
			}
			if q.Limit != 3 || q.Remaining != 2-i {
				t.Fatalf("request %d: got limit %d remaining %d, want 3 %d", i+1, q.Limit, q.Remaining, 2-i)
			}
		}
		for i := range 5 { // rejected requests must not extend the window
			q, ok, err := s.Allow(ctx, t0.Add(time.Duration(10+i)*time.Second), chat.Window{Key: "messages:r1", Limit: l})
			if err != nil || ok {
				t.Fatalf("request over the limit: got ok=%v err=%v, want rejected", ok, err)
			}
			if q.Remaining != 0 || !q.Reset.Equal(t0.Add(time.Minute)) {
				t.Fatalf("rejected: got remaining %d reset %v, want 0 %v", q.Remaining, q.Reset, t0.Add(time.Minute))
			}
		}
		// Once the first request leaves the window, exactly one more fits.
		if _, ok, _ := s.Allow(ctx, t0.Add(time.Minute+500*time.Millisecond), chat.Window{Key: "messages:r1", Limit: l}); !ok {
			t.Fatalf("after the oldest left the window: got rejected, want accepted")
		}
		if _, ok, _ := s.Allow(ctx, t0.Add(time.Minute+600*time.Millisecond), chat.Window{Key: "messages:r1", Limit: l}); ok {
			t.Fatalf("window full again: got accepted, want rejected")
		}
		if _, ok, _ := s.Allow(ctx, t0, chat.Window{Key: "messages:r2", Limit: l}); !ok {
			t.Fatalf("another key: got rejected, want accepted")
		}
	})
}

// TestAllowWindowsTogether checks several windows applied at once: a
// request one window refuses is counted in none, and the quota reported is
// the refusing window's, or else the one with the least room.
func TestAllowWindowsTogether(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		s, _ := mustStore(t, addr, redisstore.Options{})
		now := time.Now().Truncate(time.Millisecond)
		user := chat.Window{Key: "login:ip:ana", Limit: chat.Limit{N: 2, Per: time.Minute}}
		ip := chat.Window{Key: "login-ip:ip", Limit: chat.Limit{N: 4, Per: time.Minute}}
		for i := range 2 {
			q, ok, err := s.Allow(ctx, now, user, ip)
			if err != nil || !ok || q.Limit != 2 || q.Remaining != 1-i {
				t.Fatalf("attempt %d: got %+v ok=%v err=%v, want accepted with the user window's %d left", i+1, q, ok, err, 1-i)
			}
		}
		for range 5 {
			if q, ok, err := s.Allow(ctx, now, user, ip); err != nil || ok || q.Limit != 2 || q.Remaining != 0 {
				t.Fatalf("over the user window: got %+v ok=%v err=%v, want refused by it", q, ok, err)
			}
		}
		// The refused attempts took nothing from the IP window: two more
		// usernames fit, the third is refused by the IP window.
		other := func(name string) chat.Window {
			return chat.Window{Key: "login:ip:" + name, Limit: user.Limit}
		}
		for _, name := range []string{"bob", "cy"} {
			if _, ok, err := s.Allow(ctx, now, other(name), ip); err != nil || !ok {
				t.Fatalf("%s: got ok=%v err=%v, want accepted", name, ok, err)
			}
		}
		if q, ok, err := s.Allow(ctx, now, other("dee"), ip); err != nil || ok || q.Limit != 4 {
			t.Fatalf("dee: got %+v ok=%v err=%v, want refused by the IP window", q, ok, err)
		}
		if _, ok, err := s.Allow(ctx, now, other("dee")); err != nil || !ok {
			t.Fatalf("dee alone: got ok=%v err=%v, want accepted (the refusal above counted nowhere)", ok, err)
		}

		// Refused by two windows: the quota is the one that frees up last.
		minute := chat.Window{Key: "a", Limit: chat.Limit{N: 1, Per: time.Minute}}
		hour := chat.Window{Key: "b", Limit: chat.Limit{N: 1, Per: time.Hour}}
		if _, ok, err := s.Allow(ctx, now, minute, hour); err != nil || !ok {
			t.Fatalf("first: got ok=%v err=%v, want accepted", ok, err)
		}
		if q, ok, err := s.Allow(ctx, now, minute, hour); err != nil || ok || !q.Reset.Equal(now.Add(time.Hour)) {
			t.Fatalf("second: got %+v ok=%v err=%v, want refused until %v", q, ok, err, now.Add(time.Hour))
		}
	})
}

func TestVisits(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		s, _ := mustStore(t, addr, redisstore.Options{})
		day0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
		day2 := day0.AddDate(0, 0, 2)
		visit := func(at time.Time, path, visitor string) chat.VisitCount {
			t.Helper()
			c, err := s.RecordVisit(ctx, chat.NewVisit{Path: path, VisitorID: visitor}, at)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		visit(day0, "/", "a")
		visit(day0, "/pricing", "a")
		visit(day0, "/", "b")
		for range 3 {
			visit(day2, "/blog", "c")
		}
		got := visit(day2, "/", "d")
		if want := (chat.VisitCount{Total: 7, Today: 4, VisitorsToday: 2}); got != want {
			t.Fatalf("record: got %+v, want %+v", got, want)
		}
		if c, err := s.VisitCount(ctx, day2); err != nil || c != got {
			t.Fatalf("count: got %+v %v, want %+v", c, err, got)
		}
		if c, err := s.VisitCount(ctx, day2.AddDate(0, 0, 1)); err != nil || c != (chat.VisitCount{Total: 7}) {
			t.Fatalf("count on a day without visits: got %+v %v, want total 7 only", c, err)
		}

		rep, err := s.VisitReport(ctx, 4, day2)
		if err != nil {
			t.Fatal(err)
		}
		wantDays := []chat.DayVisits{
			{Date: "2026-03-09"}, {Date: "2026-03-10", Views: 3, Visitors: 2},
			{Date: "2026-03-11"}, {Date: "2026-03-12", Views: 4, Visitors: 2},
		}
		if !slices.Equal(rep.Days, wantDays) {
			t.Fatalf("days: got %+v, want %+v", rep.Days, wantDays)
		}
		wantTop := []chat.PageViews{{Path: "/", Views: 3}, {Path: "/blog", Views: 3}, {Path: "/pricing", Views: 1}}
		if rep.Total != 7 || !slices.Equal(rep.TopPages, wantTop) {
			t.Fatalf("got total %d top %+v, want 7 %+v", rep.Total, rep.TopPages, wantTop)
		}

		// Many distinct visitors: the HyperLogLog estimate stays close.
		day5 := day0.AddDate(0, 0, 5)
		for i := range 300 {
			visit(day5, fmt.Sprintf("/p/%d", i%20), fmt.Sprint("v", i%150))
		}
		c, _ := s.VisitCount(ctx, day5)
		if c.Today != 300 || c.VisitorsToday < 145 || c.VisitorsToday > 155 {
			t.Fatalf("got today %d visitors %d, want 300 and about 150", c.Today, c.VisitorsToday)
		}
		rep, _ = s.VisitReport(ctx, 1, day5)
		if len(rep.Days) != 1 || len(rep.TopPages) != 10 || rep.TopPages[0].Views != 15 {
			t.Fatalf("got %d days and top pages %+v, want 1 day and 10 pages of 15 views", len(rep.Days), rep.TopPages)
		}
	})
}

func TestAdmins(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		s, _ := mustStore(t, addr, redisstore.Options{})
		if list, err := s.Admins(ctx); err != nil || len(list) != 0 {
			t.Fatalf("no admins yet: got %v %v", list, err)
		}
		ann := chat.Admin{Username: "ann", DisplayName: "Ann", PasswordHash: []byte("$2a$10$\x00binary\xff")}
		if err := s.AddAdmin(ctx, ann); err != nil {
			t.Fatal(err)
		}
		wantCode(t, s.AddAdmin(ctx, chat.Admin{Username: "ann"}), chat.ErrAdminExists.Code)
		if err := s.AddAdmin(ctx, chat.Admin{Username: "bob", DisplayName: "Bob", PasswordHash: []byte("h")}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Admin(ctx, "ann")
		if err != nil || got.Username != "ann" || got.DisplayName != "Ann" || string(got.PasswordHash) != string(ann.PasswordHash) {
			t.Fatalf("got %+v %v, want %+v", got, err, ann)
		}
		ann.DisplayName = "Ann B."
		if err := s.UpdateAdmin(ctx, ann); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Admin(ctx, "ann"); got.DisplayName != "Ann B." {
			t.Fatalf("after update: got %q, want %q", got.DisplayName, "Ann B.")
		}
		wantCode(t, s.UpdateAdmin(ctx, chat.Admin{Username: "zed"}), chat.ErrAdminUnknown.Code)
		if ok, err := s.AddFirstAdmin(ctx, chat.Admin{Username: "carl"}); err != nil || ok {
			t.Fatalf("first admin when admins exist: got %v %v, want false", ok, err)
		}
		list, _ := s.Admins(ctx)
		if len(list) != 2 || list[0].Username != "ann" || list[1].Username != "bob" {
			t.Fatalf("got %+v, want ann and bob", list)
		}
		if err := s.RemoveAdmin(ctx, "ann"); err != nil {
			t.Fatal(err)
		}
		wantCode(t, s.RemoveAdmin(ctx, "ann"), chat.ErrAdminUnknown.Code)
		_, err = s.Admin(ctx, "ann")
		wantCode(t, err, chat.ErrAdminUnknown.Code)
		if list, _ := s.Admins(ctx); len(list) != 1 {
			t.Fatalf("after remove: got %d admins, want 1", len(list))
		}
	})
}

func TestAddFirstAdminRace(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		s, _ := mustStore(t, addr, redisstore.Options{})
		var won atomic.Int32
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				ok, err := s.AddFirstAdmin(ctx, chat.Admin{Username: fmt.Sprint("admin", i)})
				if err != nil {
					t.Errorf("add first admin: %v", err)
				}
				if ok {
					won.Add(1)
				}
			})
		}
		wg.Wait()
		list, _ := s.Admins(ctx)
		if won.Load() != 1 || len(list) != 1 {
			t.Fatalf("got %d winners and %d admins, want 1 and 1", won.Load(), len(list))
		}
	})
}

func TestTokens(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		prefix := uniquePrefix()
		s, c := mustStore(t, addr, redisstore.Options{Prefix: prefix})
		if err := s.Revoke(ctx, "jti1", time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.Revoke(ctx, "jti-old", time.Now().Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		for id, want := range map[string]bool{"jti1": true, "jti2": false, "jti-old": false} {
			if got, err := s.IsRevoked(ctx, id); err != nil || got != want {
				t.Fatalf("revoked %s: got %v %v, want %v", id, got, err, want)
			}
		}
		if ttl := c.PTTL(ctx, prefix+"revoked:jti1").Val(); ttl < 59*time.Minute || ttl > time.Hour+time.Second {
			t.Fatalf("got revocation TTL %v, want about 1h", ttl)
		}
		a, err := s.Secret(ctx, []byte("first-secret\x00\xff"))
		if err != nil || string(a) != "first-secret\x00\xff" {
			t.Fatalf("got %q %v, want the first candidate", a, err)
		}
		if b, _ := s.Secret(ctx, []byte("second")); string(b) != string(a) {
			t.Fatalf("got %q, want the kept %q", b, a)
		}
	})
}

func TestPresence(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		s, _ := mustStore(t, addr, redisstore.Options{})
		online := func() bool {
			t.Helper()
			ok, err := s.AdminsOnline(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if online() {
			t.Fatalf("no heartbeat yet: got online, want offline")
		}
		if on, err := s.Heartbeat(ctx, "i1", 2, time.Minute); err != nil || !on {
			t.Fatalf("heartbeat: got %v, %v; want online", on, err)
		}
		_, _ = s.Heartbeat(ctx, "i2", 1, time.Minute)
		if !online() {
			t.Fatalf("got offline, want online")
		}
		_, _ = s.Heartbeat(ctx, "i1", 0, time.Minute)
		if !online() {
			t.Fatalf("one instance left: got offline, want online")
		}
		_, _ = s.Heartbeat(ctx, "i2", 0, time.Minute)
		if online() {
			t.Fatalf("every instance at 0: got online, want offline")
		}
		_, _ = s.Heartbeat(ctx, "i3", 1, 200*time.Millisecond)
		time.Sleep(400 * time.Millisecond)
		if online() {
			t.Fatalf("heartbeat ran out: got online, want offline")
		}
	})
}
