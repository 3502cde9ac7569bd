package chat

import (
	"strings"
	"testing"
	"time"
)

func TestNewMessageNormalize(t *testing.T) {
	tests := []struct {
		name    string
		in      NewMessage
		ok      bool
		content string
	}{
		{"trimmed", NewMessage{Content: "  hi \n"}, true, "hi"},
		{"empty", NewMessage{Content: ""}, false, ""},
		{"whitespace only", NewMessage{Content: " \n\t "}, false, ""},
		{"2000 multi-byte", NewMessage{Content: strings.Repeat("é", 2000)}, true, strings.Repeat("é", 2000)},
		{"2001", NewMessage{Content: strings.Repeat("a", 2001)}, false, ""},
		{"2000 after trim", NewMessage{Content: "  \n" + strings.Repeat("a", 2000) + "\t "}, true, strings.Repeat("a", 2000)},
		{"new lines kept", NewMessage{Content: "a\nb"}, true, "a\nb"},
		{"control char", NewMessage{Content: "a\x00b"}, false, ""},
		{"clientId 64", NewMessage{Content: "x", ClientID: strings.Repeat("c", 64)}, true, "x"},
		{"clientId 65", NewMessage{Content: "x", ClientID: strings.Repeat("c", 65)}, false, ""},
		{"clientId odd chars", NewMessage{Content: "x", ClientID: "a b"}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.in.Normalize()
			if (err == nil) != tt.ok {
				t.Fatalf("got err %v, want ok=%v", err, tt.ok)
			}
			if err != nil && ErrorCode(err) != CodeInvalid {
				t.Errorf("got code %s, want %s", ErrorCode(err), CodeInvalid)
			}
			if tt.ok && tt.in.Content != tt.content {
				t.Errorf("got content %q, want %q", tt.in.Content, tt.content)
			}
		})
	}
}

func TestNewRoomNormalize(t *testing.T) {
	tests := []struct {
		name string
		in   NewRoom
		ok   bool
	}{
		{"empty is fine", NewRoom{}, true},
		{"full", NewRoom{Name: "Jane", Email: "jane@example.com", Page: "https://example.com/pricing"}, true},
		{"name 80", NewRoom{Name: strings.Repeat("n", 80)}, true},
		{"name 81", NewRoom{Name: strings.Repeat("n", 81)}, false},
		{"bad email", NewRoom{Email: "jane"}, false},
		{"email with name", NewRoom{Email: "Jane <jane@example.com>"}, false},
		{"email 255", NewRoom{Email: strings.Repeat("a", 243) + "@example.com"}, false},
		{"page not http", NewRoom{Page: "javascript:alert(1)"}, false},
		{"page 2049", NewRoom{Page: "https://example.com/" + strings.Repeat("p", 2029)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.in.Normalize(); (err == nil) != tt.ok {
				t.Fatalf("got err %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestQueries(t *testing.T) {
	for _, q := range []MessageQuery{{Limit: -1}, {Limit: 201}, {After: -1}, {Before: -2}, {After: 1, Before: 5}} {
		if err := q.Validate(); err == nil {
			t.Errorf("%+v: got no error", q)
		}
	}
	q := MessageQuery{}
	if err := q.Validate(); err != nil || q.Limit != DefaultLimit {
		t.Errorf("default: got %+v, %v", q, err)
	}
	for _, q := range []RoomQuery{{Limit: 201}, {Filter: "bogus"}, {Filter: FilterMine, Label: "l_aaaaaaaaaa"}, {Cursor: strings.Repeat("c", 200)}} {
		if err := q.Validate(); err == nil {
			t.Errorf("%+v: got no error", q)
		}
	}
}

func TestIDs(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := NewRoomID()
		if !ValidRoomID(id) || seen[id] {
			t.Fatalf("bad or repeated room id %q", id)
		}
		seen[id] = true
	}
	a := NewMessageID(time.UnixMilli(1_700_000_000_000))
	b := NewMessageID(time.UnixMilli(1_700_000_000_001))
	if len(a) != 26 || !(a < b) {
		t.Errorf("message ids %q %q: want 26 characters sorting by time", a, b)
	}
}

func TestTimeJSON(t *testing.T) {
	tm := TimeFromMillis(1_795_000_000_123)
	b, _ := tm.MarshalJSON()
	if got := string(b); got != `"2026-11-18T11:06:40.123Z"` {
		t.Errorf("got %s", got)
	}
	var back Time
	if err := back.UnmarshalJSON(b); err != nil || !back.Equal(tm.Time) {
		t.Errorf("round trip: got %v, %v", back, err)
	}
}
