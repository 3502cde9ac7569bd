package chat

import (
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Input bounds (characters, not bytes, except where noted).
const (
	MaxContent  = 2000
	MaxName     = 80
	MaxEmail    = 254
	MaxPageURL  = 2048
	MaxPath     = 1024
	MaxClientID = 64
	MaxVisitor  = 64
	MaxUsername = 64 // bytes
	MaxLimit    = 200
	MaxDays     = 365
	// MaxSeq is the largest seq a client may name: every JSON number up to it
	// is exact.
	MaxSeq = 1<<53 - 1
	// DefaultLimit is the page size when a query names none.
	DefaultLimit = 50
	// DefaultDays is the length of the visit report when a request names none.
	DefaultDays = 30
)

var (
	roomIDPattern   = regexp.MustCompile(`^r_[a-z2-7]{26}$`)
	clientIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]+$`)
)

// ValidRoomID tells whether id has the shape of a room id.
func ValidRoomID(id string) bool { return roomIDPattern.MatchString(id) }

func invalid(format string, args ...any) *Error { return Errorf(CodeInvalid, format, args...) }

// Normalize trims the fields of r and checks their bounds.
func (r *NewRoom) Normalize() error {
	r.Name = strings.TrimSpace(r.Name)
	r.Email = strings.TrimSpace(r.Email)
	r.Page = strings.TrimSpace(r.Page)
	r.IdentityToken = strings.TrimSpace(r.IdentityToken)
	if err := r.normalizeIdentity(); err != nil {
		return err
	}
	if err := checkText("name", r.Name, MaxName); err != nil {
		return err
	}
	if r.Email != "" {
		if len(r.Email) > MaxEmail || !validEmail(r.Email) {
			return invalid("email must be a valid address of at most %d characters", MaxEmail)
		}
	}
	if r.Page != "" {
		if utf8.RuneCountInString(r.Page) > MaxPageURL || !validPage(r.Page) {
			return invalid("page must be an http(s) URL of at most %d characters", MaxPageURL)
		}
	}
	return nil
}

// The bounds of an IP block.
const (
	DefaultIPBlock = 24 * time.Hour
	MinIPBlock     = time.Minute
	MaxIPBlock     = 30 * 24 * time.Hour
)

// Duration returns how long b blocks the visitor's address: 0 for no IP
// block.
func (b BlockRequest) Duration() (time.Duration, error) {
	if !b.IP {
		if b.For != "" {
			return 0, invalid("for needs ip: true")
		}
		return 0, nil
	}
	if b.For == "" {
		return DefaultIPBlock, nil
	}
	d, err := time.ParseDuration(b.For)
	if err != nil || d < MinIPBlock || d > MaxIPBlock {
		return 0, invalid("for must be a duration from %s to %s, such as 24h", MinIPBlock, "720h")
	}
	return d, nil
}

// Normalize trims the content of m and checks its bounds.
func (m *NewMessage) Normalize() error {
	m.Content = strings.TrimSpace(m.Content)
	n := utf8.RuneCountInString(m.Content)
	if n == 0 && len(m.Attachments) == 0 {
		return invalid("content must not be empty")
	}
	if err := normalizeAttachments(m.Attachments); err != nil {
		return err
	}
	if n > MaxContent {
		return invalid("content must be at most %d characters", MaxContent)
	}
	if !utf8.ValidString(m.Content) || hasForbiddenControl(m.Content) {
		return invalid("content must be valid text")
	}
	if m.ClientID != "" && (len(m.ClientID) > MaxClientID || !clientIDPattern.MatchString(m.ClientID)) {
		return invalid("clientId must be 1-%d characters of letters, digits and ._:-", MaxClientID)
	}
	return nil
}

// Normalize checks a reported visit.
func (v *NewVisit) Normalize() error {
	v.Path = strings.TrimSpace(v.Path)
	if v.Path == "" {
		v.Path = "/"
	}
	if utf8.RuneCountInString(v.Path) > MaxPath || !strings.HasPrefix(v.Path, "/") || hasControl(v.Path) {
		return invalid("path must start with / and be at most %d characters", MaxPath)
	}
	if len(v.VisitorID) > MaxVisitor || hasControl(v.VisitorID) {
		return invalid("visitorId must be at most %d characters", MaxVisitor)
	}
	return nil
}

// NormalizeUsername is the one place an admin's username is cleaned up, for
// logging in and for managing accounts alike.
func NormalizeUsername(s string) string { return strings.TrimSpace(s) }

// Normalize trims the username of c and checks that both fields are given.
func (c *Credentials) Normalize() error {
	c.Username = NormalizeUsername(c.Username)
	if c.Username == "" || c.Password == "" {
		return invalid("username and password are required")
	}
	return nil
}

// limitKey is the username the login limit counts attempts under, bounded:
// longer names never log in, and need no key of their own.
func (c Credentials) limitKey() string {
	if len(c.Username) > MaxUsername {
		return c.Username[:MaxUsername+1]
	}
	return c.Username
}

// Validate checks that the visitor's read mark is given and not negative.
func (r ReadMark) Validate() error {
	if r.Seq == nil || *r.Seq < 0 {
		return invalid("seq must be an integer of at least 0")
	}
	return nil
}

// The errors of the checks that both a request and its query make.
var (
	errLimit  = invalid("limit must be between 1 and %d", MaxLimit)
	errFilter = invalid("filter must be all, unread, mine, unassigned, open, pending or resolved")
)

// Query returns the query r asks for. A limit or before given as 0 is a
// client bug rather than "the default", and after and before cannot both be
// given, even as 0; MessageQuery.Validate checks the rest.
func (r MessagesRequest) Query() (MessageQuery, error) {
	if r.After != nil && r.Before != nil {
		return MessageQuery{}, invalid("after and before cannot be combined")
	}
	limit, err := explicit(r.Limit, MaxLimit, errLimit)
	if err != nil {
		return MessageQuery{}, err
	}
	q := MessageQuery{Limit: limit}
	if r.After != nil {
		q.After = *r.After
	}
	if r.Before != nil {
		if *r.Before == 0 {
			return MessageQuery{}, invalid("before must be between 1 and %d", int64(MaxSeq))
		}
		q.Before = *r.Before
	}
	return q, nil
}

// Validate checks a message page query and fills in the default limit.
func (q *MessageQuery) Validate() error {
	if q.Limit == 0 {
		q.Limit = DefaultLimit
	}
	if q.Limit < 1 || q.Limit > MaxLimit {
		return errLimit
	}
	if q.After < 0 || q.Before < 0 || q.After > MaxSeq || q.Before > MaxSeq {
		return invalid("after and before must be between 0 and %d", int64(MaxSeq))
	}
	if q.After > 0 && q.Before > 0 {
		return invalid("after and before cannot be combined")
	}
	return nil
}

// Query returns the query r asks for. A limit given as 0 or an empty filter
// is a client bug rather than "the default"; RoomQuery.Validate checks the
// rest.
func (r RoomsRequest) Query() (RoomQuery, error) {
	limit, err := explicit(r.Limit, MaxLimit, errLimit)
	if err != nil {
		return RoomQuery{}, err
	}
	q := RoomQuery{Limit: limit, Cursor: r.Cursor}
	if r.Filter != nil {
		if *r.Filter == "" {
			return RoomQuery{}, errFilter
		}
		q.Filter = RoomFilter(*r.Filter)
	}
	if r.Label != nil {
		if !ValidLabelID(*r.Label) {
			return RoomQuery{}, invalid("label must be a label id")
		}
		q.Label = *r.Label
	}
	return q, nil
}

// Validate checks a room list query and fills in the defaults.
func (q *RoomQuery) Validate() error {
	if q.Limit == 0 {
		q.Limit = DefaultLimit
	}
	if q.Limit < 1 || q.Limit > MaxLimit {
		return errLimit
	}
	switch q.Filter {
	case "":
		q.Filter = FilterAll
	case FilterAll, FilterUnread, FilterMine, FilterUnassigned, FilterOpen, FilterPending, FilterResolved:
	default:
		return errFilter
	}
	if q.Label != "" && q.Filter != FilterAll {
		return invalid("label goes with filter=all only")
	}
	if len(q.Cursor) > 128 {
		return invalid("cursor is malformed")
	}
	return nil
}

// Query returns the number of days r asks for, 0 for the default. Days given
// as 0 is a client bug rather than "the default"; the Service checks the
// range.
func (r VisitsRequest) Query() (int, error) { return explicit(r.Days, MaxDays, errDays) }

var errDays = invalid("days must be between 1 and %d", MaxDays)

// explicit reads an optional number of a request into a query field where 0
// stands for "the default": not given, it is 0; given as 0, it is refused
// with err (a client bug, not a request for the default); beyond bound, it
// becomes bound+1, which the query's check refuses whatever the size of int.
func explicit(p *int64, bound int64, err *Error) (int, error) {
	if p == nil {
		return 0, nil
	}
	if *p == 0 {
		return 0, err
	}
	return int(min(max(*p, -1), bound+1)), nil
}

func checkText(field, s string, max int) error {
	if utf8.RuneCountInString(s) > max || hasControl(s) {
		return invalid("%s must be at most %d characters of text", field, max)
	}
	return nil
}

// validEmail accepts a plain address and nothing an address parser would
// also take: the console makes a mailto: link of it, where a "?", "&" or "%"
// would smuggle in headers (bcc, subject), and a display name, quotes, angle
// brackets or a second "@" have no place in a plain address.
func validEmail(s string) bool {
	if len(s) > MaxEmail || strings.ContainsAny(s, "?&%/\\ \t\"'<>(),;:[]") || strings.Count(s, "@") != 1 {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	local, domain, _ := strings.Cut(s, "@")
	return local != "" && strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

func validPage(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// hasControl reports control characters, which have no place in short fields.
func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

// hasForbiddenControl reports control characters other than new lines and
// tabs, which messages may contain.
func hasForbiddenControl(s string) bool {
	for _, r := range s {
		if (r < 0x20 && r != '\n' && r != '\t' && r != '\r') || r == 0x7f {
			return true
		}
	}
	return false
}
