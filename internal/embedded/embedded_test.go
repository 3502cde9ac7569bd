package embedded_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/embedded"
)

// conn is a minimal RESP client: this package must not import go-redis.
type conn struct {
	tb testing.TB
	c  net.Conn
	r  *bufio.Reader
}

func mustDial(tb testing.TB, addr string) *conn {
	tb.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatalf("dial: %v", err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	return &conn{tb: tb, c: c, r: bufio.NewReader(c)}
}

// do sends a command and returns its reply: a string, an int64, nil, or a
// []any.
func (c *conn) do(args ...string) any {
	c.tb.Helper()
	v, err := c.send(args...)
	if err != nil {
		c.tb.Fatalf("%v: %v", args, err)
	}
	return v
}

// send is do that returns a Redis error reply instead of failing the test.
func (c *conn) send(args ...string) (any, error) {
	c.tb.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	_ = c.c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.c.Write([]byte(b.String())); err != nil {
		c.tb.Fatalf("%v: %v", args, err)
	}
	return c.read()
}

func (c *conn) read() (any, error) {
	line, err := c.r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	switch line[0] {
	case '+':
		return line[1:], nil
	case '-':
		return nil, fmt.Errorf("redis error: %s", line[1:])
	case ':':
		return strconv.ParseInt(line[1:], 10, 64)
	case '$':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(c.r, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return nil, nil
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = c.read(); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("unexpected reply %q", line)
}

func mustStart(tb testing.TB, dir string) *embedded.Server {
	tb.Helper()
	s, err := embedded.Start(dir, nil)
	if err != nil {
		tb.Fatalf("start: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

func want(tb testing.TB, what string, got, want any) {
	tb.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		tb.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := mustStart(t, dir)
	c := mustDial(t, s.Addr())
	binary := "bin\x00\xff\r\n"
	c.do("SET", "str", binary)
	c.do("SET", "ttl", "x", "PX", "600000")
	c.do("HSET", "hash", "a", "1", "b", binary)
	c.do("RPUSH", "list", "one", "two", binary)
	c.do("SADD", "set", "x", "y")
	c.do("ZADD", "zset", "1.5", "a", "1700000000123", "b")
	for i := range 500 {
		c.do("PFADD", "hll", fmt.Sprint("visitor", i%200))
	}
	c.do("PFADD", "hll-small", "a", "b", "c")
	c.do("SET", "gone", "x", "PX", "300")
	hllCount := c.do("PFCOUNT", "hll")
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, embedded.SnapshotFile)); err != nil {
		t.Fatalf("no snapshot after close: %v", err)
	}
	time.Sleep(400 * time.Millisecond) // "gone" expires while the server is down

	s2 := mustStart(t, dir)
	c2 := mustDial(t, s2.Addr())
	want(t, "string", c2.do("GET", "str"), binary)
	want(t, "hash", c2.do("HGET", "hash", "b"), binary)
	want(t, "hash len", c2.do("HLEN", "hash"), 2)
	want(t, "list", c2.do("LRANGE", "list", "0", "-1"), []any{"one", "two", binary})
	want(t, "set", c2.do("SISMEMBER", "set", "y"), 1)
	want(t, "zset", c2.do("ZRANGE", "zset", "0", "-1", "WITHSCORES"), []any{"a", "1.5", "b", "1700000000123"})
	want(t, "hll", c2.do("PFCOUNT", "hll"), hllCount)
	want(t, "small hll", c2.do("PFCOUNT", "hll-small"), 3)
	c2.do("PFADD", "hll", "visitor1") // already counted
	want(t, "hll after re-adding", c2.do("PFCOUNT", "hll"), hllCount)
	want(t, "key without TTL", c2.do("PTTL", "str"), -1)
	if ttl, _ := c2.do("PTTL", "ttl").(int64); ttl < 590000 || ttl > 600000 {
		t.Fatalf("ttl: got %d ms, want about 600000", ttl)
	}
	want(t, "expired while down", c2.do("EXISTS", "gone"), 0)
}

func TestExpiresByWallClock(t *testing.T) {
	t.Parallel()
	s := mustStart(t, "")
	c := mustDial(t, s.Addr())
	c.do("SET", "short", "x", "PX", "500")
	c.do("SET", "long", "x", "EX", "60")
	at := strconv.FormatInt(time.Now().Add(500*time.Millisecond).UnixMilli(), 10)
	c.do("SET", "pxat", "x", "PXAT", at)
	deadline := time.Now().Add(5 * time.Second)
	for c.do("EXISTS", "short").(int64) == 1 || c.do("EXISTS", "pxat").(int64) == 1 {
		if time.Now().After(deadline) {
			t.Fatalf("keys with a 500 ms TTL still exist after 5 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	want(t, "long-lived key", c.do("EXISTS", "long"), 1)
	secs, _ := c.do("TIME").([]any)
	now, _ := strconv.ParseInt(secs[0].(string), 10, 64)
	if d := time.Now().Unix() - now; d < -1 || d > 1 {
		t.Fatalf("TIME: got %d, want the wall clock %d", now, time.Now().Unix())
	}
}

func TestCorruptSnapshotIsAnError(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, embedded.SnapshotFile), []byte("not a snapshot"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := embedded.Start(dir, nil); err == nil {
		_ = s.Close()
		t.Fatalf("got a server from a corrupt snapshot, want an error")
	}
}

func TestCloseTwice(t *testing.T) {
	t.Parallel()
	s, err := embedded.Start(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second close: got %v, want nil", err)
	}
	if _, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
		t.Fatalf("server still accepts connections after Close")
	}
}

func TestRequirePassword(t *testing.T) {
	s := mustStart(t, "")
	s.RequirePassword("sesame-sesame")
	c := mustDial(t, s.Addr())
	if _, err := c.send("PING"); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Errorf("PING without AUTH: got %v, want NOAUTH", err)
	}
	want(t, "AUTH", c.do("AUTH", "sesame-sesame"), "OK")
	want(t, "PING after AUTH", c.do("PING"), "PONG")
}

// copySnapshot copies dir's snapshot into a fresh directory, so a second
// server can load what is on disk while the first one keeps running.
func copySnapshot(tb testing.TB, dir string) string {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(dir, embedded.SnapshotFile))
	if err != nil {
		tb.Fatalf("read snapshot: %v", err)
	}
	to := tb.TempDir()
	if err := os.WriteFile(filepath.Join(to, embedded.SnapshotFile), data, 0o600); err != nil {
		tb.Fatal(err)
	}
	return to
}

// TestSnapshotFollowsWrites: a write reaches the file within seconds while
// the server keeps running (a crash then loses seconds, not half a minute),
// and reads alone write nothing.
func TestSnapshotFollowsWrites(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := mustStart(t, dir)
	c := mustDial(t, s.Addr())
	path := filepath.Join(dir, embedded.SnapshotFile)
	c.do("SET", "first", "1")
	waitFor := func(key string) {
		t.Helper()
		deadline := time.Now().Add(8 * time.Second)
		for {
			if _, err := os.Stat(path); err == nil {
				s2 := mustStart(t, copySnapshot(t, dir))
				got := mustDial(t, s2.Addr()).do("EXISTS", key)
				_ = s2.Close()
				if got == int64(1) {
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s is not in the snapshot 8 s after it was written", key)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	waitFor("first")

	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		c.do("GET", "first")
		c.do("HGETALL", "nothing")
		time.Sleep(100 * time.Millisecond)
	}
	after, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("the snapshot was rewritten after reads alone")
	}

	c.do("HSET", "second", "a", "1")
	waitFor("second")
}

// TestDamagedSnapshotIsDetected: one changed byte inside a stored value
// stops Start with ErrDamaged instead of loading the wrong text.
func TestDamagedSnapshotIsDetected(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := mustStart(t, dir)
	c := mustDial(t, s.Addr())
	c.do("RPUSH", "room:{abc}:messages", `{"content":"the invoice number is 4711"}`)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, embedded.SnapshotFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(data), "4711")
	if i < 0 {
		t.Fatalf("the message is not in the snapshot")
	}
	data[i] = '9'
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	s2, err := embedded.Start(dir, nil)
	if err == nil {
		_ = s2.Close()
		t.Fatalf("a snapshot with a changed byte loaded, want ErrDamaged")
	}
	if !errors.Is(err, embedded.ErrDamaged) {
		t.Fatalf("got %v, want ErrDamaged", err)
	}
}

// TestSnapshotKeepsStreams: a stream (the admin event log, the mail queue)
// survives a restart with its entries, its consumer group's last delivered
// id, and its pending entries, still pending for the consumer that read them
// (a mail being sent when the server stopped is sent again, not lost).
func TestSnapshotKeepsStreams(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := mustStart(t, dir)
	c := mustDial(t, s.Addr())
	for i := 1; i <= 5; i++ {
		c.do("XADD", "q", fmt.Sprintf("%d-0", i), "id", fmt.Sprint("mail", i))
	}
	c.do("XADD", "log", "*", "e", "event")
	c.do("XGROUP", "CREATE", "q", "mailers", "0")
	c.do("XREADGROUP", "GROUP", "mailers", "alice", "COUNT", "2", "STREAMS", "q", ">") // 1, 2
	c.do("XREADGROUP", "GROUP", "mailers", "bob", "COUNT", "2", "STREAMS", "q", ">")   // 3, 4
	c.do("XACK", "q", "mailers", "1-0", "3-0")
	c.do("XGROUP", "CREATE", "empty", "g", "$", "MKSTREAM")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2 := mustStart(t, dir)
	c2 := mustDial(t, s2.Addr())
	want(t, "entries", c2.do("XLEN", "q"), 5)
	want(t, "log", c2.do("XLEN", "log"), 1)
	pending := c2.do("XPENDING", "q", "mailers", "-", "+", "10").([]any)
	var got []string
	for _, p := range pending {
		row := p.([]any)
		got = append(got, fmt.Sprint(row[0], "@", row[1]))
	}
	want(t, "pending", strings.Join(got, " "), "2-0@alice 4-0@bob")
	// The next new read starts after the last delivered id (4-0).
	next := c2.do("XREADGROUP", "GROUP", "mailers", "carol", "COUNT", "10", "STREAMS", "q", ">").([]any)
	entries := next[0].([]any)[1].([]any)
	if len(entries) != 1 || entries[0].([]any)[0] != "5-0" {
		t.Fatalf("new read after the restart: got %v, want only 5-0", entries)
	}
	if _, err := c2.send("XGROUP", "CREATE", "empty", "g", "$"); err == nil || !strings.Contains(err.Error(), "BUSYGROUP") {
		t.Fatalf("the empty stream's group: got %v, want it to exist (BUSYGROUP)", err)
	}
}
