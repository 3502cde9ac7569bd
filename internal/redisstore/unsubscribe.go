package redisstore

import (
	"context"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// The agent's notification preference is the field notifyField of their
// admin hash; unsubscribing writes notifyNever there.
const (
	notifyField = "notify"
	notifyNever = "never"
)

// UnsubscribeVisitor marks a room's visitor as unsubscribed for ttl.
func (s *Store) UnsubscribeVisitor(ctx context.Context, roomID string, ttl time.Duration) error {
	if err := s.rdb.Set(ctx, s.keys.UnsubscribedVisitor(roomID), "1", ttl).Err(); err != nil {
		return fail("unsubscribe visitor", err)
	}
	return nil
}

// UnsubscribeAgent sets an agent's notification preference to never and
// their unsubscribed marker (which the notifier reads, and a preference set
// in the console lifts), or returns chat.ErrAdminUnknown.
func (s *Store) UnsubscribeAgent(ctx context.Context, username string) error {
	n, err := unsubscribeAgentScript.Run(ctx, s.rdb, []string{s.keys.Admin(username), s.keys.UnsubscribedAgent(username)}, notifyField, notifyNever).Int64()
	if err != nil {
		return fail("unsubscribe agent", err)
	}
	if n == 0 {
		return chat.ErrAdminUnknown
	}
	return nil
}
