package redisstore

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/chat"
)

// visitDayTTL keeps a day's counters a little over a year: the admin report
// reaches back chat.MaxDays.
const visitDayTTL = 400 * 24 * time.Hour

// topPages is how many paths the visit report names.
const topPages = 10

// maxDayPaths bounds the distinct paths kept for one day; dayPathsRead is how
// many of a day's busiest paths the report adds up.
const (
	maxDayPaths  = 1000
	dayPathsRead = 100
)

// RecordVisit counts one page view: the day's views, the day's distinct
// visitors (HyperLogLog) and the day's views of the path (at most
// maxDayPaths distinct paths a day) in one script in the day's slot, and
// the all-time total with an INCR after it in the same round trip. A crash
// between the two (or an error of the INCR alone) undercounts the total by
// one.
func (s *Store) RecordVisit(ctx context.Context, v chat.NewVisit, now time.Time) (chat.VisitCount, error) {
	day := chat.DayKey(now)
	keys := []string{s.keys.VisitsViews(day), s.keys.VisitsVisitors(day), s.keys.VisitsPaths(day)}
	args := []any{v.VisitorID, v.Path, visitDayTTL.Milliseconds(), maxDayPaths}
	var script *redis.Cmd
	var total *redis.IntCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		script = visitScript.EvalSha(ctx, p, keys, args...)
		total = p.Incr(ctx, s.keys.VisitsTotal())
		return nil
	})
	if redis.HasErrorPrefix(script.Err(), "NOSCRIPT") && total.Err() == nil {
		// Redis had not seen the script: the total is counted, the day not yet.
		script = visitScript.Run(ctx, s.rdb, keys, args...)
		err = script.Err()
	}
	if err != nil {
		return chat.VisitCount{}, fail("record visit", err)
	}
	res, err := script.Int64Slice()
	if err != nil {
		return chat.VisitCount{}, fail("record visit", err)
	}
	if len(res) != 2 {
		return chat.VisitCount{}, fmt.Errorf("redisstore: record visit: unexpected reply of %d values", len(res))
	}
	return chat.VisitCount{Total: total.Val(), Today: res[0], VisitorsToday: res[1]}, nil
}

// VisitSalt returns the day's salt, storing candidate for ttl first when
// there is none, in one script; see lua/visitsalt.lua.
func (s *Store) VisitSalt(ctx context.Context, day string, candidate []byte, ttl time.Duration) ([]byte, error) {
	v, err := visitSaltScript.Run(ctx, s.rdb, []string{s.keys.VisitsSalt(day)}, candidate, ttl.Milliseconds()).Text()
	if err != nil {
		return nil, fail("visit salt", err)
	}
	return []byte(v), nil
}

// VisitCount returns the public counter at now, in one pipeline.
func (s *Store) VisitCount(ctx context.Context, now time.Time) (chat.VisitCount, error) {
	day := chat.DayKey(now)
	p := s.rdb.Pipeline()
	total := p.Get(ctx, s.keys.VisitsTotal())
	today := p.Get(ctx, s.keys.VisitsViews(day))
	distinct := p.PFCount(ctx, s.keys.VisitsVisitors(day))
	if _, err := p.Exec(ctx); err != nil && !isNil(err) {
		return chat.VisitCount{}, fail("visit count", err)
	}
	return chat.VisitCount{Total: intOrZero(total), Today: intOrZero(today), VisitorsToday: distinct.Val()}, nil
}

// VisitReport returns days days up to now, oldest first, in one pipeline.
// The top pages are summed here from each day's path set: a ZUNION would need
// every day's key in one Cluster slot.
func (s *Store) VisitReport(ctx context.Context, days int, now time.Time) (chat.VisitReport, error) {
	if days < 1 {
		days = 1
	}
	dates := make([]string, days)
	for i := range dates {
		dates[i] = chat.DayKey(now.UTC().AddDate(0, 0, i-days+1))
	}
	p := s.rdb.Pipeline()
	total := p.Get(ctx, s.keys.VisitsTotal())
	views := make([]*redis.StringCmd, days)
	visitors := make([]*redis.IntCmd, days)
	paths := make([]*redis.ZSliceCmd, days)
	for i, d := range dates {
		views[i] = p.Get(ctx, s.keys.VisitsViews(d))
		visitors[i] = p.PFCount(ctx, s.keys.VisitsVisitors(d))
		paths[i] = p.ZRevRangeWithScores(ctx, s.keys.VisitsPaths(d), 0, dayPathsRead-1)
	}
	if _, err := p.Exec(ctx); err != nil && !isNil(err) {
		return chat.VisitReport{}, fail("visit report", err)
	}
	rep := chat.VisitReport{Days: make([]chat.DayVisits, days), Total: intOrZero(total), TopPages: []chat.PageViews{}}
	sum := map[string]int64{}
	for i, d := range dates {
		rep.Days[i] = chat.DayVisits{Date: d, Views: intOrZero(views[i]), Visitors: visitors[i].Val()}
		for _, z := range paths[i].Val() {
			path, _ := z.Member.(string)
			sum[path] += int64(z.Score)
		}
	}
	for path, n := range sum {
		rep.TopPages = append(rep.TopPages, chat.PageViews{Path: path, Views: n})
	}
	sort.Slice(rep.TopPages, func(i, j int) bool {
		a, b := rep.TopPages[i], rep.TopPages[j]
		return a.Views > b.Views || (a.Views == b.Views && a.Path < b.Path)
	})
	if len(rep.TopPages) > topPages {
		rep.TopPages = rep.TopPages[:topPages]
	}
	return rep, nil
}

// intOrZero reads a counter that may not exist yet.
func intOrZero(c *redis.StringCmd) int64 {
	n, err := c.Int64()
	if err != nil {
		return 0
	}
	return n
}
