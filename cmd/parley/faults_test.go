package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/redisstore/redistest"
)

// TestEvictionPolicyWarns: a Redis that evicts keys when full would delete
// conversations silently; the start-up log says so, loudly, and what to set.
func TestEvictionPolicyWarns(t *testing.T) {
	real := redistest.StartReal(t)
	for policy, warned := range map[string]bool{"allkeys-lru": true, "noeviction": false} {
		real.MustDo("CONFIG", "SET", "maxmemory-policy", policy)
		cfg, err := config.Load(func(k string) string {
			return map[string]string{"PARLEY_REDIS_URL": "redis://" + real.Addr()}[k]
		})
		if err != nil {
			t.Fatal(err)
		}
		var logs bytes.Buffer
		b, err := openBackend(context.Background(), cfg, slog.New(slog.NewTextHandler(&logs, nil)))
		if err != nil {
			t.Fatalf("backend: %v", err)
		}
		b.close()
		got := strings.Contains(logs.String(), "level=ERROR") && strings.Contains(logs.String(), "maxmemory-policy noeviction")
		if got != warned {
			t.Errorf("maxmemory-policy %s: warned %v, want %v; log:\n%s", policy, got, warned, logs.String())
		}
	}
}

// TestToolsMigrateGlobals: parley admin moves the global keys of before
// the hash tags before it reads accounts, so an account a single Redis
// held under its old name is listed, and stays usable.
func TestToolsMigrateGlobals(t *testing.T) {
	real := redistest.StartReal(t)
	real.MustDo("HSET", "old:admin:olga", "username", "olga", "displayName", "Olga Old", "role", "owner",
		"passwordHash", "$2a$10$abcdefghijklmnopqrstuuM6cSx1x8cBqQK1tqk6RYd4c7H4y1i6", "generation", "1")
	real.MustDo("SADD", "old:admins", "olga")
	real.MustDo("SET", "old:admins:generation", "1")
	env := environ(map[string]string{"PARLEY_REDIS_URL": "redis://" + real.Addr(), "PARLEY_REDIS_PREFIX": "old:", "PARLEY_LOG_LEVEL": "error"})
	list := func() string {
		t.Helper()
		var out, errOut bytes.Buffer
		if err := run(context.Background(), []string{"admin", "list"}, env, strings.NewReader(""), &out, &errOut); err != nil {
			t.Fatalf("admin list: %v (%s)", err, errOut.String())
		}
		return out.String()
	}
	if out := list(); !strings.Contains(out, "olga\tOlga Old") {
		t.Fatalf("admin list on old names: got %q, want olga", out)
	}
	if got, _ := real.Do("EXISTS", "old:admin:olga"); got != ":0" {
		t.Errorf("the old account key after the migration: EXISTS says %s, want gone", got)
	}
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"admin", "passwd", "olga"}, env, strings.NewReader("olga-new-password\n"), &out, &errOut); err != nil {
		t.Fatalf("admin passwd after the migration: %v (%s)", err, errOut.String())
	}
	if out := list(); !strings.Contains(out, "olga\tOlga Old") {
		t.Fatalf("admin list again: got %q", out)
	}
}
