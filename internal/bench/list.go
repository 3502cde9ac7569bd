package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// ListReport is the outcome of the list scenario: the admin's room list, 50
// rooms a page, over a large index.
type ListReport struct {
	Seeded   int     `json:"seeded"`
	SeedPath string  `json:"seed_path"` // "store" or "api"
	SeedS    float64 `json:"seed_s"`
	// IndexSize is the number of rooms the list walked through.
	IndexSize   int `json:"index_size"`
	PageSize    int `json:"page_size"`
	MiddleDepth int `json:"middle_depth"`
	DeepDepth   int `json:"deep_depth"`
	// Latencies of one request each, one at a time: the first page, the
	// first page of the unread filter and of an inbox view (unassigned: every
	// seeded room), and pages from a cursor in the middle and near the end
	// of the index.
	First  Latency        `json:"first"`
	Unread Latency        `json:"unread"`
	View   Latency        `json:"view"`
	Middle Latency        `json:"middle"`
	Deep   Latency        `json:"deep"`
	Errors map[string]int `json:"errors"`
	Notes  []string       `json:"notes,omitempty"`
}

const (
	listPageSize = 50
	walkPageSize = 200
	// listMeasureTimeout bounds the measuring phase.
	listMeasureTimeout = 2 * time.Minute
)

func runList(ctx context.Context, c *client, cfg Config, p *progress) (*ListReport, error) {
	rep := &ListReport{PageSize: listPageSize}
	token, err := c.login(ctx, cfg.AdminUser, cfg.AdminPassword)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	if err := seed(ctx, c, cfg, rep, p); err != nil {
		return nil, err
	}
	rep.SeedS = time.Since(t0).Seconds()

	// Walk the whole index once, keeping every page's cursor, to find
	// cursors in the middle and near the end.
	var cursors []string
	cursor := ""
	maxPages := (cfg.Rooms+MaxRooms)/walkPageSize + 1
	for page := 0; page < maxPages; page++ {
		if page%20 == 0 {
			p.printf("list: walking the index, %d rooms", rep.IndexSize)
		}
		var out struct {
			Rooms      []struct{} `json:"rooms"`
			NextCursor string     `json:"nextCursor"`
		}
		q := url.Values{"limit": {strconv.Itoa(walkPageSize)}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		if err := c.do(ctx, http.MethodGet, "/api/v1/admin/rooms?"+q.Encode(), token, nil, &out); err != nil {
			return nil, fmt.Errorf("walk the room list: %w", err)
		}
		rep.IndexSize += len(out.Rooms)
		if out.NextCursor == "" {
			break
		}
		cursor = out.NextCursor
		cursors = append(cursors, cursor)
	}
	var middle, deep string
	if len(cursors) > 0 {
		// The deep cursor is the last but one: a full page always follows it.
		mi, di := len(cursors)/2, max(len(cursors)-2, 0)
		middle, deep = cursors[mi], cursors[di]
		rep.MiddleDepth, rep.DeepDepth = (mi+1)*walkPageSize, (di+1)*walkPageSize
	} else {
		rep.Notes = append(rep.Notes, "the index fits on one page: no cursor to measure")
	}

	kinds := []struct {
		name string
		path string
		rec  *recorder
		into *Latency
	}{
		{"first", "/api/v1/admin/rooms?limit=50", newRecorder(cfg.ListRequests), &rep.First},
		{"unread", "/api/v1/admin/rooms?limit=50&filter=unread", newRecorder(cfg.ListRequests), &rep.Unread},
		{"view", "/api/v1/admin/rooms?limit=50&filter=unassigned", newRecorder(cfg.ListRequests), &rep.View},
	}
	if middle != "" {
		kinds = append(kinds,
			struct {
				name string
				path string
				rec  *recorder
				into *Latency
			}{"middle", "/api/v1/admin/rooms?limit=50&cursor=" + url.QueryEscape(middle), newRecorder(cfg.ListRequests), &rep.Middle},
			struct {
				name string
				path string
				rec  *recorder
				into *Latency
			}{"deep", "/api/v1/admin/rooms?limit=50&cursor=" + url.QueryEscape(deep), newRecorder(cfg.ListRequests), &rep.Deep})
	}
	errs := &errorCounts{}
	mctx, cancel := context.WithTimeout(ctx, listMeasureTimeout)
	defer cancel()
	var done atomic.Int64
	stop := every(func() { p.printf("list: measuring %d/%d requests", done.Load(), cfg.ListRequests*len(kinds)) })
	// One request at a time, the kinds interleaved: latency, not throughput.
	for i := 0; i < cfg.ListRequests && mctx.Err() == nil; i++ {
		for _, k := range kinds {
			t := time.Now()
			if err := c.do(mctx, http.MethodGet, k.path, token, nil, nil); err != nil {
				errs.add(err)
				continue
			}
			k.rec.add(time.Since(t))
			done.Add(1)
		}
	}
	stop()
	for _, k := range kinds {
		*k.into = k.rec.summary()
	}
	rep.Errors = errs.snapshot()
	if ctx.Err() == nil && mctx.Err() != nil {
		rep.Notes = append(rep.Notes, fmt.Sprintf("measuring stopped after %s", listMeasureTimeout))
	}
	return rep, ctx.Err()
}

// seed creates cfg.Rooms rooms with one visitor message each: through the
// store when the caller gave a seeder, through the API otherwise.
func seed(ctx context.Context, c *client, cfg Config, rep *ListReport, p *progress) error {
	n := cfg.Rooms
	rep.Seeded = n
	if cfg.Seed != nil {
		rep.SeedPath = "store"
		var done atomic.Int64
		stop := every(func() { p.printf("list: seeding %d/%d rooms through the store", done.Load(), n) })
		defer stop()
		return cfg.Seed(ctx, n, func(d int) { done.Store(int64(d)) })
	}
	rep.SeedPath = "api"
	errs := &errorCounts{}
	var next, done atomic.Int64
	stop := every(func() { p.printf("list: seeding %d/%d rooms through the API", done.Load(), n) })
	defer stop()
	var wg sync.WaitGroup
	for w := 0; w < 64; w++ {
		wg.Go(func() {
			for ctx.Err() == nil && errs.total() <= 100 {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				v, err := c.createRoom(ctx, "seed "+strconv.Itoa(i))
				if err == nil {
					err = c.do(ctx, http.MethodPost, "/api/v1/rooms/"+v.roomID+"/messages", v.token,
						sendBody("Hello, I have a question about my order "+strconv.Itoa(i)+"."), nil)
				}
				if err != nil {
					errs.add(err)
					continue
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	if err := errs.failed("seeding through the API"); err != nil {
		return err
	}
	return ctx.Err()
}
