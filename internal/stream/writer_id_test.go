package stream

import (
	"strings"
	"testing"
)

// TestAddIDFraming checks the string ids of admin events: an "id:" line as
// given, none for "", and nothing left behind by data that fails to encode.
func TestAddIDFraming(t *testing.T) {
	conn := &recordingConn{}
	w := &writer{conn: conn}
	mustWrite(t, w.addID("message", "1764627180123-0", map[string]int{"seq": 8}))
	mustWrite(t, w.addID("room", "", map[string]string{"id": "r_1"}))
	if err := w.addID("bad", "1-1", func() {}); err == nil {
		t.Fatal("got no error for data JSON cannot encode")
	}
	mustWrite(t, w.flush())
	want := "id: 1764627180123-0\nevent: message\ndata: {\"seq\":8}\n\nevent: room\ndata: {\"id\":\"r_1\"}\n\n"
	if got := strings.Join(conn.writes, "|"); got != want {
		t.Fatalf("got writes %q, want %q", got, want)
	}
}

// Already-encoded JSON is written as it is; JSON over two lines (it would
// end the event early and let the rest pass for other fields) or empty is
// refused and leaves nothing behind.
func TestRawJSONFraming(t *testing.T) {
	conn := &recordingConn{}
	w := &writer{conn: conn}
	mustWrite(t, w.addID("message", "1-0", JSON(`{"seq":9,"content":"a\nb"}`)))
	for _, bad := range []JSON{"", "{\"a\":1}\ndata: {}", "{\r}"} {
		if err := w.addID("message", "2-0", bad); err == nil {
			t.Fatalf("raw %q: no error", bad)
		}
	}
	mustWrite(t, w.flush())
	want := "id: 1-0\nevent: message\ndata: {\"seq\":9,\"content\":\"a\\nb\"}\n\n"
	if got := strings.Join(conn.writes, "|"); got != want {
		t.Fatalf("got writes %q, want %q", got, want)
	}
}
