package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// runCmd runs a parley subcommand against the data dir dir.
func runCmd(t *testing.T, dir, stdin string, args ...string) (string, error) {
	t.Helper()
	env := map[string]string{"PARLEY_DATA_DIR": dir, "PARLEY_LOG_LEVEL": "error"}
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(stdin), &out, &errOut)
	return out.String(), err
}

func TestSeedTwiceChangesNothing(t *testing.T) {
	dir := t.TempDir()
	out, err := runCmd(t, dir, "", "seed")
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	if !strings.Contains(out, "seeded 3 rooms, 9 messages") {
		t.Errorf("first seed: got %q, want 3 rooms and 9 messages", out)
	}
	out, err = runCmd(t, dir, "", "seed")
	if err != nil {
		t.Fatalf("second seed: %v", err)
	}
	if !strings.Contains(out, "nothing changed") {
		t.Errorf("second seed: got %q, want nothing changed", out)
	}

	// The seeded data is what a server started on the same dir serves.
	app := startTestApp(t, map[string]string{"PARLEY_DATA_DIR": dir})
	tok := app.adminToken(t)
	var page struct {
		Rooms []struct {
			ID           string
			VisitorName  string
			MessageCount int
			Unread       int
		}
		UnreadRooms int
	}
	if st := app.call(t, "GET", "/api/v1/admin/rooms", tok, nil, &page); st != 200 {
		t.Fatalf("list: got %d", st)
	}
	if len(page.Rooms) != 3 || page.Rooms[0].VisitorName != "Maya Chen" || page.Rooms[0].MessageCount != 4 || page.Rooms[0].Unread != 2 {
		t.Errorf("got %+v, want 3 rooms with Maya Chen first, 4 messages, 2 unread", page.Rooms)
	}
	if page.UnreadRooms != 1 {
		t.Errorf("unreadRooms: got %d, want 1", page.UnreadRooms)
	}
	var visits struct {
		Days  []struct{ Views int }
		Total int
	}
	if st := app.call(t, "GET", "/api/v1/admin/visits", tok, nil, &visits); st != 200 || len(visits.Days) != 30 || visits.Total == 0 {
		t.Errorf("visits: got %d %d days total %d, want 200, 30 days, views", st, len(visits.Days), visits.Total)
	}
}

func TestAdminCommands(t *testing.T) {
	dir := t.TempDir()
	if _, err := runCmd(t, dir, "priya-password\n", "admin", "add", "priya", "Priya Shah"); err != nil {
		t.Fatalf("add: %v", err)
	}
	out, err := runCmd(t, dir, "", "admin", "passwd", "priya")
	if err != nil || !strings.Contains(out, "shown only once") {
		t.Fatalf("passwd without stdin: got %q, %v; want a generated password", out, err)
	}
	generated := strings.Fields(strings.SplitN(out, "password ", 2)[1])[0]
	out, err = runCmd(t, dir, "", "admin", "list")
	if err != nil || !strings.Contains(out, "priya\tPriya Shah") {
		t.Fatalf("list: got %q, %v", out, err)
	}
	if _, err := runCmd(t, dir, "x-password\n", "admin", "add", "priya"); err == nil {
		t.Error("adding priya twice: got no error")
	}

	app := startTestApp(t, map[string]string{"PARLEY_DATA_DIR": dir})
	for pw, want := range map[string]int{generated: 200, "priya-password": 401} {
		if st := app.call(t, "POST", "/api/v1/admin/login", "", map[string]string{"username": "priya", "password": pw}, nil); st != want {
			t.Errorf("login with %q: got %d, want %d", pw, st, want)
		}
	}
}

func TestAdminRemove(t *testing.T) {
	dir := t.TempDir()
	if _, err := runCmd(t, dir, "bob-password\n", "admin", "add", "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := runCmd(t, dir, "", "admin", "remove", "bob"); err != nil {
		t.Fatalf("remove: %v", err)
	}
	if out, _ := runCmd(t, dir, "", "admin", "list"); strings.Contains(out, "bob") {
		t.Errorf("list after remove: got %q", out)
	}
	if _, err := runCmd(t, dir, "", "admin", "remove", "bob"); err == nil {
		t.Error("removing an unknown admin: got no error")
	}
	if _, err := runCmd(t, dir, "", "admin", "frobnicate"); err == nil {
		t.Error("unknown admin verb: got no error")
	}
}

func TestRestartKeepsRooms(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"PARLEY_DATA_DIR": dir}
	app := startTestApp(t, env)
	room, tok := app.newVisitor(t, "Jane")
	if st := app.call(t, "POST", "/api/v1/rooms/"+room+"/messages", tok, map[string]string{"content": "still there?"}, nil); st != 201 {
		t.Fatalf("send: got %d", st)
	}
	// Stop the first server (its cleanup writes the snapshot), start a second.
	app.stop(t)
	again := startTestApp(t, env)
	var out struct {
		Messages []struct{ Content string }
	}
	if st := again.call(t, "GET", "/api/v1/rooms/"+room+"/messages", tok, nil, &out); st != 200 || len(out.Messages) != 1 || out.Messages[0].Content != "still there?" {
		t.Errorf("after restart: got %d %+v, want the message back", st, out.Messages)
	}
}

func TestUnknownCommand(t *testing.T) {
	if _, err := runCmd(t, t.TempDir(), "", "frobnicate"); err == nil {
		t.Error("got no error")
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"serve"}, func(k string) string {
		return map[string]string{"PARLEY_ROOM_TTL": "soon"}[k]
	}, nil, &out, &out); err == nil || !strings.Contains(err.Error(), "PARLEY_ROOM_TTL") {
		t.Errorf("bad config: got %v, want an error naming PARLEY_ROOM_TTL", err)
	}
}
