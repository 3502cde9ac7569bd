package redisstore

import (
	"context"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/chat"
)

// The fields of a room hash (see lua/create.lua). Times are Unix ms; seq is
// the last message's seq, so it is also the number of messages ever sent.
const (
	fName          = "name"
	fEmail         = "email"
	fPage          = "page"
	fCreatedAt     = "createdAt"
	fUpdatedAt     = "updatedAt"
	fSeq           = "seq"
	fFirstSeq      = "firstSeq"
	fUnread        = "unread"
	fVisitorUnread = "visitorUnread"
	fAdminRead     = "adminRead"
	fVisitorRead   = "visitorRead"
	fBlocked       = "blocked"
	fLastSeq       = "lastSeq"
	fLastSender    = "lastSender"
	fLastContent   = "lastContent"
	fLastAt        = "lastAt"
	fClient        = "client"
	fIPBlocked     = "ipBlockedUntil"
	fStatus        = "status"
	fSnoozedUntil  = "snoozedUntil"
	fAssignee      = "assignee"
	fAssigneeName  = "assigneeName"
	fLabels        = "labels"
	fVerified      = "verified" // "1" for a verified identity's room
	fUserID        = "userId"   // the site's user id, verified or claimed
	fIdentity      = "identity" // the identity hash a verified room is indexed under
)

// readFields names the room hash fields of one reader of a conversation.
type readFields struct {
	mark    string // its read mark
	counter string // its unread counter: the other side's messages after the mark
}

func readFieldsOf(reader chat.Sender) readFields {
	if reader == chat.SenderAdmin {
		return readFields{mark: fAdminRead, counter: fUnread}
	}
	return readFields{mark: fVisitorRead, counter: fVisitorUnread}
}

// roomFields is every field of a room hash, in the order roomFromValues
// reads an HMGET of them.
var roomFields = [...]string{fName, fEmail, fPage, fCreatedAt, fUpdatedAt, fSeq, fFirstSeq, fUnread, fVisitorUnread,
	fAdminRead, fVisitorRead, fBlocked, fLastSeq, fLastSender, fLastContent, fLastAt, fClient, fIPBlocked,
	fStatus, fSnoozedUntil, fAssignee, fAssigneeName, fLabels, fVerified, fUserID}

// roomFieldArgs is roomFields as command arguments, boxed once: boxing a
// string in an interface allocates, and a page reads 50 rooms.
var roomFieldArgs = func() []any {
	a := make([]any, len(roomFields))
	for i, f := range roomFields {
		a[i] = f
	}
	return a
}()

// hmgetRoom is HMGET of every room field, read as strings ("" for a missing
// field): no map and no field names per room, as HGETALL would cost.
func hmgetRoom(ctx context.Context, key string) *redis.StringSliceCmd {
	args := make([]any, 0, 2+len(roomFields))
	args = append(args, "hmget", key)
	args = append(args, roomFieldArgs...)
	return redis.NewStringSliceCmd(ctx, args...)
}

// roomFromValues reads the answer of hmgetRoom. An empty value is what a
// missing field reads as too (every field's zero value), so it is skipped;
// createdAt is never empty in a room that exists.
func roomFromValues(id string, vals []string) (chat.Room, bool) {
	var d roomDecoder
	for i, v := range vals {
		if v != "" && i < len(roomFields) {
			d.set(roomFields[i], v)
		}
	}
	return d.room(id)
}

// roomDecoder turns hash fields into a chat.Room, one field at a time, so the
// same code reads HGETALL maps and the flat arrays scripts return.
type roomDecoder struct {
	r    chat.Room
	last chat.LastMessage
	n    int
}

func (d *roomDecoder) set(field, v string) {
	d.n++
	switch field {
	case fName:
		d.r.VisitorName = v
	case fEmail:
		d.r.VisitorEmail = v
	case fPage:
		d.r.Page = v
	case fCreatedAt:
		d.r.CreatedAt = chat.TimeFromMillis(atoi(v))
	case fUpdatedAt:
		d.r.UpdatedAt = chat.TimeFromMillis(atoi(v))
	case fSeq:
		d.r.MessageCount = atoi(v)
	case fFirstSeq:
		d.r.FirstSeq = atoi(v)
	case fUnread:
		d.r.Unread = atoi(v)
	case fVisitorUnread:
		d.r.VisitorUnread = atoi(v)
	case fAdminRead:
		d.r.AdminReadSeq = atoi(v)
	case fVisitorRead:
		d.r.VisitorReadSeq = atoi(v)
	case fBlocked:
		d.r.Blocked = v == "1"
	case fLastSeq:
		d.last.Seq = atoi(v)
	case fLastSender:
		d.last.Sender = chat.Sender(v)
	case fLastContent:
		d.last.Content = v
	case fLastAt:
		d.last.CreatedAt = chat.TimeFromMillis(atoi(v))
	case fClient:
		d.r.ClientKey = v
	case fIPBlocked:
		if ms := atoi(v); ms > 0 {
			t := chat.TimeFromMillis(ms)
			d.r.IPBlockedUntil = &t
		}
	case fStatus:
		d.r.Status = chat.Status(v)
	case fSnoozedUntil:
		if ms := atoi(v); ms > 0 {
			t := chat.TimeFromMillis(ms)
			d.r.SnoozedUntil = &t
		}
	case fAssignee:
		if v != "" {
			a := v
			d.r.Assignee = &a
		}
	case fAssigneeName:
		d.r.AssigneeName = v
	case fLabels:
		if v != "" {
			d.r.Labels = strings.Split(v, ",")
		}
	case fVerified:
		d.r.Verified = v == "1"
	case fUserID:
		d.r.UserID = v
	}
}

// room returns the decoded room, and false when no field was seen (the hash
// does not exist).
func (d *roomDecoder) room(id string) (chat.Room, bool) {
	if d.n == 0 {
		return chat.Room{}, false
	}
	d.r.ID = id
	if d.r.Status == "" {
		d.r.Status = chat.StatusOpen // stored before statuses existed
	}
	if d.last.Seq > 0 {
		last := d.last
		d.r.LastMessage = &last
	}
	return d.r, true
}

func roomFromMap(id string, h map[string]string) (chat.Room, bool) {
	var d roomDecoder
	for f, v := range h {
		d.set(f, v)
	}
	return d.room(id)
}

// roomFromFlat reads a flat field, value, field, value... array.
func roomFromFlat(id string, kv []any) (chat.Room, bool) {
	var d roomDecoder
	for i := 0; i+1 < len(kv); i += 2 {
		f, _ := kv[i].(string)
		v, _ := kv[i+1].(string)
		d.set(f, v)
	}
	return d.room(id)
}

func roomFromStrings(id string, kv []string) (chat.Room, bool) {
	var d roomDecoder
	for i := 0; i+1 < len(kv); i += 2 {
		d.set(kv[i], kv[i+1])
	}
	return d.room(id)
}

// atoi reads a number this package wrote; a malformed one reads as 0.
func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}
