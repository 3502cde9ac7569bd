package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/redis/go-redis/v9"
)

// BusinessHours implements chat.SettingsStore.
func (s *Store) BusinessHours(ctx context.Context) (chat.Hours, bool, error) {
	raw, err := s.rdb.Get(ctx, s.keys.BusinessHours()).Bytes()
	if errors.Is(err, redis.Nil) {
		return chat.Hours{}, false, nil
	}
	if err != nil {
		return chat.Hours{}, false, fail("business hours", err)
	}
	var h chat.Hours
	if err := json.Unmarshal(raw, &h); err != nil {
		return chat.Hours{}, false, fmt.Errorf("redisstore: business hours: %w", err)
	}
	if err := h.Validate(); err != nil {
		return chat.Hours{}, false, fmt.Errorf("redisstore: business hours: %w", err)
	}
	return h, true, nil
}

// SetBusinessHours implements chat.SettingsStore.
func (s *Store) SetBusinessHours(ctx context.Context, h chat.Hours) error {
	raw, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("redisstore: business hours: %w", err)
	}
	return failIf("save business hours", s.rdb.Set(ctx, s.keys.BusinessHours(), raw, 0).Err())
}

// DeleteBusinessHours implements chat.SettingsStore.
func (s *Store) DeleteBusinessHours(ctx context.Context) error {
	return failIf("delete business hours", s.rdb.Del(ctx, s.keys.BusinessHours()).Err())
}
