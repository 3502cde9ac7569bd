// Package seed loads Parley's demo data: a few conversations and a month of
// visits. Loading is idempotent (rooms have fixed ids and messages fixed
// clientIds; visits are loaded only together with the first room), and there
// are no migrations: an empty Redis is a valid state.
package seed

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

//go:embed demo.json
var demoJSON []byte

type demo struct {
	Rooms []struct {
		ID          string `json:"id"`
		Name        string `json:"name"`
		Email       string `json:"email"`
		Page        string `json:"page"`
		MinutesAgo  int    `json:"minutesAgo"`
		AdminRead   int64  `json:"adminRead"`
		VisitorRead int64  `json:"visitorRead"`
		Messages    []struct {
			Sender     chat.Sender `json:"sender"`
			Author     string      `json:"author"`
			Content    string      `json:"content"`
			MinutesAgo int         `json:"minutesAgo"`
		} `json:"messages"`
	} `json:"rooms"`
	Visits struct {
		Days          int      `json:"days"`
		Paths         []string `json:"paths"`
		Weights       []int    `json:"weights"`
		BaseViews     int      `json:"baseViews"`
		VisitorsShare float64  `json:"visitorsShare"`
	} `json:"visits"`
}

// Result says what a Load did.
type Result struct {
	Rooms, Messages, Visits int
}

// Load writes the demo data into store as of now. Each room is written
// unless it is there, and the month of visits only when the counter has no
// visits in that month (a second Load, or a live site's counter, is left
// alone): a second Load writes nothing, and one after a demo room was
// deleted writes that room back and nothing else.
func Load(ctx context.Context, store chat.Store, now time.Time) (Result, error) {
	var d demo
	if err := json.Unmarshal(demoJSON, &d); err != nil {
		return Result{}, fmt.Errorf("seed: parse demo.json: %w", err)
	}
	var res Result
	ago := func(min int) chat.Time { return chat.Time{Time: now.Add(-time.Duration(min) * time.Minute).UTC()} }
	for _, r := range d.Rooms {
		_, err := store.Room(ctx, r.ID)
		if err == nil {
			continue // already seeded
		}
		if !errors.Is(err, chat.ErrRoomNotFound) {
			return res, fmt.Errorf("seed: room %s: %w", r.ID, err)
		}
		first := ago(r.MinutesAgo + 1)
		if len(r.Messages) > 0 {
			first = ago(r.Messages[0].MinutesAgo + 1)
		}
		if _, err := store.CreateRoom(ctx, chat.Room{
			ID: r.ID, VisitorName: r.Name, VisitorEmail: r.Email, Page: r.Page, CreatedAt: first, UpdatedAt: first,
		}); err != nil {
			return res, fmt.Errorf("seed: create room %s: %w", r.ID, err)
		}
		res.Rooms++
		for j, m := range r.Messages {
			at := ago(m.MinutesAgo)
			_, created, err := store.Append(ctx, chat.Message{
				ID: chat.NewMessageID(at.Time), RoomID: r.ID, Sender: m.Sender, Author: m.Author,
				Content: m.Content, CreatedAt: at,
			}, chat.AppendOptions{ClientID: fmt.Sprintf("seed-%d", j+1)})
			if err != nil {
				return res, fmt.Errorf("seed: message %d of %s: %w", j+1, r.ID, err)
			}
			if created {
				res.Messages++
			}
		}
		if r.AdminRead > 0 {
			if _, _, err := store.MarkRead(ctx, r.ID, chat.SenderAdmin, r.AdminRead); err != nil {
				return res, fmt.Errorf("seed: read marks of %s: %w", r.ID, err)
			}
		}
		if r.VisitorRead > 0 {
			if _, _, err := store.MarkRead(ctx, r.ID, chat.SenderVisitor, r.VisitorRead); err != nil {
				return res, fmt.Errorf("seed: read marks of %s: %w", r.ID, err)
			}
		}
	}
	report, err := store.VisitReport(ctx, d.Visits.Days, now)
	if err != nil {
		return res, fmt.Errorf("seed: visits: %w", err)
	}
	for _, day := range report.Days {
		if day.Views > 0 {
			return res, nil // counted already
		}
	}
	res.Visits, err = loadVisits(ctx, store, d, now)
	return res, err
}

// loadVisits records a month of page views with a weekly rhythm and a slow
// upward trend, deterministic so the demo chart looks the same every time.
func loadVisits(ctx context.Context, store chat.Store, d demo, now time.Time) (int, error) {
	v := d.Visits
	total := 0
	weightSum := 0
	for _, w := range v.Weights {
		weightSum += w
	}
	for day := v.Days - 1; day >= 0; day-- {
		at := now.AddDate(0, 0, -day)
		views := v.BaseViews + (v.Days-day)*2
		if wd := at.Weekday(); wd == time.Saturday || wd == time.Sunday {
			views = views * 6 / 10
		}
		visitors := int(float64(views) * v.VisitorsShare)
		for n := 0; n < views; n++ {
			// Spread the views over the paths by weight.
			slot, path := n%weightSum, v.Paths[0]
			for i, w := range v.Weights {
				if slot < w {
					path = v.Paths[i]
					break
				}
				slot -= w
			}
			visit := chat.NewVisit{Path: path, VisitorID: fmt.Sprintf("seed-%d-%d", day, n%max(visitors, 1))}
			if _, err := store.RecordVisit(ctx, visit, at); err != nil {
				return total, fmt.Errorf("seed: visits: %w", err)
			}
			total++
		}
	}
	return total, nil
}
