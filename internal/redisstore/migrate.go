package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/chat"
)

// mergeMode is how MigrateGlobals merges a key of before the hash tags into
// its new name when both exist (a write to the new name while it ran): the
// new name's data always survives.
type mergeMode int

const (
	mergeHash    mergeMode = iota // HSETNX each field: the new one's fields win
	mergeSet                      // SUNIONSTORE
	mergeZSetMin                  // ZUNIONSTORE … AGGREGATE MIN (when due: the earlier)
	mergeZSetMax                  // ZUNIONSTORE … AGGREGATE MAX (when a lease ends: the later)
	mergeZSetSum                  // ZUNIONSTORE (counts: both add up)
	mergeCounter                  // INCRBY the old value (counts, and a generation that only grows)
	mergeHLL                      // PFMERGE
	mergeList                     // RPUSH the old items after the new ones (newest first)
	mergeStream                   // XADD the old entries (a queue: a finished job's entry is dropped when read)
	mergeKeepNew                  // the new value stays (a marker, a salt in use)
)

// globalsLease is how long the migration's lease lasts unrenewed: an
// instance that dies while migrating holds the others up that long.
const globalsLease = 10 * time.Second

// MigrateGlobals gives the global keys a single Redis (or Sentinel) held
// before the hash tags their new names (keys.go legacyGlobals), once per
// database, before anything reads them: the server's start, parley admin
// and parley seed run it. One instance at a time works, under a lease
// (GlobalsMigrating); the others wait for the marker (GlobalsMigrated) or
// the lease to lapse. Each key is renamed when its new name is free
// (RENAMENX), else merged into it by its family's rule (mergeMode) and
// deleted in one transaction that watches the old key, so each step is
// atomic and idempotent: a crash leaves the next start to finish, and a
// write to a new name meanwhile is merged, never overwritten. Instances of
// an older Parley must be stopped first: they still write the old names.
// On Cluster there is nothing to move (Parley never ran on one before the
// hash tags): it returns at once. It returns how many keys it moved.
func (s *Store) MigrateGlobals(ctx context.Context) (int, error) {
	if _, ok := s.rdb.(*redis.ClusterClient); ok {
		return 0, nil
	}
	var tok [8]byte
	_, _ = rand.Read(tok[:])
	token := hex.EncodeToString(tok[:])
	for {
		done, err := s.rdb.Exists(ctx, s.keys.GlobalsMigrated()).Result()
		if err != nil {
			return 0, fail("migrate globals", err)
		}
		if done == 1 {
			return 0, nil
		}
		ok, err := s.rdb.SetNX(ctx, s.keys.GlobalsMigrating(), token, globalsLease).Result()
		if err != nil {
			return 0, fail("migrate globals", err)
		}
		if ok {
			break
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	moved, err := s.migrateGlobals(ctx, token)
	if err != nil {
		return moved, fail("migrate globals", err)
	}
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, s.keys.GlobalsMigrated(), "1", 0)
		p.Del(ctx, s.keys.GlobalsMigrating())
		return nil
	}); err != nil {
		return moved, fail("migrate globals", err)
	}
	return moved, nil
}

func (s *Store) migrateGlobals(ctx context.Context, token string) (int, error) {
	moved := 0
	renewed := time.Now()
	kinds := []string{string(chat.NotifyAgents), string(chat.NotifyVisitor)}
	for _, fam := range s.keys.legacyGlobals(kinds) {
		olds := []string{fam.old}
		if fam.scan {
			found, err := s.scanKeys(ctx, fam.old+"*")
			if err != nil {
				return moved, err
			}
			olds = olds[:0]
			for _, k := range found {
				if fam.skip == "" || !strings.HasPrefix(k, fam.skip) {
					olds = append(olds, k)
				}
			}
		}
		for _, old := range olds {
			if time.Since(renewed) > globalsLease/4 {
				// The lease is the others' wait, not a lock: each step
				// below is safe beside another migrator's.
				if err := s.rdb.SetXX(ctx, s.keys.GlobalsMigrating(), token, globalsLease).Err(); err != nil {
					return moved, err
				}
				renewed = time.Now()
			}
			n, err := s.migrateKey(ctx, old, fam.name(strings.TrimPrefix(old, fam.old)), fam.merge)
			if err != nil {
				return moved, err
			}
			moved += n
		}
	}
	return moved, nil
}

// migrateKey moves old to its new name, or merges it into it; 1 when old
// was there.
func (s *Store) migrateKey(ctx context.Context, old, name string, mode mergeMode) (int, error) {
	ok, err := s.rdb.RenameNX(ctx, old, name).Result()
	switch {
	case err != nil && strings.Contains(err.Error(), "no such key"):
		return 0, nil
	case err != nil:
		return 0, err
	case ok:
		return 1, nil
	}
	for range 10 {
		err = s.rdb.Watch(ctx, func(tx *redis.Tx) error { return mergeInto(ctx, tx, old, name, mode) }, old)
		if !errors.Is(err, redis.TxFailedErr) {
			break
		}
	}
	if err != nil {
		return 0, err
	}
	return 1, nil
}

// mergeInto merges old into name and deletes old in one transaction; tx
// watches old.
func mergeInto(ctx context.Context, tx *redis.Tx, old, name string, mode mergeMode) error {
	var queue func(p redis.Pipeliner)
	switch mode {
	case mergeHash:
		fields, err := tx.HGetAll(ctx, old).Result()
		if err != nil {
			return err
		}
		queue = func(p redis.Pipeliner) {
			for f, v := range fields {
				p.HSetNX(ctx, name, f, v)
			}
		}
	case mergeSet:
		queue = func(p redis.Pipeliner) { p.SUnionStore(ctx, name, name, old) }
	case mergeZSetMin, mergeZSetMax, mergeZSetSum:
		ttl, err := tx.PTTL(ctx, name).Result()
		if err != nil {
			return err
		}
		agg := map[mergeMode]string{mergeZSetMin: "MIN", mergeZSetMax: "MAX", mergeZSetSum: "SUM"}[mode]
		queue = func(p redis.Pipeliner) {
			p.ZUnionStore(ctx, name, &redis.ZStore{Keys: []string{name, old}, Aggregate: agg})
			if ttl > 0 {
				p.PExpire(ctx, name, ttl)
			}
		}
	case mergeCounter:
		v, err := tx.Get(ctx, old).Result()
		if err != nil && !isNil(err) {
			return err
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		queue = func(p redis.Pipeliner) { p.IncrBy(ctx, name, n) }
	case mergeHLL:
		queue = func(p redis.Pipeliner) { p.PFMerge(ctx, name, old) }
	case mergeList:
		items, err := tx.LRange(ctx, old, 0, -1).Result()
		if err != nil {
			return err
		}
		queue = func(p redis.Pipeliner) {
			if len(items) > 0 {
				vals := make([]any, len(items))
				for i, it := range items {
					vals[i] = it
				}
				p.RPush(ctx, name, vals...)
			}
		}
	case mergeStream:
		entries, err := tx.XRange(ctx, old, "-", "+").Result()
		if err != nil {
			return err
		}
		queue = func(p redis.Pipeliner) {
			for _, e := range entries {
				p.XAdd(ctx, &redis.XAddArgs{Stream: name, Values: e.Values})
			}
		}
	case mergeKeepNew:
		queue = func(redis.Pipeliner) {}
	}
	_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
		queue(p)
		p.Del(ctx, old)
		return nil
	})
	return err
}
