package redisstore

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/chat"
)

// Revoke refuses the token id until until; the marker expires with it. It
// publishes EventAdminRevoked for the token in the same step (lua/revoke.lua).
func (s *Store) Revoke(ctx context.Context, id string, until time.Time) error {
	lasts := time.Until(until).Milliseconds()
	if lasts <= 0 {
		return nil // the token has expired already: nothing left to refuse
	}
	ev, err := encodeEvent(chat.Event{Type: chat.EventAdminRevoked, TokenID: id})
	if err != nil {
		return err
	}
	if err := revokeScript.Run(ctx, s.rdb, []string{s.keys.Revoked(id)}, lasts, s.keys.Events(), ev).Err(); err != nil {
		return fail("revoke", err)
	}
	return nil
}

// IsRevoked tells whether a token id was revoked.
func (s *Store) IsRevoked(ctx context.Context, id string) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.keys.Revoked(id)).Result()
	if err != nil {
		return false, fail("is revoked", err)
	}
	return n == 1, nil
}

// AdminAuth returns the account username and whether the token id tokenID was
// revoked, in one pipelined round trip (an admin request needs both before it
// does anything). It returns chat.ErrAdminUnknown when the account is gone.
func (s *Store) AdminAuth(ctx context.Context, tokenID, username string) (chat.Admin, bool, error) {
	var (
		revoked *redis.IntCmd
		account *redis.MapStringStringCmd
	)
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		revoked = p.Exists(ctx, s.keys.Revoked(tokenID))
		account = p.HGetAll(ctx, s.keys.Admin(username))
		return nil
	})
	if err != nil {
		return chat.Admin{}, false, fail("admin auth", err)
	}
	isRevoked := revoked.Val() == 1
	h := account.Val()
	if len(h) == 0 {
		return chat.Admin{}, isRevoked, chat.ErrAdminUnknown
	}
	return adminFromMap(h), isRevoked, nil
}

// Secret returns the stored signing secret, storing candidate first when there
// is none, in one script, so every instance ends up with the same one.
func (s *Store) Secret(ctx context.Context, candidate []byte) ([]byte, error) {
	v, err := secretScript.Run(ctx, s.rdb, []string{s.keys.Secret()}, candidate).Text()
	if err != nil {
		return nil, fail("secret", err)
	}
	return []byte(v), nil
}

// Heartbeat records that instance has n open admin streams until ttl from
// now (n == 0 removes it), drops the heartbeats that have run out, and tells
// whether any is left, in one script; "now" is Redis's clock, so instances
// whose clocks differ still agree. See lua/heartbeat.lua.
func (s *Store) Heartbeat(ctx context.Context, instance string, n int, ttl time.Duration) (bool, error) {
	if instance == "" {
		return false, errors.New("redisstore: heartbeat: empty instance name")
	}
	lasts := ttl.Milliseconds()
	if n <= 0 {
		lasts = 0 // no admin stream open: the instance is not present
	}
	live, err := heartbeatScript.Run(ctx, s.rdb, []string{s.keys.Presence()}, instance, lasts).Int64()
	if err != nil {
		return false, fail("heartbeat", err)
	}
	return live > 0, nil
}

// AdminsOnline tells whether any instance has a live heartbeat (only
// instances with admin streams open have one), on Redis's clock; see
// lua/adminsonline.lua.
func (s *Store) AdminsOnline(ctx context.Context) (bool, error) {
	n, err := adminsOnlineScript.Run(ctx, s.rdb, []string{s.keys.Presence()}).Int64()
	if err != nil {
		return false, fail("admins online", err)
	}
	return n > 0, nil
}
