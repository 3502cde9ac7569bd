package redisstore

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/chat"
)

// The admin logs' consumer groups (the search indexer's, the webhook
// dispatchers'): one group per log, of the same name. A read takes every
// log's share in one pipeline (go-redis splits it per node on Cluster, so
// a read costs one round trip per node, over the connections the client
// pools anyway): the entries others held longer than idle (XAUTOCLAIM),
// then new ones (XREADGROUP without BLOCK: one blocking read over keys of
// several slots is refused on Cluster, and one blocked connection per log
// would hold 17). When nothing came, it waits for the bridge to hear a
// logged event (waker) or for logPoll, whichever is first, up to wait.
// Woken, it reads only the logs the bridge heard of since its last read
// (one XREADGROUP each); every log, with the claims, when it is polled,
// once a second (logFullEvery), and on a read that does not wait.
//
// The admin log of before the split (keys.LegacyAdminLog) is read too,
// while it has a group of that name: what its readers had not taken at
// the upgrade is delivered (webhooks) and indexed (search) as before, and
// its group is never made anew.

// logPoll is how often a waiting read looks at the logs when the bridge
// says nothing (it is down, or its events come from another instance's
// writes it has not heard yet).
const logPoll = 250 * time.Millisecond

// logCoalesce is how long a read woken by the bridge waits before it
// reads, so that the events of a busy moment are read together: a read is
// a pipeline of two commands per log (34), which must not run once per
// event (at 1,000 events a second that would be 34,000 commands a second
// per reader).
const logCoalesce = 25 * time.Millisecond

// logFullEvery is how often a reader reads every log, and claims what
// other consumers held past their idle time (XAUTOCLAIM), whatever the
// bridge says; in between it reads only the logs the bridge heard of.
const logFullEvery = time.Second

// logEntry is an entry of admin log log.
type logEntry struct {
	log int
	redis.XMessage
}

// id is the entry's LogID ("L:ms-n"), which AckAdminLog takes.
func (e logEntry) id() string { return strconv.Itoa(e.log) + ":" + e.ID }

// waker wakes the readers waiting for new entries, and tells each reader
// which logs had news since its last read.
type waker struct {
	mu      sync.Mutex
	ch      chan struct{}
	readers map[string]*logReader
}

// logReader is one reader's (group and consumer) view of the logs.
type logReader struct {
	dirty    uint64    // logs with news since its last read, by bit
	lastFull time.Time // its last read of every log
}

// wait returns a channel closed at the next wake.
func (w *waker) wait() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ch == nil {
		w.ch = make(chan struct{})
	}
	return w.ch
}

// wake marks log as having news for every reader and wakes those waiting.
func (w *waker) wake(log int) {
	w.mu.Lock()
	for _, r := range w.readers {
		r.dirty |= 1 << log
	}
	if w.ch != nil {
		close(w.ch)
		w.ch = nil
	}
	w.mu.Unlock()
}

// take returns, and forgets, the logs with news for reader key, and
// whether it is due a read of every log (full asks for one; else one is
// due logFullEvery after the last).
func (w *waker) take(key string, full bool) (uint64, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.readers == nil {
		w.readers = map[string]*logReader{}
	}
	r := w.readers[key]
	if r == nil {
		r = &logReader{}
		w.readers[key] = r
	}
	now := time.Now()
	if full || now.Sub(r.lastFull) >= logFullEvery {
		r.lastFull = now
		full = true
	}
	d := r.dirty
	r.dirty = 0
	return d, full
}

// mark marks logs as having news for reader key again (a read that took
// its count of them left more).
func (w *waker) mark(key string, logs uint64) {
	if logs == 0 {
		return
	}
	w.mu.Lock()
	if r := w.readers[key]; r != nil {
		r.dirty |= logs
	}
	w.mu.Unlock()
}

// roomLogs are the partitions' logs (the search indexer's: only they have
// messages) and the legacy log; allLogs the team log too (the webhooks').
var roomLogs, allLogs = func() ([]int, []int) {
	var rooms, all []int
	for i := range IndexPartitions {
		rooms = append(rooms, i)
	}
	all = append(append(all, rooms...), teamLog, legacyLog)
	return append(rooms, legacyLog), all
}()

// readLogs reads up to max entries of each of logs in group for consumer
// (see above); a missing group is made, from start ("0": the whole log,
// "$": what comes next), but for the legacy log.
func (s *Store) readLogs(ctx context.Context, logs []int, group, start, consumer string, max int, wait, idle time.Duration) ([]logEntry, error) {
	deadline := time.Now().Add(wait)
	key := group + "\x00" + consumer
	polled := false
	for {
		woken := s.wake.wait()
		// A read that does not wait (a search's catch-up) reads every log:
		// it must find what was written before it, heard or not.
		dirty, full := s.wake.take(key, polled || wait <= 0)
		which := logs
		if !full {
			which = make([]int, 0, len(logs))
			for _, l := range logs {
				if dirty&(1<<l) != 0 {
					which = append(which, l)
				}
			}
		}
		var out []logEntry
		var err error
		if len(which) > 0 {
			out, err = s.readLogsOnce(ctx, which, group, start, consumer, max, idle, full)
			s.wake.mark(key, fullLogs(out, max))
		}
		if err != nil || len(out) > 0 || wait <= 0 {
			return out, err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, nil
		}
		t := time.NewTimer(min(left, logPoll))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-woken:
			t.Stop()
			t = time.NewTimer(min(time.Until(deadline), logCoalesce))
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, ctx.Err()
			case <-t.C:
			}
			polled = false
		case <-t.C:
			polled = true
		}
		t.Stop()
	}
}

// fullLogs are the logs of which out holds max entries or more: a read
// that may have left more.
func fullLogs(out []logEntry, max int) uint64 {
	var n [legacyLog + 1]int
	var bits uint64
	for _, e := range out {
		if n[e.log]++; n[e.log] >= max {
			bits |= 1 << e.log
		}
	}
	return bits
}

// readLogsOnce reads logs once: with claim, first the entries other
// consumers held longer than idle.
func (s *Store) readLogsOnce(ctx context.Context, logs []int, group, start, consumer string, max int, idle time.Duration, claim bool) ([]logEntry, error) {
	claims := make([]*redis.XAutoClaimCmd, len(logs))
	reads := make([]*redis.XStreamSliceCmd, len(logs))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, l := range logs {
			key := s.logKey(l)
			if claim {
				claims[i] = p.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: key, Group: group, Consumer: consumer,
					MinIdle: idle, Start: "0-0", Count: int64(max)})
			}
			reads[i] = p.XReadGroup(ctx, &redis.XReadGroupArgs{Group: group, Consumer: consumer,
				Streams: []string{key, ">"}, Count: int64(max), Block: -1})
		}
		return nil
	})
	if err != nil && !isNoGroup(err) && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	var out []logEntry
	var missing []int
	for i, l := range logs {
		if claim {
			msgs, _, err := claims[i].Result()
			if err != nil && !isNoGroup(err) {
				return nil, err
			}
			for _, m := range msgs {
				out = append(out, logEntry{l, m})
			}
		}
		res, err := reads[i].Result()
		if isNoGroup(err) {
			if l != legacyLog {
				missing = append(missing, l)
			}
			continue
		}
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, err
		}
		for _, st := range res {
			for _, m := range st.Messages {
				out = append(out, logEntry{l, m})
			}
		}
	}
	if len(missing) > 0 {
		if err := s.makeGroups(ctx, missing, group, start); err != nil {
			return out, err
		}
		// The new groups' entries (from "0": the whole log) come now.
		more, err := s.readLogsOnce(ctx, missing, group, start, consumer, max, idle, claim)
		return append(out, more...), err
	}
	return out, nil
}

// makeGroups makes group on each of logs (MKSTREAM), from start, unless it
// is there.
func (s *Store) makeGroups(ctx context.Context, logs []int, group, start string) error {
	cmds := make([]*redis.StatusCmd, len(logs))
	_, _ = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, l := range logs {
			cmds[i] = p.XGroupCreateMkStream(ctx, s.logKey(l), group, start)
		}
		return nil
	})
	for _, c := range cmds {
		if err := c.Err(); err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
			return err
		}
	}
	return nil
}

// ackLogs acknowledges entries in group, by their LogIDs ("L:ms-n"), one
// XACK per log, in one pipeline.
func (s *Store) ackLogs(ctx context.Context, group string, ids []string) error {
	byLog := map[int][]string{}
	for _, id := range ids {
		l, rest, ok := strings.Cut(id, ":")
		n, err := strconv.Atoi(l)
		if !ok || err != nil || n < 0 || n > legacyLog {
			continue
		}
		byLog[n] = append(byLog[n], rest)
	}
	if len(byLog) == 0 {
		return nil
	}
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for l, ids := range byLog {
			p.XAck(ctx, s.logKey(l), group, ids...)
		}
		return nil
	})
	return err
}

// pendingLogs counts the entries of logs read in group and not acked.
func (s *Store) pendingLogs(ctx context.Context, logs []int, group string) (int64, error) {
	cmds := make([]*redis.XPendingCmd, len(logs))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, l := range logs {
			cmds[i] = p.XPending(ctx, s.logKey(l), group)
		}
		return nil
	})
	if err != nil && !isNoGroup(err) {
		return 0, err
	}
	var n int64
	for _, c := range cmds {
		if p, err := c.Result(); err == nil {
			n += p.Count
		}
	}
	return n, nil
}

// eventsOfEntries decodes entries read in group; an undecodable one is
// acked (nothing to deliver) and left out.
func (s *Store) eventsOfEntries(ctx context.Context, group string, entries []logEntry) ([]chat.Event, error) {
	evs := make([]chat.Event, 0, len(entries))
	var bad []string
	for _, e := range entries {
		one, err := logEvents(e.log, []redis.XMessage{e.XMessage})
		if err != nil || len(one) != 1 {
			bad = append(bad, e.id())
			continue
		}
		evs = append(evs, one[0])
	}
	if len(bad) > 0 {
		if err := s.ackLogs(ctx, group, bad); err != nil {
			return evs, fail("read admin log", err)
		}
	}
	return evs, nil
}
