package redisstore

import (
	"context"
	"os"
	"strings"
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

// TestVersionAtLeast: the cluster check's reading of INFO's redis_version.
func TestVersionAtLeast(t *testing.T) {
	for _, tt := range []struct {
		version string
		ok      bool
	}{{"7.0.15", true}, {"7.2.4", true}, {"8.0.0", true}, {"10.1", true}, {"6.2.14", false}, {"5.0.7", false}, {"", false}, {"x.y", false}} {
		major, _, _ := strings.Cut(tt.version, ".")
		if got := versionAtLeast(major, 7); got != tt.ok {
			t.Errorf("versionAtLeast(%q) = %v, want %v", tt.version, got, tt.ok)
		}
	}
	info := "# Server\r\nredis_version:6.2.14\r\nredis_git_sha1:0\r\n"
	if v := infoText(info, "redis_version"); v != "6.2.14" {
		t.Errorf("infoText(redis_version) = %q, want 6.2.14", v)
	}
}
