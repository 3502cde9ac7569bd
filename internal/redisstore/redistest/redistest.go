// Package redistest starts the Redis servers that store and HTTP tests run
// against: the embedded one always, and a real redis-server where one is
// installed, so one suite proves the code on both.
package redistest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/embedded"
)

// StartEmbedded starts an embedded server with its snapshot in tb.TempDir()
// and returns its address. It is closed when the test ends.
func StartEmbedded(tb testing.TB) string {
	tb.Helper()
	s, err := embedded.Start(tb.TempDir(), nil)
	if err != nil {
		tb.Fatalf("start embedded redis: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s.Addr()
}

// Installed tells whether redis-server is on PATH.
func Installed() bool {
	_, err := exec.LookPath("redis-server")
	return err == nil
}

// Real is a redis-server process on a loopback port, with persistence off
// (StartReal) or in a directory (StartRealIn).
type Real struct {
	tb   testing.TB
	port int
	// dir holds dump.rdb when the server persists; "" for none.
	dir string

	mu  sync.Mutex
	cmd *exec.Cmd
	out *bytes.Buffer
}

// StartReal starts a redis-server on a free 127.0.0.1 port, or skips the test
// when none is installed. It is stopped when the test ends.
func StartReal(tb testing.TB) *Real { tb.Helper(); return startReal(tb, "") }

// StartRealIn is StartReal with the data kept in dir as dump.rdb: written
// by SAVE only (MustDo("SAVE"), or Snapshot), loaded at each Start. Stop
// kills the server without saving, as a crash would, so RestartFrom an
// older Snapshot brings it back with older data, as a restart from an old
// RDB or a promoted replica does.
func StartRealIn(tb testing.TB, dir string) *Real { tb.Helper(); return startReal(tb, dir) }

func startReal(tb testing.TB, dir string) *Real {
	tb.Helper()
	if !Installed() {
		tb.Skip("redis-server not installed")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("find a free port: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	r := &Real{tb: tb, port: port, dir: dir}
	tb.Cleanup(r.Stop)
	r.Start()
	return r
}

// Addr returns the server's host:port.
func (r *Real) Addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

// Start starts the server (again) on its port and waits until it answers.
func (r *Real) Start() {
	r.tb.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd != nil {
		return
	}
	r.out = &bytes.Buffer{}
	args := []string{"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--protected-mode", "no",
		"--enable-debug-command", "local"}
	if r.dir != "" {
		args = append(args, "--dir", r.dir, "--dbfilename", dumpName)
	}
	cmd := exec.Command("redis-server", args...)
	cmd.Stdout, cmd.Stderr = r.out, r.out
	if err := cmd.Start(); err != nil {
		r.tb.Fatalf("start redis-server: %v", err)
	}
	r.cmd = cmd
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := ping(r.Addr()); err == nil {
			return
		} else if time.Now().After(deadline) {
			r.tb.Fatalf("redis-server on %s does not answer: %v\n%s", r.Addr(), err, r.out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the server, as a crash would, and waits for it to exit.
func (r *Real) Stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	r.cmd = nil
}

// dumpName is the RDB file of a server started with StartRealIn.
const dumpName = "dump.rdb"

// Snapshot saves the server's data (SAVE) and returns a copy of the dump,
// kept in a temp dir of the test, for RestartFrom.
func (r *Real) Snapshot() string {
	r.tb.Helper()
	if r.dir == "" {
		r.tb.Fatalf("Snapshot needs a server started with StartRealIn")
	}
	r.MustDo("SAVE")
	b, err := os.ReadFile(filepath.Join(r.dir, dumpName))
	if err != nil {
		r.tb.Fatalf("read the dump: %v", err)
	}
	path := filepath.Join(r.tb.TempDir(), dumpName)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		r.tb.Fatalf("copy the dump: %v", err)
	}
	return path
}

// RestartFrom kills the server, puts the dump at path (a Snapshot) in its
// place and starts it again on the same port: it comes back with the data
// of that snapshot, whatever was written since is lost.
func (r *Real) RestartFrom(path string) {
	r.tb.Helper()
	r.Stop()
	b, err := os.ReadFile(path)
	if err != nil {
		r.tb.Fatalf("read %s: %v", path, err)
	}
	if err := os.WriteFile(filepath.Join(r.dir, dumpName), b, 0o600); err != nil {
		r.tb.Fatalf("restore the dump: %v", err)
	}
	r.Start()
}

// ping sends PING in RESP and expects PONG.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("got %q, want +PONG", line)
	}
	return nil
}

// ForEach runs fn as a subtest against every Redis the machine has: the
// embedded server always ("embedded"), and a real redis-server when one is
// installed ("redis-server"). Each subtest gets a fresh server.
func ForEach(t *testing.T, fn func(t *testing.T, addr string)) {
	t.Helper()
	t.Run("embedded", func(t *testing.T) {
		fn(t, StartEmbedded(t))
	})
	if !Installed() {
		t.Log("redis-server not installed: ran on the embedded server only")
		return
	}
	t.Run("redis-server", func(t *testing.T) {
		fn(t, StartReal(t).Addr())
	})
}

// ForEachB is ForEach for benchmarks: the numbers differ by an order of
// magnitude, and production runs on the real server.
func ForEachB(b *testing.B, fn func(b *testing.B, addr string)) {
	b.Helper()
	b.Run("embedded", func(b *testing.B) { fn(b, StartEmbedded(b)) })
	if !Installed() {
		b.Log("redis-server not installed: benchmarked the embedded server only")
		return
	}
	b.Run("redis-server", func(b *testing.B) { fn(b, StartReal(b).Addr()) })
}

// Do sends one command to the server and returns the first line of its reply
// (for example "+OK" or "-ERR ..."). It is for setting up faults (CONFIG SET
// maxmemory, DEBUG SLEEP) from tests that must not import go-redis.
func (r *Real) Do(args ...string) (string, error) {
	c, err := net.DialTimeout("tcp", r.Addr(), time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.Write(b.Bytes()); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimRight(line, "\r\n"), err
}

// MustDo is Do that fails the test on an error or an error reply.
func (r *Real) MustDo(args ...string) string {
	r.tb.Helper()
	line, err := r.Do(args...)
	if err != nil || strings.HasPrefix(line, "-") {
		r.tb.Fatalf("%v: %q, %v", args, line, err)
	}
	return line
}

// Subscribers returns how many pub/sub subscriptions the server at addr
// holds on channel, as PUBSUB NUMSUB counts them; for a cluster's URL
// (ForEachWithCluster), the sum over its nodes, each of which counts the
// subscriptions made to it.
func Subscribers(tb testing.TB, addr, channel string) int64 {
	tb.Helper()
	addrs := []string{addr}
	if IsCluster(addr) {
		addrs = strings.Split(strings.TrimPrefix(addr, "redis-cluster://"), ",")
	}
	var n int64
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a, Protocol: 2, DisableIdentity: true})
		subs, err := c.PubSubNumSub(context.Background(), channel).Result()
		_ = c.Close()
		if err != nil {
			tb.Fatalf("PUBSUB NUMSUB %s on %s: %v", channel, a, err)
		}
		n += subs[channel]
	}
	return n
}
