package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// This file serves `parley bench` only: nothing on a request path calls it.

// ceilingValue is about the size of a stored message.
var ceilingValue = `{"id":"01JD0000000000000000000000","roomId":"r_aaaaaaaaaaaaaaaaaaaaaaaaaa","seq":1,"sender":"visitor","author":"","content":"hello from the raw ceiling, a message of a typical length.","createdAt":"2026-11-23T10:04:05.123Z"}`

// RawPushCeiling measures how fast Redis appends when nothing but Redis is in
// the way: n RPUSHes of a message-sized value from one connection, pipeline
// at a time, onto one scratch key under prefix that is deleted afterwards. It
// returns operations per second.
func RawPushCeiling(ctx context.Context, client redis.UniversalClient, prefix string, n, pipeline int) (float64, error) {
	if n < 1 || pipeline < 1 {
		return 0, fmt.Errorf("redisstore: push ceiling: n and pipeline must be positive")
	}
	var tag [6]byte
	_, _ = rand.Read(tag[:])
	// A scratch key of the bench, not part of Parley's data (so not in
	// keys.go); the random part keeps concurrent runs apart.
	key := prefix + "bench:ceiling:" + hex.EncodeToString(tag[:])
	defer client.Del(context.WithoutCancel(ctx), key)
	start := time.Now()
	for done := 0; done < n; {
		batch := min(pipeline, n-done)
		_, err := client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := 0; i < batch; i++ {
				p.RPush(ctx, key, ceilingValue)
			}
			return nil
		})
		if err != nil {
			return 0, fail("push ceiling", err)
		}
		done += batch
		// Keep the scratch list short so memory stays flat.
		if done%(64*pipeline) < pipeline {
			client.Del(ctx, key)
		}
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// DeletePrefix removes every key that starts with prefix, with SCAN and
// UNLINK in batches, and returns how many it removed. The bench uses it to
// leave no trace on a Redis it was pointed at; it refuses an empty prefix or
// Parley's default one.
func DeletePrefix(ctx context.Context, client redis.UniversalClient, prefix string) (int64, error) {
	if prefix == "" || prefix == DefaultPrefix {
		return 0, fmt.Errorf("redisstore: delete prefix: refusing %q", prefix)
	}
	pattern := globEscaper.Replace(prefix) + "*"
	var removed int64
	var cursor uint64
	for {
		keys, next, err := client.Scan(ctx, cursor, pattern, 1000).Result()
		if err != nil {
			return removed, fail("delete prefix", err)
		}
		if len(keys) > 0 {
			n, err := client.Unlink(ctx, keys...).Result()
			if err != nil {
				return removed, fail("delete prefix", err)
			}
			removed += n
		}
		if cursor = next; cursor == 0 {
			return removed, nil
		}
	}
}

var globEscaper = strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`)

// Describe names the server behind client for a report: "redis-server
// 7.2.4", or "embedded (miniredis)" for a server that does not tell its
// version the way Redis does.
func Describe(ctx context.Context, client redis.UniversalClient) string {
	info, err := client.Info(ctx, "server").Result()
	if err == nil {
		for _, line := range strings.Split(info, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
				return "redis-server " + v
			}
		}
	}
	return "embedded (miniredis)"
}
