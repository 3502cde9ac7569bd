package redistest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// waitBenchScript is shaped like send.lua's writes: a counter, the message
// appended to a capped list, an entry appended to a capped stream.
var waitBenchScript = redis.NewScript(`
redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('LTRIM', KEYS[2], -1000, -1)
redis.call('XADD', KEYS[3], 'MAXLEN', '~', 1000, '*', 'e', ARGV[1])
return 1`)

// BenchmarkWaitCost measures what WAIT 1 1000 after each write (serial) or
// after each pipeline of 64 writes (as the send batcher would) costs on the
// local cluster (docs/SCALING.md, "WAIT cost"): the primary and its replica
// share this machine's cores with the other four nodes. WAIT goes on the
// connection that wrote, since it waits for that connection's writes only.
// It reports the p50 and p99 of one call (a send, or a pipeline).
func BenchmarkWaitCost(b *testing.B) {
	c := StartCluster(b)
	ctx := context.Background()
	keys := []string{"bench:{w}", "bench:{w}:msgs", "bench:{w}:log"}
	addr, err := c.PrimaryFor(ctx, keys[0])
	if err != nil {
		b.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, DisableIdentity: true, PoolSize: 1})
	defer rdb.Close()
	msg := strings.Repeat("x", 300)
	if err := waitBenchScript.Load(ctx, rdb).Err(); err != nil {
		b.Fatal(err)
	}
	for _, batch := range []int{1, 64} {
		for _, wait := range []bool{false, true} {
			name := "serial"
			if batch > 1 {
				name = "pipeline64"
			}
			if wait {
				name += "/wait"
			} else {
				name += "/nowait"
			}
			b.Run(name, func(b *testing.B) {
				took := make([]time.Duration, 0, b.N)
				for b.Loop() {
					t0 := time.Now()
					_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
						for range batch {
							waitBenchScript.EvalSha(ctx, p, keys, msg)
						}
						if wait {
							p.Do(ctx, "WAIT", 1, 1000)
						}
						return nil
					})
					if err != nil {
						b.Fatal(err)
					}
					took = append(took, time.Since(t0))
				}
				slices.Sort(took)
				b.ReportMetric(float64(batch)*float64(len(took))/b.Elapsed().Seconds(), "sends/s")
				b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs")
				b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
			})
		}
	}
}
