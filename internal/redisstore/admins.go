package redisstore

import (
	"context"
	"sort"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/chat"
)

// Admin accounts are hashes (username, displayName, passwordHash,
// tokensAfter, generation) plus a set of usernames, so listing them needs no
// SCAN. Generations come from one counter (AdminGeneration) that only grows.

// Admin returns an account, or chat.ErrAdminUnknown.
func (s *Store) Admin(ctx context.Context, username string) (chat.Admin, error) {
	h, err := s.rdb.HGetAll(ctx, s.keys.Admin(username)).Result()
	if err != nil {
		return chat.Admin{}, fail("admin", err)
	}
	if len(h) == 0 {
		return chat.Admin{}, chat.ErrAdminUnknown
	}
	return adminFromMap(h), nil
}

// AddAdmin creates an account with a new generation (a.Generation is
// ignored), or returns chat.ErrAdminExists.
func (s *Store) AddAdmin(ctx context.Context, a chat.Admin) error {
	n, err := s.addAdmin(ctx, a, false)
	if err != nil {
		return err
	}
	if n < 0 {
		return chat.ErrAdminExists
	}
	return nil
}

// AddFirstAdmin creates a only when no admin exists at all, atomically.
func (s *Store) AddFirstAdmin(ctx context.Context, a chat.Admin) (bool, error) {
	n, err := s.addAdmin(ctx, a, true)
	return n == 1, err
}

func (s *Store) addAdmin(ctx context.Context, a chat.Admin, first bool) (int64, error) {
	onlyFirst := "0"
	if first {
		onlyFirst = "1"
	}
	n, err := addAdminScript.Run(ctx, s.rdb, []string{s.keys.Admin(a.Username), s.keys.Admins(), s.keys.AdminGeneration()},
		a.Username, a.DisplayName, a.PasswordHash, onlyFirst, a.TokensAfter.Millis()).Int64()
	if err != nil {
		return 0, fail("add admin", err)
	}
	return n, nil
}

// UpdateAdmin replaces an existing account and gives it a new generation
// (a.Generation is ignored), or returns chat.ErrAdminUnknown. It publishes
// EventAdminRevoked for the account in the same step: every token issued
// before is refused from then on, and every instance ends its streams.
func (s *Store) UpdateAdmin(ctx context.Context, a chat.Admin) error {
	ev, err := encodeEvent(chat.Event{Type: chat.EventAdminRevoked, Username: a.Username})
	if err != nil {
		return err
	}
	n, err := updateAdminScript.Run(ctx, s.rdb, []string{s.keys.Admin(a.Username), s.keys.AdminGeneration()},
		a.Username, a.DisplayName, a.PasswordHash, a.TokensAfter.Millis(), s.keys.Events(), ev).Int64()
	if err != nil {
		return fail("update admin", err)
	}
	if n == 0 {
		return chat.ErrAdminUnknown
	}
	return nil
}

// RemoveAdmin deletes an account, or returns chat.ErrAdminUnknown. It
// publishes EventAdminRevoked for the account in the same step.
func (s *Store) RemoveAdmin(ctx context.Context, username string) error {
	ev, err := encodeEvent(chat.Event{Type: chat.EventAdminRevoked, Username: username})
	if err != nil {
		return err
	}
	n, err := removeAdminScript.Run(ctx, s.rdb, []string{s.keys.Admin(username), s.keys.Admins()},
		username, s.keys.Events(), ev).Int64()
	if err != nil {
		return fail("remove admin", err)
	}
	if n == 0 {
		return chat.ErrAdminUnknown
	}
	return nil
}

// Admins lists every account, sorted by username.
func (s *Store) Admins(ctx context.Context) ([]chat.Admin, error) {
	names, err := s.rdb.SMembers(ctx, s.keys.Admins()).Result()
	if err != nil {
		return nil, fail("admins", err)
	}
	sort.Strings(names)
	cmds := make([]*redis.MapStringStringCmd, len(names))
	if len(names) > 0 {
		_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, n := range names {
				cmds[i] = p.HGetAll(ctx, s.keys.Admin(n))
			}
			return nil
		})
		if err != nil {
			return nil, fail("admins", err)
		}
	}
	out := make([]chat.Admin, 0, len(names))
	for _, c := range cmds {
		if h := c.Val(); len(h) > 0 {
			out = append(out, adminFromMap(h))
		}
	}
	return out, nil
}

func adminFromMap(h map[string]string) chat.Admin {
	after, _ := strconv.ParseInt(h["tokensAfter"], 10, 64)
	gen, _ := strconv.ParseInt(h["generation"], 10, 64) // absent (0) on accounts older than generations
	return chat.Admin{Username: h["username"], DisplayName: h["displayName"], PasswordHash: []byte(h["passwordHash"]),
		TokensAfter: chat.TimeFromMillis(after), Generation: gen,
		Email: h["email"], Notify: chat.NotifyPref(h["notify"])}
}
