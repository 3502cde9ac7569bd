package redisstore

import (
	"context"
	"strconv"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// Allow applies sliding-window-log limits, all or nothing; see
// lua/allow.lua. A rejected request is counted in no window.
func (s *Store) Allow(ctx context.Context, now time.Time, windows ...chat.Window) (chat.Quota, bool, error) {
	if len(windows) == 0 {
		return chat.Quota{}, true, nil
	}
	ms := now.UnixMilli()
	member := s.limitMember(ms)
	keys := make([]string, len(windows))
	args := make([]any, 2, 2+2*len(windows))
	args[0], args[1] = ms, member
	for i, w := range windows {
		keys[i] = s.keys.RateLimit(w.Key)
		args = append(args, w.Limit.Per.Milliseconds(), w.Limit.N)
	}
	res, err := allowScript.Run(ctx, s.rdb, keys, args...).Int64Slice()
	if err != nil {
		return chat.Quota{}, false, fail("allow", err)
	}
	q := chat.Quota{Limit: int(res[1]), Remaining: int(res[2]), Reset: time.UnixMilli(res[3]).UTC()}
	return q, res[0] == 1, nil
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
	keys := make([]string, 0, len(windows)+1)
	args := make([]any, 0, 6+2*len(windows))
	args = append(args, ms, att.Member, len(windows))
	for _, w := range windows {
		att.Windows = append(att.Windows, w.Key)
		keys = append(keys, s.keys.RateLimit(w.Key))
		args = append(args, w.Limit.Per.Milliseconds(), w.Limit.N)
	}
	if b != nil && b.Per > 0 && len(b.Waits) > 0 {
		att.Backoff = b.Key
		keys = append(keys, s.keys.RateLimit(b.Key))
		args = append(args, b.Per.Milliseconds(), b.Free)
		for _, w := range b.Waits {
			args = append(args, w.Milliseconds())
		}
	} else {
		args = append(args, 0, 0)
	}
	res, err := reserveScript.Run(ctx, s.rdb, keys, args...).Int64Slice()
	if err != nil {
		return chat.Attempt{}, chat.Quota{}, false, fail("reserve", err)
	}
	if res[0] != 1 {
		return chat.Attempt{}, chat.Quota{Limit: int(res[1]), Remaining: int(res[2]), Reset: time.UnixMilli(res[3]).UTC()}, false, nil
	}
	return att, chat.Quota{}, true, nil
}

// Release takes a reserved attempt out of its windows and clears its
// backoff log; see lua/release.lua.
func (s *Store) Release(ctx context.Context, a chat.Attempt) error {
	keys := make([]string, 0, len(a.Windows)+1)
	for _, w := range a.Windows {
		keys = append(keys, s.keys.RateLimit(w))
	}
	if a.Backoff != "" {
		keys = append(keys, s.keys.RateLimit(a.Backoff))
	}
	if len(keys) == 0 {
		return nil
	}
	if err := releaseScript.Run(ctx, s.rdb, keys, a.Member, len(a.Windows)).Err(); err != nil {
		return fail("release", err)
	}
	return nil
}
