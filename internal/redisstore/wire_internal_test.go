package redisstore

import (
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"testing"

	"github.com/parley-chat/parley/internal/chat"
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
	payload := `3:1-0` + messageEventHead("r_a") + msg + `,"roomHash":["name","Ana \"A\"","page","https:\/\/example.com\/","seq","3","createdAt","1764669600000","updatedAt","1764669600000"]}`
	ev, err := decodeEvent(payload)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Message == nil || ev.Message.Content != `see ,"roomHash":["x"]} here` || ev.Message.Seq != 3 || ev.LogID != "3:1-0" {
		t.Fatalf("got message %+v (log id %q)", ev.Message, ev.LogID)
	}
	if ev.Room == nil || ev.Room.VisitorName != `Ana "A"` || ev.Room.Page != "https://example.com/" {
		t.Fatalf("got room %+v", ev.Room)
	}
}

// FuzzDecodeMessage: a message as the send script stores it (messageOpen +
// seq + "}") is read without encoding/json into the same message
// encoding/json reads, with Raw set to it; and Raw, decoded, is the same
// value as the message encoded. Any other input the fast reader takes, it
// reads as encoding/json does.
func FuzzDecodeMessage(f *testing.F) {
	for _, seed := range []string{"", "hello", "Jane \"JJ\" Doe", `C:\dir\n`, "é 日本 🎉", "<script>&amp;", "\n\t\u2028", "}", `","seq":1}`} {
		f.Add(seed, seed, int64(7))
	}
	f.Fuzz(func(t *testing.T, content, author string, seq int64) {
		if seq < 0 {
			seq = -seq
		}
		if seq < 0 {
			t.Skip()
		}
		m := chat.Message{ID: "m_0123456789abcdef", RoomID: "r_0123456789abcdef", Sender: chat.SenderVisitor, Author: author, Content: content,
			CreatedAt: chat.TimeFromMillis(1733090000123)}
		open, err := messageOpen(m)
		if err != nil {
			t.Skip()
		}
		stored := open + strconv.FormatInt(seq, 10) + "}"
		var ref chat.Message
		if err := json.Unmarshal([]byte(stored), &ref); err != nil {
			t.Fatal(err)
		}
		got, ok := decodeFlatMessage(stored)
		if !ok || got.Raw != stored {
			t.Fatalf("decodeFlatMessage(%s): ok %v, raw %q", stored, ok, got.Raw)
		}
		got.Raw = ""
		if !reflect.DeepEqual(got, ref) || !got.CreatedAt.Equal(ref.CreatedAt.Time) {
			t.Fatalf("decodeFlatMessage(%s) = %+v; encoding/json: %+v", stored, got, ref)
		}
		var fromRaw, fromEncoded map[string]any
		enc, _ := json.Marshal(&ref)
		if json.Unmarshal([]byte(stored), &fromRaw) != nil || json.Unmarshal(enc, &fromEncoded) != nil || !reflect.DeepEqual(fromRaw, fromEncoded) {
			t.Fatalf("Raw %s is not the message's JSON %s", stored, enc)
		}
	})
}

// What the fast reader does not know goes to encoding/json: a message with
// attachments, a field it does not know, a field twice, another shape; and
// only a message with every field gets Raw.
func TestDecodeMessageFallsBack(t *testing.T) {
	base := `"id":"m_1","roomId":"r_1","sender":"visitor","author":"","content":"hi","createdAt":"2024-12-01T21:53:20.123Z","seq":3`
	for _, raw := range []string{
		`{` + base + `,"attachments":[{"id":"a_1"}]}`,
		`{` + base + `,"extra":"x"}`,
		`{` + base + `,"content":"again"}`,
		`{"seq":"3"}`,
		`{"id":1}`,
		`[]`,
	} {
		if _, ok := decodeFlatMessage(raw); ok {
			t.Errorf("decodeFlatMessage(%s) took it", raw)
		}
	}
	m, err := decodeMessage(`{` + base + `,"attachments":[{"id":"a_1","name":"x.png"}]}`)
	if err != nil || len(m.Attachments) != 1 || m.Attachments[0].ID != "a_1" || m.Raw != "" || m.Seq != 3 {
		t.Errorf("with attachments: %+v, %v", m, err)
	}
	m, ok := decodeFlatMessage(`{"id":"m_1","seq":4}`)
	if !ok || m.Raw != "" || m.ID != "m_1" || m.Seq != 4 {
		t.Errorf("fields missing: %+v, %v (want decoded, without Raw)", m, ok)
	}
	if _, err := decodeMessage(`{"id":`); err == nil {
		t.Error("a broken message decoded")
	}
}

// The send script's message event is read without encoding/json, room
// hash, log id and all, into what encoding/json reads.
func TestDecodeMessageEventFastPath(t *testing.T) {
	m := chat.Message{ID: "m_1", RoomID: "r_1", Sender: chat.SenderAdmin, Author: "Ann", Content: `say "hi" \ bye`, CreatedAt: chat.TimeFromMillis(1733090000123)}
	open, _ := messageOpen(m)
	msg := open + "9}"
	payload := "7:1733090000123-4" + messageEventHead("r_1") + msg + `,"roomHash":["name","Jo","updatedAt","1733090000123"]}`
	ev, err := decodeEvent(payload)
	if err != nil || ev.Type != chat.EventMessage || ev.RoomID != "r_1" || ev.LogID != "7:1733090000123-4" || ev.Message == nil ||
		ev.Message.Seq != 9 || ev.Message.Content != m.Content || ev.Message.Raw != msg || ev.Room == nil || ev.Room.VisitorName != "Jo" {
		t.Fatalf("decodeEvent = %+v (message %+v), %v", ev, ev.Message, err)
	}
}
