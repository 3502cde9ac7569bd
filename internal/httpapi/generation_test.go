package httpapi_test

import (
	"context"
	"testing"
	"time"
)

// TestPasswordChangeEndsOlderTokens: a token issued in the same second as a
// password change (the tokens' clock is held there) is refused at once after
// it; a login after the change works. The same holds for an account removed
// and created again under its name.
func TestPasswordChangeEndsOlderTokens(t *testing.T) {
	t.Parallel()
	forEachRedis(t, func(t *testing.T, addr string) {
		// At the start of a fresh second, so that the change (one bcrypt at
		// the default cost) happens in the second the token was issued in.
		time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
		second := time.Now()
		e := newEnv(t, addr, envConfig{TokensNow: func() time.Time { return second }})
		ctx := context.Background()
		rooms := func(tok string) resp { return e.do(req{method: "GET", path: "/api/v1/admin/rooms", token: tok}) }
		login := func(pw string) string {
			t.Helper()
			r := e.do(req{method: "POST", path: "/api/v1/admin/login", body: map[string]string{"username": adminUser, "password": pw}})
			want(t, r, 200, "")
			return decode[loginAnswer](t, r).Token
		}

		old := e.adminToken()
		want(t, rooms(old), 200, "")
		if err := e.accounts.SetPassword(ctx, adminUser, "a new password 1"); err != nil {
			t.Fatal(err)
		}
		if since := time.Since(second); since >= time.Second {
			t.Logf("the change took %v: not in the same second", since)
		}
		want(t, rooms(old), 401, "unauthorized")
		fresh := login("a new password 1")
		want(t, rooms(fresh), 200, "")

		// Removed and created again: the new account's tokens only.
		if err := e.accounts.Remove(ctx, adminUser); err != nil {
			t.Fatal(err)
		}
		if err := e.accounts.Add(ctx, adminUser, adminName, "a new password 2"); err != nil {
			t.Fatal(err)
		}
		want(t, rooms(fresh), 401, "unauthorized")
		want(t, rooms(login("a new password 2")), 200, "")
	})
}

type loginAnswer struct {
	Token string `json:"token"`
}
