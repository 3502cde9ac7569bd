package chat

import (
	"net/mail"
	"net/url"
	"regexp"
	"strings"
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
	MaxLimit    = 200
	MaxDays     = 365
	// DefaultLimit is the page size when a query names none.
	DefaultLimit = 50
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

// Normalize trims the content of m and checks its bounds.
func (m *NewMessage) Normalize() error {
	m.Content = strings.TrimSpace(m.Content)
	n := utf8.RuneCountInString(m.Content)
	if n == 0 {
		return invalid("content must not be empty")
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

// Validate checks a message page query and fills in the default limit.
func (q *MessageQuery) Validate() error {
	if q.Limit == 0 {
		q.Limit = DefaultLimit
	}
	if q.Limit < 1 || q.Limit > MaxLimit {
		return invalid("limit must be between 1 and %d", MaxLimit)
	}
	if q.After < 0 || q.Before < 0 {
		return invalid("after and before must not be negative")
	}
	if q.After > 0 && q.Before > 0 {
		return invalid("after and before cannot be combined")
	}
	return nil
}

// Validate checks a room list query and fills in the defaults.
func (q *RoomQuery) Validate() error {
	if q.Limit == 0 {
		q.Limit = DefaultLimit
	}
	if q.Limit < 1 || q.Limit > MaxLimit {
		return invalid("limit must be between 1 and %d", MaxLimit)
	}
	switch q.Filter {
	case "":
		q.Filter = FilterAll
	case FilterAll, FilterUnread:
	default:
		return invalid("filter must be all or unread")
	}
	if len(q.Cursor) > 128 {
		return invalid("cursor is malformed")
	}
	return nil
}

func checkText(field, s string, max int) error {
	if utf8.RuneCountInString(s) > max || hasControl(s) {
		return invalid("%s must be at most %d characters of text", field, max)
	}
	return nil
}

func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && a.Name == "" && strings.Contains(s[strings.LastIndexByte(s, '@'):], ".")
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
