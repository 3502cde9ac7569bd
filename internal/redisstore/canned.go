package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/chat"
)

// CannedReplies returns every canned reply, sorted by shortcut: one HGETALL
// of at most chat.MaxCanned entries.
func (s *Store) CannedReplies(ctx context.Context) ([]chat.Canned, error) {
	all, err := s.rdb.HGetAll(ctx, s.keys.Canned()).Result()
	if err != nil {
		return nil, fail("canned replies", err)
	}
	list := make([]chat.Canned, 0, len(all))
	for id, raw := range all {
		c, err := decodeCanned(raw)
		if err != nil {
			return nil, fmt.Errorf("redisstore: canned reply %s: %w", id, err)
		}
		list = append(list, c)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Shortcut < list[j].Shortcut })
	return list, nil
}

// CannedReply returns one canned reply, or chat.ErrCannedNotFound.
func (s *Store) CannedReply(ctx context.Context, id string) (chat.Canned, error) {
	raw, err := s.rdb.HGet(ctx, s.keys.Canned(), id).Result()
	if errors.Is(err, redis.Nil) {
		return chat.Canned{}, chat.ErrCannedNotFound
	}
	if err != nil {
		return chat.Canned{}, fail("canned reply", err)
	}
	return decodeCanned(raw)
}

// AddCanned stores c and publishes its canned.updated event, atomically.
func (s *Store) AddCanned(ctx context.Context, c chat.Canned, max int) error {
	item, ev, err := encodeCanned(c)
	if err != nil {
		return err
	}
	n, err := cannedAddScript.Run(ctx, s.rdb,
		[]string{s.keys.Canned(), s.keys.CannedShortcuts(), s.keys.AdminLog()},
		c.ID, c.Shortcut, item, max, s.keys.Events(), ev, AdminLogLen).Int64()
	if err != nil {
		return fail("add canned reply", err)
	}
	switch n {
	case -1:
		return chat.ErrShortcutTaken
	case -2:
		return chat.ErrCannedLimit
	}
	return nil
}

// UpdateCanned replaces old by c and publishes c's canned.updated event,
// atomically, if old is still what is stored.
func (s *Store) UpdateCanned(ctx context.Context, old, c chat.Canned) error {
	was, err := json.Marshal(old)
	if err != nil {
		return fmt.Errorf("redisstore: encode canned reply: %w", err)
	}
	item, ev, err := encodeCanned(c)
	if err != nil {
		return err
	}
	n, err := cannedUpdateScript.Run(ctx, s.rdb,
		[]string{s.keys.Canned(), s.keys.CannedShortcuts(), s.keys.AdminLog()},
		c.ID, was, old.Shortcut, c.Shortcut, item, s.keys.Events(), ev, AdminLogLen).Int64()
	if err != nil {
		return fail("update canned reply", err)
	}
	switch n {
	case 0:
		return chat.ErrCannedNotFound
	case -1:
		return chat.ErrCannedChanged
	case -2:
		return chat.ErrShortcutTaken
	}
	return nil
}

// DeleteCanned removes a canned reply and publishes canned.deleted,
// atomically.
func (s *Store) DeleteCanned(ctx context.Context, id string) error {
	ev, err := encodeEvent(chat.Event{Type: chat.EventCannedDeleted, Payload: &chat.Payload{CannedID: id}})
	if err != nil {
		return err
	}
	n, err := cannedDeleteScript.Run(ctx, s.rdb,
		[]string{s.keys.Canned(), s.keys.CannedShortcuts(), s.keys.AdminLog()},
		id, s.keys.Events(), ev, AdminLogLen).Int64()
	if err != nil {
		return fail("delete canned reply", err)
	}
	if n == 0 {
		return chat.ErrCannedNotFound
	}
	return nil
}

// encodeCanned returns the stored JSON of c and its canned.updated event.
func encodeCanned(c chat.Canned) (item, ev []byte, err error) {
	item, err = json.Marshal(c)
	if err != nil {
		return nil, nil, fmt.Errorf("redisstore: encode canned reply: %w", err)
	}
	ev, err = encodeEvent(chat.Event{Type: chat.EventCannedUpdated, Payload: &chat.Payload{Canned: &c}})
	return item, ev, err
}

func decodeCanned(raw string) (chat.Canned, error) {
	var c chat.Canned
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		return chat.Canned{}, fmt.Errorf("redisstore: decode canned reply: %w", err)
	}
	return c, nil
}
