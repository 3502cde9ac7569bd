package chat

import (
	"strconv"
	"strings"
)

// The admin events are kept in several logs (the store's: one per index
// partition and one for the team's events), so an event's place is a log
// and an entry id there: its LogID is "L:ms-n", L the log's number. A
// stream's place is a vector of such positions, one per log: the SSE id an
// admin stream sends, and what a console resumes from.

// LogPos is a position in one log: an entry id "ms-n" as two numbers; the
// zero value is before every entry.
type LogPos struct{ MS, N uint64 }

// After tells whether p comes after q.
func (p LogPos) After(q LogPos) bool { return p.MS > q.MS || p.MS == q.MS && p.N > q.N }

// IsZero tells whether p is before every entry.
func (p LogPos) IsZero() bool { return p.MS == 0 && p.N == 0 }

// String is the entry id, "ms-n".
func (p LogPos) String() string {
	return strconv.FormatUint(p.MS, 10) + "-" + strconv.FormatUint(p.N, 10)
}

// ParseEventLogID splits an event's LogID "L:ms-n" into its log and
// position.
func ParseEventLogID(id string) (log int, p LogPos, ok bool) {
	l, rest, found := strings.Cut(id, ":")
	if !found || len(l) == 0 || len(l) > 3 {
		return 0, LogPos{}, false
	}
	log, err := strconv.Atoi(l)
	if err != nil || log < 0 {
		return 0, LogPos{}, false
	}
	ms, n, ok := parseEntryID(rest)
	return log, LogPos{ms, n}, ok
}

// EventLogID is the LogID of entry p of log.
func EventLogID(log int, p LogPos) string { return strconv.Itoa(log) + ":" + p.String() }

// AdminVector is a stream's position in every admin log: entry i is the
// newest entry of log i it has.
type AdminVector []LogPos

// adminVectorTag starts every vector id, which tells it from the "ms-n"
// ids of before the logs were split.
const adminVectorTag = "v1."

// String is the vector's compact form, the SSE id: "v1." then the common
// millisecond base (the smallest of the non-zero positions), then one
// field per log, "." before each: empty for the zero position, else the
// offset from the base and, when not 0, "-" and the sequence number, all in
// base 36. 17 logs take about 100 bytes, up to 125 when their positions
// span a day.
func (v AdminVector) String() string {
	var base uint64
	for _, p := range v {
		if !p.IsZero() && (base == 0 || p.MS < base) {
			base = p.MS
		}
	}
	var b strings.Builder
	b.Grow(len(adminVectorTag) + 9 + 7*len(v))
	b.WriteString(adminVectorTag)
	b.WriteString(strconv.FormatUint(base, 36))
	for _, p := range v {
		b.WriteByte('.')
		if p.IsZero() {
			continue
		}
		b.WriteString(strconv.FormatUint(p.MS-base, 36))
		if p.N != 0 {
			b.WriteByte('-')
			b.WriteString(strconv.FormatUint(p.N, 36))
		}
	}
	return b.String()
}

// maxAdminVector bounds the id a client may send.
const maxAdminVector = 1024

// ParseAdminVector reads a vector's String form.
func ParseAdminVector(s string) (AdminVector, bool) {
	rest, ok := strings.CutPrefix(s, adminVectorTag)
	if !ok || len(s) > maxAdminVector {
		return nil, false
	}
	fields := strings.Split(rest, ".")
	if len(fields) < 2 {
		return nil, false
	}
	base, err := strconv.ParseUint(fields[0], 36, 64)
	if err != nil {
		return nil, false
	}
	v := make(AdminVector, len(fields)-1)
	for i, f := range fields[1:] {
		if f == "" {
			continue
		}
		o, n, found := strings.Cut(f, "-")
		off, err := strconv.ParseUint(o, 36, 64)
		if err != nil || off > ^uint64(0)-base {
			return nil, false
		}
		v[i].MS = base + off
		if found {
			if v[i].N, err = strconv.ParseUint(n, 36, 64); err != nil || v[i].N == 0 {
				return nil, false
			}
		}
		if v[i].IsZero() {
			return nil, false // written as an empty field
		}
	}
	return v, true
}

// Advance moves the vector to the event's LogID when it is newer than what
// the vector has of its log, and tells whether it did: false for an event
// the stream has already (or one of no log the vector knows).
func (v AdminVector) Advance(logID string) bool {
	log, p, ok := ParseEventLogID(logID)
	if !ok || log >= len(v) || !p.After(v[log]) {
		return false
	}
	v[log] = p
	return true
}

// AdminLogIDAfter tells whether the event of LogID id comes after mark: a
// vector (the event is newer than the vector's position in its log) or an
// entry id "ms-n" of before the logs were split (compared by time).
func AdminLogIDAfter(id, mark string) bool {
	log, p, ok := ParseEventLogID(id)
	if !ok {
		return LogIDAfter(id, mark)
	}
	if v, ok := ParseAdminVector(mark); ok {
		return log < len(v) && p.After(v[log])
	}
	ms, n, ok := ParseLogID(mark)
	return ok && p.After(LogPos{ms, n})
}

// IsLegacyLogID tells whether an admin resume id is the "ms-n" of a console
// from before the logs were split.
func IsLegacyLogID(id string) bool {
	_, _, ok := parseEntryID(id)
	return ok
}

func parseEntryID(id string) (ms, n uint64, ok bool) {
	a, b, found := strings.Cut(id, "-")
	if !found || len(id) > 41 {
		return 0, 0, false
	}
	ms, err1 := strconv.ParseUint(a, 10, 64)
	n, err2 := strconv.ParseUint(b, 10, 64)
	return ms, n, err1 == nil && err2 == nil
}
