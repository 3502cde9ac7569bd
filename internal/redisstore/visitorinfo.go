package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// RecordPage implements chat.VisitorInfoStore.
func (s *Store) RecordPage(ctx context.Context, roomID string, visit chat.PageVisit, facts chat.VisitorFacts, max int) (chat.VisitorInfo, error) {
	page, err := json.Marshal(visit)
	if err != nil {
		return chat.VisitorInfo{}, fmt.Errorf("redisstore: record page: %w", err)
	}
	args := []any{page, max, len(facts.Latest)}
	args = appendPairs(args, facts.Latest)
	args = appendPairs(args, facts.First)
	res, err := visitorPageScript.Run(ctx, s.rdb, []string{s.keys.Room(roomID), s.keys.VisitorPages(roomID), s.keys.VisitorInfo(roomID)}, args...).Result()
	if err != nil {
		return chat.VisitorInfo{}, fail("record page", err)
	}
	info, ok := visitorFromScript(res)
	if !ok {
		return chat.VisitorInfo{}, chat.ErrRoomNotFound
	}
	return info, nil
}

// MarkVisitorSeen implements chat.VisitorInfoStore.
func (s *Store) MarkVisitorSeen(ctx context.Context, roomID string, online bool, now time.Time) (chat.VisitorInfo, bool, error) {
	field := "left"
	if online {
		field = "seen"
	}
	res, err := visitorSeenScript.Run(ctx, s.rdb, []string{s.keys.VisitorPages(roomID), s.keys.VisitorInfo(roomID)},
		field, now.UTC().Format(chat.TimeLayout)).Result()
	if err != nil {
		return chat.VisitorInfo{}, false, fail("visitor seen", err)
	}
	info, ok := visitorFromScript(res)
	return info, ok, nil
}

// VisitorInfo implements chat.VisitorInfoStore.
func (s *Store) VisitorInfo(ctx context.Context, roomID string) (chat.VisitorInfo, error) {
	pipe := s.rdb.Pipeline()
	pages := pipe.LRange(ctx, s.keys.VisitorPages(roomID), 0, -1)
	fields := pipe.HGetAll(ctx, s.keys.VisitorInfo(roomID))
	if _, err := pipe.Exec(ctx); err != nil {
		return chat.VisitorInfo{}, fail("visitor info", err)
	}
	return chat.VisitorInfoFrom(decodePages(pages.Val()), fields.Val()), nil
}

// appendPairs appends m's pairs in a stable order.
func appendPairs(args []any, m map[string]string) []any {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, k, m[k])
	}
	return args
}

// visitorFromScript reads {pages, hash flat}; false for the script's 0.
func visitorFromScript(res any) (chat.VisitorInfo, bool) {
	parts, ok := res.([]any)
	if !ok || len(parts) != 2 {
		return chat.VisitorInfo{}, false
	}
	raw, _ := parts[0].([]any)
	flat, _ := parts[1].([]any)
	pages := make([]string, 0, len(raw))
	for _, p := range raw {
		if s, ok := p.(string); ok {
			pages = append(pages, s)
		}
	}
	f := make(map[string]string, len(flat)/2)
	for i := 0; i+1 < len(flat); i += 2 {
		k, _ := flat[i].(string)
		v, _ := flat[i+1].(string)
		f[k] = v
	}
	return chat.VisitorInfoFrom(decodePages(pages), f), true
}

// decodePages decodes the stored pages, skipping any that do not parse.
func decodePages(raw []string) []chat.PageVisit {
	out := make([]chat.PageVisit, 0, len(raw))
	for _, r := range raw {
		var p chat.PageVisit
		if json.Unmarshal([]byte(r), &p) == nil {
			out = append(out, p)
		}
	}
	return out
}
