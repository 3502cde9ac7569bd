package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
)

// benchTokenStore answers "not revoked" and "the account exists" from
// memory, so the benchmarks measure the token work alone (the Redis round
// trips an admin check adds are measured by the store's benchmarks).
type benchTokenStore struct{}

func (benchTokenStore) Revoke(context.Context, string, time.Time) error    { return nil }
func (benchTokenStore) IsRevoked(context.Context, string) (bool, error)    { return false, nil }
func (benchTokenStore) Secret(_ context.Context, c []byte) ([]byte, error) { return c, nil }
func (benchTokenStore) AdminAuth(_ context.Context, _, u string) (chat.Admin, bool, error) {
	return chat.Admin{Username: u}, false, nil
}

func benchTokens(b *testing.B) *auth.Tokens {
	b.Helper()
	t, err := auth.NewTokens([]byte("bench-secret-bench-secret-bench-secret!"), benchTokenStore{}, 720*time.Hour, nil)
	if err != nil {
		b.Fatal(err)
	}
	return t
}

// BenchmarkVerifyVisitor runs on every visitor request and stream.
func BenchmarkVerifyVisitor(b *testing.B) {
	tokens := benchTokens(b)
	raw, _, err := tokens.IssueVisitor(chat.NewRoomID())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tokens.VerifyVisitor(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyAdmin runs on every admin request, and on every ping of an
// admin stream.
func BenchmarkVerifyAdmin(b *testing.B) {
	tokens := benchTokens(b)
	raw, _, err := tokens.IssueAdmin(chat.Admin{Username: "admin", DisplayName: "Admin"})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tokens.VerifyAdmin(ctx, raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIssueVisitor runs once per room creation.
func BenchmarkIssueVisitor(b *testing.B) {
	tokens := benchTokens(b)
	id := chat.NewRoomID()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := tokens.IssueVisitor(id); err != nil {
			b.Fatal(err)
		}
	}
}
