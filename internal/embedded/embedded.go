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
//     written to parley.snapshot every 30 s and on Close, atomically (a temp
//     file renamed over the old one), and loaded at Start. A crash loses at
//     most the last 30 s of writes; a clean shutdown loses nothing. Keys whose
//     expiry passed while the server was down are not loaded.
//
// It is meant for trying Parley and for tests: one process, no replication,
// everything in memory. Production points PARLEY_REDIS_URL at a real Redis.
package embedded

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
)

// SnapshotFile is the name of the snapshot inside the data directory.
const SnapshotFile = "parley.snapshot"

const (
	tickInterval     = 250 * time.Millisecond
	snapshotInterval = 30 * time.Second
)

// Server is a running embedded Redis.
type Server struct {
	m    *miniredis.Miniredis
	addr string
	path string // "" when there is no snapshot
	log  *slog.Logger

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
	if dataDir != "" {
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("embedded: start: %w", err)
		}
		s.path = filepath.Join(dataDir, SnapshotFile)
		n, err := load(m, s.path, now)
		if err != nil {
			return nil, fmt.Errorf("embedded: start: %w", err)
		}
		if n > 0 {
			log.Info("embedded redis loaded its snapshot", "path", s.path, "keys", n)
		}
	}
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("embedded: start: %w", err)
	}
	s.addr = m.Addr()
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
		close(s.stop)
		<-s.done
		s.m.Close()
		if s.path != "" {
			s.closeErr = save(s.m, s.path)
		}
	})
	return s.closeErr
}

// Snapshot writes the snapshot now. It is a no-op without a data directory.
func (s *Server) Snapshot() error {
	if s.path == "" {
		return nil
	}
	return save(s.m, s.path)
}

// run drives the clock and the periodic snapshot until Close.
func (s *Server) run(last time.Time) {
	defer close(s.done)
	tick := time.NewTicker(tickInterval)
	defer tick.Stop()
	snap := time.NewTicker(snapshotInterval)
	defer snap.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-tick.C:
			now := time.Now() // not the ticker's value, which can lag under load
			if d := now.Sub(last); d > 0 {
				s.m.SetTime(now)
				s.m.FastForward(d)
				last = now
			}
		case <-snap.C:
			if err := s.Snapshot(); err != nil {
				s.log.Error("embedded redis snapshot failed", "path", s.path, "err", err)
			}
		}
	}
}
