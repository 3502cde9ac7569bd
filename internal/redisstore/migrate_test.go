package redisstore_test

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/redisstore"
)

// globalsFixture is what fillGlobals stored of every global family.
type globalsFixture struct {
	tok   chat.APIToken
	wh    chat.Webhook
	rooms [2]string // notification rooms: due now, due in an hour
	day   string
	salt  []byte
}

// fillGlobals writes data of every global family through the store, as a
// running Parley would: accounts, an unsubscribed agent, an API token,
// canned replies, labels, a webhook with a failure and deliveries, both
// queues with jobs queued, taken, retrying and dead, notifications due
// and claimed, a day of visits and its salt.
func fillGlobals(t *testing.T, ctx context.Context, s *redisstore.Store, now time.Time) globalsFixture {
	t.Helper()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	hash := []byte("$2a$10$abcdefghijklmnopqrstuuM6cSx1x8cBqQK1tqk6RYd4c7H4y1i6")
	_, err := s.AddFirstAdmin(ctx, chat.Admin{Username: "ann", DisplayName: "Ann", Role: chat.RoleOwner, PasswordHash: hash, Email: "ann@example.com"})
	must("AddFirstAdmin", err)
	must("AddAdmin", s.AddAdmin(ctx, chat.Admin{Username: "bob", DisplayName: "Bob", Role: chat.RoleAgent, PasswordHash: hash, Email: "bob@example.com"}))
	must("UpdateAdmin", s.UpdateAdmin(ctx, chat.Admin{Username: "bob", DisplayName: "Bob", Role: chat.RoleAgent, PasswordHash: hash, Email: "bob@example.com"}))
	must("UnsubscribeAgent", s.UnsubscribeAgent(ctx, "bob"))
	f := globalsFixture{day: chat.DayKey(now)}
	f.tok = chat.APIToken{ID: "t_aaaaaaaaaa", Name: "ci", Scopes: []chat.Scope{chat.ScopeRead}, CreatedAt: chat.Time{Time: now}, CreatedBy: "ann", Hash: strings.Repeat("0", 64)}
	must("AddAPIToken", s.AddAPIToken(ctx, f.tok, 50))
	must("AddCanned", s.AddCanned(ctx, chat.Canned{ID: "c_aaaaaaaaaa", Shortcut: "hi", Body: "Hello!", CreatedBy: "ann", UpdatedAt: chat.Time{Time: now}}, 100))
	must("AddCanned", s.AddCanned(ctx, chat.Canned{ID: "c_bbbbbbbbbb", Shortcut: "bye", Body: "Bye!", CreatedBy: "ann", UpdatedAt: chat.Time{Time: now}}, 100))
	must("PutLabel", s.PutLabel(ctx, chat.Label{ID: "l_aaaaaaaaaa", Name: "VIP", Color: "red"}, true))
	f.wh = chat.Webhook{ID: "w_aaaaaaaaaa", URL: "https://hooks.example.com/x", Events: []string{"message.created"}, CreatedAt: now.UTC().Truncate(time.Millisecond), Secret: "s3cr3t"}
	must("AddWebhook", s.AddWebhook(ctx, f.wh, 10))
	must("SetWebhookFailure", s.SetWebhookFailure(ctx, f.wh.ID, chat.WebhookFailure{Since: now.UTC().Truncate(time.Millisecond), Reason: "500"}))
	for _, id := range []string{"d1", "d2"} {
		must("RecordWebhookDelivery", s.RecordWebhookDelivery(ctx, f.wh.ID, chat.WebhookDelivery{ID: id, Job: "j1", Type: "message.created", At: now.UTC().Truncate(time.Millisecond), OK: true}, 50))
	}
	// The mail queue: m1 retrying, m2 dead, m3 sent, m4 taken and not
	// finished, m5 queued.
	for _, id := range []string{"m1", "m2", "m3", "m4"} {
		_, err = s.EnqueueMail(ctx, id, []byte(`{"to":"`+id+`"}`))
		must("EnqueueMail", err)
	}
	mails, err := s.ClaimMail(ctx, "i1", 10, 10*time.Millisecond, time.Hour)
	must("ClaimMail", err)
	if len(mails) != 4 {
		t.Fatalf("claimed %d mails, want 4", len(mails))
	}
	for _, m := range mails {
		switch m.ID {
		case "m1":
			must("RetryMail", s.RetryMail(ctx, m, time.Hour, "421"))
		case "m2":
			must("BuryMail", s.BuryMail(ctx, m, "550"))
		case "m3":
			must("MailSent", s.MailSent(ctx, m))
		}
	}
	_, err = s.EnqueueMail(ctx, "m5", []byte(`{"to":"m5"}`))
	must("EnqueueMail", err)
	// The webhook queue: j1 retrying, j2 dead, j3 queued.
	for _, id := range []string{"j1", "j2"} {
		_, err = s.EnqueueWebhookJob(ctx, id, []byte(`{"endpoint":"w_aaaaaaaaaa"}`))
		must("EnqueueWebhookJob", err)
	}
	jobs, err := s.ClaimWebhookJobs(ctx, "i1", 10, 10*time.Millisecond, time.Hour)
	must("ClaimWebhookJobs", err)
	for _, j := range jobs {
		if j.ID == "j1" {
			must("RetryWebhookJob", s.RetryWebhookJob(ctx, j, time.Hour, "503"))
		} else {
			must("BuryWebhookJob", s.BuryWebhookJob(ctx, j, "410"))
		}
	}
	_, err = s.EnqueueWebhookJob(ctx, "j3", []byte(`{"endpoint":"w_aaaaaaaaaa"}`))
	must("EnqueueWebhookJob", err)
	// Notifications: one due now, one in an hour, one of the other kind.
	f.rooms = [2]string{chat.NewRoomID(), chat.NewRoomID()}
	must("ScheduleNotify", s.ScheduleNotify(ctx, f.rooms[0], chat.NotifyAgents, now.Add(-time.Second), ""))
	must("ScheduleNotify", s.ScheduleNotify(ctx, f.rooms[1], chat.NotifyAgents, now.Add(time.Hour), ""))
	must("ScheduleNotify", s.ScheduleNotify(ctx, f.rooms[1], chat.NotifyVisitor, now.Add(-time.Second), ""))
	// Visits of today and of yesterday, and today's salt.
	f.salt, err = s.VisitSalt(ctx, f.day, []byte("salt-of-the-day-0123456789abcdef"), 48*time.Hour)
	must("VisitSalt", err)
	for i, v := range []string{"v1", "v2", "v1"} {
		_, err = s.RecordVisit(ctx, chat.NewVisit{Path: "/p" + string(rune('a'+i%2)), VisitorID: v}, now)
		must("RecordVisit", err)
	}
	_, err = s.RecordVisit(ctx, chat.NewVisit{Path: "/old", VisitorID: "v9"}, now.AddDate(0, 0, -1))
	must("RecordVisit", err)
	return f
}

// readGlobals reads every family back through the read APIs, as JSON (one
// value a line), without changing anything.
func readGlobals(t *testing.T, ctx context.Context, s *redisstore.Store, f globalsFixture, now time.Time) string {
	return readGlobalsSalt(t, ctx, s, f, now, true)
}

// readGlobalsSalt is readGlobals, reading the day's salt only if salt
// (VisitSalt stores its candidate when the day has none).
func readGlobalsSalt(t *testing.T, ctx context.Context, s *redisstore.Store, f globalsFixture, now time.Time, salt bool) string {
	t.Helper()
	var out []string
	add := func(what string, v any, err error) {
		t.Helper()
		if err != nil {
			v = "error: " + err.Error()
		}
		b, jerr := json.Marshal(v)
		if jerr != nil {
			t.Fatal(jerr)
		}
		out = append(out, what+" "+string(b))
	}
	admins, err := s.Admins(ctx)
	sort.Slice(admins, func(i, j int) bool { return admins[i].Username < admins[j].Username })
	for i := range admins { // the fields JSON hides
		add("admin "+admins[i].Username, []any{admins[i], admins[i].PasswordHash, admins[i].Notify, admins[i].Generation}, nil)
	}
	add("admins", len(admins), err)
	unsub, err := s.Unsubscribed(ctx, "", "bob")
	add("unsubscribed bob", unsub, err)
	toks, err := s.APITokens(ctx)
	add("tokens", toks, err)
	tok, by, err := s.APITokenAuth(ctx, f.tok.ID)
	add("token auth", []any{tok, by.Username}, err)
	canned, err := s.CannedReplies(ctx)
	add("canned", canned, err)
	labels, err := s.Labels(ctx)
	add("labels", labels, err)
	whs, err := s.Webhooks(ctx)
	add("webhooks", whs, err)
	fails, err := s.WebhookFailures(ctx)
	add("webhook failures", fails, err)
	dels, err := s.WebhookDeliveries(ctx, f.wh.ID, 10)
	add("deliveries", dels, err)
	stats, err := s.MailStats(ctx)
	add("mail stats", stats, err)
	dead, err := s.DeadMail(ctx, 10)
	add("dead mail", dead, err)
	count, err := s.VisitCount(ctx, now)
	add("visit count", count, err)
	rep, err := s.VisitReport(ctx, 3, now)
	add("visit report", rep, err)
	if salt {
		got, err := s.VisitSalt(ctx, f.day, []byte("another-candidate-0123456789abcd"), 48*time.Hour)
		add("salt is the day's", string(got) == string(f.salt), err)
	}
	return strings.Join(out, "\n")
}

// toOldNames renames every global key under prefix to its name of before
// the hash tags (written out here, not taken from keys.go, so a wrong old
// name in the migration fails the test) and returns how many it renamed.
func toOldNames(t *testing.T, ctx context.Context, c redis.UniversalClient, prefix string) int {
	t.Helper()
	keys, err := c.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, k := range keys {
		rest := strings.TrimPrefix(k, prefix)
		old := ""
		switch {
		case strings.HasPrefix(rest, "{team}:"):
			old = strings.TrimPrefix(rest, "{team}:")
		case rest == "{mailq}" || rest == "{hookq}":
			old = strings.Trim(rest, "{}")
		case strings.HasPrefix(rest, "{mailq}:mail:"):
			old = strings.TrimPrefix(rest, "{mailq}:")
		case strings.HasPrefix(rest, "{hookq}:hook:"):
			old = strings.TrimPrefix(rest, "{hookq}:")
		case strings.HasPrefix(rest, "{mailq}:"), strings.HasPrefix(rest, "{hookq}:"):
			old = strings.Replace(strings.Replace(rest, "{", "", 1), "}", "", 1)
		case strings.HasPrefix(rest, "notify:{"):
			old = strings.Replace(strings.Replace(rest, "{", "", 1), "}", "", 1)
		case strings.HasPrefix(rest, "visits:{"): // visits:{DAY}:views -> visits:views:DAY
			day, what, _ := strings.Cut(strings.TrimPrefix(rest, "visits:{"), "}:")
			old = "visits:" + what + ":" + day
		default:
			continue
		}
		if err := c.Rename(ctx, k, prefix+old).Err(); err != nil {
			t.Fatalf("rename %s: %v", k, err)
		}
		n++
	}
	return n
}

// TestMigrateGlobals: data of every global family stored under the names
// of before the hash tags reads the same after MigrateGlobals; a second
// run moves nothing; two instances migrating at once lose nothing; a
// write to a new name before the migration is merged, not overwritten;
// the queues keep their jobs (a taken one is taken over, a queued one
// read) and a generation drawn after the migration is new. Not on the
// cluster: the old names are of one slot each, RENAME between them is
// CROSSSLOT there, and no Parley ever wrote them on one (MigrateGlobals
// returns at once on a cluster: TestGlobalFamiliesOnCluster).
func TestMigrateGlobals(t *testing.T) {
	t.Parallel()
	forEachStandalone(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		now := time.Now()

		t.Run("once", func(t *testing.T) {
			prefix := uniquePrefix()
			s, c := mustStore(t, addr, redisstore.Options{Prefix: prefix})
			f := fillGlobals(t, ctx, s, now)
			want := readGlobals(t, ctx, s, f, now)
			n := toOldNames(t, ctx, c, prefix)
			if n < 25 {
				t.Fatalf("renamed %d keys to their old names, want every family's (25 or more)", n)
			}
			if got := readGlobalsSalt(t, ctx, s, f, now, false); strings.Contains(got, "admins 2") {
				t.Fatal("the reads see the data under the old names: the test renamed nothing that matters")
			}
			moved, err := s.MigrateGlobals(ctx)
			if err != nil || moved != n {
				t.Fatalf("MigrateGlobals: moved %d, %v; want %d, nil", moved, err, n)
			}
			if got := readGlobals(t, ctx, s, f, now); got != want {
				t.Fatalf("after the migration the reads differ:\n got %s\nwant %s", got, want)
			}
			if moved, err := s.MigrateGlobals(ctx); err != nil || moved != 0 {
				t.Fatalf("second run: moved %d, %v; want 0, nil", moved, err)
			}
			if got := readGlobals(t, ctx, s, f, now); got != want {
				t.Fatalf("after the second run the reads differ:\n got %s\nwant %s", got, want)
			}
			// The queues work on: the mail taken before is taken over, the
			// queued one read; the retrying one and the dead job stay.
			mails, err := s.ClaimMail(ctx, "i2", 10, 10*time.Millisecond, 0)
			var ids []string
			for _, m := range mails {
				ids = append(ids, m.ID)
			}
			sort.Strings(ids)
			if err != nil || strings.Join(ids, ",") != "m4,m5" {
				t.Fatalf("mails claimed after the migration: %v, %v; want m4,m5", ids, err)
			}
			jobs, err := s.ClaimWebhookJobs(ctx, "i2", 10, 10*time.Millisecond, 0)
			if err != nil || len(jobs) != 1 || jobs[0].ID != "j3" {
				t.Fatalf("webhook jobs claimed after the migration: %+v, %v; want j3", jobs, err)
			}
			due, err := s.ClaimNotify(ctx, chat.NotifyAgents, now, 10, time.Minute)
			if err != nil || len(due) != 1 || due[0].RoomID != f.rooms[0] {
				t.Fatalf("notifications due after the migration: %+v, %v; want room %s only", due, err, f.rooms[0])
			}
			due, err = s.ClaimNotify(ctx, chat.NotifyVisitor, now, 10, time.Minute)
			if err != nil || len(due) != 1 || due[0].RoomID != f.rooms[1] {
				t.Fatalf("visitor notifications due after the migration: %+v, %v; want room %s", due, err, f.rooms[1])
			}
			// Nothing is left under an old name.
			for _, old := range []string{"admins", "admin:ann", "apitokens", "canned", "labels", "webhooks", "mailq", "hookq", "mail:m5", "notify:agents", "visits:views:" + f.day} {
				if n, _ := c.Exists(ctx, prefix+old).Result(); n != 0 {
					t.Errorf("%s still exists after the migration", old)
				}
			}
		})

		t.Run("merge", func(t *testing.T) {
			prefix := uniquePrefix()
			s, c := mustStore(t, addr, redisstore.Options{Prefix: prefix})
			f := fillGlobals(t, ctx, s, now)
			n := toOldNames(t, ctx, c, prefix)
			// Writes under the new names before the migration (an instance
			// already started): an account, a view, a mail, a canned reply.
			hash := []byte("$2a$10$abcdefghijklmnopqrstuuM6cSx1x8cBqQK1tqk6RYd4c7H4y1i6")
			if err := s.AddAdmin(ctx, chat.Admin{Username: "zed", DisplayName: "Zed", Role: chat.RoleAgent, PasswordHash: hash}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.RecordVisit(ctx, chat.NewVisit{Path: "/pa", VisitorID: "v3"}, now); err != nil {
				t.Fatal(err)
			}
			if _, err := s.EnqueueMail(ctx, "m6", []byte(`{}`)); err != nil {
				t.Fatal(err)
			}
			if err := s.AddCanned(ctx, chat.Canned{ID: "c_cccccccccc", Shortcut: "new", Body: "New", CreatedBy: "zed", UpdatedAt: chat.Time{Time: now}}, 100); err != nil {
				t.Fatal(err)
			}
			moved, err := s.MigrateGlobals(ctx)
			if err != nil || moved != n {
				t.Fatalf("MigrateGlobals: moved %d, %v; want %d, nil", moved, err, n)
			}
			admins, err := s.Admins(ctx)
			if err != nil || len(admins) != 3 {
				t.Fatalf("admins after merging: %+v, %v; want ann, bob and zed", admins, err)
			}
			maxGen := int64(0)
			for _, a := range admins {
				maxGen = max(maxGen, a.Generation)
			}
			if err := s.AddAdmin(ctx, chat.Admin{Username: "yan", DisplayName: "Yan", Role: chat.RoleAgent, PasswordHash: hash}); err != nil {
				t.Fatal(err)
			}
			if yan, err := s.Admin(ctx, "yan"); err != nil || yan.Generation <= maxGen {
				t.Fatalf("a generation drawn after merging: %d, %v; want above every account's (%d)", yan.Generation, err, maxGen)
			}
			cnt, err := s.VisitCount(ctx, now)
			if err != nil || cnt.Total != 5 || cnt.Today != 4 || cnt.VisitorsToday != 3 {
				t.Fatalf("visits after merging: %+v, %v; want total 5, today 4 by 3 visitors", cnt, err)
			}
			rep, err := s.VisitReport(ctx, 1, now)
			if err != nil || len(rep.TopPages) == 0 || rep.TopPages[0].Path != "/pa" || rep.TopPages[0].Views != 3 {
				t.Fatalf("today's pages after merging: %+v, %v; want /pa with 3 views", rep.TopPages, err)
			}
			stats, err := s.MailStats(ctx)
			if err != nil || stats.Waiting != 3 || stats.Retrying != 1 || stats.Dead != 1 {
				t.Fatalf("mail queue after merging: %+v, %v; want m4, m5, m6 waiting, m1 retrying, m2 dead", stats, err)
			}
			mails, err := s.ClaimMail(ctx, "i2", 10, 10*time.Millisecond, 0)
			var ids []string
			for _, m := range mails {
				ids = append(ids, m.ID)
			}
			sort.Strings(ids)
			if err != nil || strings.Join(ids, ",") != "m4,m5,m6" {
				t.Fatalf("mails claimed after merging: %v, %v; want m4,m5,m6", ids, err)
			}
			canned, err := s.CannedReplies(ctx)
			if err != nil || len(canned) != 3 {
				t.Fatalf("canned replies after merging: %+v, %v; want 3", canned, err)
			}
			if _, _, err := s.APITokenAuth(ctx, f.tok.ID); err != nil {
				t.Fatalf("token auth after merging: %v", err)
			}
		})

		t.Run("crash midway", func(t *testing.T) {
			prefix := uniquePrefix()
			s, c := mustStore(t, addr, redisstore.Options{Prefix: prefix})
			f := fillGlobals(t, ctx, s, now)
			want := readGlobals(t, ctx, s, f, now)
			n := toOldNames(t, ctx, c, prefix)
			// An instance died after moving three keys, holding the lease.
			for old, name := range map[string]string{"admins": "{team}:admins", "mailq": "{mailq}", "labels": "{team}:labels"} {
				if err := c.Rename(ctx, prefix+old, prefix+name).Err(); err != nil {
					t.Fatal(err)
				}
			}
			if err := c.Set(ctx, prefix+"globals:migrating", "dead-instance", 300*time.Millisecond).Err(); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			moved, err := s.MigrateGlobals(ctx)
			if err != nil || moved != n-3 {
				t.Fatalf("MigrateGlobals after a crash: moved %d, %v; want %d, nil", moved, err, n-3)
			}
			if waited := time.Since(start); waited < 250*time.Millisecond {
				t.Fatalf("migrated after %v, under the dead instance's lease", waited)
			}
			if got := readGlobals(t, ctx, s, f, now); got != want {
				t.Fatalf("after finishing a crashed migration the reads differ:\n got %s\nwant %s", got, want)
			}
		})

		t.Run("two instances", func(t *testing.T) {
			prefix := uniquePrefix()
			s, c := mustStore(t, addr, redisstore.Options{Prefix: prefix})
			f := fillGlobals(t, ctx, s, now)
			want := readGlobals(t, ctx, s, f, now)
			n := toOldNames(t, ctx, c, prefix)
			other := redisstore.New(mustClient(t, addr), redisstore.Options{Prefix: prefix})
			var wg sync.WaitGroup
			moved := make([]int, 2)
			errs := make([]error, 2)
			for i, st := range []*redisstore.Store{s, other} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					moved[i], errs[i] = st.MigrateGlobals(ctx)
				}()
			}
			wg.Wait()
			if errs[0] != nil || errs[1] != nil || moved[0]+moved[1] != n {
				t.Fatalf("two at once: moved %v, %v; want %d in all, no error", moved, errs, n)
			}
			if got := readGlobals(t, ctx, other, f, now); got != want {
				t.Fatalf("after two instances migrated the reads differ:\n got %s\nwant %s", got, want)
			}
		})
	})
}
