package redisstore

import (
	"encoding/json"
	"fmt"

	"github.com/parley-chat/parley/internal/chat"
)

// The events channel carries one JSON object per event: a chat.Event as its
// own JSON encoding gives it. The send script publishes its message events
// without Go on the way, so it cannot encode a chat.Room: it sends the room
// hash as a flat array in "roomHash" instead, which the bridge decodes:
//
//	{"type":"message","roomId":"r_…","message":{…Message…},"roomHash":["name","Jane","seq","7",…]}
type wireEvent struct {
	chat.Event
	RoomHash []string `json:"roomHash,omitempty"`
}

func encodeEvent(ev chat.Event) ([]byte, error) {
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("redisstore: encode event: %w", err)
	}
	return b, nil
}

func decodeEvent(payload string) (chat.Event, error) {
	var w wireEvent
	if err := json.Unmarshal([]byte(payload), &w); err != nil {
		return chat.Event{}, fmt.Errorf("redisstore: decode event: %w", err)
	}
	if w.Type == "" {
		return chat.Event{}, fmt.Errorf("redisstore: decode event: no type")
	}
	if len(w.RoomHash) > 0 {
		if r, ok := roomFromStrings(w.RoomID, w.RoomHash); ok {
			w.Event.Room = &r
		}
	}
	return w.Event, nil
}

// messageHalves encodes m around its seq, which only the send script knows:
// the script stores head + seq + tail. encoding/json escapes the content, so
// no JSON is built by hand from user text.
func messageHalves(m chat.Message) (head, tail string, err error) {
	h, err := json.Marshal(struct {
		ID     string `json:"id"`
		RoomID string `json:"roomId"`
	}{m.ID, m.RoomID})
	if err != nil {
		return "", "", fmt.Errorf("redisstore: encode message: %w", err)
	}
	t, err := json.Marshal(struct {
		Sender    chat.Sender `json:"sender"`
		Author    string      `json:"author"`
		Content   string      `json:"content"`
		CreatedAt chat.Time   `json:"createdAt"`
	}{m.Sender, m.Author, m.Content, m.CreatedAt})
	if err != nil {
		return "", "", fmt.Errorf("redisstore: encode message: %w", err)
	}
	// {"id":"…","roomId":"…"} → {"id":"…","roomId":"…","seq":
	// {"sender":…}           → ,"sender":…}
	return string(h[:len(h)-1]) + `,"seq":`, "," + string(t[1:]), nil
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

func decodeMessage(b string) (chat.Message, error) {
	var m chat.Message
	if err := json.Unmarshal([]byte(b), &m); err != nil {
		return chat.Message{}, fmt.Errorf("redisstore: decode message: %w", err)
	}
	return m, nil
}
