package redisstore

import (
	"encoding/json"
	"slices"
	"testing"
)

// FuzzDecodeFlat: decodeFlat reads what encoding/json reads from any array
// of strings, escapes, slashes and non-ASCII text included, and refuses
// what is not one.
func FuzzDecodeFlat(f *testing.F) {
	for _, seed := range []string{"", "name", "Jane \"JJ\" Doe", `C:\dir`, "https://example.com/a?b=c", "é 日本 🎉", "\n\t\u2028", "]", ","} {
		f.Add(seed, "7")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		want := []string{"k", a, b, ""}
		raw, err := json.Marshal(want)
		if err != nil {
			t.Skip()
		}
		var ref []string
		if err := json.Unmarshal(raw, &ref); err != nil {
			t.Fatal(err)
		}
		got, err := decodeFlat(string(raw))
		if err != nil || !slices.Equal(got, ref) {
			t.Fatalf("decodeFlat(%s) = %q, %v; want %q", raw, got, err, ref)
		}
		// Lua's cjson escapes '/': the same strings must come out.
		slashed := []byte{}
		for _, c := range raw {
			if c == '/' {
				slashed = append(slashed, '\\')
			}
			slashed = append(slashed, c)
		}
		if got, err := decodeFlat(string(slashed)); err != nil || !slices.Equal(got, ref) {
			t.Fatalf("decodeFlat(%s) = %q, %v; want %q", slashed, got, err, ref)
		}
	})
}

func TestDecodeFlatRefuses(t *testing.T) {
	for _, bad := range []string{``, `[`, `["a"`, `["a" "b"]`, `[1]`, `["a",1]`, `{"a":"b"}`, `["\x"]`, `["a]`} {
		if got, err := decodeFlat(bad); err == nil {
			t.Errorf("decodeFlat(%s) = %q, want an error", bad, got)
		}
	}
	if got, err := decodeFlat(`[]`); err != nil || len(got) != 0 {
		t.Errorf("decodeFlat([]) = %q, %v; want nothing", got, err)
	}
}

// TestDecodeEventCutsTheRoomHash: an event with the room hash last decodes
// to the same room as through encoding/json, and a payload whose content
// holds the marker text is not cut there.
func TestDecodeEventCutsTheRoomHash(t *testing.T) {
	msg := `{"id":"m1","roomId":"r_a","sender":"visitor","author":"","content":"see ,\"roomHash\":[\"x\"]} here","createdAt":"2026-12-02T10:00:00.000Z","seq":3}`
	payload := `1-0` + messageEventHead("r_a") + msg + `,"roomHash":["name","Ana \"A\"","page","https:\/\/example.com\/","seq","3","createdAt","1764669600000","updatedAt","1764669600000"]}`
	ev, err := decodeEvent(payload)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Message == nil || ev.Message.Content != `see ,"roomHash":["x"]} here` || ev.Message.Seq != 3 || ev.LogID != "1-0" {
		t.Fatalf("got message %+v (log id %q)", ev.Message, ev.LogID)
	}
	if ev.Room == nil || ev.Room.VisitorName != `Ana "A"` || ev.Room.Page != "https://example.com/" {
		t.Fatalf("got room %+v", ev.Room)
	}
}
