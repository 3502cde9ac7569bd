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
	MinPassword = 8
	// MaxPassword is bcrypt's input limit in bytes.
	MaxPassword = 72
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
	if username == "" || len(username) > MaxUsername || strings.ContainsAny(username, " \t\r\n:") {
		return chat.Admin{}, chat.Errorf(chat.CodeInvalid, "username must be 1-%d characters without spaces or colons", MaxUsername)
	}
	if utf8.RuneCountInString(password) < MinPassword || len(password) > MaxPassword {
		return chat.Admin{}, chat.Errorf(chat.CodeInvalid, "password must be %d-%d characters", MinPassword, MaxPassword)
	}
	displayName = strings.TrimSpace(displayName)
	if displayName == "" {
		displayName = username
	}
	if utf8.RuneCountInString(displayName) > chat.MaxName {
		return chat.Admin{}, chat.Errorf(chat.CodeInvalid, "display name must be at most %d characters", chat.MaxName)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), a.cost)
	if err != nil {
		return chat.Admin{}, fmt.Errorf("auth: hash password: %w", err)
	}
	return chat.Admin{Username: username, DisplayName: displayName, PasswordHash: hash, TokensAfter: chat.Time{Time: time.Now()}}, nil
}

// Add creates an admin account.
func (a *Accounts) Add(ctx context.Context, username, displayName, password string) error {
	adm, err := a.build(username, displayName, password)
	if err != nil {
		return err
	}
	return a.store.AddAdmin(ctx, adm)
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
