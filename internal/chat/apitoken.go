package chat

import (
	"context"
	"crypto/rand"
	"regexp"
	"strings"
)

// API tokens let an owner's scripts use the admin API without a login: each
// acts as the owner who made it, limited to its scopes. The secret is made
// and hashed in auth; the store keeps only the hash.

// Scope is one right an API token may hold.
type Scope string

// The scopes. Read is implied by the other two (see NewAPIToken.Normalize):
// a script that replies or manages must find the conversations first.
const (
	// ScopeRead reads conversations, messages, notes, the team, labels,
	// canned replies, counts, visits, mail status and the admin stream.
	ScopeRead Scope = "read"
	// ScopeReply sends messages and private notes, typing, read marks,
	// viewing and transcripts: everything a visitor or a colleague sees
	// written by the owner.
	ScopeReply Scope = "reply"
	// ScopeManage changes conversations without writing in them: status,
	// assignment, labels, block, delete, and defines labels and canned
	// replies.
	ScopeManage Scope = "manage"
)

// Scopes lists every scope, in the order they are shown and stored.
var Scopes = []Scope{ScopeRead, ScopeReply, ScopeManage}

// Bounds of API tokens.
const (
	// MaxAPITokens is how many API tokens a site may have at once.
	MaxAPITokens = 50
	// MaxAPITokenName bounds a token's name, in characters.
	MaxAPITokenName = 64
)

// APIToken is an API token as the API shows it: never its secret, which
// only the answer that creates it carries (Secret).
type APIToken struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	Scopes     []Scope `json:"scopes"`
	CreatedAt  Time    `json:"createdAt"`
	CreatedBy  string  `json:"createdBy"`
	LastUsedAt *Time   `json:"lastUsedAt"`
	// Secret is the whole token, set on the create answer only.
	Secret string `json:"token,omitempty"`
	// Hash is the hex SHA-256 of the token's secret part, as stored.
	Hash string `json:"-"`
}

// Has tells whether the token holds scope s.
func (t APIToken) Has(s Scope) bool {
	for _, x := range t.Scopes {
		if x == s {
			return true
		}
	}
	return false
}

// NewAPIToken is the body of POST /api/v1/admin/tokens.
type NewAPIToken struct {
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
}

// Normalize trims the name, checks both fields, and returns the scopes in
// their canonical order with read added (the other scopes imply it).
func (n *NewAPIToken) Normalize() ([]Scope, error) {
	n.Name = strings.TrimSpace(n.Name)
	if n.Name == "" {
		return nil, invalid("name is required")
	}
	if err := checkText("name", n.Name, MaxAPITokenName); err != nil {
		return nil, err
	}
	if len(n.Scopes) == 0 || len(n.Scopes) > len(Scopes) {
		return nil, invalid("scopes must name one to %d of read, reply, manage", len(Scopes))
	}
	want := map[Scope]bool{ScopeRead: true}
	seen := map[string]bool{}
	for _, s := range n.Scopes {
		if seen[s] {
			return nil, invalid("scope %q is listed twice", s)
		}
		seen[s] = true
		switch Scope(s) {
		case ScopeRead, ScopeReply, ScopeManage:
			want[Scope(s)] = true
		default:
			return nil, invalid("unknown scope %q: want read, reply or manage", s)
		}
	}
	out := make([]Scope, 0, len(want))
	for _, s := range Scopes {
		if want[s] {
			out = append(out, s)
		}
	}
	return out, nil
}

// NewAPITokenID returns a random API token id: 16 characters of a-z2-7
// (80 bits; the secret is apart).
func NewAPITokenID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return lowerBase32.EncodeToString(b[:])
}

var apiTokenIDRe = regexp.MustCompile(`^[a-z2-7]{16}$`)

// ValidAPITokenID tells whether id has the shape NewAPITokenID gives.
func ValidAPITokenID(id string) bool { return apiTokenIDRe.MatchString(id) }

// ErrAPITokenUnknown is a token id that does not exist (or was revoked).
var ErrAPITokenUnknown = &Error{Code: CodeNotFound, Message: "no API token with this id"}

// APITokenStore keeps the API tokens.
type APITokenStore interface {
	// AddAPIToken stores t (with its Hash) unless max tokens exist already
	// (CodeLimitReached).
	AddAPIToken(ctx context.Context, t APIToken, max int) error
	// APITokens lists every token, oldest first, without hashes.
	APITokens(ctx context.Context) ([]APIToken, error)
	// RevokeAPIToken deletes a token and tells every instance, which ends
	// its admin streams (EventAdminRevoked with TokenID APITokenStreamID(id)).
	// ErrAPITokenUnknown.
	RevokeAPIToken(ctx context.Context, id string) error
	// APITokenAuth returns a token (with its Hash) and the account of its
	// creator in one round trip: ErrAPITokenUnknown, or ErrAdminUnknown
	// when the creator is gone.
	APITokenAuth(ctx context.Context, id string) (APIToken, Admin, error)
	// TouchAPIToken sets a token's last use to at, if the token still
	// exists and at is later than the stored one.
	TouchAPIToken(ctx context.Context, id string, at Time) error
}

// APITokenStreamID is the id an API token's admin streams are known by (and
// the TokenID of its EventAdminRevoked): apart from the login tokens' ids.
func APITokenStreamID(id string) string { return "pat_" + id }
