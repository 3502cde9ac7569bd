package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/redisstore/redistest"
)

// The team inbox through the real router: status, snooze, assignment,
// labels, private notes, the agents' activity, the views and their counts.

// agentToken creates the agent username (role agent, unless it exists)
// and returns a token of theirs.
func (e *env) agentToken(username, displayName string) string {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = e.store.AddAdmin(ctx, chat.Admin{Username: username, DisplayName: displayName, PasswordHash: adminHash(), Role: chat.RoleAgent})
	adm, err := e.store.Admin(ctx, username)
	if err != nil {
		e.t.Fatalf("agent %s: %v", username, err)
	}
	tok, _, err := e.tokens.IssueAdmin(adm)
	if err != nil {
		e.t.Fatalf("issue token: %v", err)
	}
	return tok
}

type roomPage struct {
	Rooms  []chat.Room     `json:"rooms"`
	Counts chat.RoomCounts `json:"counts"`
}

// list answers GET /api/v1/admin/rooms?query for token.
func (e *env) list(token, query string) roomPage {
	e.t.Helper()
	r := e.do(req{method: "GET", path: "/api/v1/admin/rooms?" + query, token: token})
	want(e.t, r, http.StatusOK, "")
	return decode[roomPage](e.t, r)
}

func (p roomPage) has(id string) bool {
	for _, r := range p.Rooms {
		if r.ID == id {
			return true
		}
	}
	return false
}

func roomOf(t testing.TB, r resp) chat.Room {
	t.Helper()
	return decode[struct {
		Room chat.Room `json:"room"`
	}](t, r).Room
}

func TestStatusAndSnooze(t *testing.T) {
	t.Parallel()
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{})
		at := e.adminToken()
		room, vtok := e.mustRoom(map[string]string{"name": "Jane"})
		if room.Status != "" {
			t.Fatalf("the visitor sees status %q, want none", room.Status)
		}
		if got := e.mustStoredRoom(room.ID); got.Status != chat.StatusOpen {
			t.Fatalf("a new room is %q, want open", got.Status)
		}
		p := e.list(at, "filter=open")
		if !p.has(room.ID) || p.Counts.Open != 1 || p.Counts.Unassigned != 1 || p.Counts.Pending != 0 {
			t.Fatalf("open view: got %+v", p)
		}

		path := "/api/v1/admin/rooms/" + room.ID + "/status"
		until := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
		r := e.do(req{method: "POST", path: path, token: at, body: map[string]any{"status": "pending", "until": until.Format(time.RFC3339Nano)}})
		want(t, r, http.StatusOK, "")
		got := roomOf(t, r)
		if got.Status != chat.StatusPending || got.SnoozedUntil == nil || !got.SnoozedUntil.Equal(until) {
			t.Fatalf("snoozed: got %+v", got)
		}
		p = e.list(at, "filter=pending")
		if !p.has(room.ID) || p.Counts.Pending != 1 || p.Counts.Open != 0 || p.Counts.Unassigned != 0 {
			t.Fatalf("pending view: got %+v", p)
		}
		if e.list(at, "filter=open").has(room.ID) {
			t.Fatal("a pending room is still in the open view")
		}

		// Bad input changes nothing.
		for _, bad := range []any{
			map[string]any{"status": "closed"},
			map[string]any{"status": ""},
			map[string]any{},
			map[string]any{"status": "resolved", "until": until.Format(time.RFC3339)},
			map[string]any{"status": "pending", "until": time.Now().Add(-time.Hour).Format(time.RFC3339)},
			map[string]any{"status": "pending", "until": "tomorrow"},
			map[string]any{"status": 3},
		} {
			want(t, e.do(req{method: "POST", path: path, token: at, body: bad}), http.StatusBadRequest, "invalid_request")
		}
		want(t, e.do(req{method: "POST", path: path, token: vtok, body: map[string]any{"status": "open"}}), http.StatusUnauthorized, "unauthorized")
		want(t, e.do(req{method: "POST", path: path, body: map[string]any{"status": "open"}}), http.StatusUnauthorized, "unauthorized")
		want(t, e.do(req{method: "POST", path: "/api/v1/admin/rooms/" + chat.NewRoomID() + "/status", token: at, body: map[string]any{"status": "open"}}), http.StatusNotFound, "room_not_found")
		if got := e.mustStoredRoom(room.ID); got.Status != chat.StatusPending {
			t.Fatalf("after bad input: got %q, want pending", got.Status)
		}

		// The snooze ends: a waker whose clock is past it reopens the room,
		// once.
		later := chat.NewService(e.store, chat.Config{Now: func() time.Time { return until.Add(time.Second) }})
		if n, err := e.svc.WakeSnoozes(context.Background()); err != nil || n != 0 {
			t.Fatalf("before the end: woke %d, %v; want 0", n, err)
		}
		if n, err := later.WakeSnoozes(context.Background()); err != nil || n != 1 {
			t.Fatalf("after the end: woke %d, %v; want 1", n, err)
		}
		if n, err := later.WakeSnoozes(context.Background()); err != nil || n != 0 {
			t.Fatalf("twice: woke %d, %v; want 0", n, err)
		}
		got = e.mustStoredRoom(room.ID)
		if got.Status != chat.StatusOpen || got.SnoozedUntil != nil {
			t.Fatalf("woken: got %+v", got)
		}

		// Resolved, then the visitor writes: open again.
		want(t, e.do(req{method: "POST", path: path, token: at, body: map[string]any{"status": "resolved"}}), http.StatusOK, "")
		if p := e.list(at, "filter=resolved"); !p.has(room.ID) || p.Counts.Resolved != 1 {
			t.Fatalf("resolved view: got %+v", p)
		}
		e.mustSend(room.ID, vtok, false, "one more thing")
		got = e.mustStoredRoom(room.ID)
		if got.Status != chat.StatusOpen {
			t.Fatalf("after the visitor wrote: got %q, want open", got.Status)
		}
		p = e.list(at, "filter=open")
		if !p.has(room.ID) || p.Counts.Resolved != 0 || p.Counts.Open != 1 {
			t.Fatalf("reopened: got %+v", p)
		}
		// A snoozed room the visitor writes in reopens too, and its snooze
		// is gone.
		want(t, e.do(req{method: "POST", path: path, token: at, body: map[string]any{"status": "pending", "until": until.Format(time.RFC3339Nano)}}), http.StatusOK, "")
		e.mustSend(room.ID, vtok, false, "hello?")
		if got := e.mustStoredRoom(room.ID); got.Status != chat.StatusOpen || got.SnoozedUntil != nil {
			t.Fatalf("snoozed, then the visitor wrote: got %+v", got)
		}
		if n, err := later.WakeSnoozes(context.Background()); err != nil || n != 0 {
			t.Fatalf("a reopened room woke again: %d, %v", n, err)
		}
		// An agent's reply does not reopen a resolved room.
		want(t, e.do(req{method: "POST", path: path, token: at, body: map[string]any{"status": "resolved"}}), http.StatusOK, "")
		e.mustSend(room.ID, at, true, "glad to help")
		if got := e.mustStoredRoom(room.ID); got.Status != chat.StatusResolved {
			t.Fatalf("after the agent's reply: got %q, want resolved", got.Status)
		}

		// Deleted: gone from every view and count.
		want(t, e.do(req{method: "DELETE", path: "/api/v1/admin/rooms/" + room.ID, token: at}), http.StatusNoContent, "")
		p = e.list(at, "filter=resolved")
		if p.has(room.ID) || p.Counts != (chat.RoomCounts{}) {
			t.Fatalf("after delete: got %+v", p)
		}
	})
}

func TestAssignment(t *testing.T) {
	t.Parallel()
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{})
		alice := e.adminToken()
		priya := e.agentToken("priya", "Priya Raman")
		room, vtok := e.mustRoom(map[string]string{"name": "Jane"})
		path := "/api/v1/admin/rooms/" + room.ID + "/assign"

		r := e.do(req{method: "POST", path: path, token: alice, body: map[string]any{"username": "priya"}})
		want(t, r, http.StatusOK, "")
		if got := roomOf(t, r); got.Assignee == nil || *got.Assignee != "priya" || got.AssigneeName != "Priya Raman" {
			t.Fatalf("assigned: got %+v", got)
		}
		if p := e.list(priya, "filter=mine"); !p.has(room.ID) || p.Counts.Mine != 1 || p.Counts.Unassigned != 0 {
			t.Fatalf("priya's mine: got %+v", p)
		}
		if p := e.list(alice, "filter=mine"); p.has(room.ID) || p.Counts.Mine != 0 {
			t.Fatalf("alice's mine: got %+v", p)
		}
		// The visitor sees who helps them, not their username.
		vr := e.do(req{method: "GET", path: "/api/v1/rooms/" + room.ID, token: vtok})
		want(t, vr, http.StatusOK, "")
		if strings.Contains(string(vr.body), `"priya"`) || !strings.Contains(string(vr.body), "Priya Raman") {
			t.Fatalf("the visitor's room: %s", vr.body)
		}

		for _, bad := range []struct {
			body any
			code int
			err  string
		}{
			{map[string]any{"username": "nobody"}, http.StatusNotFound, "not_found"},
			{map[string]any{}, http.StatusBadRequest, "invalid_request"},
			{map[string]any{"username": 7}, http.StatusBadRequest, "invalid_request"},
			{map[string]any{"username": ""}, http.StatusBadRequest, "invalid_request"},
		} {
			want(t, e.do(req{method: "POST", path: path, token: alice, body: bad.body}), bad.code, bad.err)
		}
		want(t, e.do(req{method: "POST", path: path, token: vtok, body: map[string]any{"username": "priya"}}), http.StatusUnauthorized, "unauthorized")
		if got := e.mustStoredRoom(room.ID); got.Assignee == nil || *got.Assignee != "priya" {
			t.Fatalf("after bad input: got %+v", got.Assignee)
		}

		// Unassigned with null.
		r = e.do(req{method: "POST", path: path, token: alice, body: map[string]any{"username": nil}})
		want(t, r, http.StatusOK, "")
		if got := roomOf(t, r); got.Assignee != nil || got.AssigneeName != "" {
			t.Fatalf("unassigned: got %+v", got)
		}
		if p := e.list(alice, "filter=unassigned"); !p.has(room.ID) || p.Counts.Unassigned != 1 || p.Counts.Mine != 0 {
			t.Fatalf("unassigned view: got %+v", p)
		}

		// The first agent to reply gets it; the second does not take it.
		e.mustSend(room.ID, alice, true, "Hi Jane, Alice here")
		e.mustSend(room.ID, priya, true, "Hi Jane")
		if got := e.mustStoredRoom(room.ID); got.Assignee == nil || *got.Assignee != adminUser || got.AssigneeName != adminName {
			t.Fatalf("after two replies: got %+v", got)
		}
		if p := e.list(alice, "filter=mine"); !p.has(room.ID) {
			t.Fatalf("alice's mine after her reply: got %+v", p)
		}

		// A removed agent's rooms go back to nobody.
		want(t, e.do(req{method: "POST", path: path, token: alice, body: map[string]any{"username": "priya"}}), http.StatusOK, "")
		if err := e.store.UnassignAll(context.Background(), "priya"); err != nil {
			t.Fatal(err)
		}
		if got := e.mustStoredRoom(room.ID); got.Assignee != nil {
			t.Fatalf("after the agent left: got %+v", got.Assignee)
		}
	})
}

func TestNotesNeverReachTheVisitor(t *testing.T) {
	t.Parallel()
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{})
		at := e.adminToken()
		room, vtok := e.mustRoom(map[string]string{"name": "Jane"})
		e.mustSend(room.ID, vtok, false, "my order is late")

		vs, r := openStream(t, e.url("/api/v1/rooms/"+room.ID+"/events"), vtok, nil)
		want(t, r, http.StatusOK, "")
		defer vs.close()
		vs.ignore("presence", "ready", "typing", "read")
		as, r := openStream(t, e.url("/api/v1/admin/events"), at, nil)
		want(t, r, http.StatusOK, "")
		defer as.close()
		as.ignore("presence", "ready", "typing", "room", "agent.activity")

		const secret = "refund approved by finance SECRETNOTE"
		r = e.do(req{method: "POST", path: "/api/v1/admin/rooms/" + room.ID + "/notes", token: at, body: map[string]string{"content": secret}})
		want(t, r, http.StatusCreated, "")
		note := decode[struct {
			Note chat.Note `json:"note"`
		}](t, r).Note
		if note.Content != secret || note.Author != adminUser || note.AuthorName != adminName || note.ID == "" {
			t.Fatalf("got note %+v", note)
		}
		ev := as.expect("note")
		if !strings.Contains(ev.Data, "SECRETNOTE") || ev.ID == "" {
			t.Fatalf("admin stream note: %+v", ev)
		}
		// The visitor's next event after the first message is the reply,
		// not the note.
		if ev := vs.expect("message"); !strings.Contains(ev.Data, "my order is late") {
			t.Fatalf("visitor stream: %+v", ev)
		}
		e.mustSend(room.ID, at, true, "on its way")
		if ev := vs.expect("message"); strings.Contains(ev.Data, "SECRETNOTE") || !strings.Contains(ev.Data, "on its way") {
			t.Fatalf("visitor stream: %+v", ev)
		}
		vs.quiet(200 * time.Millisecond)

		for _, p := range []string{"/api/v1/rooms/" + room.ID + "/messages", "/api/v1/rooms/" + room.ID} {
			r := e.do(req{method: "GET", path: p, token: vtok})
			want(t, r, http.StatusOK, "")
			if strings.Contains(string(r.body), "SECRETNOTE") {
				t.Fatalf("%s shows the note: %s", p, r.body)
			}
		}
		if got := e.mustStoredRoom(room.ID); got.MessageCount != 2 || strings.Contains(got.LastMessage.Content, "SECRETNOTE") {
			t.Fatalf("the note counted as a message: %+v", got)
		}

		// Agents get it with the room and on its own route.
		open := e.do(req{method: "GET", path: "/api/v1/admin/rooms/" + room.ID, token: at})
		want(t, open, http.StatusOK, "")
		if b := decode[struct {
			Notes []chat.Note `json:"notes"`
		}](t, open); len(b.Notes) != 1 || b.Notes[0].Content != secret {
			t.Fatalf("opened room notes: %s", open.body)
		}
		list := e.do(req{method: "GET", path: "/api/v1/admin/rooms/" + room.ID + "/notes", token: at})
		want(t, list, http.StatusOK, "")
		if !strings.Contains(string(list.body), "SECRETNOTE") {
			t.Fatalf("notes: %s", list.body)
		}

		// Bad input.
		np := "/api/v1/admin/rooms/" + room.ID + "/notes"
		want(t, e.do(req{method: "POST", path: np, token: at, body: map[string]string{"content": "  "}}), http.StatusBadRequest, "invalid_request")
		want(t, e.do(req{method: "POST", path: np, token: at, body: map[string]string{"content": strings.Repeat("x", chat.MaxContent+1)}}), http.StatusBadRequest, "invalid_request")
		want(t, e.do(req{method: "POST", path: np, token: vtok, body: map[string]string{"content": "x"}}), http.StatusUnauthorized, "unauthorized")
		want(t, e.do(req{method: "GET", path: np, token: vtok}), http.StatusUnauthorized, "unauthorized")
		want(t, e.do(req{method: "POST", path: "/api/v1/admin/rooms/" + chat.NewRoomID() + "/notes", token: at, body: map[string]string{"content": "x"}}), http.StatusNotFound, "room_not_found")

		// Deleted with the room.
		want(t, e.do(req{method: "DELETE", path: "/api/v1/admin/rooms/" + room.ID, token: at}), http.StatusNoContent, "")
		want(t, e.do(req{method: "GET", path: np, token: at}), http.StatusNotFound, "room_not_found")
	})
}

// TestNotesNotInTranscript mails a transcript of a room with a note: the
// note is not in it.
func TestNotesNotInTranscript(t *testing.T) {
	t.Parallel()
	e := newMailEnv(t, redistest.StartReal(t).Addr())
	room, tok := e.mustRoom(map[string]string{"name": "Jane", "email": "jane@example.com"})
	e.mustSend(room.ID, tok, false, "Where is my parcel")
	want(t, e.do(req{method: "POST", path: "/api/v1/admin/rooms/" + room.ID + "/notes", token: e.adminToken(), body: map[string]string{"content": "customer is SECRETNOTE"}}), http.StatusCreated, "")
	e.mustSend(room.ID, e.adminToken(), true, "It left today")
	want(t, e.do(req{method: "POST", path: "/api/v1/rooms/" + room.ID + "/transcript", token: tok}), http.StatusAccepted, "")
	want(t, e.do(req{method: "POST", path: "/api/v1/admin/rooms/" + room.ID + "/transcript", token: e.adminToken(), body: map[string]string{"to": "boss@example.com"}}), http.StatusAccepted, "")
	for _, m := range e.smtp.WaitFor(2, 10*time.Second) {
		raw := string(m.Raw)
		if !strings.Contains(raw, "It left today") || strings.Contains(raw, "SECRETNOTE") {
			t.Fatalf("transcript to %v:\n%s", m.To, raw)
		}
	}
}

func TestLabels(t *testing.T) {
	t.Parallel()
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{})
		at := e.adminToken()
		as, r := openStream(t, e.url("/api/v1/admin/events"), at, nil)
		want(t, r, http.StatusOK, "")
		defer as.close()
		as.ignore("presence", "ready", "typing", "agent.activity", "agent.updated")

		// Only owners define labels.
		agent := e.agentToken("priya", "Priya")
		want(t, e.do(req{method: "POST", path: "/api/v1/admin/labels", token: agent, body: map[string]string{"name": "Billing"}}), http.StatusForbidden, "forbidden")
		r = e.do(req{method: "POST", path: "/api/v1/admin/labels", token: at, body: map[string]string{"name": " Billing ", "color": "#FF0000"}})
		want(t, r, http.StatusCreated, "")
		billing := decode[struct {
			Label chat.Label `json:"label"`
		}](t, r).Label
		if billing.Name != "Billing" || billing.Color != "#ff0000" || !chat.ValidLabelID(billing.ID) {
			t.Fatalf("got label %+v", billing)
		}
		if ev := as.expect("labels"); !strings.Contains(ev.Data, "Billing") {
			t.Fatalf("labels event: %+v", ev)
		}
		for _, bad := range []struct {
			body any
			code int
			err  string
		}{
			{map[string]string{"name": "billing"}, http.StatusConflict, "conflict"},
			{map[string]string{"name": ""}, http.StatusBadRequest, "invalid_request"},
			{map[string]string{"color": "#fff"}, http.StatusBadRequest, "invalid_request"},
			{map[string]string{"name": "x", "color": "red"}, http.StatusBadRequest, "invalid_request"},
			{map[string]string{"name": strings.Repeat("n", chat.MaxLabelName+1)}, http.StatusBadRequest, "invalid_request"},
		} {
			want(t, e.do(req{method: "POST", path: "/api/v1/admin/labels", token: at, body: bad.body}), bad.code, bad.err)
		}
		r = e.do(req{method: "POST", path: "/api/v1/admin/labels", token: at, body: map[string]string{"name": "VIP"}})
		want(t, r, http.StatusCreated, "")
		vip := decode[struct {
			Label chat.Label `json:"label"`
		}](t, r).Label
		as.expect("labels")
		want(t, e.do(req{method: "PATCH", path: "/api/v1/admin/labels/" + vip.ID, token: at, body: map[string]string{"name": "Billing"}}), http.StatusConflict, "conflict")
		r = e.do(req{method: "PATCH", path: "/api/v1/admin/labels/" + vip.ID, token: at, body: map[string]string{"color": "#00aa00"}})
		want(t, r, http.StatusOK, "")
		as.expect("labels")
		want(t, e.do(req{method: "PATCH", path: "/api/v1/admin/labels/l_aaaaaaaaaa", token: at, body: map[string]string{"name": "x"}}), http.StatusNotFound, "not_found")
		want(t, e.do(req{method: "PATCH", path: "/api/v1/admin/labels/" + vip.ID, token: agent, body: map[string]string{"name": "x"}}), http.StatusForbidden, "forbidden")
		want(t, e.do(req{method: "DELETE", path: "/api/v1/admin/labels/" + vip.ID, token: agent}), http.StatusForbidden, "forbidden")

		list := decode[struct {
			Labels []chat.Label `json:"labels"`
		}](t, e.do(req{method: "GET", path: "/api/v1/admin/labels", token: at})).Labels
		if len(list) != 2 || list[0].Name != "Billing" || list[1].Color != "#00aa00" {
			t.Fatalf("labels: %+v", list)
		}

		a, _ := e.mustRoom(map[string]string{"name": "A"})
		b, _ := e.mustRoom(map[string]string{"name": "B"})
		lp := "/api/v1/admin/rooms/" + a.ID + "/labels"
		// Agents put labels on conversations.
		want(t, e.do(req{method: "PUT", path: lp, token: agent, body: map[string]any{"labels": []string{vip.ID}}}), http.StatusOK, "")
		r = e.do(req{method: "PUT", path: lp, token: at, body: map[string]any{"labels": []string{vip.ID, billing.ID, vip.ID}}})
		want(t, r, http.StatusOK, "")
		if got := roomOf(t, r); len(got.Labels) != 2 {
			t.Fatalf("labelled: got %v", got.Labels)
		}
		if ev := as.expect("room"); !strings.Contains(ev.Data, vip.ID) {
			for ev.Data != "" && !strings.Contains(ev.Data, vip.ID) {
				ev = as.expect("room")
			}
		}
		want(t, e.do(req{method: "PUT", path: "/api/v1/admin/rooms/" + b.ID + "/labels", token: at, body: map[string]any{"labels": []string{billing.ID}}}), http.StatusOK, "")
		want(t, e.do(req{method: "PUT", path: lp, token: at, body: map[string]any{"labels": []string{"l_bbbbbbbbbb"}}}), http.StatusNotFound, "not_found")
		want(t, e.do(req{method: "PUT", path: lp, token: at, body: map[string]any{"labels": "x"}}), http.StatusBadRequest, "invalid_request")

		p := e.list(at, "label="+vip.ID)
		if len(p.Rooms) != 1 || p.Rooms[0].ID != a.ID {
			t.Fatalf("vip filter: got %+v", p.Rooms)
		}
		if p := e.list(at, "label="+billing.ID); len(p.Rooms) != 2 {
			t.Fatalf("billing filter: got %+v", p.Rooms)
		}
		want(t, e.do(req{method: "GET", path: "/api/v1/admin/rooms?label=nope", token: at}), http.StatusBadRequest, "invalid_request")
		want(t, e.do(req{method: "GET", path: "/api/v1/admin/rooms?filter=mine&label=" + vip.ID, token: at}), http.StatusBadRequest, "invalid_request")

		// A deleted label comes off every room.
		want(t, e.do(req{method: "DELETE", path: "/api/v1/admin/labels/" + billing.ID, token: at}), http.StatusNoContent, "")
		if got := e.mustStoredRoom(a.ID); len(got.Labels) != 1 || got.Labels[0] != vip.ID {
			t.Fatalf("after the label's deletion: %v", got.Labels)
		}
		if got := e.mustStoredRoom(b.ID); len(got.Labels) != 0 {
			t.Fatalf("after the label's deletion: %v", got.Labels)
		}
		if p := e.list(at, "label="+billing.ID); len(p.Rooms) != 0 {
			t.Fatalf("deleted label still lists %v", p.Rooms)
		}
		want(t, e.do(req{method: "DELETE", path: "/api/v1/admin/labels/" + billing.ID, token: at}), http.StatusNotFound, "not_found")
		// Removing every label.
		r = e.do(req{method: "PUT", path: lp, token: at, body: map[string]any{"labels": []string{}}})
		want(t, r, http.StatusOK, "")
		if got := roomOf(t, r); len(got.Labels) != 0 {
			t.Fatalf("cleared: %v", got.Labels)
		}
		if p := e.list(at, "label="+vip.ID); len(p.Rooms) != 0 {
			t.Fatalf("cleared label still lists %v", p.Rooms)
		}
	})
}

// TestAgentsSeeEachOther: one agent opening and typing in a conversation
// is seen by the other as "viewing" and "typing"; the visitor's typing
// indicator is as before.
func TestAgentsSeeEachOther(t *testing.T) {
	t.Parallel()
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{})
		alice := e.adminToken()
		priya := e.agentToken("priya", "Priya")
		room, vtok := e.mustRoom(map[string]string{"name": "Jane"})
		as, r := openStream(t, e.url("/api/v1/admin/events"), alice, nil)
		want(t, r, http.StatusOK, "")
		defer as.close()
		as.ignore("presence", "ready", "room", "read", "typing")
		vs, r := openStream(t, e.url("/api/v1/rooms/"+room.ID+"/events"), vtok, nil)
		want(t, r, http.StatusOK, "")
		defer vs.close()
		vs.ignore("presence", "ready", "read")

		want(t, e.do(req{method: "GET", path: "/api/v1/admin/rooms/" + room.ID, token: priya}), http.StatusOK, "")
		var act struct {
			RoomID   string        `json:"roomId"`
			Agent    chat.AgentRef `json:"agent"`
			Activity string        `json:"activity"`
		}
		ev := as.expect("agent.activity")
		if err := json.Unmarshal([]byte(ev.Data), &act); err != nil || act.RoomID != room.ID || act.Agent.Username != "priya" || act.Agent.DisplayName != "Priya" || act.Activity != "viewing" {
			t.Fatalf("viewing: %+v %v", ev, err)
		}
		want(t, e.do(req{method: "POST", path: "/api/v1/admin/rooms/" + room.ID + "/typing", token: priya}), http.StatusNoContent, "")
		ev = as.expect("agent.activity")
		if err := json.Unmarshal([]byte(ev.Data), &act); err != nil || act.Activity != "typing" || act.Agent.Username != "priya" {
			t.Fatalf("typing: %+v %v", ev, err)
		}
		if ev := vs.expect("typing"); ev.Data != `{"sender":"admin"}` {
			t.Fatalf("the visitor's typing event: %+v", ev)
		}
		want(t, e.do(req{method: "POST", path: "/api/v1/admin/rooms/" + room.ID + "/viewing", token: alice}), http.StatusNoContent, "")
		want(t, e.do(req{method: "POST", path: "/api/v1/admin/rooms/" + room.ID + "/viewing", token: vtok}), http.StatusUnauthorized, "unauthorized")
		want(t, e.do(req{method: "POST", path: "/api/v1/admin/rooms/" + chat.NewRoomID() + "/viewing", token: alice}), http.StatusNotFound, "room_not_found")
		vs.quiet(200 * time.Millisecond) // agent activity never reaches the visitor
	})
}

// TestAssignmentLiveOnTwoInstances: an assignment made on one instance
// reaches an agent's stream on the other, and the count view of both agree.
func TestAssignmentLiveOnTwoInstances(t *testing.T) {
	t.Parallel()
	real := redistest.StartReal(t)
	a := newEnv(t, real.Addr(), envConfig{})
	b := newEnv(t, real.Addr(), envConfig{Prefix: a.prefix, Secret: a.secret})
	priya := a.agentToken("priya", "Priya")
	room, _ := a.mustRoom(map[string]string{"name": "Jane"})

	s, r := openStream(t, b.url("/api/v1/admin/events"), b.adminToken(), nil)
	want(t, r, http.StatusOK, "")
	defer s.close()
	s.ignore("presence", "ready", "typing", "agent.activity")
	want(t, a.do(req{method: "POST", path: "/api/v1/admin/rooms/" + room.ID + "/assign", token: a.adminToken(), body: map[string]any{"username": "priya"}}), http.StatusOK, "")
	ev := s.expect("room")
	var got chat.Room
	if err := json.Unmarshal([]byte(ev.Data), &got); err != nil || got.ID != room.ID || got.Assignee == nil || *got.Assignee != "priya" {
		t.Fatalf("instance b saw %+v (%v)", ev, err)
	}
	if p := b.list(priya, "filter=mine"); !p.has(room.ID) || p.Counts.Mine != 1 {
		t.Fatalf("priya's mine on b: %+v", p)
	}
	c := decode[struct {
		Counts chat.RoomCounts `json:"counts"`
	}](t, b.do(req{method: "GET", path: "/api/v1/admin/counts", token: priya})).Counts
	if c.Mine != 1 || c.Open != 1 || c.Unassigned != 0 || c.All != 1 {
		t.Fatalf("counts on b: %+v", c)
	}
}
