package redisstore

import (
	"context"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestSettleKeepsRepliesRead: when a pipeline's connection fails after some
// replies were read, go-redis marks every command with the transport error;
// the calls whose replies came back keep them, the others keep the error,
// and a reply error stays the command's own.
func TestSettleKeepsRepliesRead(t *testing.T) {
	ctx := context.Background()
	timeout := os.ErrDeadlineExceeded

	answered := redis.NewCmd(ctx, "evalsha")
	answered.SetVal([]any{"ok", int64(3), "[]"})
	answered.SetErr(timeout)
	settle(answered)
	if answered.Err() != nil {
		t.Errorf("a call whose reply was read: got %v, want its reply", answered.Err())
	}

	unanswered := redis.NewCmd(ctx, "evalsha")
	unanswered.SetErr(timeout)
	settle(unanswered)
	if unanswered.Err() != timeout {
		t.Errorf("a call with no reply: got %v, want the timeout", unanswered.Err())
	}

	refused := redis.NewCmd(ctx, "evalsha")
	refused.SetVal("x")
	refused.SetErr(redis.ErrClosed)
	refused.SetErr(proto("NOSCRIPT No matching script"))
	settle(refused)
	if refused.Err() == nil {
		t.Error("a reply error was cleared")
	}
}

// proto is a reply error as Redis sends one.
type proto string

func (e proto) Error() string { return string(e) }
func (proto) RedisError()     {}
