package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/chat"
)

// The rate limits on Cluster. Each window's log (and a backoff's) is a key
// of its own slot (rl:{KEY}), and one request checks several (a login: the
// address, the account, both), so no one script may hold them all. Each
// call checks and counts one log (lua/allow.lua, lua/reserve.lua with one
// key), all of a request's calls in one pipeline (one round trip on a
// single Redis, one per node on Cluster); when any log refuses, the
// request is taken back out of those that counted it (ZREM of its unique
// member), so a refused request ends up counted in no window, as before.
// What a single script hid: between the count and the take-back, a
// concurrent request may see the refused one in a window it passed, and be
// refused with one slot of room left. Both sides err toward refusing, never
// toward letting more through than the limit. The same code runs on a
// single Redis and on Sentinel.

// Allow applies sliding-window-log limits, all or nothing; see
// lua/allow.lua. A rejected request is counted in no window.
func (s *Store) Allow(ctx context.Context, now time.Time, windows ...chat.Window) (chat.Quota, bool, error) {
	if len(windows) == 0 {
		return chat.Quota{}, true, nil
	}
	ms := now.UnixMilli()
	member := s.limitMember(ms)
	calls := make([]scriptCall, len(windows))
	for i, w := range windows {
		calls[i] = scriptCall{keys: []string{s.keys.RateLimit(w.Key)}, args: []any{ms, member, w.Limit.Per.Milliseconds(), w.Limit.N}}
	}
	res, err := s.limitCalls(ctx, allowScript, calls, member)
	if err != nil {
		return chat.Quota{}, false, fail("allow", err)
	}
	// The quota of the window that refused (the one that frees up last),
	// or else of the one with the least room left.
	pick, refused := -1, false
	for i, r := range res {
		switch {
		case r[0] != 1 && (!refused || r[3] > res[pick][3]):
			pick, refused = i, true
		case !refused && (pick < 0 || r[2] < res[pick][2]):
			pick = i
		}
	}
	r := res[pick]
	return chat.Quota{Limit: int(r[1]), Remaining: int(r[2]), Reset: time.UnixMilli(r[3]).UTC()}, !refused, nil
}

// limitMember is a member no other request of any instance uses.
func (s *Store) limitMember(ms int64) string {
	return strconv.FormatInt(ms, 36) + "-" + s.memberTag + "-" + strconv.FormatUint(s.memberSeq.Add(1), 36)
}

// Reserve counts an attempt in every window and in b's log, all or nothing,
// unless a window is full or b's wait is not over; see lua/reserve.lua.
func (s *Store) Reserve(ctx context.Context, now time.Time, b *chat.Backoff, windows ...chat.Window) (chat.Attempt, chat.Quota, bool, error) {
	ms := now.UnixMilli()
	att := chat.Attempt{Member: s.limitMember(ms)}
	calls := make([]scriptCall, 0, len(windows)+1)
	for _, w := range windows {
		att.Windows = append(att.Windows, w.Key)
		calls = append(calls, scriptCall{keys: []string{s.keys.RateLimit(w.Key)},
			args: []any{ms, att.Member, 1, w.Limit.Per.Milliseconds(), w.Limit.N, 0, 0}})
	}
	if b != nil && b.Per > 0 && len(b.Waits) > 0 {
		att.Backoff = b.Key
		args := []any{ms, att.Member, 0, b.Per.Milliseconds(), b.Free}
		for _, w := range b.Waits {
			args = append(args, w.Milliseconds())
		}
		calls = append(calls, scriptCall{keys: []string{s.keys.RateLimit(b.Key)}, args: args})
	}
	if len(calls) == 0 {
		return att, chat.Quota{}, true, nil
	}
	res, err := s.limitCalls(ctx, reserveScript, calls, att.Member)
	if err != nil {
		return chat.Attempt{}, chat.Quota{}, false, fail("reserve", err)
	}
	// Refused: of the window or backoff that frees up last.
	pick := -1
	for i, r := range res {
		if r[0] != 1 && (pick < 0 || r[3] > res[pick][3]) {
			pick = i
		}
	}
	if pick >= 0 {
		r := res[pick]
		return chat.Attempt{}, chat.Quota{Limit: int(r[1]), Remaining: int(r[2]), Reset: time.UnixMilli(r[3]).UTC()}, false, nil
	}
	return att, chat.Quota{}, true, nil
}

// limitCalls runs one limit script call per log in one pipeline and
// returns each call's reply ({allowed, limit, remaining, reset}). When any
// call refused or failed, member is taken out of the logs of those that
// counted it before it returns; a failure is the error.
func (s *Store) limitCalls(ctx context.Context, script *redis.Script, calls []scriptCall, member string) ([][]int64, error) {
	cmds, _ := s.runOnce(ctx, script, calls)
	res := make([][]int64, len(calls))
	var firstErr error
	all := true
	for i, c := range cmds {
		r, err := c.Int64Slice()
		if err == nil && len(r) != 4 {
			err = fmt.Errorf("unexpected reply of %d values", len(r))
		}
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			all = false
			continue
		}
		res[i] = r
		all = all && r[0] == 1
	}
	if all {
		return res, nil
	}
	var counted []string
	for i, r := range res {
		if r != nil && r[0] == 1 {
			counted = append(counted, calls[i].keys[0])
		}
	}
	if len(counted) > 0 {
		if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range counted {
				p.ZRem(ctx, k, member)
			}
			return nil
		}); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return res, firstErr
}

// runOnce runs calls of script in one pipeline (EVALSHA) and, when Redis
// lacks the script, loads it and runs again only the calls it refused for
// that: a call of a limit script that ran must not run twice. The commands
// come back in order, each with its own error.
func (s *Store) runOnce(ctx context.Context, script *redis.Script, calls []scriptCall) ([]*redis.Cmd, error) {
	cmds := make([]*redis.Cmd, len(calls))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, c := range calls {
			cmds[i] = script.EvalSha(ctx, p, c.keys, c.args...)
		}
		return nil
	})
	var again []int
	for i, c := range cmds {
		if redis.HasErrorPrefix(c.Err(), "NOSCRIPT") {
			again = append(again, i)
		}
	}
	if len(again) == 0 {
		return cmds, err
	}
	if lerr := s.loadScript(ctx, script); lerr != nil {
		return cmds, errors.Join(err, lerr)
	}
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, i := range again {
			cmds[i] = script.EvalSha(ctx, p, calls[i].keys, calls[i].args...)
		}
		return nil
	})
	return cmds, err
}

// Release takes a reserved attempt out of its windows and clears its
// backoff log (lua/release.lua, one call per log, in one pipeline).
func (s *Store) Release(ctx context.Context, a chat.Attempt) error {
	calls := make([]scriptCall, 0, len(a.Windows)+1)
	for _, w := range a.Windows {
		calls = append(calls, scriptCall{keys: []string{s.keys.RateLimit(w)}, args: []any{a.Member, 1}})
	}
	if a.Backoff != "" {
		calls = append(calls, scriptCall{keys: []string{s.keys.RateLimit(a.Backoff)}, args: []any{a.Member, 0}})
	}
	if len(calls) == 0 {
		return nil
	}
	// Idempotent: a repeat after NOSCRIPT removes what is already gone.
	if _, err := s.runPipelined(ctx, releaseScript, calls); err != nil {
		return fail("release", err)
	}
	return nil
}
