package redisstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/redisstore"
)

func TestAdminAuth(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		s, _ := mustStore(t, addr, redisstore.Options{})
		after := chat.TimeFromMillis(time.Now().Add(-time.Hour).UnixMilli())
		if err := s.AddAdmin(ctx, chat.Admin{Username: "sam", DisplayName: "Sam", PasswordHash: []byte("h"), TokensAfter: after}); err != nil {
			t.Fatal(err)
		}
		if err := s.Revoke(ctx, "jti-revoked", time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name, id, user string
			wantRevoked    bool
			wantErr        error
		}{
			{"valid", "jti-ok", "sam", false, nil},
			{"revoked", "jti-revoked", "sam", true, nil},
			{"account gone", "jti-ok", "nobody", false, chat.ErrAdminUnknown},
			{"revoked and account gone", "jti-revoked", "nobody", true, chat.ErrAdminUnknown},
		} {
			t.Run(tc.name, func(t *testing.T) {
				adm, revoked, err := s.AdminAuth(ctx, tc.id, tc.user)
				if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
					t.Fatalf("got error %v, want %v", err, tc.wantErr)
				}
				if revoked != tc.wantRevoked {
					t.Fatalf("got revoked %v, want %v", revoked, tc.wantRevoked)
				}
				if tc.wantErr == nil {
					want, err := s.Admin(ctx, tc.user)
					if err != nil {
						t.Fatal(err)
					}
					if adm.Username != want.Username || adm.DisplayName != want.DisplayName ||
						!adm.TokensAfter.Equal(want.TokensAfter.Time) || string(adm.PasswordHash) != string(want.PasswordHash) {
						t.Fatalf("got account %+v, want %+v", adm, want)
					}
				}
			})
		}
	})
}

func TestAdminAuthStoreDown(t *testing.T) {
	t.Parallel()
	c, err := redisstore.Connect("redis://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := redisstore.New(c, redisstore.Options{Prefix: uniquePrefix()})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _, err = s.AdminAuth(ctx, "jti", "sam")
	if err == nil || errors.Is(err, chat.ErrAdminUnknown) || !isUnavailable(err) {
		t.Fatalf("got %v, want an unavailable store error", err)
	}
}
