package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/parley-chat/parley/internal/chat"
	"golang.org/x/crypto/bcrypt"
)

// Password and username bounds.
const (
	MinPassword = chat.MinPassword
	// MaxPassword is bcrypt's input limit in bytes.
	MaxPassword = chat.MaxPassword
	MaxUsername = chat.MaxUsername
)

// dummyHash is compared against when a username is unknown, so a wrong
// password and an unknown user take the same time. It is made on first use,
// at the cost real hashes have.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("parley-dummy-password"), bcrypt.DefaultCost)
	return h
})

// Accounts manages admin accounts on top of an AdminStore.
type Accounts struct {
	store chat.AdminStore
	cost  int
}

// NewAccounts returns Accounts over store.
func NewAccounts(store chat.AdminStore) *Accounts {
	return &Accounts{store: store, cost: bcrypt.DefaultCost}
}

// Login checks a username (as chat.NormalizeUsername leaves it) and a
// password. It returns chat.ErrBadLogin for an unknown user and for a wrong
// password alike, after the same bcrypt work.
func (a *Accounts) Login(ctx context.Context, username, password string) (chat.Admin, error) {
	if username == "" || len(username) > MaxUsername || len(password) > MaxPassword {
		_ = bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return chat.Admin{}, chat.ErrBadLogin
	}
	adm, err := a.store.Admin(ctx, username)
	switch {
	case errors.Is(err, chat.ErrAdminUnknown):
		_ = bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return chat.Admin{}, chat.ErrBadLogin
	case err != nil:
		return chat.Admin{}, fmt.Errorf("auth: login: %w", err)
	}
	if bcrypt.CompareHashAndPassword(adm.PasswordHash, []byte(password)) != nil {
		return chat.Admin{}, chat.ErrBadLogin
	}
	return adm, nil
}

func (a *Accounts) build(username, displayName, password string) (chat.Admin, error) {
	username = chat.NormalizeUsername(username)
	if err := chat.CheckUsername(username); err != nil {
		return chat.Admin{}, err
	}
	if err := chat.CheckPassword(password); err != nil {
		return chat.Admin{}, err
	}
	displayName = strings.TrimSpace(displayName)
	if displayName == "" {
		displayName = username
	}
	if utf8.RuneCountInString(displayName) > chat.MaxName {
		return chat.Admin{}, chat.Errorf(chat.CodeInvalid, "display name must be at most %d characters", chat.MaxName)
	}
	hash, err := a.hash(password)
	if err != nil {
		return chat.Admin{}, err
	}
	return chat.Admin{Username: username, DisplayName: displayName, PasswordHash: hash, TokensAfter: chat.Time{Time: time.Now()}}, nil
}

func (a *Accounts) hash(password string) ([]byte, error) {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), a.cost)
	if err != nil {
		return nil, fmt.Errorf("auth: hash password: %w", err)
	}
	return hash, nil
}

// Add creates an owner's account (the CLI's add before roles; AddAs names
// the role).
func (a *Accounts) Add(ctx context.Context, username, displayName, password string) error {
	return a.AddAs(ctx, username, displayName, password, chat.RoleOwner)
}

// AddAs creates an admin account with role.
func (a *Accounts) AddAs(ctx context.Context, username, displayName, password string, role chat.Role) error {
	adm, err := a.build(username, displayName, password)
	if err != nil {
		return err
	}
	adm.Role = role
	return a.store.AddAdmin(ctx, adm)
}

// Create adds the account an owner asked for (POST /api/v1/admin/agents)
// and returns it with its password: the one asked for, or a generated one
// (shown once: only its hash is kept). invalid_request (nothing stored),
// ErrAdminExists.
func (a *Accounts) Create(ctx context.Context, in chat.NewAgent) (chat.Admin, string, error) {
	role, pw, err := in.Normalize()
	if err != nil {
		return chat.Admin{}, "", err
	}
	password := pw.Value
	if pw.Generate {
		password = RandomPassword()
	}
	adm, err := a.build(in.Username, in.DisplayName, password)
	if err != nil {
		return chat.Admin{}, "", err
	}
	adm.Role, adm.Email = role, in.Email
	if err := a.store.AddAdmin(ctx, adm); err != nil {
		return chat.Admin{}, "", err
	}
	return adm, password, nil
}

// Update applies an owner's change of an account (PATCH
// /api/v1/admin/agents/{username}) and returns it, with the new password
// when the change set one (the account's tokens then die at once).
// invalid_request (nothing changed), ErrAdminUnknown, ErrLastOwner (nothing
// changed).
func (a *Accounts) Update(ctx context.Context, username string, in chat.AgentUpdate) (chat.Admin, string, error) {
	username = chat.NormalizeUsername(username)
	ch, pw, err := in.Check()
	if err != nil {
		return chat.Admin{}, "", err
	}
	password := pw.Value
	if pw.Generate {
		password = RandomPassword()
	}
	var hash []byte
	if password != "" {
		if hash, err = a.hash(password); err != nil {
			return chat.Admin{}, "", err
		}
	}
	var adm chat.Admin
	if ch.Empty() {
		adm, err = a.store.Admin(ctx, username)
	} else {
		adm, err = a.store.SetAgent(ctx, username, ch)
	}
	if err != nil {
		return chat.Admin{}, "", err
	}
	if hash == nil {
		return adm, "", nil
	}
	adm.PasswordHash, adm.TokensAfter = hash, chat.Time{Time: time.Now()}
	if err := a.store.UpdateAdmin(ctx, adm); err != nil {
		return chat.Admin{}, "", err
	}
	return adm, password, nil
}

// RemoveAgent deletes an account as an owner asked (DELETE
// /api/v1/admin/agents/{username}): its tokens die at once. It keeps an
// owner: ErrLastOwner. ErrAdminUnknown.
func (a *Accounts) RemoveAgent(ctx context.Context, username string) error {
	return a.store.RemoveAgent(ctx, chat.NormalizeUsername(username))
}

// SetPassword changes an admin's password.
func (a *Accounts) SetPassword(ctx context.Context, username, password string) error {
	old, err := a.store.Admin(ctx, chat.NormalizeUsername(username))
	if err != nil {
		return err
	}
	adm, err := a.build(old.Username, old.DisplayName, password)
	if err != nil {
		return err
	}
	return a.store.UpdateAdmin(ctx, adm)
}

// Remove deletes an admin account.
func (a *Accounts) Remove(ctx context.Context, username string) error {
	return a.store.RemoveAdmin(ctx, chat.NormalizeUsername(username))
}

// Admin returns an account, or chat.ErrAdminUnknown.
func (a *Accounts) Admin(ctx context.Context, username string) (chat.Admin, error) {
	return a.store.Admin(ctx, chat.NormalizeUsername(username))
}

// List returns every admin account.
func (a *Accounts) List(ctx context.Context) ([]chat.Admin, error) {
	return a.store.Admins(ctx)
}

// EnsureFirst creates the first admin when none exists. With an empty
// password a random one is generated and returned so it can be shown once.
func (a *Accounts) EnsureFirst(ctx context.Context, username, password string) (created bool, usedPassword string, err error) {
	if username == "" {
		username = "admin"
	}
	if password == "" {
		password = RandomPassword()
	}
	adm, err := a.build(username, "", password)
	if err != nil {
		return false, "", err
	}
	adm.Role = chat.RoleOwner
	created, err = a.store.AddFirstAdmin(ctx, adm)
	if err != nil || !created {
		return false, "", err
	}
	return true, password, nil
}

// RandomPassword returns a random 20-character password.
func RandomPassword() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// RandomSecret returns a random 32-byte signing secret.
func RandomSecret() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}
