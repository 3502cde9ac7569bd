package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/redisstore/redistest"
)

// TestFullRedis: with maxmemory reached (noeviction), a send is a 503 with
// its own code, not a 500; /readyz says so too; the log tells the operator
// what to do (once, not once per request); and all of it recovers when memory
// is available again.
func TestFullRedis(t *testing.T) {
	t.Parallel()
	real := redistest.StartReal(t)
	e := newEnv(t, real.Addr(), envConfig{})
	room, tok := e.mustRoom(nil)
	want(t, e.do(req{method: "GET", path: "/readyz"}), http.StatusOK, "")

	real.MustDo("CONFIG", "SET", "maxmemory-policy", "noeviction")
	real.MustDo("CONFIG", "SET", "maxmemory", "1")
	t.Cleanup(func() { _, _ = real.Do("CONFIG", "SET", "maxmemory", "0") })
	for i := range 3 {
		r := e.do(req{method: "POST", path: "/api/v1/rooms/" + room.ID + "/messages", token: tok,
			body: map[string]string{"content": "is anyone there?", "clientId": "full-" + string(rune('a'+i))}})
		want(t, r, http.StatusServiceUnavailable, "store_full")
	}
	want(t, e.do(req{method: "POST", path: "/api/v1/rooms"}), http.StatusServiceUnavailable, "store_full")
	want(t, e.do(req{method: "GET", path: "/readyz"}), http.StatusServiceUnavailable, "store_full")
	if n := strings.Count(e.logs.String(), "redis is out of memory"); n != 1 {
		t.Errorf("the out-of-memory advice was logged %d times, want once", n)
	}
	if got := e.mustStoredRoom(room.ID).MessageCount; got != 0 {
		t.Errorf("stored %d messages while full, want 0", got)
	}

	real.MustDo("CONFIG", "SET", "maxmemory", "0")
	want(t, e.do(req{method: "GET", path: "/readyz"}), http.StatusOK, "")
	e.mustSend(room.ID, tok, false, "and now?")
}

// TestStoreTimeoutSaysWhatItKnows: a send whose answer does not come in time
// is a 503 store_timeout that does not claim nothing was written; the retry
// with the same clientId then gets the message, stored once. A Redis that
// cannot be reached at all is store_unavailable ("nothing was written").
func TestStoreTimeoutSaysWhatItKnows(t *testing.T) {
	t.Parallel()
	real := redistest.StartReal(t)
	e := newEnv(t, real.Addr(), envConfig{})
	room, tok := e.mustRoom(nil)
	send := req{method: "POST", path: "/api/v1/rooms/" + room.ID + "/messages", token: tok,
		body: map[string]string{"content": "my order is late", "clientId": "slow-send-1"}}

	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = real.Do("DEBUG", "SLEEP", "2")
	}()
	time.Sleep(100 * time.Millisecond) // the sleep has started
	r := e.do(send)
	want(t, r, http.StatusServiceUnavailable, "store_timeout")
	if !strings.Contains(r.errorMessage(), "clientId") || strings.Contains(r.errorMessage(), "nothing was written") {
		t.Errorf("timeout message %q: want advice to retry with the clientId, and no claim that nothing was written", r.errorMessage())
	}
	<-done

	r = e.do(send)
	if r.status != http.StatusOK && r.status != http.StatusCreated {
		t.Fatalf("retry with the same clientId: got %d %s, want 200 or 201", r.status, r.body)
	}
	if got := e.mustStoredRoom(room.ID).MessageCount; got != 1 {
		t.Errorf("after the timeout and the retry: %d messages stored, want 1", got)
	}

	real.Stop()
	r = e.do(req{method: "POST", path: "/api/v1/rooms/" + room.ID + "/messages", token: tok,
		body: map[string]string{"content": "hello?", "clientId": "down-1"}})
	want(t, r, http.StatusServiceUnavailable, "store_unavailable")
}
