package redisstore

import (
	"context"
	"strconv"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// Allow applies a sliding-window-log limit to key; see lua/allow.lua. A
// rejected request is not counted.
func (s *Store) Allow(ctx context.Context, key string, l chat.Limit, now time.Time) (chat.Quota, bool, error) {
	ms := now.UnixMilli()
	member := strconv.FormatInt(ms, 36) + "-" + s.memberTag + "-" + strconv.FormatUint(s.memberSeq.Add(1), 36)
	res, err := allowScript.Run(ctx, s.rdb, []string{s.keys.RateLimit(key)},
		ms, l.Per.Milliseconds(), l.N, member).Int64Slice()
	if err != nil {
		return chat.Quota{}, false, fail("allow", err)
	}
	q := chat.Quota{Limit: l.N, Remaining: int(res[1]), Reset: time.UnixMilli(res[2]).UTC()}
	return q, res[0] == 1, nil
}
