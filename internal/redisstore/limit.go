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
	member := strconv.FormatInt(ms, 36) + "-" + s.memberTag + "-" + strconv.FormatUint(s.memberSeq.Add(1), 36)
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
