// Package redisbench is the Redis side of `parley bench`, and nothing else:
// the raw RPUSH ceiling the baseline report prints, the name of the server
// for the report, and the removal of a run's scratch key prefix. No
// production code imports it. It sits under redisstore because it speaks
// Redis directly (only redisstore and its subpackages import go-redis), and
// outside redisstore itself so that the store exports neither a raw client
// nor a bulk deletion that only a load tool needs.
package redisbench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/redisstore"
)

// Client is the bench's own connection to the Redis a Parley runs on.
type Client struct {
	rdb redis.UniversalClient
}

// Open connects to the Redis at rawURL exactly as the store does
// (redisstore.Connect: the same URL forms, credentials, TLS and timeouts). It
// does not dial; the first command does.
func Open(rawURL string) (*Client, error) {
	rdb, err := redisstore.Connect(rawURL)
	if err != nil {
		return nil, err
	}
	return &Client{rdb: rdb}, nil
}

// Close closes the connections.
func (c *Client) Close() error { return c.rdb.Close() }

// Describe names the server for a report: "redis-server 7.2.4", or
// "embedded (miniredis)" for a server that does not tell its version the way
// Redis does.
func (c *Client) Describe(ctx context.Context) string {
	info, err := c.rdb.Info(ctx, "server").Result()
	if err == nil {
		for _, line := range strings.Split(info, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
				return "redis-server " + v
			}
		}
	}
	return "embedded (miniredis)"
}

// ceilingValue is about the size of a stored message.
var ceilingValue = `{"id":"01JD0000000000000000000000","roomId":"r_aaaaaaaaaaaaaaaaaaaaaaaaaa","seq":1,"sender":"visitor","author":"","content":"hello from the raw ceiling, a message of a typical length.","createdAt":"2026-11-23T10:04:05.123Z"}`

// RawPushCeiling measures how fast Redis appends when nothing but Redis is in
// the way: n RPUSHes of a message-sized value from one connection, pipeline
// at a time, onto one scratch key under prefix that is deleted afterwards. It
// returns operations per second.
func (c *Client) RawPushCeiling(ctx context.Context, prefix string, n, pipeline int) (float64, error) {
	if n < 1 || pipeline < 1 {
		return 0, fmt.Errorf("redisbench: push ceiling: n and pipeline must be positive")
	}
	var tag [6]byte
	_, _ = rand.Read(tag[:])
	// A scratch key of the bench, not part of Parley's data (so not in
	// redisstore's keys.go); the random part keeps concurrent runs apart.
	key := prefix + "bench:ceiling:" + hex.EncodeToString(tag[:])
	defer c.rdb.Del(context.WithoutCancel(ctx), key)
	start := time.Now()
	for done := 0; done < n; {
		batch := min(pipeline, n-done)
		_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := 0; i < batch; i++ {
				p.RPush(ctx, key, ceilingValue)
			}
			return nil
		})
		if err != nil {
			return 0, fmt.Errorf("redisbench: push ceiling: %w", err)
		}
		done += batch
		// Keep the scratch list short so memory stays flat.
		if done%(64*pipeline) < pipeline {
			c.rdb.Del(ctx, key)
		}
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// DeletePrefix removes every key that starts with prefix, with SCAN and
// UNLINK in batches, and returns how many it removed. The bench uses it to
// leave no trace on a Redis it was pointed at; it refuses an empty prefix or
// Parley's default one.
func (c *Client) DeletePrefix(ctx context.Context, prefix string) (int64, error) {
	if prefix == "" || prefix == redisstore.DefaultPrefix {
		return 0, fmt.Errorf("redisbench: delete prefix: refusing %q", prefix)
	}
	pattern := globEscaper.Replace(prefix) + "*"
	var removed int64
	var cursor uint64
	for {
		keys, next, err := c.rdb.Scan(ctx, cursor, pattern, 1000).Result()
		if err != nil {
			return removed, fmt.Errorf("redisbench: delete prefix: %w", err)
		}
		if len(keys) > 0 {
			n, err := c.rdb.Unlink(ctx, keys...).Result()
			if err != nil {
				return removed, fmt.Errorf("redisbench: delete prefix: %w", err)
			}
			removed += n
		}
		if cursor = next; cursor == 0 {
			return removed, nil
		}
	}
}

var globEscaper = strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`)
