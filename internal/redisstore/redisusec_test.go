package redisstore_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/redisstore"
)

// redisUsec resets the server's command stats, and returns a func that
// reports the server-side time of a script call (EVALSHA) as redis-µs/op:
// what a change to a script costs Redis, without the noise of the round trip.
func redisUsec(b *testing.B, addr string) func() {
	b.Helper()
	c, err := redisstore.Connect("redis://" + addr)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	_ = c.ConfigResetStat(ctx).Err()
	return func() {
		defer c.Close()
		info, err := c.Info(ctx, "commandstats").Result()
		if err != nil {
			return
		}
		for line := range strings.SplitSeq(info, "\n") {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_evalsha:"); ok {
				for kv := range strings.SplitSeq(rest, ",") {
					if v, ok := strings.CutPrefix(kv, "usec_per_call="); ok {
						f, _ := strconv.ParseFloat(v, 64)
						b.ReportMetric(f, "redis-µs/op")
					}
				}
			}
		}
	}
}
