package httpapi_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/redisstore/redistest"
)

// identitySecret is the site's PARLEY_IDENTITY_SECRET in these tests.
var identitySecret = []byte("the-site-and-parley-share-this-secret")

type identityBody struct {
	ID        string `json:"id"`
	Name      string `json:"name,omitempty"`
	Email     string `json:"email,omitempty"`
	Signature string `json:"signature,omitempty"`
}

func signed(id string) identityBody {
	return identityBody{ID: id, Signature: auth.NewIdentities(identitySecret).Signature(id)}
}

// siteToken mints the identity token a site's backend would, with claims
// over the defaults (sub, iat now, exp in 5 min).
func siteToken(t testing.TB, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	now := time.Now()
	c := jwt.MapClaims{"sub": "u-7", "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}
	for k, v := range claims {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	s, err := jwt.NewWithClaims(method, c).SignedString(key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

// openIdentity posts a room with body and no visitor token, and returns the
// answer's status, room and token.
func (e *env) openIdentity(body any) (int, chat.Room, string) {
	e.t.Helper()
	r := e.do(req{method: "POST", path: "/api/v1/rooms", body: body})
	if r.status != http.StatusOK && r.status != http.StatusCreated {
		e.t.Fatalf("POST /api/v1/rooms: got %d %s, want 200 or 201", r.status, r.body)
	}
	rt := decode[roomToken](e.t, r)
	return r.status, rt.Room, rt.Token
}

// adminRoom is the room as the console reads it.
func (e *env) adminRoom(id string) chat.Room {
	e.t.Helper()
	r := e.do(req{method: "GET", path: "/api/v1/admin/rooms/" + id, token: e.adminToken()})
	want(e.t, r, http.StatusOK, "")
	return decode[struct {
		Room chat.Room `json:"room"`
	}](e.t, r).Room
}

// rawDo sends one command to the env's Redis (embedded or real, without
// go-redis, which belongs to the store; on the cluster, to the primary of
// its key, args[1]) and returns the first line of its reply, such as ":1"
// or "+OK".
func (e *env) rawDo(args ...string) string {
	e.t.Helper()
	c, err := net.DialTimeout("tcp", redistest.NodeFor(e.t, e.addr, args[1]), time.Second)
	if err != nil {
		e.t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.Write([]byte(b.String())); err != nil {
		e.t.Fatal(err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || strings.HasPrefix(line, "-") {
		e.t.Fatalf("%v: %q, %v", args, line, err)
	}
	return strings.TrimRight(line, "\r\n")
}

// identityEntry is the room id the identity's index names ("" for none).
func (e *env) identityEntry(id string) string {
	e.t.Helper()
	roomID, err := e.store.IdentityRoom(context.Background(), chat.IdentityHash(id))
	if err != nil {
		return ""
	}
	return roomID
}

func TestVerifiedIdentityHMAC(t *testing.T) {
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{IdentitySecret: identitySecret})

		ada := signed("user-42")
		ada.Name, ada.Email = "Ada", "ada@example.com"
		status, first, tok1 := e.openIdentity(map[string]any{"identity": ada, "page": "https://shop.example/a"})
		if status != http.StatusCreated || !first.Verified || first.VisitorName != "Ada" || first.VisitorEmail != "ada@example.com" {
			t.Fatalf("first device: got %d %+v, want 201, verified, Ada <ada@example.com>", status, first)
		}
		if first.UserID != "" {
			t.Errorf("the visitor's view shows userId %q, want it left out", first.UserID)
		}
		e.mustSend(first.ID, tok1, false, "hello from my laptop")

		// A second device: no visitor token, the same signed id.
		status, second, tok2 := e.openIdentity(map[string]any{"identity": signed("user-42")})
		if status != http.StatusOK || second.ID != first.ID {
			t.Fatalf("second device: got %d room %s, want 200 and room %s", status, second.ID, first.ID)
		}
		if second.VisitorName != "Ada" {
			t.Errorf("second device without a name: name %q, want Ada kept", second.VisitorName)
		}
		msgs := e.do(req{method: "GET", path: "/api/v1/rooms/" + second.ID + "/messages", token: tok2})
		want(t, msgs, http.StatusOK, "")
		if got := decode[struct{ Messages []chat.Message }](t, msgs).Messages; len(got) != 1 || got[0].Content != "hello from my laptop" {
			t.Errorf("second device's history: got %+v, want the laptop's message", got)
		}

		// The console sees who it is.
		if a := e.adminRoom(first.ID); !a.Verified || a.UserID != "user-42" {
			t.Errorf("admin view: verified %v userId %q, want true, user-42", a.Verified, a.UserID)
		}

		// A later verified identify updates the details, unlike an
		// anonymous visitor's.
		renamed := signed("user-42")
		renamed.Name, renamed.Email = "Ada Lovelace", "ada@lovelace.example"
		_, r, _ := e.openIdentity(map[string]any{"identity": renamed})
		if r.ID != first.ID || r.VisitorName != "Ada Lovelace" || r.VisitorEmail != "ada@lovelace.example" {
			t.Errorf("renamed: got %s %q <%s>, want %s Ada Lovelace <ada@lovelace.example>", r.ID, r.VisitorName, r.VisitorEmail, first.ID)
		}

		// The identity's index entry lives as long as the room, and a
		// message renews both.
		key := e.prefix + "identity:" + chat.IdentityHash("user-42")
		e.rawDo("PEXPIRE", key, "5000")
		// As if the room's keys were last refreshed long ago (a send
		// refreshes them only once their slack has passed: send.lua).
		e.rawDo("PEXPIRE", e.prefix+"room:{"+first.ID+"}", "60000")
		e.mustSend(first.ID, tok2, false, "and from my phone")
		ttl, _ := strconv.Atoi(strings.TrimPrefix(e.rawDo("PTTL", key), ":"))
		if time.Duration(ttl)*time.Millisecond < 50*time.Minute {
			t.Errorf("identity entry's TTL after a message: %d ms, want the room's (1h)", ttl)
		}
	})
}

func TestVerifiedIdentityRefusals(t *testing.T) {
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{IdentitySecret: identitySecret})
		_, verified, _ := e.openIdentity(map[string]any{"identity": signed("user-42")})
		before := e.roomCount()

		other := signed("user-43").Signature
		wrongKey := auth.NewIdentities([]byte("another-secret-another-secret-xx")).Signature("user-42")
		for name, sig := range map[string]string{
			"another id's signature": other,
			"another secret's":       wrongKey,
			"not hex":                "zz" + other[2:],
			"truncated":              other[:32],
		} {
			t.Run(name, func(t *testing.T) {
				r := e.do(req{method: "POST", path: "/api/v1/rooms", body: map[string]any{"identity": identityBody{ID: "user-42", Signature: sig}}})
				want(t, r, http.StatusUnauthorized, "unauthorized")
			})
		}
		if n := e.roomCount(); n != before {
			t.Errorf("forged signatures: %d rooms, want %d (nothing created)", n, before)
		}

		// Uppercase hex is the same signature.
		up := signed("user-42")
		for i, c := range []byte(up.Signature) {
			if c >= 'a' && c <= 'f' {
				b := []byte(up.Signature)
				b[i] = c - 32
				up.Signature = string(b)
			}
		}
		if _, r, _ := e.openIdentity(map[string]any{"identity": up}); r.ID != verified.ID {
			t.Errorf("uppercase signature: room %s, want %s", r.ID, verified.ID)
		}

		// Without a signature the id is only a claim: an anonymous room of
		// its own, shown to the team as unverified.
		status, claimed, claimTok := e.openIdentity(map[string]any{"identity": identityBody{ID: "user-42", Name: "Mallory"}})
		if status != http.StatusCreated || claimed.ID == verified.ID || claimed.Verified {
			t.Fatalf("unsigned identify: got %d room %s verified %v, want 201, a new unverified room", status, claimed.ID, claimed.Verified)
		}
		if a := e.adminRoom(claimed.ID); a.Verified || a.UserID != "user-42" || a.VisitorName != "Mallory" {
			t.Errorf("unsigned room in the console: verified %v userId %q name %q, want false, user-42, Mallory", a.Verified, a.UserID, a.VisitorName)
		}
		if a := e.adminRoom(verified.ID); a.VisitorName == "Mallory" {
			t.Errorf("the unsigned identify renamed the verified room")
		}
		// Its token opens its own room only, and resuming with it and the
		// claim again still does not reach the verified one.
		r := e.do(req{method: "GET", path: "/api/v1/rooms/" + verified.ID, token: claimTok})
		want(t, r, http.StatusForbidden, "forbidden")
		r = e.do(req{method: "POST", path: "/api/v1/rooms", token: claimTok, body: map[string]any{"identity": identityBody{ID: "user-42"}}})
		want(t, r, http.StatusOK, "")
		if got := decode[roomToken](t, r).Room.ID; got != claimed.ID {
			t.Errorf("unsigned resume: room %s, want its own %s", got, claimed.ID)
		}
		// The verified user still finds theirs.
		if _, r, _ := e.openIdentity(map[string]any{"identity": signed("user-42")}); r.ID != verified.ID {
			t.Errorf("after the claim: verified room %s, want %s", r.ID, verified.ID)
		}

		// Malformed requests.
		for name, body := range map[string]any{
			"no id":    map[string]any{"identity": map[string]string{"signature": other}},
			"both":     map[string]any{"identity": signed("user-42"), "identityToken": "x.y.z"},
			"bad type": map[string]any{"identity": "user-42"},
		} {
			t.Run(name, func(t *testing.T) {
				want(t, e.do(req{method: "POST", path: "/api/v1/rooms", body: body}), http.StatusBadRequest, "invalid_request")
			})
		}
	})
}

func TestVerifiedIdentityToken(t *testing.T) {
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{IdentitySecret: identitySecret})
		hs := jwt.SigningMethodHS256
		tok := siteToken(t, hs, identitySecret, jwt.MapClaims{"name": "Grace", "email": "grace@example.com"})
		status, room, _ := e.openIdentity(map[string]any{"identityToken": tok})
		if status != http.StatusCreated || !room.Verified || room.VisitorName != "Grace" || room.VisitorEmail != "grace@example.com" {
			t.Fatalf("token: got %d %+v, want 201, verified, Grace <grace@example.com>", status, room)
		}
		if a := e.adminRoom(room.ID); a.UserID != "u-7" {
			t.Errorf("admin view: userId %q, want u-7", a.UserID)
		}
		// The same user by HMAC is the same identity.
		if _, r, _ := e.openIdentity(map[string]any{"identity": signed("u-7")}); r.ID != room.ID {
			t.Errorf("HMAC after token: room %s, want %s", r.ID, room.ID)
		}
		before := e.roomCount()

		hour := time.Now().Add(-time.Hour)
		for name, bad := range map[string]string{
			"expired (replayed)":        siteToken(t, hs, identitySecret, jwt.MapClaims{"iat": hour.Unix(), "exp": hour.Add(5 * time.Minute).Unix()}),
			"no exp":                    siteToken(t, hs, identitySecret, jwt.MapClaims{"exp": nil}),
			"lives an hour":             siteToken(t, hs, identitySecret, jwt.MapClaims{"exp": time.Now().Add(time.Hour).Unix()}),
			"lives an hour without iat": siteToken(t, hs, identitySecret, jwt.MapClaims{"iat": nil, "exp": time.Now().Add(time.Hour).Unix()}),
			"issued in the future": siteToken(t, hs, identitySecret, jwt.MapClaims{"iat": time.Now().Add(time.Hour).Unix(),
				"exp": time.Now().Add(time.Hour + time.Minute).Unix()}),
			"another secret": siteToken(t, hs, []byte("another-secret-another-secret-xx"), nil),
			"HS512":          siteToken(t, jwt.SigningMethodHS512, identitySecret, nil),
			"alg none":       siteToken(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, nil),
			"no sub":         siteToken(t, hs, identitySecret, jwt.MapClaims{"sub": nil}),
			"garbage":        "not.a.token",
		} {
			t.Run(name, func(t *testing.T) {
				r := e.do(req{method: "POST", path: "/api/v1/rooms", body: map[string]any{"identityToken": bad}})
				want(t, r, http.StatusUnauthorized, "unauthorized")
			})
		}
		if n := e.roomCount(); n != before {
			t.Errorf("bad tokens: %d rooms, want %d (nothing created)", n, before)
		}
	})
}

func TestVerifiedIdentityConcurrentDevices(t *testing.T) {
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{IdentitySecret: identitySecret})
		const devices = 8
		var wg sync.WaitGroup
		ids := make([]string, devices)
		statuses := make([]int, devices)
		for i := range devices {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := doWith(t, e.client, e.url("/api/v1/rooms"), req{method: "POST", body: map[string]any{"identity": signed("user-9")}})
				statuses[i] = r.status
				if r.status == http.StatusOK || r.status == http.StatusCreated {
					ids[i] = decode[roomToken](t, r).Room.ID
				}
			}()
		}
		wg.Wait()
		created := 0
		for i := range devices {
			if statuses[i] == http.StatusCreated {
				created++
			}
			if ids[i] == "" || ids[i] != ids[0] {
				t.Errorf("device %d: status %d room %q, want room %q", i, statuses[i], ids[i], ids[0])
			}
		}
		if created != 1 {
			t.Errorf("%d devices got 201, want exactly 1", created)
		}
		if n := e.roomCount(); n != 1 {
			t.Errorf("%d rooms, want 1", n)
		}
	})
}

// slowIdentityCreate makes a verified room slow to create: the first
// CreateIdentityRoom takes 400 ms more once the store has it, and until it
// returns the room it created reads as not found, as a room still being
// created does. Another device opening meanwhile finds the identity held by
// a room it cannot read.
type slowIdentityCreate struct {
	chat.Store
	mu       sync.Mutex
	started  bool
	creating string // the slow create's room, until it returns
}

func (s *slowIdentityCreate) CreateIdentityRoom(ctx context.Context, r chat.Room, hash string) (chat.Room, string, error) {
	s.mu.Lock()
	first := !s.started
	s.started = true
	s.mu.Unlock()
	if !first {
		return s.Store.CreateIdentityRoom(ctx, r, hash)
	}
	created, holder, err := s.Store.CreateIdentityRoom(ctx, r, hash)
	if err != nil || holder != "" {
		return created, holder, err
	}
	s.mu.Lock()
	s.creating = r.ID
	s.mu.Unlock()
	time.Sleep(400 * time.Millisecond)
	s.mu.Lock()
	s.creating = ""
	s.mu.Unlock()
	return created, holder, err
}

func (s *slowIdentityCreate) Room(ctx context.Context, id string) (chat.Room, error) {
	s.mu.Lock()
	creating := s.creating == id
	s.mu.Unlock()
	if creating {
		return chat.Room{}, chat.ErrRoomNotFound
	}
	return s.Store.Room(ctx, id)
}

// TestVerifiedIdentitySlowCreate: a second device that opens while the
// first device's room is still being created waits for that room and gets
// it, rather than an error (a loaded store once answered it 503).
func TestVerifiedIdentitySlowCreate(t *testing.T) {
	addr := redistest.StartReal(t).Addr()
	slow := &slowIdentityCreate{}
	e := newEnv(t, addr, envConfig{IdentitySecret: identitySecret,
		WrapStore: func(s chat.Store) chat.Store { slow.Store = s; return slow }})
	first := make(chan resp, 1)
	go func() {
		first <- doWith(t, e.client, e.url("/api/v1/rooms"), req{method: "POST", body: map[string]any{"identity": signed("user-5")}})
	}()
	for {
		slow.mu.Lock()
		started := slow.creating != ""
		slow.mu.Unlock()
		if started {
			break
		}
		time.Sleep(time.Millisecond)
	}
	second := doWith(t, e.client, e.url("/api/v1/rooms"), req{method: "POST", body: map[string]any{"identity": signed("user-5")}})
	r1 := <-first
	if r1.status != http.StatusCreated {
		t.Fatalf("first device: status %d, want 201", r1.status)
	}
	if second.status != http.StatusOK {
		t.Fatalf("second device: status %d %s, want 200 (the first device's room)", second.status, second.body)
	}
	if a, b := decode[roomToken](t, r1).Room.ID, decode[roomToken](t, second).Room.ID; a != b {
		t.Errorf("second device got room %s, want the first device's %s", b, a)
	}
	if n := e.roomCount(); n != 1 {
		t.Errorf("%d rooms, want 1", n)
	}
}

func TestVerifiedIdentityDeletion(t *testing.T) {
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{IdentitySecret: identitySecret})
		_, first, tok := e.openIdentity(map[string]any{"identity": signed("user-5")})
		want(t, e.do(req{method: "DELETE", path: "/api/v1/rooms/" + first.ID, token: tok}), http.StatusNoContent, "")
		key := e.prefix + "identity:" + chat.IdentityHash("user-5")
		if got := e.identityEntry("user-5"); got != "" {
			t.Errorf("the identity's entry outlived its room: it names %s", got)
		}
		status, second, _ := e.openIdentity(map[string]any{"identity": signed("user-5")})
		if status != http.StatusCreated || second.ID == first.ID {
			t.Errorf("after deletion: got %d room %s, want 201 and a new room", status, second.ID)
		}

		// An admin's delete frees it too; a stale entry (its room expired)
		// is taken over.
		want(t, e.do(req{method: "DELETE", path: "/api/v1/admin/rooms/" + second.ID, token: e.adminToken()}), http.StatusNoContent, "")
		e.rawDo("SET", key, "r_gone")
		status, third, _ := e.openIdentity(map[string]any{"identity": signed("user-5")})
		if status != http.StatusCreated || third.ID == second.ID {
			t.Errorf("stale entry: got %d room %s, want 201 and a new room", status, third.ID)
		}
		if got := e.identityEntry("user-5"); got != third.ID {
			t.Errorf("identity entry names %q, want %q", got, third.ID)
		}
	})
}

func TestVerifiedIdentityOff(t *testing.T) {
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{})
		r := e.do(req{method: "POST", path: "/api/v1/rooms", body: map[string]any{"identity": signed("user-1")}})
		want(t, r, http.StatusConflict, "identity_off")
		r = e.do(req{method: "POST", path: "/api/v1/rooms", body: map[string]any{"identityToken": siteToken(t, jwt.SigningMethodHS256, identitySecret, nil)}})
		want(t, r, http.StatusConflict, "identity_off")
		if n := e.roomCount(); n != 0 {
			t.Errorf("%d rooms, want none", n)
		}
		// Unsigned, the widget keeps working anonymously.
		if status, room, _ := e.openIdentity(map[string]any{"identity": identityBody{ID: "user-1"}}); status != http.StatusCreated || room.Verified {
			t.Errorf("unsigned identity with the secret unset: got %d verified %v, want 201 unverified", status, room.Verified)
		}
	})
}

func TestVerifiedIdentityBlocked(t *testing.T) {
	forEachRedis(t, func(t *testing.T, addr string) {
		e := newEnv(t, addr, envConfig{IdentitySecret: identitySecret})
		_, room, _ := e.openIdentity(map[string]any{"identity": signed("user-8")})
		at := e.adminToken()
		want(t, e.do(req{method: "POST", path: "/api/v1/admin/rooms/" + room.ID + "/block", token: at}), http.StatusNoContent, "")
		open := req{method: "POST", path: "/api/v1/rooms", body: map[string]any{"identity": signed("user-8")}}
		want(t, e.do(open), http.StatusForbidden, "forbidden")
		// Deleting the blocked room does not lift the block: the user does
		// not get a new room by signing in again.
		want(t, e.do(req{method: "DELETE", path: "/api/v1/admin/rooms/" + room.ID, token: at}), http.StatusNoContent, "")
		want(t, e.do(open), http.StatusForbidden, "forbidden")
		if n := e.roomCount(); n != 0 {
			t.Errorf("%d rooms, want none", n)
		}
	})
}
