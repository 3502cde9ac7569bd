package chat

import (
	"context"
	"strings"
	"unicode/utf8"
)

// Role is what an admin account may do in the console (see the rights
// table of docs/API.md): an owner manages the team and deletes
// conversations; an agent answers them.
type Role string

// The roles.
const (
	RoleOwner Role = "owner"
	RoleAgent Role = "agent"
)

// RoleOf reads a stored role. An account with none was created before roles
// existed, when every admin could do everything: it is an owner, so an
// upgrade takes nobody's powers away.
func RoleOf(stored string) Role {
	if Role(stored) == RoleAgent {
		return RoleAgent
	}
	return RoleOwner
}

// ParseRole checks a role a client sent.
func ParseRole(s string) (Role, error) {
	switch r := Role(strings.TrimSpace(s)); r {
	case RoleOwner, RoleAgent:
		return r, nil
	}
	return "", invalid("role must be owner or agent")
}

// Password bounds (bcrypt takes at most 72 bytes).
const (
	MinPassword = 8
	MaxPassword = 72
)

// Agent is an admin account as the team sees it: GET /api/v1/admin/agents
// and the agent.updated event. The password and tokens never leave the
// store.
type Agent struct {
	Username    string `json:"username"`
	DisplayName string `json:"displayName"`
	Email       string `json:"email"`
	Role        Role   `json:"role"`
	// Online is whether the agent has the console open on some instance;
	// nil where that is not known (no mail, hence no per-agent presence;
	// and on events).
	Online *bool `json:"online,omitempty"`
}

// Agent returns the account as the team sees it.
func (a Admin) Agent() Agent {
	return Agent{Username: a.Username, DisplayName: a.DisplayName, Email: a.Email, Role: RoleOf(string(a.Role))}
}

// IsOwner tells whether the account has the owner's rights.
func (a Admin) IsOwner() bool { return RoleOf(string(a.Role)) == RoleOwner }

// NewAgent is an owner's request for a new account, as it came: POST
// /api/v1/admin/agents. A nil Password asks for a generated one; an empty
// Role is RoleAgent.
type NewAgent struct {
	Username    string  `json:"username"`
	DisplayName string  `json:"displayName"`
	Email       string  `json:"email"`
	Password    *string `json:"password"`
	Role        string  `json:"role"`
}

// AgentUpdate is an owner's change of an account, as it came: PATCH
// /api/v1/admin/agents/{username}. A nil field is kept. Password is a new
// password (a string) or true for a generated one.
type AgentUpdate struct {
	DisplayName *string `json:"displayName"`
	Email       *string `json:"email"`
	Role        *string `json:"role"`
	Password    any     `json:"password"`
}

// AgentChange is an AgentUpdate checked: what the store applies. A nil
// field is kept.
type AgentChange struct {
	DisplayName *string
	Email       *string
	Role        *Role
}

// PasswordRequest is the password part of a request checked: keep it
// (neither set), set Value, or Generate one.
type PasswordRequest struct {
	Value    string
	Generate bool
}

// Changes tells whether the request sets a password.
func (p PasswordRequest) Changes() bool { return p.Generate || p.Value != "" }

// CheckUsername tells whether it can name an account.
func CheckUsername(u string) error {
	if u == "" || len(u) > MaxUsername || strings.ContainsAny(u, " \t\r\n:/") {
		return invalid("username must be 1-%d characters without spaces, colons or slashes", MaxUsername)
	}
	return nil
}

// CheckPassword tells whether p can be a password.
func CheckPassword(p string) error {
	if utf8.RuneCountInString(p) < MinPassword || len(p) > MaxPassword {
		return invalid("password must be %d-%d characters (at most %d bytes)", MinPassword, MaxPassword, MaxPassword)
	}
	return nil
}

// NormalizeDisplayName trims a display name and checks it.
func NormalizeDisplayName(d string) (string, error) {
	d = strings.TrimSpace(d)
	if utf8.RuneCountInString(d) > MaxName || strings.ContainsAny(d, "\r\n") {
		return "", invalid("displayName must be at most %d characters on one line", MaxName)
	}
	return d, nil
}

// Normalize trims n's fields and checks them; it returns the role and the
// password request.
func (n *NewAgent) Normalize() (Role, PasswordRequest, error) {
	n.Username = NormalizeUsername(n.Username)
	if err := CheckUsername(n.Username); err != nil {
		return "", PasswordRequest{}, err
	}
	d, err := NormalizeDisplayName(n.DisplayName)
	if err != nil {
		return "", PasswordRequest{}, err
	}
	if d == "" {
		d = n.Username
	}
	n.DisplayName = d
	if n.Email, err = NormalizeAdminEmail(n.Email); err != nil {
		return "", PasswordRequest{}, err
	}
	role := RoleAgent
	if n.Role != "" {
		if role, err = ParseRole(n.Role); err != nil {
			return "", PasswordRequest{}, err
		}
	}
	pw := PasswordRequest{Generate: n.Password == nil}
	if n.Password != nil {
		if err := CheckPassword(*n.Password); err != nil {
			return "", PasswordRequest{}, err
		}
		pw.Value = *n.Password
	}
	return role, pw, nil
}

// Check validates u: the change for the store and the password request.
func (u AgentUpdate) Check() (AgentChange, PasswordRequest, error) {
	var ch AgentChange
	if u.DisplayName != nil {
		d, err := NormalizeDisplayName(*u.DisplayName)
		if err != nil {
			return ch, PasswordRequest{}, err
		}
		ch.DisplayName = &d
	}
	if u.Email != nil {
		e, err := NormalizeAdminEmail(*u.Email)
		if err != nil {
			return ch, PasswordRequest{}, err
		}
		ch.Email = &e
	}
	if u.Role != nil {
		r, err := ParseRole(*u.Role)
		if err != nil {
			return ch, PasswordRequest{}, err
		}
		ch.Role = &r
	}
	var pw PasswordRequest
	switch p := u.Password.(type) {
	case nil:
	case bool:
		if !p {
			return ch, PasswordRequest{}, invalid("password must be a new password or true (generate one)")
		}
		pw.Generate = true
	case string:
		if err := CheckPassword(p); err != nil {
			return ch, PasswordRequest{}, err
		}
		pw.Value = p
	default:
		return ch, PasswordRequest{}, invalid("password must be a new password or true (generate one)")
	}
	return ch, pw, nil
}

// Empty tells whether ch changes nothing.
func (ch AgentChange) Empty() bool { return ch.DisplayName == nil && ch.Email == nil && ch.Role == nil }

// Agents lists the team, sorted by username, each with whether they are
// online when that is known (the per-agent presence mail keeps: only while
// mail is on).
func (s *Service) Agents(ctx context.Context) ([]Agent, error) {
	admins, err := s.store.Admins(ctx)
	if err != nil {
		return nil, err
	}
	var online map[string]bool
	if n := s.notify.Store; n != nil {
		// Who is online is a nicety: the list stands without it.
		online, _ = n.AgentsOnline(ctx, s.now())
	}
	out := make([]Agent, 0, len(admins))
	for _, a := range admins {
		ag := a.Agent()
		if online != nil {
			on := online[a.Username]
			ag.Online = &on
		}
		out = append(out, ag)
	}
	return out, nil
}
