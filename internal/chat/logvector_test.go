package chat

import (
	"strings"
	"testing"
)

// TestAdminVector: the vector id round-trips, stays about 100 bytes for 17
// logs within a day of each other, moves only forward per log, and refuses
// what is not one.
func TestAdminVector(t *testing.T) {
	const base = 1764669600000
	v := make(AdminVector, 17)
	if got := v.String(); got != "v1.0................." {
		t.Fatalf("zero vector: %q", got)
	}
	for i := range v {
		if i == 5 {
			continue // a log the stream has nothing of
		}
		v[i] = LogPos{MS: base + uint64(i)*3_600_000 + uint64(i*7919), N: uint64(i % 3)}
	}
	s := v.String()
	if len(s) > 130 || strings.ContainsAny(s, " :,\"\r\n") {
		t.Fatalf("vector %q: %d bytes, want at most 130 of header-safe characters", s, len(s))
	}
	back, ok := ParseAdminVector(s)
	if !ok || len(back) != len(v) {
		t.Fatalf("parse %q: %v, %v", s, back, ok)
	}
	for i := range v {
		if back[i] != v[i] {
			t.Fatalf("log %d: got %v, want %v", i, back[i], v[i])
		}
	}
	// Advance: forward only, per log.
	if back.Advance(EventLogID(3, v[3])) {
		t.Fatal("advanced to the position it has")
	}
	if back.Advance(EventLogID(3, LogPos{MS: v[3].MS - 1})) {
		t.Fatal("advanced backwards")
	}
	if !back.Advance(EventLogID(5, LogPos{MS: 1, N: 0})) || back[5] != (LogPos{MS: 1}) {
		t.Fatalf("a first event of an empty log: %v", back[5])
	}
	if back.Advance("17:1-0") || back.Advance("1-0") || back.Advance("x:1-0") {
		t.Fatal("advanced on a log it does not have, or a malformed id")
	}
	for _, bad := range []string{"", "1-0", "v1.", "v1.x", "v1.0.-", "v1.0.1-0", "v2.0..", "v1.0.zzzzzzzzzzzzzzz", "v1.0." + strings.Repeat(".", 1100)} {
		if _, ok := ParseAdminVector(bad); ok {
			t.Errorf("ParseAdminVector(%q) ok", bad)
		}
	}
	// The webhooks' "after": a vector or an old entry id.
	mark := AdminVector{{MS: 10}, {MS: 20, N: 1}}.String()
	for id, want := range map[string]bool{"0:10-0": false, "0:10-1": true, "1:20-1": false, "1:21-0": true, "2:1-0": false} {
		if got := AdminLogIDAfter(id, mark); got != want {
			t.Errorf("AdminLogIDAfter(%q, %q) = %v, want %v", id, mark, got, want)
		}
	}
	if !AdminLogIDAfter("3:11-0", "10-5") || AdminLogIDAfter("3:10-5", "10-5") {
		t.Error("against an old entry id: compared by its time")
	}
}
