// Package embedded runs the in-process Redis-compatible server Parley uses
// when no PARLEY_REDIS_URL is given, so that `go run ./cmd/parley` works on a
// machine without Redis. It is miniredis on a loopback port, spoken to with
// the same go-redis client and the same store code as a real Redis.
//
// What it adds to miniredis, and what it guarantees:
//
//   - TTLs follow the wall clock: a ticker advances miniredis's clock, so keys
//     expire and TIME, PEXPIREAT and PXAT agree with it. The clock moves in
//     ticks of tickInterval, and a relative TTL (EXPIRE, PEXPIRE) counts from
//     the last tick, so a key can expire up to one tick early.
//   - Durability: with a data directory, the whole dataset (strings, hashes,
//     lists, sets, sorted sets, HyperLogLogs, and each key's expiry time) is
//     written to parley.snapshot soon after writes — snapshotQuiet after the
//     last one, and at least every snapshotMaxDelay while writes go on — and
//     on Close, atomically (a temp file, fsynced, renamed over the old one,
//     the directory fsynced), with a SHA-256 checksum, and loaded at Start. A
//     crash loses at most the last snapshotMaxDelay (2 s) of writes; a clean
//     shutdown loses nothing; a damaged file stops Start with ErrDamaged
//     rather than loading wrong data. Keys whose expiry passed while the
//     server was down are not loaded.
//
// It is meant for trying Parley and for tests: one process, no replication,
// everything in memory. Production points PARLEY_REDIS_URL at a real Redis.
package embedded

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/alicebob/miniredis/v2/server"
)

// SnapshotFile is the name of the snapshot inside the data directory.
const SnapshotFile = "parley.snapshot"

// EndpointFile is the name, inside the data directory, of the file where a
// running server tells the tools of the same data directory (parley seed,
// parley admin) how to reach its embedded Redis: a Redis URL, password
// included, readable by the owner only. It exists only while that server runs.
const EndpointFile = "parley.endpoint"

const (
	tickInterval = 250 * time.Millisecond
	// A snapshot follows writes: snapshotQuiet after the last one, or, while
	// writes go on, snapshotMaxDelay after the first one not yet saved. That
	// bounds both what a crash loses and how often the dataset is dumped.
	snapshotQuiet    = time.Second
	snapshotMaxDelay = 2 * time.Second
)

// readOnly lists the commands that never change the dataset; every other
// command (EVALSHA included) marks it as needing a snapshot.
var readOnly = map[string]bool{
	"PING": true, "AUTH": true, "HELLO": true, "CLIENT": true, "SELECT": true, "ECHO": true,
	"QUIT": true, "INFO": true, "TIME": true, "COMMAND": true, "DBSIZE": true, "CONFIG": true,
	"SCRIPT": true, "MULTI": true, "DISCARD": true, "WATCH": true, "UNWATCH": true,
	"GET": true, "MGET": true, "STRLEN": true, "EXISTS": true, "TTL": true, "PTTL": true, "TYPE": true,
	"HGET": true, "HMGET": true, "HGETALL": true, "HEXISTS": true, "HLEN": true, "HKEYS": true, "HVALS": true,
	"LRANGE": true, "LLEN": true, "LINDEX": true,
	"SMEMBERS": true, "SISMEMBER": true, "SCARD": true,
	"ZRANGE": true, "ZREVRANGE": true, "ZRANGEBYSCORE": true, "ZREVRANGEBYSCORE": true,
	"ZCARD": true, "ZCOUNT": true, "ZSCORE": true, "ZRANK": true, "ZREVRANK": true,
	"PFCOUNT": true, "SCAN": true, "KEYS": true,
	"SUBSCRIBE": true, "UNSUBSCRIBE": true, "PSUBSCRIBE": true, "PUNSUBSCRIBE": true,
	"PUBLISH": true, "PUBSUB": true, "EVALSHA_RO": true, "EVAL_RO": true,
}

// Server is a running embedded Redis.
type Server struct {
	m    *miniredis.Miniredis
	addr string
	path string // "" when there is no snapshot
	dir  string // the data directory, "" without one
	log  *slog.Logger

	// writes counts the commands that may have changed the dataset, and
	// lastWrite is when the latest one arrived (Unix ns).
	writes    atomic.Uint64
	lastWrite atomic.Int64

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// Start loads dataDir's snapshot, if any, and starts a server on a random
// loopback port. With dataDir == "" nothing is loaded or saved. A snapshot
// that cannot be read is an error rather than an empty start, so a damaged
// file is never overwritten with nothing.
func Start(dataDir string, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := miniredis.NewMiniRedis()
	now := time.Now()
	m.SetTime(now)
	s := &Server{m: m, log: log, stop: make(chan struct{}), done: make(chan struct{})}
	var restore []snapKey // streams, put back once the server listens
	if dataDir != "" {
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("embedded: start: %w", err)
		}
		s.dir = dataDir
		s.path = filepath.Join(dataDir, SnapshotFile)
		n, streams, err := load(m, s.path, now)
		if err != nil {
			return nil, fmt.Errorf("embedded: start: %w", err)
		}
		restore = streams
		if n > 0 {
			log.Info("embedded redis loaded its snapshot", "path", s.path, "keys", n)
		}
		log.Info("embedded redis snapshots its data after every write, at most "+snapshotMaxDelay.String()+" later: a crash loses at most the last "+snapshotMaxDelay.String()+" of writes, a clean stop nothing",
			"path", s.path)
	}
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("embedded: start: %w", err)
	}
	m.Server().SetPreHook(s.seen)
	s.addr = m.Addr()
	if err := restoreStreams(s.addr, restore); err != nil {
		m.Close()
		return nil, fmt.Errorf("embedded: start: restore streams from %s: %w", s.path, err)
	}
	go s.run(now)
	return s, nil
}

// Addr returns the server's host:port.
func (s *Server) Addr() string { return s.addr }

// RequirePassword makes the server refuse clients that do not AUTH with pw:
// the loopback port is open to every local user, and the store holds the
// token signing secret.
func (s *Server) RequirePassword(pw string) { s.m.RequireAuth(pw) }

// Close stops the server and its goroutine and writes a last snapshot. It is
// safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		if s.dir != "" {
			_ = os.Remove(filepath.Join(s.dir, EndpointFile)) // tools stop coming first
		}
		close(s.stop)
		<-s.done
		s.m.Close()
		if s.path != "" {
			s.closeErr = save(s.m, s.path)
		}
	})
	return s.closeErr
}

// Advertise writes url (this server's address with its password) to the data
// directory's EndpointFile, so that tools run next to this server use its data
// instead of starting a second embedded Redis whose snapshot would overwrite
// (or be overwritten by) this one's. Close removes the file.
func (s *Server) Advertise(url string) error {
	if s.dir == "" {
		return nil
	}
	path := filepath.Join(s.dir, EndpointFile)
	tmp, err := os.CreateTemp(s.dir, EndpointFile+".*.tmp")
	if err != nil {
		return fmt.Errorf("embedded: advertise: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(url + "\n")
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path) // CreateTemp made it 0600
	}
	if err != nil {
		return fmt.Errorf("embedded: advertise: %w", err)
	}
	return nil
}

// Advertised returns the URL a server running on dataDir advertised, if the
// file is there. The server may have died without removing it: callers check
// that the URL answers.
func Advertised(dataDir string) (string, bool) {
	if dataDir == "" {
		return "", false
	}
	data, err := os.ReadFile(filepath.Join(dataDir, EndpointFile))
	if err != nil {
		return "", false
	}
	url := strings.TrimSpace(string(data))
	return url, url != ""
}

// Snapshot writes the snapshot now. It is a no-op without a data directory.
func (s *Server) Snapshot() error {
	if s.path == "" {
		return nil
	}
	return save(s.m, s.path)
}

// seen is miniredis's pre-command hook: it notes commands that may write.
// It runs before the command does; see snapshotDue for why that is enough.
func (s *Server) seen(_ *server.Peer, cmd string, _ ...string) bool {
	if !readOnly[cmd] {
		s.writes.Add(1)
		s.lastWrite.Store(time.Now().UnixNano())
	}
	return false
}

// run drives the clock and the snapshots until Close.
func (s *Server) run(last time.Time) {
	defer close(s.done)
	tick := time.NewTicker(tickInterval)
	defer tick.Stop()
	var (
		saved      uint64    // s.writes covered by the last snapshot
		dirtySince time.Time // when writes past saved were first noticed
		failing    bool      // the last snapshot failed (logged once)
	)
	for {
		select {
		case <-s.stop:
			return
		case <-tick.C:
		}
		now := time.Now() // not the ticker's value, which can lag under load
		if d := now.Sub(last); d > 0 {
			s.m.SetTime(now)
			s.m.FastForward(d)
			last = now
		}
		if s.path == "" {
			continue
		}
		gen := s.writes.Load()
		if gen == saved {
			continue
		}
		if dirtySince.IsZero() {
			dirtySince = now
		}
		quiet, due := snapshotDue(now, time.Unix(0, s.lastWrite.Load()), dirtySince)
		if !due {
			continue
		}
		if err := s.Snapshot(); err != nil {
			if !failing {
				s.log.Error("embedded redis snapshot failed; retrying", "path", s.path, "err", err)
			}
			failing = true
			dirtySince = now
			continue
		}
		if failing {
			s.log.Info("embedded redis snapshot written again", "path", s.path)
			failing = false
		}
		dirtySince = time.Time{}
		if quiet {
			saved = gen
		}
	}
}

// snapshotDue says whether to snapshot now, and whether the dataset is quiet.
// The hook counts a write before the command runs, so a snapshot taken while
// writes are still arriving may miss the one in flight: only a snapshot taken
// after snapshotQuiet without writes (when every counted command has long
// finished) marks the writes saved; one forced by snapshotMaxDelay is followed
// by another.
func snapshotDue(now, lastWrite, dirtySince time.Time) (quiet, due bool) {
	quiet = now.Sub(lastWrite) >= snapshotQuiet
	return quiet, quiet || now.Sub(dirtySince) >= snapshotMaxDelay
}
