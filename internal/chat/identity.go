package chat

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"time"
)

// CodeIdentityOff refuses a signed identity while no PARLEY_IDENTITY_SECRET
// is set: Parley cannot check it, and treating it as anonymous would hide a
// misconfiguration from the site's developer (409 identity_off).
const CodeIdentityOff Code = "identity_off"

// ErrIdentityOff is what a signed identity gets without a secret.
var ErrIdentityOff = &Error{Code: CodeIdentityOff, Message: "verified identity is off on this server: set PARLEY_IDENTITY_SECRET"}

// MaxIdentityID bounds the site's user id.
const MaxIdentityID = 256

// IdentityClaim is what the site's page says about its logged-in user when a
// room is opened. With Signature (the site backend's hex HMAC-SHA256 of ID)
// it is a verified identity once checked; without, ID is only a claim: the
// room is anonymous and shows the id to the team as unverified.
type IdentityClaim struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Email     string `json:"email"`
	Signature string `json:"signature"`
}

// Identity is a user of the site whose id its backend signed.
type Identity struct {
	ID    string
	Name  string
	Email string
}

// IdentityVerifier checks what the site's backend signed with the secret it
// shares with Parley (internal/auth implements it).
type IdentityVerifier interface {
	// VerifySignature returns nil when sig is the HMAC of id, else an
	// unauthorized *Error.
	VerifySignature(id, sig string) error
	// VerifyToken returns the identity a site's token carries, or an
	// unauthorized *Error (bad signature, expired, too long-lived…).
	VerifyToken(token string, now time.Time) (Identity, error)
}

// IdentityHash is the name an identity is indexed under: the user id itself
// is never part of a key.
func IdentityHash(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// normalizeIdentity checks the claim of a NewRoom; its name and email fill
// the room's where the request's own are empty.
func (r *NewRoom) normalizeIdentity() error {
	if r.Identity != nil && r.IdentityToken != "" {
		return invalid("give identity or identityToken, not both")
	}
	if len(r.IdentityToken) > 4096 {
		return invalid("identityToken must be at most 4096 bytes")
	}
	c := r.Identity
	if c == nil {
		return nil
	}
	c.ID = strings.TrimSpace(c.ID)
	c.Name = strings.TrimSpace(c.Name)
	c.Email = strings.TrimSpace(c.Email)
	c.Signature = strings.TrimSpace(c.Signature)
	if c.ID == "" {
		return invalid("identity.id is required")
	}
	if err := checkText("identity.id", c.ID, MaxIdentityID); err != nil {
		return err
	}
	if len(c.Signature) > 128 {
		return invalid("identity.signature must be at most 128 characters")
	}
	if err := checkText("identity.name", c.Name, MaxName); err != nil {
		return err
	}
	if c.Email != "" && (len(c.Email) > MaxEmail || !validEmail(c.Email)) {
		return invalid("identity.email must be a valid address of at most %d characters", MaxEmail)
	}
	if r.Name == "" {
		r.Name = c.Name
	}
	if r.Email == "" {
		r.Email = c.Email
	}
	return nil
}

// signed tells whether in asks for a verified identity.
func (r NewRoom) signed() bool {
	return r.IdentityToken != "" || (r.Identity != nil && r.Identity.Signature != "")
}

// verifyIdentity checks the signed identity of in. ErrIdentityOff without a
// verifier, an unauthorized *Error when the signature or token is bad.
func (s *Service) verifyIdentity(in NewRoom) (Identity, error) {
	if s.identity == nil {
		return Identity{}, ErrIdentityOff
	}
	if in.IdentityToken != "" {
		id, err := s.identity.VerifyToken(in.IdentityToken, s.now())
		if err != nil {
			return Identity{}, err
		}
		id.Name, id.Email = strings.TrimSpace(id.Name), strings.TrimSpace(id.Email)
		// Claims the room could not store are dropped, not refused: the
		// token is good, and the site's name or email is only a detail.
		if checkText("name", id.Name, MaxName) != nil {
			id.Name = ""
		}
		if id.Email != "" && (len(id.Email) > MaxEmail || !validEmail(id.Email)) {
			id.Email = ""
		}
		if id.ID == "" || checkText("sub", id.ID, MaxIdentityID) != nil {
			return Identity{}, Errorf(CodeUnauthorized, "identityToken: sub must be a user id of 1 to %d characters", MaxIdentityID)
		}
		return id, nil
	}
	c := in.Identity
	if err := s.identity.VerifySignature(c.ID, c.Signature); err != nil {
		return Identity{}, err
	}
	return Identity{ID: c.ID, Name: c.Name, Email: c.Email}, nil
}

// openVerified is a verified user opening the chat on any device: they get
// the room of their identity while it exists (created=false), else a new one
// that the identity's index points to from then on. Two devices opening at
// once end in one room: the store creates it only when no live room holds the
// identity, and the loser resumes the winner's.
func (s *Service) openVerified(ctx context.Context, in NewRoom, id Identity, clientIP string) (Room, bool, error) {
	hash := IdentityHash(id.ID)
	holder, wait := "", holderFirstWait
	for attempt := 0; attempt < holderAttempts; attempt++ {
		roomID, err := s.store.IdentityRoom(ctx, hash)
		if err == nil {
			r, err := s.resumeVerified(ctx, roomID, in, id)
			if !errors.Is(err, ErrRoomNotFound) {
				return r, false, err
			}
			if roomID == holder {
				// Another device's room, still being created: wait for
				// it, a little longer each time, rather than create again
				// (which would find it still held) or answer with an error.
				if err := sleep(ctx, wait); err != nil {
					return Room{}, false, err
				}
				wait = min(2*wait, holderMaxWait)
				continue
			}
			if err := s.refuseWasBlocked(ctx, roomID); err != nil {
				return Room{}, false, err
			}
		} else if !errors.Is(err, ErrRoomNotFound) {
			return Room{}, false, err
		}
		if err := s.refuseBlockedClient(ctx, clientIP); err != nil {
			return Room{}, false, err
		}
		if err := s.allow(ctx, s.limits.Rooms, "rooms:"+s.ipKey(clientIP)); err != nil {
			return Room{}, false, err
		}
		now := Time{s.now().UTC()}
		var r Room
		r, holder, err = s.store.CreateIdentityRoom(ctx, Room{
			ID: NewRoomID(), VisitorName: firstOf(id.Name, in.Name), VisitorEmail: firstOf(id.Email, in.Email), Page: in.Page,
			CreatedAt: now, UpdatedAt: now, ClientKey: s.ipKey(clientIP), UserID: id.ID, Verified: true,
		}, hash)
		if err != nil {
			return Room{}, false, err
		}
		if holder == "" {
			return r, true, nil
		}
		// Another device created it first: resume theirs (the loop reads
		// the index again, which now names it).
	}
	return Room{}, false, ErrTimeout
}

// A device that finds its identity's room still being created by another
// device reads it again up to holderAttempts times, waiting from
// holderFirstWait, doubled each time up to holderMaxWait: about 3 s in all,
// far longer than a create takes even on a loaded store. A creator that
// crashed leaves the identity held until the reconciler drops its
// registration; until then the open answers ErrTimeout and is retried.
const (
	holderAttempts  = 12
	holderFirstWait = 5 * time.Millisecond
	holderMaxWait   = 500 * time.Millisecond
)

// sleep waits d, or answers ErrTimeout when ctx ends first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ErrTimeout
	case <-t.C:
		return nil
	}
}

// resumeVerified opens the room of a verified identity again. Unlike an
// anonymous visitor's, its name and email follow what the site says now.
func (s *Service) resumeVerified(ctx context.Context, roomID string, in NewRoom, id Identity) (Room, error) {
	r, err := s.resumeRoom(ctx, roomID, NewRoom{Page: in.Page})
	if err != nil {
		return Room{}, err
	}
	name, email := firstOf(id.Name, r.VisitorName), firstOf(id.Email, r.VisitorEmail)
	if name == r.VisitorName && email == r.VisitorEmail {
		return r, nil
	}
	return s.store.SetVisitorDetails(ctx, roomID, name, email)
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
