package redisstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/redisstore"
	"github.com/parley-chat/parley/internal/redisstore/redistest"
)

// nodeStats is what one primary did during a run: commands (every one run,
// those inside scripts included: total_commands_processed), script calls, the CPU the Redis process
// used (ms: commands, replication and the cluster bus), and the keys it
// holds.
type nodeStats struct {
	calls, scripts, keys int64
	cpu                  float64
}

// primaryStats reads INFO (stats, cpu, commandstats) and DBSIZE of every
// primary.
func primaryStats(t *testing.T, ctx context.Context, addrs []string) map[string]nodeStats {
	t.Helper()
	out := map[string]nodeStats{}
	for _, addr := range addrs {
		c := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, DisableIdentity: true})
		info, err := c.Info(ctx, "stats", "cpu", "commandstats").Result()
		if err != nil {
			c.Close()
			t.Fatalf("INFO of %s: %v", addr, err)
		}
		keys, err := c.DBSize(ctx).Result()
		c.Close()
		if err != nil {
			t.Fatalf("DBSIZE of %s: %v", addr, err)
		}
		st := nodeStats{keys: keys}
		for _, line := range strings.Split(info, "\n") {
			name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
			if !ok {
				continue
			}
			switch name {
			case "total_commands_processed":
				st.calls, _ = strconv.ParseInt(rest, 10, 64)
			case "used_cpu_sys", "used_cpu_user":
				f, _ := strconv.ParseFloat(rest, 64)
				st.cpu += f * 1000
			case "cmdstat_evalsha", "cmdstat_eval":
				// calls=12,usec=345,...
				if v, ok := strings.CutPrefix(strings.Split(rest, ",")[0], "calls="); ok {
					n, _ := strconv.ParseInt(v, 10, 64)
					st.scripts += n
				}
			}
		}
		out[addr] = st
	}
	return out
}

// TestClusterLoadSpread: the store's traffic spreads evenly over a real
// cluster's shards. 3 primaries hold 6, 5 and 5 of the 16 index partitions
// and about a third of the room slots each; a run of room creates, sends,
// the admins' reads and room listings must leave every primary with a
// share of the commands, of Redis's CPU and of the keys near its share of
// the slots (no hot shard). The table goes to the test log and
// $PARLEY_ARTIFACTS/cluster-spread.txt; docs/SCALING.md quotes it.
func TestClusterLoadSpread(t *testing.T) {
	if !redistest.ClusterInstalled() {
		t.Skip("redis-server or redis-cli not installed")
	}
	cl := redistest.StartCluster(t) // its own: nothing else runs on it
	ctx := context.Background()
	s, _ := mustStore(t, cl.URL(), redisstore.Options{Prefix: "parley:", RoomTTL: time.Hour})
	primaries := cl.Primaries()
	if len(primaries) != 3 {
		t.Fatalf("primaries: %v", primaries)
	}
	for _, p := range primaries {
		n := redis.NewClient(&redis.Options{Addr: p, Protocol: 2, DisableIdentity: true})
		if err := n.ConfigResetStat(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		n.Close()
	}

	before := primaryStats(t, ctx, primaries)
	const rooms, perRoom, workers = 240, 8, 16
	ids := make([]string, rooms)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < rooms; i += workers {
				r, err := s.CreateRoom(ctx, chat.Room{ID: chat.NewRoomID(), VisitorName: "Visitor " + strconv.Itoa(i),
					CreatedAt: chat.Time{Time: time.Now()}, UpdatedAt: chat.Time{Time: time.Now()}})
				if err != nil {
					errs <- err
					return
				}
				ids[i] = r.ID
				for j := range perRoom {
					from := chat.SenderVisitor
					if j%2 == 1 {
						from = chat.SenderAdmin
					}
					if _, _, err := s.Append(ctx, newMessage(r.ID, from, fmt.Sprintf("message %d of room %d", j, i), time.Now()),
						chat.AppendOptions{ClientID: fmt.Sprintf("c%d", j)}); err != nil {
						errs <- err
						return
					}
				}
				if _, _, err := s.MarkRead(ctx, r.ID, chat.SenderAdmin, perRoom); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("load on the cluster: %v", err)
	}
	for range 20 {
		page, err := s.ListRooms(ctx, chat.RoomQuery{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Rooms) != 50 {
			t.Fatalf("list: %d rooms, want 50", len(page.Rooms))
		}
	}
	elapsed := time.Since(start)

	stats := primaryStats(t, ctx, primaries)
	var total nodeStats
	for p, st := range stats {
		st.cpu -= before[p].cpu // the counters RESETSTAT left
		stats[p] = st
		total.calls += st.calls
		total.scripts += st.scripts
		total.cpu += st.cpu
		total.keys += st.keys
	}
	sort.Strings(primaries)
	var b strings.Builder
	fmt.Fprintf(&b, "%d rooms, %d messages, %d admin reads, 20 listings in %v through Connect on 3 primaries + 3 replicas\n",
		rooms, rooms*perRoom, rooms, elapsed.Round(time.Millisecond))
	fmt.Fprintf(&b, "%-16s %9s %7s %8s %7s %10s %7s %6s %7s %10s\n", "primary", "commands", "share", "scripts", "share", "Redis CPU", "share", "keys", "share", "partitions")
	for _, p := range primaries {
		st := stats[p]
		parts := 0
		for i := range redisstore.IndexPartitions {
			owner, err := cl.PrimaryFor(ctx, "parley:rooms:{"+redisstore.IndexTag(i)+"}")
			if err != nil {
				t.Fatal(err)
			}
			if owner == p {
				parts++
			}
		}
		share := func(v, all int64) float64 { return 100 * float64(v) / float64(all) }
		cpuShare := 100 * st.cpu / total.cpu
		fmt.Fprintf(&b, "%-16s %9d %6.1f%% %8d %6.1f%% %8.0fms %6.1f%% %6d %6.1f%% %10d\n", p, st.calls, share(st.calls, total.calls),
			st.scripts, share(st.scripts, total.scripts), st.cpu, cpuShare, st.keys, share(st.keys, total.keys), parts)
		// A third each, give or take the 6/5/5 split of the partitions
		// and the spread of room ids: no shard above 45 % or below 22 %.
		for _, v := range []struct {
			what string
			pct  float64
		}{{"commands", share(st.calls, total.calls)}, {"scripts", share(st.scripts, total.scripts)}, {"Redis CPU", cpuShare}, {"keys", share(st.keys, total.keys)}} {
			if v.pct > 45 || v.pct < 22 {
				t.Errorf("primary %s has %.1f%% of the %s: the load is not spread", p, v.pct, v.what)
			}
		}
	}
	fmt.Fprintf(&b, "%-16s %9d %7s %8d %7s %8.0fms %7s %6d\n", "total", total.calls, "", total.scripts, "", total.cpu, "", total.keys)
	fmt.Fprintf(&b, "(commands: every command run, those inside scripts included)\nper message, everything of the run included: %.1f commands, %.1f script calls, %.0f µs of the primaries' CPU\n",
		float64(total.calls)/float64(rooms*perRoom), float64(total.scripts)/float64(rooms*perRoom), 1000*total.cpu/float64(rooms*perRoom))
	t.Log("\n" + b.String())
	if dir := os.Getenv("PARLEY_ARTIFACTS"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, "cluster-spread.txt"), []byte(b.String()), 0o644); err != nil {
			t.Errorf("write the report: %v", err)
		}
	}
}
