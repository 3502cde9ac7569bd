package redisstore

import (
	"context"
	"sort"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/chat"
)

// Admin accounts are hashes (username, displayName, passwordHash,
// tokensAfter, generation, role, email, notify) plus a set of usernames, so
// listing them needs no SCAN. Generations come from one counter
// (AdminGeneration) that only grows. An account without a role field
// predates roles and is an owner (chat.RoleOf).

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
	role := chat.RoleOf(string(a.Role))
	n, err := addAdminScript.Run(ctx, s.rdb, []string{s.keys.Admin(a.Username), s.keys.Admins(), s.keys.AdminGeneration(), s.keys.AdminLog()},
		a.Username, a.DisplayName, a.PasswordHash, onlyFirst, a.TokensAfter.Millis(), string(role), a.Email,
		s.keys.Events(), agentEventHead, AdminLogLen).Int64()
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
// publishes EventAdminRevoked and EventAgentRemoved for the account in the
// same step. It removes the last owner too (the CLI's recovery: an owner
// can be added again there); RemoveAgent does not.
func (s *Store) RemoveAdmin(ctx context.Context, username string) error {
	return s.removeAdmin(ctx, username, false)
}

// RemoveAgent is RemoveAdmin that refuses, with chat.ErrLastOwner, to
// remove the last owner.
func (s *Store) RemoveAgent(ctx context.Context, username string) error {
	return s.removeAdmin(ctx, username, true)
}

func (s *Store) removeAdmin(ctx context.Context, username string, keepOwner bool) error {
	revoked, err := encodeEvent(chat.Event{Type: chat.EventAdminRevoked, Username: username})
	if err != nil {
		return err
	}
	removed, err := encodeEvent(chat.Event{Type: chat.EventAgentRemoved, Username: username})
	if err != nil {
		return err
	}
	keys := []string{s.keys.Admin(username), s.keys.Admins(), s.keys.AdminLog()}
	guard := "0"
	if keepOwner {
		guard = "1"
		others, err := s.otherAdmins(ctx, username)
		if err != nil {
			return fail("remove admin", err)
		}
		keys = append(keys, others...)
	}
	n, err := removeAdminScript.Run(ctx, s.rdb, keys, username, s.keys.Events(), revoked, removed, AdminLogLen, guard).Int64()
	if err != nil {
		return fail("remove admin", err)
	}
	switch n {
	case 0:
		return chat.ErrAdminUnknown
	case -1:
		return chat.ErrLastOwner
	}
	return nil
}

// otherAdmins returns the hash keys of every account but username's: the
// scripts that keep an owner look through them. An account added after
// this read is not among them, which can only make a script refuse.
func (s *Store) otherAdmins(ctx context.Context, username string) ([]string, error) {
	names, err := s.rdb.SMembers(ctx, s.keys.Admins()).Result()
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(names))
	for _, n := range names {
		if n != username {
			out = append(out, s.keys.Admin(n))
		}
	}
	return out, nil
}

// SetAgent applies ch to an account, keeping its password and generation,
// and returns the account. It returns chat.ErrAdminUnknown, or
// chat.ErrLastOwner when ch would make the last owner an agent (nothing is
// changed). It publishes EventAgentUpdated in the same step.
func (s *Store) SetAgent(ctx context.Context, username string, ch chat.AgentChange) (chat.Admin, error) {
	keys := []string{s.keys.Admin(username), s.keys.AdminLog()}
	role := ""
	if ch.Role != nil {
		role = string(*ch.Role)
		if *ch.Role == chat.RoleAgent {
			others, err := s.otherAdmins(ctx, username)
			if err != nil {
				return chat.Admin{}, fail("set agent", err)
			}
			keys = append(keys, others...)
		}
	}
	args := []any{s.keys.Events(), agentEventHead, AdminLogLen, role}
	if ch.DisplayName != nil {
		args = append(args, "displayName", *ch.DisplayName)
	}
	if ch.Email != nil {
		args = append(args, "email", *ch.Email)
	}
	n, err := setAgentScript.Run(ctx, s.rdb, keys, args...).Int64()
	if err != nil {
		return chat.Admin{}, fail("set agent", err)
	}
	switch n {
	case 0:
		return chat.Admin{}, chat.ErrAdminUnknown
	case -1:
		return chat.Admin{}, chat.ErrLastOwner
	}
	return s.Admin(ctx, username)
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
		Email: h["email"], Notify: chat.NotifyPref(h["notify"]), Role: chat.RoleOf(h["role"])}
}
