package redisstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/redisstore"
)

// TestGlobalFamiliesOnCluster: the global families work through Connect
// on a real 3+3 cluster: accounts (read, changed, unsubscribed), API
// tokens (the check reads the creator's account inside the script),
// webhooks with DeleteWebhook's transaction, both queues through every
// state, notifications, visits and rate limits; the team scripts that
// append to the team's admin log (adminlog:{team}) included.
func TestGlobalFamiliesOnCluster(t *testing.T) {
	cl := sharedCluster(t)
	ctx := context.Background()
	prefix := uniquePrefix()
	s, _ := mustStore(t, cl.URL(), redisstore.Options{Prefix: prefix, RoomTTL: time.Hour})
	now := time.Now()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s on the cluster: %v", what, err)
		}
	}
	if n, err := s.MigrateGlobals(ctx); err != nil || n != 0 {
		t.Fatalf("MigrateGlobals on a cluster: %d, %v; want nothing to move", n, err)
	}
	// Accounts.
	hash := []byte("$2a$10$abcdefghijklmnopqrstuuM6cSx1x8cBqQK1tqk6RYd4c7H4y1i6")
	ann := chat.Admin{Username: "ann", DisplayName: "Ann", Role: chat.RoleOwner, PasswordHash: hash, Email: "ann@example.com"}
	must("AddAdmin", s.AddAdmin(ctx, ann))
	_, err := s.SetAgent(ctx, "ann", chat.AgentChange{})
	must("SetAgent", err)
	must("SetAdminProfile", s.SetAdminProfile(ctx, "ann", chat.AdminProfile{Username: "ann", DisplayName: "Ann", Email: "ann@example.com", Notify: chat.NotifyAlways}))
	admins, err := s.Admins(ctx)
	if err != nil || len(admins) != 1 || admins[0].Username != "ann" {
		t.Fatalf("Admins: %+v, %v", admins, err)
	}
	before, err := s.Admin(ctx, "ann")
	must("Admin", err)
	changed := before
	changed.PasswordHash = []byte("$2a$10$zzzzzzzzzzzzzzzzzzzzzuM6cSx1x8cBqQK1tqk6RYd4c7H4y1i6")
	must("UpdateAdmin", s.UpdateAdmin(ctx, changed))
	after, err := s.Admin(ctx, "ann")
	if err != nil || after.Generation <= before.Generation || string(after.PasswordHash) != string(changed.PasswordHash) {
		t.Fatalf("UpdateAdmin: generation %d -> %d, hash changed %v, %v", before.Generation, after.Generation,
			string(after.PasswordHash) == string(changed.PasswordHash), err)
	}
	must("UnsubscribeAgent", s.UnsubscribeAgent(ctx, "ann"))
	if u, err := s.Unsubscribed(ctx, "", "ann"); err != nil || !u {
		t.Fatalf("Unsubscribed: %v, %v", u, err)
	}
	if a, err := s.Admin(ctx, "ann"); err != nil || a.Notify != chat.NotifyNever {
		t.Fatalf("after unsubscribing: notify %q, %v; want never", a.Notify, err)
	}

	// API tokens: the check reads the creator's account inside the script.
	tok := chat.APIToken{ID: "t_aaaaaaaaaa", Name: "ci", Scopes: []chat.Scope{chat.ScopeRead}, CreatedAt: chat.Time{Time: now}, CreatedBy: "ann", Hash: strings.Repeat("0", 64)}
	must("AddAPIToken", s.AddAPIToken(ctx, tok, 50))
	if toks, err := s.APITokens(ctx); err != nil || len(toks) != 1 {
		t.Fatalf("APITokens: %+v, %v", toks, err)
	}
	if got, by, err := s.APITokenAuth(ctx, tok.ID); err != nil || got.ID != tok.ID || by.Username != "ann" {
		t.Fatalf("APITokenAuth: %+v by %q, %v", got, by.Username, err)
	}
	must("TouchAPIToken", s.TouchAPIToken(ctx, tok.ID, chat.Time{Time: now}))
	must("RevokeAPIToken", s.RevokeAPIToken(ctx, tok.ID))
	if _, _, err := s.APITokenAuth(ctx, tok.ID); err == nil {
		t.Fatal("APITokenAuth after the revoke: accepted")
	}

	// Canned replies and labels: their scripts append to the team's log.
	canned := chat.Canned{ID: "c_aaaaaaaaaa", Shortcut: "hi", Body: "Hello!", CreatedBy: "ann", UpdatedAt: chat.Time{Time: now}}
	must("AddCanned", s.AddCanned(ctx, canned, 100))
	if cr, err := s.CannedReplies(ctx); err != nil || len(cr) != 1 {
		t.Fatalf("CannedReplies: %+v, %v", cr, err)
	}
	must("DeleteCanned", s.DeleteCanned(ctx, canned.ID))
	must("PutLabel", s.PutLabel(ctx, chat.Label{ID: "l_aaaaaaaaaa", Name: "VIP", Color: "red"}, true))
	if ls, err := s.Labels(ctx); err != nil || len(ls) != 1 {
		t.Fatalf("Labels: %+v, %v", ls, err)
	}
	must("DeleteLabel", s.DeleteLabel(ctx, "l_aaaaaaaaaa"))
	evs, ok, err := s.AdminEventsAfter(ctx, make(chat.AdminVector, redisstore.AdminLogs).String(), 100)
	types := map[string]int{}
	for _, ev := range evs {
		types[string(ev.Type)]++
	}
	if err != nil || !ok || types["agent.updated"] == 0 || types["canned.updated"] != 1 || types["canned.deleted"] != 1 || types["labels"] != 2 {
		t.Fatalf("the team's log on the cluster: %v, ok %v, %v; want the account, canned reply and label events", types, ok, err)
	}

	// Webhooks, DeleteWebhook's MULTI included.
	wh := chat.Webhook{ID: "w_aaaaaaaaaa", URL: "https://hooks.example.com/x", Events: []string{"message.created"}, CreatedAt: now, Secret: "s3cr3t"}
	must("AddWebhook", s.AddWebhook(ctx, wh, 10))
	wh.Secret = "rotated"
	must("PutWebhook", s.PutWebhook(ctx, wh))
	if got, err := s.Webhook(ctx, wh.ID); err != nil || got.Secret != "rotated" {
		t.Fatalf("Webhook after PutWebhook: %+v, %v", got, err)
	}
	must("SetWebhookFailure", s.SetWebhookFailure(ctx, wh.ID, chat.WebhookFailure{Since: now, Reason: "500"}))
	must("RecordWebhookDelivery", s.RecordWebhookDelivery(ctx, wh.ID, chat.WebhookDelivery{ID: "d1", Job: "j1", Type: "message.created", At: now, OK: true}, 50))
	if f, err := s.WebhookFailures(ctx); err != nil || len(f) != 1 {
		t.Fatalf("WebhookFailures: %+v, %v", f, err)
	}
	must("DeleteWebhook", s.DeleteWebhook(ctx, wh.ID))
	if whs, err := s.Webhooks(ctx); err != nil || len(whs) != 0 {
		t.Fatalf("Webhooks after the delete: %+v, %v", whs, err)
	}
	if f, err := s.WebhookFailures(ctx); err != nil || len(f) != 0 {
		t.Fatalf("WebhookFailures after the delete: %+v, %v", f, err)
	}
	if d, err := s.WebhookDeliveries(ctx, wh.ID, 10); err != nil || len(d) != 0 {
		t.Fatalf("WebhookDeliveries after the delete: %+v, %v", d, err)
	}

	// The mail queue through every state.
	for _, id := range []string{"m1", "m2", "m3"} {
		if ok, err := s.EnqueueMail(ctx, id, []byte(`{}`)); err != nil || !ok {
			t.Fatalf("EnqueueMail %s: %v, %v", id, ok, err)
		}
	}
	if ok, err := s.EnqueueMail(ctx, "m1", []byte(`{}`)); err != nil || ok {
		t.Fatalf("EnqueueMail again: %v, %v; want not queued twice", ok, err)
	}
	mails, err := s.ClaimMail(ctx, "i1", 10, 10*time.Millisecond, time.Minute)
	if err != nil || len(mails) != 3 {
		t.Fatalf("ClaimMail: %d, %v", len(mails), err)
	}
	for _, m := range mails {
		switch m.ID {
		case "m1":
			must("RetryMail", s.RetryMail(ctx, m, -time.Second, "421"))
		case "m2":
			must("BuryMail", s.BuryMail(ctx, m, "550"))
		default:
			must("MailSent", s.MailSent(ctx, m))
		}
	}
	// A retry is due 1 ms after it at the earliest (Redis's clock).
	if n, err := promoted(func() (int, error) { return s.PromoteMail(ctx, 10) }); err != nil || n != 1 {
		t.Fatalf("PromoteMail: %d, %v", n, err)
	}
	mails, err = s.ClaimMail(ctx, "i1", 10, 10*time.Millisecond, time.Minute)
	if err != nil || len(mails) != 1 || mails[0].ID != "m1" {
		t.Fatalf("ClaimMail after the promote: %+v, %v", mails, err)
	}
	must("MailSent", s.MailSent(ctx, mails[0]))
	if dead, err := s.DeadMail(ctx, 10); err != nil || len(dead) != 1 || dead[0].ID != "m2" {
		t.Fatalf("DeadMail: %+v, %v", dead, err)
	}
	if st, err := s.MailStats(ctx); err != nil || st.Waiting != 0 || st.Retrying != 0 || st.Dead != 1 {
		t.Fatalf("MailStats: %+v, %v", st, err)
	}

	// The webhook queue.
	for _, id := range []string{"j1", "j2"} {
		if _, err := s.EnqueueWebhookJob(ctx, id, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	jobs, err := s.ClaimWebhookJobs(ctx, "i1", 10, 10*time.Millisecond, time.Minute)
	if err != nil || len(jobs) != 2 {
		t.Fatalf("ClaimWebhookJobs: %d, %v", len(jobs), err)
	}
	for _, j := range jobs {
		if j.ID == "j1" {
			must("RetryWebhookJob", s.RetryWebhookJob(ctx, j, -time.Second, "503"))
		} else {
			must("BuryWebhookJob", s.BuryWebhookJob(ctx, j, "410"))
		}
	}
	if n, err := promoted(func() (int, error) { return s.PromoteWebhookJobs(ctx, 10) }); err != nil || n != 1 {
		t.Fatalf("PromoteWebhookJobs: %d, %v", n, err)
	}
	jobs, err = s.ClaimWebhookJobs(ctx, "i1", 10, 10*time.Millisecond, time.Minute)
	if err != nil || len(jobs) != 1 || jobs[0].ID != "j1" {
		t.Fatalf("ClaimWebhookJobs after the promote: %+v, %v", jobs, err)
	}
	must("WebhookJobDone", s.WebhookJobDone(ctx, jobs[0]))

	// Notifications.
	room := chat.NewRoomID()
	must("ScheduleNotify", s.ScheduleNotify(ctx, room, chat.NotifyAgents, now.Add(-time.Second), ""))
	claims, err := s.ClaimNotify(ctx, chat.NotifyAgents, now, 10, time.Minute)
	if err != nil || len(claims) != 1 || claims[0].RoomID != room {
		t.Fatalf("ClaimNotify: %+v, %v", claims, err)
	}
	if again, err := s.ClaimNotify(ctx, chat.NotifyAgents, now, 10, time.Minute); err != nil || len(again) != 0 {
		t.Fatalf("ClaimNotify during the lease: %+v, %v; want nothing", again, err)
	}
	if ok, err := s.AckNotify(ctx, chat.NotifyAgents, claims[0]); err != nil || !ok {
		t.Fatalf("AckNotify: %v, %v", ok, err)
	}

	// Visits: the day's keys in its slot, the total apart.
	day := chat.DayKey(now)
	if _, err := s.VisitSalt(ctx, day, []byte("salt-candidate-0123456789abcdef"), 48*time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"v1", "v2", "v1"} {
		if _, err := s.RecordVisit(ctx, chat.NewVisit{Path: "/pricing", VisitorID: v}, now); err != nil {
			t.Fatal(err)
		}
	}
	if vc, err := s.VisitCount(ctx, now); err != nil || vc.Total != 3 || vc.Today != 3 || vc.VisitorsToday != 2 {
		t.Fatalf("VisitCount: %+v, %v", vc, err)
	}
	if rep, err := s.VisitReport(ctx, 7, now); err != nil || rep.Total != 3 || len(rep.TopPages) != 1 || rep.TopPages[0].Views != 3 {
		t.Fatalf("VisitReport: %+v, %v", rep, err)
	}

	// Rate limits: each window in its own slot, all or nothing.
	checkAllOrNothing(t, s)
}

// promoted calls promote until it moves something, for up to a second: a
// retry is due 1 ms after it was scheduled at the earliest.
func promoted(promote func() (int, error)) (int, error) {
	deadline := time.Now().Add(time.Second)
	for {
		n, err := promote()
		if n != 0 || err != nil || time.Now().After(deadline) {
			return n, err
		}
		time.Sleep(2 * time.Millisecond)
	}
}
