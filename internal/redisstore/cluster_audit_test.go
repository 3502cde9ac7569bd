package redisstore_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/redisstore"
	"github.com/parley-chat/parley/internal/redisstore/redistest"
)

// keySlot is the Redis Cluster slot of key, from the spec: CRC16 (XMODEM:
// polynomial 0x1021, initial value 0, no reflection) of the key modulo
// 16384, where only the hash tag is hashed when the key has one: the part
// between the first "{" and the first "}" after it, if that part is not
// empty.
func keySlot(key string) int {
	if open := strings.IndexByte(key, '{'); open >= 0 {
		if n := strings.IndexByte(key[open+1:], '}'); n > 0 {
			key = key[open+1 : open+1+n]
		}
	}
	return int(crc16(key)) & 16383
}

func crc16(s string) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc ^= uint16(s[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// TestKeySlot: keySlot agrees with CLUSTER KEYSLOT of a real cluster for
// the spec's examples and a few hundred random keys, hash tags included.
func TestKeySlot(t *testing.T) {
	if got := crc16("123456789"); got != 0x31C3 { // the spec's check value
		t.Fatalf("crc16(123456789) = %#x, want 0x31c3", got)
	}
	cl := sharedCluster(t)
	node := redis.NewClient(&redis.Options{Addr: cl.Primaries()[0], Protocol: 2, DisableIdentity: true})
	defer node.Close()
	keys := []string{"", "{}", "{}a", "{a}b", "a{b}{c}", "{{a}}", "{a", "a}", "}{a}", "a{}{b}", "{user1000}.following",
		"foo{}{bar}", "foo{{bar}}zap", "foo{bar}{zap}", "parley:room:{r_abc}:msgs", "parley:rooms", "héllo{wörld}"}
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "ab{}:x\x00\xff"
	for range 400 {
		b := make([]byte, rng.IntN(12))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		keys = append(keys, string(b))
	}
	ctx := context.Background()
	for _, k := range keys {
		want, err := node.ClusterKeySlot(ctx, k).Result()
		if err != nil {
			t.Fatalf("CLUSTER KEYSLOT %q: %v", k, err)
		}
		if got := keySlot(k); got != int(want) {
			t.Errorf("keySlot(%q) = %d, CLUSTER KEYSLOT says %d", k, got, want)
		}
	}
}

// singleSlotScripts are the scripts the audit found in one slot on every
// call: they must stay so (a new key in one of them needs the room's hash
// tag, or a design for Cluster). The audit reports the others; the next
// session's data model moves them here.
var singleSlotScripts = []string{
	"activity.lua", "adminsonline.lua", "apitokentouch.lua", "attclaim.lua", "attexpire.lua", "attput.lua",
	"block.lua", "inbox.lua", "markread.lua",
	"heartbeat.lua", "identity.lua", "messages.lua", "notifyack.lua", "notifymark.lua", "place.lua",
	"placement.lua", "revoke.lua", "searchhit.lua", "secret.lua", "sent.lua", "typing.lua",
	"visitorpage.lua", "visitorseen.lua", "visitsalt.lua", "webhookadd.lua", "webhookput.lua",
	// The global families' hash tags ({team}, {mailq}, {hookq},
	// notify:{KIND}, visits:{DAY}) and the rate limits' one call per log.
	"allow.lua", "apitokenadd.lua", "apitokenauth.lua", "apitokenrevoke.lua", "maildead.lua",
	"mailenqueue.lua", "mailpromote.lua", "mailretry.lua", "mailsent.lua", "notifyclaim.lua",
	"release.lua", "reserve.lua", "unsubscribeagent.lua", "updateadmin.lua", "visit.lua",
	"webhookfailing.lua",
	// The team's scripts, one slot now that their admin log is the team's
	// (adminlog:{team}).
	"addadmin.lua", "adminprofile.lua", "cannedadd.lua", "canneddelete.lua", "cannedupdate.lua",
	"label.lua", "removeadmin.lua", "setagent.lua", "unlabel.lua",
	// The search index: the room's steps and the partition's.
	"index.lua", "search.lua", "searchbackfill.lua", "searchcopy.lua", "searchdrop.lua", "searchput.lua",
	"searchsweep.lua",
	// The room scripts: their events, index and search sets follow in the
	// room's partition (place.lua, searchput.lua, searchdrop.lua), and the
	// sender's block marker is read before send.lua.
	"create.lua", "delete.lua", "fillvisitor.lua", "note.lua", "send.lua", "setvisitor.lua",
}

// singleSlotMulti are the transactions outside scripts that must stay in
// one slot (go-redis's cluster client would split one over several slots
// into one MULTI per slot, silently non-atomic).
var singleSlotMulti = []string{"DeleteWebhook"}

// TestClusterSlotAudit runs the store's flows against a real redis-server,
// records every script call (the KEYS it declares, through a MONITOR of the
// server, and every key its commands touch, declared or not) and every
// multi-key command or transaction, and reports which are in one Cluster
// slot. It fails only when a script of singleSlotScripts is no longer
// single-slot (or is no longer run). The report goes to the test log and,
// with PARLEY_ARTIFACTS set, to cluster-slots.txt there.
func TestClusterSlotAudit(t *testing.T) {
	real := redistest.StartReal(t)
	ctx := context.Background()
	mon := startMonitor(t, real.Addr())
	rec := newRecorder(t, real.Addr())
	c := mustClient(t, real.Addr())
	c.AddHook(rec)
	prefix := uniquePrefix()
	s := redisstore.New(c, redisstore.Options{Prefix: prefix, RoomTTL: time.Hour})

	runFlows(t, ctx, s)

	calls := mon.stop(t)
	scripts := scriptNames(t)
	patterns := newPatterns(t, prefix)
	rep := buildReport(t, rec, calls, scripts, patterns, real.Addr())

	text := rep.String()
	t.Log("\n" + text)
	if dir := os.Getenv("PARLEY_ARTIFACTS"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, "cluster-slots.txt"), []byte(text), 0o644); err != nil {
			t.Errorf("write the report: %v", err)
		}
	}
	for _, name := range singleSlotMulti {
		found := false
		for _, u := range rep.multi {
			if u.caller == name {
				found = true
				if u.crossSlot {
					t.Errorf("%s: %s spans several slots", name, u.command)
				}
			}
		}
		if !found {
			t.Errorf("%s: the audit's flows no longer run its transaction", name)
		}
	}
	for _, name := range singleSlotScripts {
		r, ok := rep.scripts[name]
		switch {
		case !ok || r.calls == 0:
			t.Errorf("%s: the audit's flows no longer run it (keep it covered)", name)
		case r.crossSlot:
			t.Errorf("%s: now touches keys of several slots (%s); it was single-slot: give the new keys the hash tag of the others (the room's for a room script)", name, strings.Join(r.keyList(), ", "))
		}
	}
}

// TestClusterScriptsOnCluster checks the audit on a real cluster: the same
// flows through Connect's cluster client, with the scripts the audit calls
// single-slot never refused for their slots (CROSSSLOT, or a key of
// another slot touched inside), and the cross-slot ones that ran refused,
// as the audit predicts. The other errors (a room that could not be
// created) are the flows', not the test's.
func TestClusterScriptsOnCluster(t *testing.T) {
	cl := sharedCluster(t)
	c, err := redisstore.Connect(cl.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rec := newRecorder(t, cl.Primaries()[0])
	c.AddHook(rec)
	s := redisstore.New(c, redisstore.Options{Prefix: uniquePrefix(), RoomTTL: time.Hour})
	runFlows(t, context.Background(), s)

	names := scriptNames(t)
	refused := map[string]bool{}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for sha, errs := range rec.errs {
		for _, e := range errs {
			if slotError(e) {
				refused[names[sha]] = true
			}
		}
	}
	called := map[string]bool{}
	for sha := range rec.callers {
		called[names[sha]] = true
	}
	for _, n := range singleSlotScripts {
		if !called[n] {
			// searchhit.lua reads what search.lua found, attexpire.lua and
			// placement.lua need a room create.lua made: those are
			// cross-slot, so refused.
			t.Logf("%s: not reached on the cluster (the cross-slot script before it was refused)", n)
		}
		if refused[n] {
			t.Errorf("%s: the audit says single-slot, the cluster refused it for its slots: %v", n, rec.errs)
		}
	}
	var list []string
	for n := range refused {
		list = append(list, n)
	}
	sort.Strings(list)
	t.Logf("refused by the cluster for their slots (%d): %s", len(list), strings.Join(list, " "))
}

// slotError tells a Redis Cluster refusal of a script's keys.
func slotError(msg string) bool {
	return strings.Contains(msg, "CROSSSLOT") || strings.Contains(msg, "non local key") ||
		strings.Contains(msg, "same slot")
}

// runFlows drives the store's features once each, as the server would; an
// error is logged, not fatal: the audit wants the commands, and a failing
// flow shows up as a script the report says was not run.
func runFlows(t *testing.T, ctx context.Context, s *redisstore.Store) {
	t.Helper()
	check := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Logf("flow %s: %v", what, err)
		}
	}
	now := time.Now()
	hash := []byte("$2a$10$abcdefghijklmnopqrstuuM6cSx1x8cBqQK1tqk6RYd4c7H4y1i6")
	ann := chat.Admin{Username: "ann", DisplayName: "Ann", Role: chat.RoleOwner, PasswordHash: hash, Email: "ann@example.com"}
	bob := chat.Admin{Username: "bob", DisplayName: "Bob", Role: chat.RoleAgent, PasswordHash: hash}
	_, err := s.AddFirstAdmin(ctx, ann)
	check("AddFirstAdmin", err)
	check("AddAdmin", s.AddAdmin(ctx, bob))
	check("UpdateAdmin", s.UpdateAdmin(ctx, bob))
	_, err = s.Admin(ctx, "bob")
	check("Admin", err)
	_, err = s.Admins(ctx)
	check("Admins", err)
	name := "Bobby"
	_, err = s.SetAgent(ctx, "bob", chat.AgentChange{DisplayName: &name})
	check("SetAgent", err)
	check("SetAdminProfile", s.SetAdminProfile(ctx, "ann", chat.AdminProfile{Username: "ann", DisplayName: "Ann", Email: "ann@example.com", Notify: chat.NotifyAlways}))
	check("Revoke", s.Revoke(ctx, "jti1", now.Add(time.Hour)))
	_, err = s.IsRevoked(ctx, "jti1")
	check("IsRevoked", err)
	_, _, err = s.AdminAuth(ctx, "jti2", "ann")
	check("AdminAuth", err)
	_, err = s.Secret(ctx, []byte("secret-candidate"))
	check("Secret", err)
	_, err = s.Heartbeat(ctx, "i1", 1, time.Minute)
	check("Heartbeat", err)
	_, err = s.AdminsOnline(ctx)
	check("AdminsOnline", err)
	check("AgentsHeartbeat", s.AgentsHeartbeat(ctx, []string{"ann"}, now, now.Add(time.Minute)))
	_, err = s.AgentsOnline(ctx, now)
	check("AgentsOnline", err)

	// Rooms, messages, reads, inbox.
	// The rooms keep their ids when a create fails (on a cluster), so the
	// flows after it still run their scripts.
	r1 := chat.Room{ID: chat.NewRoomID(), VisitorName: "Jane", VisitorEmail: "jane@example.com",
		Page: "https://example.com/pricing", CreatedAt: chat.Time{Time: now}, UpdatedAt: chat.Time{Time: now}}
	_, err = s.CreateRoom(ctx, r1)
	check("CreateRoom", err)
	r2 := chat.Room{ID: chat.NewRoomID(), VisitorName: "Joe", CreatedAt: chat.Time{Time: now}, UpdatedAt: chat.Time{Time: now}}
	_, _, err = s.CreateIdentityRoom(ctx, r2, strings.Repeat("ab", 32))
	check("CreateIdentityRoom", err)
	_, err = s.IdentityRoom(ctx, strings.Repeat("ab", 32))
	check("IdentityRoom", err)
	m := newMessage(r1.ID, chat.SenderVisitor, "hello", now)
	_, _, err = s.Append(ctx, m, chat.AppendOptions{ClientID: "c1"})
	check("Append", err)
	_, _, err = s.Append(ctx, newMessage(r1.ID, chat.SenderAdmin, "hi", now), chat.AppendOptions{ClientID: "c2"})
	check("Append admin", err)
	_, _, err = s.Append(ctx, newMessage(r2.ID, chat.SenderVisitor, "yo", now), chat.AppendOptions{ClientID: "c3"})
	check("Append 2", err)
	_, _, err = s.Sent(ctx, r1.ID, "c1")
	check("Sent", err)
	_, _, err = s.Messages(ctx, r1.ID, chat.MessageQuery{Limit: 10})
	check("Messages", err)
	_, _, err = s.MarkRead(ctx, r1.ID, chat.SenderAdmin, 2)
	check("MarkRead", err)
	_, _, err = s.MarkRead(ctx, r1.ID, chat.SenderVisitor, 2)
	check("MarkRead visitor", err)
	_, err = s.SetVisitorDetails(ctx, r1.ID, "Jane D", "jane@example.org")
	check("SetVisitorDetails", err)
	_, err = s.FillVisitor(ctx, r2.ID, chat.NewRoom{Name: "Joe", Email: "joe@example.com"})
	check("FillVisitor", err)
	_, err = s.Typing(ctx, r1.ID, chat.SenderVisitor, 2*time.Second)
	check("Typing", err)
	check("Activity", s.Activity(ctx, r1.ID, chat.AgentRef{Username: "ann", DisplayName: "Ann"}, chat.ActivityViewing, 2*time.Second))
	for _, f := range []chat.RoomFilter{"", chat.FilterOpen, chat.FilterMine, chat.FilterUnassigned, "unread"} {
		_, err = s.ListRooms(ctx, chat.RoomQuery{Filter: f, Limit: 50, Agent: "ann"})
		check("ListRooms "+string(f), err)
	}
	_, err = s.RoomCounts(ctx, "ann")
	check("RoomCounts", err)
	_, err = s.Assign(ctx, r1.ID, &chat.AgentRef{Username: "bob", DisplayName: "Bob"})
	check("Assign", err)
	_, err = s.SetStatus(ctx, r1.ID, chat.StatusPending, now.Add(-time.Second))
	check("SetStatus pending", err)
	due, err := s.DueSnoozes(ctx, now, 10)
	check("DueSnoozes", err)
	for _, id := range due {
		_, err = s.Wake(ctx, id, now)
		check("Wake", err)
	}
	_, err = s.SetStatus(ctx, r1.ID, chat.StatusResolved, time.Time{})
	check("SetStatus resolved", err)
	check("PutLabel", s.PutLabel(ctx, chat.Label{ID: "l_aaaaaaaaaa", Name: "VIP", Color: "red"}, true))
	_, err = s.Labels(ctx)
	check("Labels", err)
	_, err = s.SetRoomLabels(ctx, r1.ID, []string{"l_aaaaaaaaaa"})
	check("SetRoomLabels", err)
	_, err = s.ListRooms(ctx, chat.RoomQuery{Label: "l_aaaaaaaaaa", Limit: 50})
	check("ListRooms label", err)
	check("AddNote", s.AddNote(ctx, chat.Note{ID: "n1", RoomID: r1.ID, Author: "ann", AuthorName: "Ann", Content: "vip", CreatedAt: chat.Time{Time: now}}))
	_, err = s.Notes(ctx, r1.ID)
	check("Notes", err)
	_, err = s.MigrateInbox(ctx)
	check("MigrateInbox", err)
	_, err = s.ReconcileOnce(ctx)
	check("ReconcileOnce", err)
	_, err = s.SetBlocked(ctx, r2.ID, true, now.Add(time.Hour))
	check("SetBlocked", err)
	_, err = s.SetBlocked(ctx, r2.ID, false, time.Time{})
	check("SetBlocked off", err)
	check("BlockClient", s.BlockClient(ctx, "192.0.2.1", now.Add(time.Hour)))
	_, err = s.ClientBlocked(ctx, "192.0.2.1")
	check("ClientBlocked", err)
	check("UnblockClient", s.UnblockClient(ctx, "192.0.2.1"))
	_, err = s.RecordPage(ctx, r1.ID, chat.PageVisit{URL: "https://example.com/", Title: "Home", At: chat.Time{Time: now}},
		chat.VisitorFacts{Latest: map[string]string{"browser": "Firefox"}}, 20)
	check("RecordPage", err)
	_, _, err = s.MarkVisitorSeen(ctx, r1.ID, true, now)
	check("MarkVisitorSeen", err)
	_, err = s.VisitorInfo(ctx, r1.ID)
	check("VisitorInfo", err)

	// Search.
	check("IndexRoom", s.IndexRoom(ctx, r1.ID))
	_, err = s.Search(ctx, chat.SearchQuery{Terms: []string{"hello"}, Limit: 10})
	check("Search", err)
	_, err = s.SweepSearch(ctx, now.Add(48*time.Hour), 10)
	check("SweepSearch", err)
	s.SeedGlobalSearch(t, "r_aaaaaaaaaaaaaaaaaaaaaaaaaa", "hello") // the layout of before: migrated
	_, err = s.BackfillSearch(ctx)
	check("BackfillSearch", err)

	// Notifications.
	check("ScheduleNotify", s.ScheduleNotify(ctx, r1.ID, chat.NotifyAgents, now.Add(-time.Second), ""))
	claims, err := s.ClaimNotify(ctx, chat.NotifyAgents, now, 10, time.Minute)
	check("ClaimNotify", err)
	for _, cl := range claims {
		_, err = s.AckNotify(ctx, chat.NotifyAgents, cl)
		check("AckNotify", err)
	}
	check("MarkNotified", s.MarkNotified(ctx, r1.ID, chat.NotifyAgents, 2))
	_, err = s.NotifiedSeq(ctx, r1.ID, chat.NotifyAgents)
	check("NotifiedSeq", err)
	check("UnsubscribeVisitor", s.UnsubscribeVisitor(ctx, r1.ID, time.Hour))
	check("UnsubscribeAgent", s.UnsubscribeAgent(ctx, "ann"))
	_, err = s.Unsubscribed(ctx, r1.ID, "ann")
	check("Unsubscribed", err)

	// Visits.
	_, err = s.VisitSalt(ctx, now.Format("2006-01-02"), []byte("salt-candidate-0123456789abcdef"), 48*time.Hour)
	check("VisitSalt", err)
	_, err = s.RecordVisit(ctx, chat.NewVisit{Path: "/pricing", VisitorID: "v1"}, now)
	check("RecordVisit", err)
	_, err = s.VisitCount(ctx, now)
	check("VisitCount", err)
	_, err = s.VisitReport(ctx, 7, now)
	check("VisitReport", err)

	// Rate limits.
	w := chat.Window{Key: "messages:" + r1.ID, Limit: chat.Limit{N: 5, Per: time.Minute}}
	_, _, err = s.Allow(ctx, now, w, chat.Window{Key: "ip:192.0.2.1", Limit: chat.Limit{N: 50, Per: time.Hour}})
	check("Allow", err)
	att, _, _, err := s.Reserve(ctx, now, &chat.Backoff{Key: "login:ann", Per: time.Minute, Free: 3, Waits: []time.Duration{time.Second}}, w)
	check("Reserve", err)
	check("Release", s.Release(ctx, att))

	// API tokens, canned replies, webhooks.
	tok := chat.APIToken{ID: "t_aaaaaaaaaa", Name: "ci", Scopes: []chat.Scope{chat.ScopeRead}, CreatedAt: chat.Time{Time: now}, CreatedBy: "ann", Hash: strings.Repeat("0", 64)}
	check("AddAPIToken", s.AddAPIToken(ctx, tok, 50))
	_, err = s.APITokens(ctx)
	check("APITokens", err)
	_, _, err = s.APITokenAuth(ctx, tok.ID)
	check("APITokenAuth", err)
	check("TouchAPIToken", s.TouchAPIToken(ctx, tok.ID, chat.Time{Time: now}))
	check("RevokeAPIToken", s.RevokeAPIToken(ctx, tok.ID))
	cn := chat.Canned{ID: "c_aaaaaaaaaa", Shortcut: "hi", Body: "Hello!", CreatedBy: "ann", UpdatedAt: chat.Time{Time: now}}
	check("AddCanned", s.AddCanned(ctx, cn, 100))
	_, err = s.CannedReplies(ctx)
	check("CannedReplies", err)
	cn2 := cn
	cn2.Shortcut = "hello"
	check("UpdateCanned", s.UpdateCanned(ctx, cn, cn2))
	check("DeleteCanned", s.DeleteCanned(ctx, cn.ID))
	wh := chat.Webhook{ID: "w_aaaaaaaaaa", URL: "https://hooks.example.com/x", Events: []string{"message.created"}, CreatedAt: now, Secret: "s3cr3t"}
	check("AddWebhook", s.AddWebhook(ctx, wh, 10))
	_, err = s.Webhooks(ctx)
	check("Webhooks", err)
	check("PutWebhook", s.PutWebhook(ctx, wh))
	check("SetWebhookFailure", s.SetWebhookFailure(ctx, wh.ID, chat.WebhookFailure{Since: now, Reason: "500"}))
	_, err = s.WebhookFailures(ctx)
	check("WebhookFailures", err)
	check("ClearWebhookFailure", s.ClearWebhookFailure(ctx, wh.ID))
	check("RecordWebhookDelivery", s.RecordWebhookDelivery(ctx, wh.ID, chat.WebhookDelivery{ID: "d1", Job: "j1", Type: "message.created", At: now, OK: true}, 50))
	_, err = s.WebhookDeliveries(ctx, wh.ID, 10)
	check("WebhookDeliveries", err)
	_, err = s.EnqueueWebhookJob(ctx, "j1", []byte(`{}`))
	check("EnqueueWebhookJob", err)
	jobs, err := s.ClaimWebhookJobs(ctx, "i1", 10, 10*time.Millisecond, time.Minute)
	check("ClaimWebhookJobs", err)
	for i, j := range jobs {
		if i == 0 {
			check("RetryWebhookJob", s.RetryWebhookJob(ctx, j, -time.Second, "503"))
		}
	}
	_, err = s.PromoteWebhookJobs(ctx, 10)
	check("PromoteWebhookJobs", err)
	jobs, err = s.ClaimWebhookJobs(ctx, "i1", 10, 10*time.Millisecond, time.Minute)
	check("ClaimWebhookJobs again", err)
	for _, j := range jobs {
		check("WebhookJobDone", s.WebhookJobDone(ctx, j))
	}
	check("DeleteWebhook", s.DeleteWebhook(ctx, wh.ID))

	// The mail queue.
	for _, id := range []string{"m1", "m2", "m3"} {
		_, err = s.EnqueueMail(ctx, id, []byte(`{}`))
		check("EnqueueMail", err)
	}
	mails, err := s.ClaimMail(ctx, "i1", 10, 10*time.Millisecond, time.Minute)
	check("ClaimMail", err)
	for i, ml := range mails {
		switch i {
		case 0:
			check("RetryMail", s.RetryMail(ctx, ml, -time.Second, "421"))
		case 1:
			check("BuryMail", s.BuryMail(ctx, ml, "550"))
		default:
			check("MailSent", s.MailSent(ctx, ml))
		}
	}
	_, err = s.PromoteMail(ctx, 10)
	check("PromoteMail", err)
	mails, err = s.ClaimMail(ctx, "i1", 10, 10*time.Millisecond, time.Minute)
	check("ClaimMail again", err)
	for _, ml := range mails {
		check("MailSent", s.MailSent(ctx, ml))
	}
	_, err = s.DeadMail(ctx, 10)
	check("DeadMail", err)
	_, err = s.MailStats(ctx)
	check("MailStats", err)

	// Attachments and their sweep.
	check("PutAttachment", s.PutAttachment(ctx, r1.ID, chat.Attachment{ID: "a_aaaaaaaaaa", Name: "x.png", Size: 3, Type: "image/png", URL: "/files/x"}, now.Add(-time.Second)))
	_, err = s.Attachment(ctx, r1.ID, "a_aaaaaaaaaa")
	check("Attachment", err)
	rooms, err := s.ClaimAttachmentRooms(ctx, now.Add(2*time.Hour), time.Minute, 10)
	check("ClaimAttachmentRooms", err)
	for _, id := range rooms {
		_, _, err = s.ExpireAttachments(ctx, id, now)
		check("ExpireAttachments", err)
	}
	check("ForgetAttachmentRoom", s.ForgetAttachmentRoom(ctx, r2.ID))

	// Business hours, the admin log, fingerprints.
	_, _, err = s.BusinessHours(ctx)
	check("BusinessHours", err)
	_, err = s.AdminLogEnd(ctx)
	check("AdminLogEnd", err)
	check("EnsureAdminLogGroup", s.EnsureAdminLogGroup(ctx, "g1"))
	_, err = s.ReadAdminLog(ctx, "g1", "i1", 10, 10*time.Millisecond, time.Minute)
	check("ReadAdminLog", err)
	_, _, err = s.AdminEventsAfter(ctx, "0", 10)
	check("AdminEventsAfter", err)
	check("SetRoomFingerprint", s.SetRoomFingerprint(ctx, r1.ID, "fp"))
	_, err = s.RoomFingerprint(ctx, r1.ID)
	check("RoomFingerprint", err)

	// The end of a room and of accounts.
	check("DeleteRoom", s.DeleteRoom(ctx, r1.ID, chat.SenderAdmin))
	check("DeleteRoom 2", s.DeleteRoom(ctx, r2.ID, chat.SenderVisitor))
	check("DeleteLabel", s.DeleteLabel(ctx, "l_aaaaaaaaaa"))
	check("UnassignAll", s.UnassignAll(ctx, "bob"))
	check("RemoveAgent", s.RemoveAgent(ctx, "bob"))
	check("RemoveAdmin", s.RemoveAdmin(ctx, "ann"))
}

// monitor reads MONITOR from a server: every command run, the ones scripts
// run included (as "[0 lua]" lines right after their EVAL/EVALSHA).
type monitor struct {
	conn  net.Conn
	done  chan struct{}
	mu    sync.Mutex
	lines [][]string
	err   error
}

const monitorEnd = "parley-slot-audit-end"

func startMonitor(t *testing.T, addr string) *monitor {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	m := &monitor{conn: conn, done: make(chan struct{})}
	t.Cleanup(func() { _ = conn.Close() })
	if _, err := conn.Write([]byte("*1\r\n$7\r\nMONITOR\r\n")); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReaderSize(conn, 1<<20)
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if line, err := br.ReadString('\n'); err != nil || line != "+OK\r\n" {
		t.Fatalf("MONITOR: %q, %v", line, err)
	}
	_ = conn.SetReadDeadline(time.Time{})
	go func() {
		defer close(m.done)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				m.mu.Lock()
				m.err = err
				m.mu.Unlock()
				return
			}
			f, ok := parseMonitorLine(strings.TrimRight(line, "\r\n"))
			if !ok {
				continue
			}
			m.mu.Lock()
			m.lines = append(m.lines, f)
			m.mu.Unlock()
			if len(f) == 3 && strings.EqualFold(f[1], "echo") && f[2] == monitorEnd {
				return
			}
		}
	}()
	return m
}

// stop sends the end marker, waits for it and returns the lines: each is the
// source ("lua" or a client address) then the command's arguments.
func (m *monitor) stop(t *testing.T) [][]string {
	t.Helper()
	addr := m.conn.RemoteAddr().String()
	c := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, DisableIdentity: true})
	defer c.Close()
	if err := c.Echo(context.Background(), monitorEnd).Err(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-m.done:
	case <-time.After(10 * time.Second):
		t.Fatal("MONITOR did not see the end marker")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		t.Fatalf("MONITOR: %v", m.err)
	}
	return m.lines
}

// parseMonitorLine reads `1700000000.123 [0 127.0.0.1:5555] "SET" "k" "v"`:
// the arguments are quoted as sdscatrepr does (\" \\ \n \r \t \a \b \xHH).
func parseMonitorLine(line string) ([]string, bool) {
	open := strings.IndexByte(line, '[')
	end := strings.IndexByte(line, ']')
	if open < 0 || end < open {
		return nil, false
	}
	src := line[open+1 : end]
	if _, after, ok := strings.Cut(src, " "); ok {
		src = after
	}
	out := []string{src}
	rest := line[end+1:]
	for {
		i := strings.IndexByte(rest, '"')
		if i < 0 {
			break
		}
		rest = rest[i+1:]
		var b strings.Builder
		j := 0
		for ; j < len(rest) && rest[j] != '"'; j++ {
			if rest[j] != '\\' || j+1 >= len(rest) {
				b.WriteByte(rest[j])
				continue
			}
			j++
			switch rest[j] {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'a':
				b.WriteByte('\a')
			case 'b':
				b.WriteByte('\b')
			case 'x':
				if j+2 < len(rest) {
					if v, err := strconv.ParseUint(rest[j+1:j+3], 16, 8); err == nil {
						b.WriteByte(byte(v))
						j += 2
						continue
					}
				}
				b.WriteByte('x')
			default:
				b.WriteByte(rest[j])
			}
		}
		out = append(out, b.String())
		if j >= len(rest) {
			break
		}
		rest = rest[j+1:]
	}
	return out, len(out) > 1
}

// recorder is a go-redis hook: it notes, for every command the store sends,
// which store method sent it (the outermost redisstore frame), and keeps the
// scripts' callers and the multi-key commands and transactions.
type recorder struct {
	t       *testing.T
	getkeys *redis.Client

	mu      sync.Mutex
	callers map[string]map[string]bool // script sha -> store methods
	multi   map[string]*multiUse       // caller+command -> use
	errs    map[string][]string        // script sha -> errors of its calls
}

// noteErr keeps the error of a script call (NOSCRIPT aside: go-redis sends
// the script with EVAL then).
func (r *recorder) noteErr(args []any, err error) {
	if strings.HasPrefix(err.Error(), "NOSCRIPT") || len(args) < 2 {
		return
	}
	sha := fmt.Sprint(args[1])
	if name := fmt.Sprint(args[0]); name == "eval" || name == "eval_ro" {
		sum := sha1.Sum([]byte(sha))
		sha = hex.EncodeToString(sum[:])
	}
	r.mu.Lock()
	r.errs[sha] = append(r.errs[sha], err.Error())
	r.mu.Unlock()
}

type multiUse struct {
	caller, command string
	keys            map[string]bool
	crossSlot       bool
}

func newRecorder(t *testing.T, addr string) *recorder {
	gk := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, DisableIdentity: true})
	t.Cleanup(func() { _ = gk.Close() })
	return &recorder{t: t, getkeys: gk, callers: map[string]map[string]bool{}, multi: map[string]*multiUse{}, errs: map[string][]string{}}
}

func (r *recorder) DialHook(next redis.DialHook) redis.DialHook { return next }

func (r *recorder) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		r.note(caller(), []redis.Cmder{cmd}, false)
		err := next(ctx, cmd)
		if err != nil && strings.HasPrefix(cmd.Name(), "eval") {
			r.noteErr(cmd.Args(), err)
		}
		return err
	}
}

func (r *recorder) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		tx := len(cmds) > 0 && cmds[0].Name() == "multi"
		r.note(caller(), cmds, tx)
		return next(ctx, cmds)
	}
}

// caller names the outermost redisstore function on the stack: the store
// method a flow called.
func caller() string {
	pcs := make([]uintptr, 64)
	n := runtime.Callers(3, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	const pkg = "github.com/parley-chat/parley/internal/redisstore."
	name := "?"
	for {
		f, more := frames.Next()
		if rest, ok := strings.CutPrefix(f.Function, pkg); ok {
			name = rest
		}
		if !more {
			break
		}
	}
	return strings.ReplaceAll(name, "(*Store).", "")
}

func (r *recorder) note(by string, cmds []redis.Cmder, tx bool) {
	var txKeys []string
	var txNames []string
	for _, cmd := range cmds {
		args := cmd.Args()
		name := strings.ToLower(cmd.Name())
		switch name {
		case "multi", "exec":
			continue
		case "evalsha", "eval", "evalsha_ro", "eval_ro":
			sha := fmt.Sprint(args[1])
			if name == "eval" || name == "eval_ro" {
				sum := sha1.Sum([]byte(sha))
				sha = hex.EncodeToString(sum[:])
			}
			r.mu.Lock()
			if r.callers[sha] == nil {
				r.callers[sha] = map[string]bool{}
			}
			r.callers[sha][by] = true
			r.mu.Unlock()
		}
		keys := r.keysOf(args)
		if tx {
			txKeys = append(txKeys, keys...)
			txNames = append(txNames, name)
			continue
		}
		if len(keys) > 1 && !strings.HasPrefix(name, "eval") {
			r.addMulti(by, name, keys)
		}
	}
	if tx && len(txKeys) > 0 {
		r.addMulti(by, "MULTI "+strings.Join(txNames, " ")+" EXEC", txKeys)
	}
}

func (r *recorder) addMulti(by, command string, keys []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	u := r.multi[by+" "+command]
	if u == nil {
		u = &multiUse{caller: by, command: command, keys: map[string]bool{}}
		r.multi[by+" "+command] = u
	}
	slots := map[int]bool{}
	for _, k := range keys {
		u.keys[k] = true
		slots[keySlot(k)] = true
	}
	if len(slots) > 1 {
		u.crossSlot = true
	}
}

// keysOf asks the server which arguments of a command are keys (COMMAND
// GETKEYS); none for a command without keys.
func (r *recorder) keysOf(args []any) []string {
	if len(args) == 0 {
		return nil
	}
	name := strings.ToLower(fmt.Sprint(args[0]))
	if name == "evalsha" || name == "eval" || name == "evalsha_ro" || name == "eval_ro" {
		n, _ := strconv.Atoi(fmt.Sprint(args[2]))
		var out []string
		for _, k := range args[3 : 3+n] {
			out = append(out, fmt.Sprint(k))
		}
		return out
	}
	return getKeys(r.getkeys, args)
}

func getKeys(c *redis.Client, args []any) []string {
	all := append([]any{"command", "getkeys"}, args...)
	v, err := c.Do(context.Background(), all...).StringSlice()
	if err != nil {
		return nil // no key arguments (PING, TIME, PUBLISH...)
	}
	return v
}

// scriptNames maps each lua/*.lua file's SHA-1 (what EVALSHA names; the
// store embeds the files as they are) to its file name.
func scriptNames(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("lua/*.lua")
	if err != nil || len(files) == 0 {
		t.Fatalf("list lua/*.lua: %v", err)
	}
	lib, err := os.ReadFile("lua/lib/emit.lua")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// scripts.go puts the library before the scripts that name it.
		if bytes.Contains(b, []byte("lua/lib/emit.lua, put")) {
			b = append(append([]byte{}, lib...), b...)
		}
		sum := sha1.Sum(b)
		out[hex.EncodeToString(sum[:])] = filepath.Base(f)
	}
	return out
}

// patterns turns a key back into the key table's pattern (default prefix).
type patterns struct {
	prefix string
	res    []*regexp.Regexp
	pats   []string
}

func newPatterns(t *testing.T, prefix string) *patterns {
	p := &patterns{prefix: prefix}
	var list []string
	for _, pat := range redisstore.KeyPatterns(t) {
		list = append(list, pat)
	}
	// The longest first, so the most specific pattern wins.
	sort.Slice(list, func(i, j int) bool {
		return len(list[i]) > len(list[j]) || len(list[i]) == len(list[j]) && list[i] < list[j]
	})
	upper := regexp.MustCompile(`[A-Z][A-Z0-9_]*`)
	for _, pat := range list {
		body := strings.TrimPrefix(pat, "parley:")
		q := regexp.QuoteMeta(body)
		q = strings.ReplaceAll(q, `\{ID\}`, `\{[^}]*\}`)
		q = upper.ReplaceAllString(q, `.+`)
		p.res = append(p.res, regexp.MustCompile("^"+regexp.QuoteMeta(prefix)+q+"$"))
		p.pats = append(p.pats, pat)
	}
	return p
}

func (p *patterns) of(key string) string {
	for i, re := range p.res {
		if re.MatchString(key) {
			return p.pats[i]
		}
	}
	if rest, ok := strings.CutPrefix(key, p.prefix); ok {
		return "parley:" + rest + " (no builder)"
	}
	return key + " (no builder)"
}

// report is the audit's result.
type report struct {
	scripts map[string]*scriptReport
	multi   []*multiUse
	pats    *patterns
}

type scriptReport struct {
	name      string
	calls     int
	callers   map[string]bool
	declared  map[string]bool // patterns in KEYS
	undecl    map[string]bool // patterns touched but not in KEYS
	crossSlot bool
	publishes bool
}

func (r *scriptReport) keyList() []string {
	var out []string
	for k := range r.declared {
		out = append(out, k)
	}
	for k := range r.undecl {
		if !r.declared[k] {
			out = append(out, k+" (not in KEYS)")
		}
	}
	sort.Strings(out)
	return out
}

// globals are the patterns without the room's hash tag: the keys that put
// a script outside the room's slot.
func (r *scriptReport) globals() []string {
	var out []string
	for _, k := range r.keyList() {
		if !strings.Contains(k, "{ID}") {
			out = append(out, k)
		}
	}
	return out
}

func buildReport(t *testing.T, rec *recorder, lines [][]string, names map[string]string, pats *patterns, addr string) *report {
	t.Helper()
	gk := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, DisableIdentity: true})
	defer gk.Close()
	rep := &report{scripts: map[string]*scriptReport{}, pats: pats}
	for _, n := range names {
		rep.scripts[n] = &scriptReport{name: n, callers: map[string]bool{}, declared: map[string]bool{}, undecl: map[string]bool{}}
	}
	getkeysCache := map[string][]string{}
	var cur *scriptReport
	var curSlots map[int]bool
	var curDeclared map[string]bool
	finish := func() {
		if cur != nil && len(curSlots) > 1 {
			cur.crossSlot = true
		}
		cur = nil
	}
	noteSlot := func(k string) {
		curSlots[keySlot(k)] = true
	}
	for _, f := range lines {
		src, args := f[0], f[1:]
		cmd := strings.ToLower(args[0])
		if src != "lua" {
			finish()
			if !strings.HasPrefix(cmd, "eval") || len(args) < 3 {
				continue
			}
			sha := args[1]
			if cmd == "eval" || cmd == "eval_ro" {
				sum := sha1.Sum([]byte(args[1]))
				sha = hex.EncodeToString(sum[:])
			}
			name, ok := names[sha]
			if !ok {
				continue // not one of the store's scripts
			}
			cur = rep.scripts[name]
			cur.calls++
			curSlots = map[int]bool{}
			curDeclared = map[string]bool{}
			n, _ := strconv.Atoi(args[2])
			for _, k := range args[3:min(3+n, len(args))] {
				curDeclared[k] = true
				noteSlot(k)
				cur.declared[pats.of(k)] = true
			}
			continue
		}
		if cur == nil {
			continue
		}
		if cmd == "publish" || cmd == "spublish" {
			cur.publishes = true
		}
		anyArgs := make([]any, len(args))
		for i, a := range args {
			anyArgs[i] = a
		}
		ck := strings.Join(args, "\x00")
		keys, ok := getkeysCache[ck]
		if !ok {
			keys = getKeys(gk, anyArgs)
			getkeysCache[ck] = keys
		}
		for _, k := range keys {
			noteSlot(k)
			if !curDeclared[k] {
				cur.undecl[pats.of(k)] = true
			}
		}
	}
	finish()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for sha, by := range rec.callers {
		if n, ok := names[sha]; ok {
			for c := range by {
				rep.scripts[n].callers[c] = true
			}
		}
	}
	for _, u := range rec.multi {
		rep.multi = append(rep.multi, u)
	}
	sort.Slice(rep.multi, func(i, j int) bool {
		return rep.multi[i].caller+rep.multi[i].command < rep.multi[j].caller+rep.multi[j].command
	})
	return rep
}

func (rep *report) String() string {
	var b strings.Builder
	var names []string
	for n := range rep.scripts {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintf(&b, "Redis Cluster slot audit: every script the store runs, the keys of one call\n")
	fmt.Fprintf(&b, "(patterns under the default prefix; \"not in KEYS\" = built inside the script),\n")
	fmt.Fprintf(&b, "and whether one call's keys all hash to one slot.\n\n")
	fmt.Fprintf(&b, "| script | called by | keys | one slot | keys outside the room's slot |\n|---|---|---|---|---|\n")
	var single, cross, unrun []string
	for _, n := range names {
		r := rep.scripts[n]
		var callers []string
		for c := range r.callers {
			callers = append(callers, c)
		}
		sort.Strings(callers)
		verdict := "yes"
		switch {
		case r.calls == 0:
			verdict = "not run by the audit"
			unrun = append(unrun, n)
		case r.crossSlot:
			verdict = "**no**"
			cross = append(cross, n)
		default:
			single = append(single, n)
		}
		glob := strings.Join(r.globals(), ", ")
		if r.publishes {
			if glob != "" {
				glob += "; "
			}
			glob += "PUBLISH (events channel)"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", n, strings.Join(callers, ", "),
			"`"+strings.Join(r.keyList(), "`, `")+"`", verdict, glob)
	}
	fmt.Fprintf(&b, "\nsingle-slot (%d): %s\ncross-slot (%d): %s\nnot run (%d): %s\n",
		len(single), strings.Join(single, " "), len(cross), strings.Join(cross, " "), len(unrun), strings.Join(unrun, " "))
	fmt.Fprintf(&b, "\nMulti-key commands and transactions outside scripts:\n\n| called by | command | keys | one slot |\n|---|---|---|---|\n")
	for _, u := range rep.multi {
		seen := map[string]bool{}
		var ks []string
		for k := range u.keys {
			if p := rep.pats.of(k); !seen[p] {
				seen[p] = true
				ks = append(ks, p)
			}
		}
		slices.Sort(ks)
		verdict := "yes"
		if u.crossSlot {
			verdict = "**no**"
		}
		fmt.Fprintf(&b, "| %s | `%s` | `%s` | %s |\n", u.caller, u.command, strings.Join(ks, "`, `"), verdict)
	}
	return b.String()
}
