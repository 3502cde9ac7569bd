package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/embedded"
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

// TestToolsReachTheRunningServer: with the embedded Redis, `parley seed` and
// `parley admin` next to a running server change that server's data (the
// console shows it at once, and the next snapshot keeps it) instead of a
// second copy that one of the two snapshots would overwrite.
func TestToolsReachTheRunningServer(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"PARLEY_DATA_DIR": dir}
	app := startTestApp(t, env)
	tok := app.adminToken(t)

	out, err := runCmd(t, dir, "", "seed")
	if err != nil || !strings.Contains(out, "seeded 3 rooms") {
		t.Fatalf("seed next to a server: got %q, %v", out, err)
	}
	var page struct{ Rooms []struct{ ID string } }
	if st := app.call(t, "GET", "/api/v1/admin/rooms", tok, nil, &page); st != 200 || len(page.Rooms) != 3 {
		t.Fatalf("the running server lists %d rooms (status %d), want the 3 seeded", len(page.Rooms), st)
	}
	if _, err := runCmd(t, dir, "priya-password\n", "admin", "add", "priya"); err != nil {
		t.Fatalf("admin add next to a server: %v", err)
	}
	if st := app.call(t, "POST", "/api/v1/admin/login", "", map[string]string{"username": "priya", "password": "priya-password"}, nil); st != 200 {
		t.Fatalf("login as the admin just added: got %d, want 200", st)
	}

	// A second server on the same data dir would overwrite the first's data.
	if _, err := runCmd(t, dir, "", "serve"); err == nil || !strings.Contains(err.Error(), "PARLEY_DATA_DIR") {
		t.Fatalf("a second server on the same data dir: got %v, want an error naming PARLEY_DATA_DIR", err)
	}

	app.stop(t)
	if _, err := os.Stat(filepath.Join(dir, embedded.EndpointFile)); !os.IsNotExist(err) {
		t.Errorf("the endpoint file outlives the server: %v", err)
	}
	again := startTestApp(t, env)
	if st := again.call(t, "GET", "/api/v1/admin/rooms", again.adminToken(t), nil, &page); st != 200 || len(page.Rooms) != 3 {
		t.Errorf("after a restart: %d rooms (status %d), want the 3 seeded", len(page.Rooms), st)
	}
}

// TestStaleEndpointIsIgnored: a server that died without removing its
// endpoint file does not stop the tools or the next server.
func TestStaleEndpointIsIgnored(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	_ = ln.Close()
	if err := os.WriteFile(filepath.Join(dir, embedded.EndpointFile), []byte("redis://:pw@"+dead+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := runCmd(t, dir, "", "seed"); err != nil || !strings.Contains(out, "seeded 3 rooms") {
		t.Fatalf("seed with a stale endpoint file: got %q, %v", out, err)
	}
	app := startTestApp(t, map[string]string{"PARLEY_DATA_DIR": dir})
	var page struct{ Rooms []struct{ ID string } }
	if st := app.call(t, "GET", "/api/v1/admin/rooms", app.adminToken(t), nil, &page); st != 200 || len(page.Rooms) != 3 {
		t.Errorf("server after a stale endpoint: %d rooms (status %d), want 3", len(page.Rooms), st)
	}
}

// parley admin add --email and parley admin email set where an admin's
// notification mails go; a bad address is refused and changes nothing.
func TestAdminEmailCommands(t *testing.T) {
	dir := t.TempDir()
	if _, err := runCmd(t, dir, "bob-password\n", "admin", "add", "bob", "Bob Lee", "--email", "bob@acme.example"); err != nil {
		t.Fatalf("add --email: %v", err)
	}
	if out, err := runCmd(t, dir, "", "admin", "list"); err != nil || !strings.Contains(out, "bob\tBob Lee\tbob@acme.example") {
		t.Fatalf("list: got %q, %v; want bob's address", out, err)
	}
	if _, err := runCmd(t, dir, "", "admin", "email", "bob", "not an address"); err == nil {
		t.Fatal("email with a bad address: got no error")
	}
	if _, err := runCmd(t, dir, "", "admin", "email", "bob", "robert@acme.example"); err != nil {
		t.Fatalf("email: %v", err)
	}
	if out, _ := runCmd(t, dir, "", "admin", "list"); !strings.Contains(out, "bob\tBob Lee\trobert@acme.example") {
		t.Fatalf("list after email: got %q", out)
	}
	app := startTestApp(t, map[string]string{"PARLEY_DATA_DIR": dir})
	if st := app.call(t, "POST", "/api/v1/admin/login", "", map[string]string{"username": "bob", "password": "bob-password"}, nil); st != 200 {
		t.Fatalf("login after the email change: got %d, want 200", st)
	}
}

// TestAdminRoles: add takes --role (owner unless it says agent), role
// changes it, list shows it, and the last owner stays one.
func TestAdminRoles(t *testing.T) {
	dir := t.TempDir()
	if _, err := runCmd(t, dir, "olga-password\n", "admin", "add", "olga"); err != nil {
		t.Fatal(err)
	}
	if _, err := runCmd(t, dir, "ann-password\n", "admin", "add", "ann", "Ann", "--role", "agent"); err != nil {
		t.Fatal(err)
	}
	if _, err := runCmd(t, dir, "x-password\n", "admin", "add", "zed", "--role=boss"); err == nil {
		t.Error("--role=boss: got no error")
	}
	out, err := runCmd(t, dir, "", "admin", "list")
	if err != nil || !strings.Contains(out, "ann\tAnn\t\tagent\n") || !strings.Contains(out, "olga\tolga\t\towner\n") || strings.Contains(out, "zed") {
		t.Fatalf("list: got %q, %v", out, err)
	}
	if _, err := runCmd(t, dir, "", "admin", "role", "olga", "agent"); err == nil {
		t.Error("demoting the last owner: got no error")
	}
	if _, err := runCmd(t, dir, "", "admin", "role", "ann", "owner"); err != nil {
		t.Fatal(err)
	}
	if _, err := runCmd(t, dir, "", "admin", "role", "olga", "agent"); err != nil {
		t.Fatalf("demoting olga with ann an owner: %v", err)
	}
	if out, _ := runCmd(t, dir, "", "admin", "list"); !strings.Contains(out, "ann\tAnn\t\towner\n") || !strings.Contains(out, "olga\tolga\t\tagent\n") {
		t.Fatalf("list after the role changes: got %q", out)
	}
}
