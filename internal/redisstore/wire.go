package redisstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// The events channel carries one JSON object per event: a chat.Event as its
// own JSON encoding gives it. The send script publishes its message events
// without Go on the way, so it cannot encode a chat.Room: it sends the room
// hash as a flat array in "roomHash" instead, which the bridge decodes:
//
//	{"type":"message","roomId":"r_…","message":{…Message…},"roomHash":["name","Jane","seq","7",…]}
//
// The account scripts do the same with an agent: "agentHash" holds its
// public fields (username, displayName, email, role), never the password.
type wireEvent struct {
	chat.Event
	RoomHash  []string `json:"roomHash,omitempty"`
	AgentHash []string `json:"agentHash,omitempty"`
}

// agentEventHead is the start of the agent.updated event the account
// scripts publish, up to the agent (a flat array), which the script
// appends with its '}'.
const agentEventHead = `{"type":"agent.updated","agentHash":`

// agentFromFlat reads the flat array of an agent's public fields.
func agentFromFlat(flat []string) chat.Agent {
	h := make(map[string]string, len(flat)/2)
	for i := 0; i+1 < len(flat); i += 2 {
		h[flat[i]] = flat[i+1]
	}
	return chat.Agent{Username: h["username"], DisplayName: h["displayName"], Email: h["email"], Role: chat.RoleOf(h["role"])}
}

func encodeEvent(ev chat.Event) ([]byte, error) {
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("redisstore: encode event: %w", err)
	}
	return b, nil
}

// decodeEvent decodes a published event. An event the scripts also put in
// an admin log is published as its place followed by the JSON: the log's
// number and entry id from a follow-up ("3:1733090000000-0{…}"), the entry
// id alone from a team script, whose log is the team log
// ("1733090000000-0{…}"); that becomes the event's LogID ("L:ms-n").
func decodeEvent(payload string) (chat.Event, error) {
	logID := ""
	if i := strings.IndexByte(payload, '{'); i > 0 {
		logID, payload = payload[:i], payload[i:]
		if strings.IndexByte(logID, ':') < 0 {
			logID = teamLogPrefix + logID
		}
	}
	// The room hash, most of a message event, is read by decodeFlat rather
	// than by encoding/json, which would scan it twice and copy each string.
	var flat []string
	if head, arr, ok := cutFlat(payload, "roomHash"); ok {
		var err error
		if flat, err = decodeFlat(arr); err != nil {
			return chat.Event{}, fmt.Errorf("redisstore: decode event: %w", err)
		}
		payload = head
	}
	if ev, ok := decodeMessageEvent(payload, flat); ok {
		ev.LogID = logID
		return ev, nil
	}
	var w wireEvent
	if err := json.Unmarshal([]byte(payload), &w); err != nil {
		return chat.Event{}, fmt.Errorf("redisstore: decode event: %w", err)
	}
	if w.Type == "" {
		return chat.Event{}, fmt.Errorf("redisstore: decode event: no type")
	}
	if flat != nil {
		w.RoomHash = flat
	}
	if len(w.RoomHash) > 0 {
		if r, ok := roomFromStrings(w.RoomID, w.RoomHash); ok {
			w.Event.Room = &r
		}
	}
	if len(w.AgentHash) > 0 {
		a := agentFromFlat(w.AgentHash)
		if w.Event.Payload == nil {
			w.Event.Payload = &chat.Payload{}
		}
		w.Event.Payload.Agent = &a
	}
	w.Event.LogID = logID
	return w.Event, nil
}

// decodeMessageEvent reads the message event of the send script (without
// its room hash, cut off before) without encoding/json:
// messageEventHead + the stored message + "}". ok is false for any other
// payload, which the caller decodes with encoding/json.
func decodeMessageEvent(payload string, flat []string) (chat.Event, bool) {
	const head, mid = `{"type":"message","roomId":`, `,"message":`
	rest, ok := strings.CutPrefix(payload, head)
	if !ok || !strings.HasSuffix(rest, "}") {
		return chat.Event{}, false
	}
	roomID, next, ok := flatString(rest, 0, len(rest))
	if !ok || !strings.HasPrefix(rest[next:], mid) {
		return chat.Event{}, false
	}
	m, ok := decodeFlatMessage(rest[next+len(mid) : len(rest)-1])
	if !ok {
		return chat.Event{}, false
	}
	ev := chat.Event{Type: chat.EventMessage, RoomID: roomID, Message: &m}
	if len(flat) > 0 {
		if r, ok := roomFromStrings(roomID, flat); ok {
			ev.Room = &r
		}
	}
	return ev, true
}

// cutFlat cuts the flat array a script appends as the last field of its
// event (`…,"roomHash":[…]}`) off the payload: it returns the object without
// it, and the array. Its key is found as the last `,"key":` of the payload:
// inside a JSON string the quotes would be escaped, and the array after it
// holds only strings.
func cutFlat(payload, key string) (head, arr string, ok bool) {
	marker := `,"` + key + `":`
	i := strings.LastIndex(payload, marker)
	if i < 0 || !strings.HasSuffix(payload, "]}") {
		return payload, "", false
	}
	return payload[:i] + "}", payload[i+len(marker) : len(payload)-1], true
}

// errFlat is a flat array decodeFlat cannot read.
var errFlat = errors.New("malformed flat array")

// decodeFlat reads a JSON array of strings, as Lua's cjson writes the reply
// of HGETALL. A string without escapes is a slice of s, not a copy; one with
// escapes (cjson escapes '/' too) goes through encoding/json.
func decodeFlat(s string) ([]string, error) {
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return nil, errFlat
	}
	out := make([]string, 0, 64)
	last := len(s) - 1
	for i := 1; i < last; {
		v, next, ok := flatString(s, i, last)
		if !ok {
			return nil, errFlat
		}
		out = append(out, v)
		i = next
		if i < last {
			if s[i] != ',' {
				return nil, errFlat
			}
			i++
		}
	}
	return out, nil
}

// messageOpen encodes m up to its seq, which only the send script knows: the
// script stores the result + seq + "}". encoding/json escapes the content, so
// no JSON is built by hand from user text. The stored JSON has seq last; its
// readers decode it, so the order of its fields does not matter.
func messageOpen(m chat.Message) (string, error) {
	b, err := json.Marshal(struct {
		ID        string      `json:"id"`
		RoomID    string      `json:"roomId"`
		Sender    chat.Sender `json:"sender"`
		Author    string      `json:"author"`
		Content   string      `json:"content"`
		CreatedAt chat.Time   `json:"createdAt"`
	}{m.ID, m.RoomID, m.Sender, m.Author, m.Content, m.CreatedAt})
	if err != nil {
		return "", fmt.Errorf("redisstore: encode message: %w", err)
	}
	// {"id":…,"createdAt":"…"} → {"id":…,"createdAt":"…","seq":
	return string(b[:len(b)-1]) + `,"seq":`, nil
}

// senderMark is the byte the send script keeps per message in the senders
// string (the first byte of the sender) and the read script counts: the two
// sides' marks differ.
func senderMark(s chat.Sender) string {
	if s == "" {
		return ""
	}
	return string(s[:1])
}

// messageEventHead is the start of the message event the send script
// publishes, up to the message itself.
func messageEventHead(roomID string) string {
	id, _ := json.Marshal(roomID) // a string always encodes
	return `{"type":"message","roomId":` + string(id) + `,"message":`
}

// roomEventHead is the start of the room event a script publishes, up to
// the room hash (a flat array), which the script appends with its '}'.
func roomEventHead(roomID string) string {
	id, _ := json.Marshal(roomID) // a string always encodes
	return `{"type":"room","roomId":` + string(id) + `,"roomHash":`
}

// readEventHead is the start of the admins' read event the read script
// publishes, up to the seq, which the script appends with its '}'.
func readEventHead(roomID string) string {
	id, _ := json.Marshal(roomID)
	return `{"type":"read","roomId":` + string(id) + `,"sender":"admin","seq":`
}

// decodeMessage decodes a stored message. The messages this store writes
// (messageOpen + seq + "}") are flat objects of strings and one integer,
// read by decodeFlatMessage without encoding/json, which costs several
// times more and copies every string; anything else (attachments, a key it
// does not know, JSON of another writer) goes through encoding/json.
func decodeMessage(b string) (chat.Message, error) {
	if m, ok := decodeFlatMessage(b); ok {
		return m, nil
	}
	var m chat.Message
	if err := json.Unmarshal([]byte(b), &m); err != nil {
		return chat.Message{}, fmt.Errorf("redisstore: decode message: %w", err)
	}
	return m, nil
}

// decodeFlatMessage reads a message whose values are all strings but seq, an
// integer. ok is false for anything else, and for a value it cannot read:
// the caller then decodes it with encoding/json, which says what is wrong.
func decodeFlatMessage(s string) (m chat.Message, ok bool) {
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return chat.Message{}, false
	}
	all := 1<<len(flatMessageFields) - 1
	seen := 0
	for i, last := 1, len(s)-1; i < last; {
		// "key": no key of a message has an escape in it.
		if s[i] != '"' {
			return chat.Message{}, false
		}
		k := strings.IndexByte(s[i+1:last], '"')
		if k < 0 || i+k+2 >= last || s[i+k+2] != ':' {
			return chat.Message{}, false
		}
		key := s[i+1 : i+1+k]
		f := slices.Index(flatMessageFields, key)
		if f < 0 || seen&(1<<f) != 0 {
			return chat.Message{}, false // a key it does not know, or twice
		}
		seen |= 1 << f
		i += k + 3
		if key == "seq" {
			j := i
			for j < last && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			n, err := strconv.ParseInt(s[i:j], 10, 64)
			if err != nil {
				return chat.Message{}, false
			}
			m.Seq, i = n, j
		} else {
			v, next, good := flatString(s, i, last)
			if !good {
				return chat.Message{}, false
			}
			switch key {
			case "id":
				m.ID = v
			case "roomId":
				m.RoomID = v
			case "sender":
				m.Sender = chat.Sender(v)
			case "author":
				m.Author = v
			case "content":
				m.Content = v
			case "createdAt":
				t, err := time.Parse(time.RFC3339Nano, v)
				if err != nil {
					return chat.Message{}, false
				}
				m.CreatedAt = chat.Time{Time: t}
			}
			i = next
		}
		if i < last {
			if s[i] != ',' {
				return chat.Message{}, false
			}
			i++
		}
	}
	if seen == all {
		m.Raw = s
	}
	return m, true
}

// flatMessageFields are the fields decodeFlatMessage reads: every field of
// a message's JSON but its attachments.
var flatMessageFields = []string{"id", "roomId", "seq", "sender", "author", "content", "createdAt"}

// flatString reads the JSON string that starts at s[i] and ends before
// s[last]: its value (a slice of s when it has no escape) and the index
// after it.
func flatString(s string, i, last int) (v string, next int, ok bool) {
	if i >= last || s[i] != '"' {
		return "", 0, false
	}
	j, escaped := i+1, false
	for j < last && s[j] != '"' {
		if s[j] == '\\' {
			escaped = true
			j++
		}
		j++
	}
	if j >= last {
		return "", 0, false
	}
	if !escaped {
		return s[i+1 : j], j + 1, true
	}
	if err := json.Unmarshal([]byte(s[i:j+1]), &v); err != nil {
		return "", 0, false
	}
	return v, j + 1, true
}
