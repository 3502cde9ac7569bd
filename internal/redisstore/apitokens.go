package redisstore

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/chat"
)

// API tokens (chat.APITokenStore): one hash per token (name, scopes as a
// comma-separated list, createdAt and lastUsedAt in ms, createdBy, hash: the
// hex SHA-256 of the secret) and the set of their ids.

var _ chat.APITokenStore = (*Store)(nil)

// AddAPIToken implements chat.APITokenStore.
func (s *Store) AddAPIToken(ctx context.Context, t chat.APIToken, max int) error {
	scopes := make([]string, len(t.Scopes))
	for i, sc := range t.Scopes {
		scopes[i] = string(sc)
	}
	n, err := apiTokenAddScript.Run(ctx, s.rdb, []string{s.keys.APITokens(), s.keys.APIToken(t.ID)},
		t.ID, max,
		"id", t.ID, "name", t.Name, "scopes", strings.Join(scopes, ","),
		"createdAt", t.CreatedAt.Millis(), "createdBy", t.CreatedBy, "hash", t.Hash).Int()
	if err != nil {
		return fail("add api token", err)
	}
	if n == 0 {
		return chat.Errorf(chat.CodeLimitReached, "a site may have %d API tokens: revoke one first", max)
	}
	return nil
}

// APITokens implements chat.APITokenStore.
func (s *Store) APITokens(ctx context.Context) ([]chat.APIToken, error) {
	ids, err := s.rdb.SMembers(ctx, s.keys.APITokens()).Result()
	if err != nil {
		return nil, fail("api tokens", err)
	}
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	if len(ids) > 0 {
		_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, id := range ids {
				cmds[i] = p.HGetAll(ctx, s.keys.APIToken(id))
			}
			return nil
		})
		if err != nil {
			return nil, fail("api tokens", err)
		}
	}
	out := make([]chat.APIToken, 0, len(ids))
	for _, c := range cmds {
		if h := c.Val(); len(h) > 0 {
			t := apiTokenFromMap(h)
			t.Hash = ""
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt.Time) {
			return out[i].CreatedAt.Before(out[j].CreatedAt.Time)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// RevokeAPIToken implements chat.APITokenStore.
func (s *Store) RevokeAPIToken(ctx context.Context, id string) error {
	ev, err := encodeEvent(chat.Event{Type: chat.EventAdminRevoked, TokenID: chat.APITokenStreamID(id)})
	if err != nil {
		return err
	}
	n, err := apiTokenRevokeScript.Run(ctx, s.rdb, []string{s.keys.APITokens(), s.keys.APIToken(id)},
		id, s.keys.Events(), ev).Int()
	if err != nil {
		return fail("revoke api token", err)
	}
	if n == 0 {
		return chat.ErrAPITokenUnknown
	}
	return nil
}

// APITokenAuth implements chat.APITokenStore (lua/apitokenauth.lua).
func (s *Store) APITokenAuth(ctx context.Context, id string) (chat.APIToken, chat.Admin, error) {
	v, err := apiTokenAuthScript.Run(ctx, s.rdb, []string{s.keys.APIToken(id)}, s.keys.AdminPrefix()).Slice()
	if err != nil {
		return chat.APIToken{}, chat.Admin{}, fail("api token auth", err)
	}
	if len(v) != 2 {
		return chat.APIToken{}, chat.Admin{}, chat.ErrAPITokenUnknown
	}
	tok, err := flatMap(v[0])
	if err != nil {
		return chat.APIToken{}, chat.Admin{}, fmt.Errorf("redisstore: api token auth: %w", err)
	}
	acc, err := flatMap(v[1])
	if err != nil {
		return chat.APIToken{}, chat.Admin{}, fmt.Errorf("redisstore: api token auth: %w", err)
	}
	t := apiTokenFromMap(tok)
	if len(acc) == 0 {
		return t, chat.Admin{}, chat.ErrAdminUnknown
	}
	return t, adminFromMap(acc), nil
}

// TouchAPIToken implements chat.APITokenStore (lua/apitokentouch.lua).
func (s *Store) TouchAPIToken(ctx context.Context, id string, at chat.Time) error {
	if err := apiTokenTouchScript.Run(ctx, s.rdb, []string{s.keys.APIToken(id)}, at.Millis()).Err(); err != nil {
		return fail("touch api token", err)
	}
	return nil
}

// flatMap turns a script's flat field, value array into a map.
func flatMap(v any) (map[string]string, error) {
	arr, ok := v.([]any)
	if !ok || len(arr)%2 != 0 {
		return nil, errors.New("not a flat array of pairs")
	}
	m := make(map[string]string, len(arr)/2)
	for i := 0; i < len(arr); i += 2 {
		k, _ := arr[i].(string)
		val, _ := arr[i+1].(string)
		m[k] = val
	}
	return m, nil
}

func apiTokenFromMap(h map[string]string) chat.APIToken {
	created, _ := strconv.ParseInt(h["createdAt"], 10, 64)
	t := chat.APIToken{ID: h["id"], Name: h["name"], CreatedAt: chat.TimeFromMillis(created),
		CreatedBy: h["createdBy"], Hash: h["hash"], Scopes: []chat.Scope{}}
	for _, sc := range strings.Split(h["scopes"], ",") {
		if sc != "" {
			t.Scopes = append(t.Scopes, chat.Scope(sc))
		}
	}
	if ms, err := strconv.ParseInt(h["lastUsedAt"], 10, 64); err == nil && ms > 0 {
		used := chat.TimeFromMillis(ms)
		t.LastUsedAt = &used
	}
	return t
}
