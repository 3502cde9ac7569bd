package mail

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// Purpose is what a signed token may be used for; a token signed for one
// purpose is refused for every other.
type Purpose byte

const (
	// PurposeReply: the reply address reply+<token>@PARLEY_INBOUND_DOMAIN.
	PurposeReply Purpose = 1
	// PurposeUnsubscribe: the one-click unsubscribe link and mailto.
	PurposeUnsubscribe Purpose = 2
	// PurposeOpen: the visitor's link that reopens the conversation.
	PurposeOpen Purpose = 3
)

// Recipient is who a mail is for, and who a reply to it is from: the room's
// visitor (Agent == "") or the agent with that username.
type Recipient struct {
	Agent string `json:"agent,omitempty"`
}

// Visitor is the room's visitor as a recipient.
var Visitor = Recipient{}

// IsVisitor tells whether r is the room's visitor.
func (r Recipient) IsVisitor() bool { return r.Agent == "" }

// Claims is what a valid token says.
type Claims struct {
	Purpose Purpose
	RoomID  string
	Expires time.Time
	// agent and tag name the recipient: agent tells visitor from agent, tag
	// is a keyed 32-bit digest of the agent's username (use Signer.IsFor).
	agent bool
	tag   [4]byte
}

// IsAgent tells whether the token was made for an agent (see
// Signer.IsFor for which one) rather than the room's visitor.
func (c Claims) IsAgent() bool { return c.agent }

// Token errors. Verify returns exactly one of them; callers answer all
// three alike (a refused address, a dead link) and log which it was.
var (
	ErrTokenMalformed = errors.New("mail: token malformed or forged")
	ErrTokenExpired   = errors.New("mail: token expired")
	ErrTokenPurpose   = errors.New("mail: token made for another purpose")
)

// The token is 33 bytes, base32 without padding in lower case: 53
// characters, so "reply+" and a token make a 59-character local part
// (RFC 5321 allows 64), and a mail system that folds the case of a local
// part does not break it.
//
//	byte 0       purpose << 4 | kind (0 visitor, 1 agent)
//	bytes 1-4    expiry, Unix seconds, big-endian
//	bytes 5-20   the room id's 128 random bits ("r_" + 26 base32 chars)
//	bytes 21-24  recipient tag: HMAC-SHA256(tagKey, username)[:4]; zero for the visitor
//	bytes 25-32  HMAC-SHA256(macKey, bytes 0-24)[:8]
//
// Security margin: the MAC is truncated to 64 bits. A forger without the
// key has to guess, one SMTP RCPT or HTTP request per guess: at a million
// guesses a second, an even chance of one hit takes ~290,000 years. The
// 32-bit recipient tag is not a secret and carries no security (the MAC
// covers it); it only tells which agent of a few a token names, because a
// username of up to 64 bytes does not fit in a local part. Two agents whose
// tags collide (about 1 in 4 billion per pair) are both refused.
const (
	tokenLen  = 33
	macOffset = 25
)

var tokenEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// Signer makes and checks signed tokens with keys derived from the server
// secret, so a token is good on every instance sharing that secret and
// rotating the secret invalidates every token.
type Signer struct {
	macKey []byte
	tagKey []byte
}

// NewSigner derives the token keys from secret (the server's JWT secret:
// PARLEY_JWT_SECRET or the one kept in Redis).
func NewSigner(secret []byte) *Signer {
	derive := func(label string) []byte {
		h := hmac.New(sha256.New, secret)
		h.Write([]byte(label))
		return h.Sum(nil)
	}
	return &Signer{macKey: derive("parley/mail-token/v1"), tagKey: derive("parley/mail-recipient/v1")}
}

// Sign returns a token for purpose, room and recipient, good until
// expires. It fails only for a room id that is not Parley's shape.
func (s *Signer) Sign(p Purpose, roomID string, r Recipient, expires time.Time) (string, error) {
	if !chat.ValidRoomID(roomID) {
		return "", errors.New("mail: sign: not a room id")
	}
	room, err := tokenEncoding.DecodeString(strings.TrimPrefix(roomID, "r_"))
	if err != nil || len(room) != 16 {
		return "", errors.New("mail: sign: not a room id")
	}
	var b [tokenLen]byte
	b[0] = byte(p) << 4
	if !r.IsVisitor() {
		b[0] |= 1
		tag := s.tag(r.Agent)
		copy(b[21:25], tag[:])
	}
	binary.BigEndian.PutUint32(b[1:5], uint32(expires.Unix()))
	copy(b[5:21], room)
	copy(b[macOffset:], s.mac(b[:macOffset]))
	return tokenEncoding.EncodeToString(b[:]), nil
}

// Verify checks token for purpose at now. It returns ErrTokenMalformed for
// anything not signed with this secret, ErrTokenPurpose for a token of
// another purpose, ErrTokenExpired for one past its expiry.
func (s *Signer) Verify(token string, p Purpose, now time.Time) (Claims, error) {
	if len(token) != tokenEncoding.EncodedLen(tokenLen) {
		return Claims{}, ErrTokenMalformed
	}
	token = strings.ToLower(token)
	b, err := tokenEncoding.DecodeString(token)
	// The last character carries one unused bit: only the canonical
	// spelling is the token, so one mail has one reply address.
	if err != nil || len(b) != tokenLen || tokenEncoding.EncodeToString(b) != token {
		return Claims{}, ErrTokenMalformed
	}
	if !hmac.Equal(b[macOffset:], s.mac(b[:macOffset])) {
		return Claims{}, ErrTokenMalformed
	}
	c := Claims{
		Purpose: Purpose(b[0] >> 4),
		RoomID:  "r_" + tokenEncoding.EncodeToString(b[5:21]),
		Expires: time.Unix(int64(binary.BigEndian.Uint32(b[1:5])), 0),
		agent:   b[0]&1 == 1,
	}
	copy(c.tag[:], b[21:25])
	if c.Purpose != p {
		return Claims{}, ErrTokenPurpose
	}
	if !now.Before(c.Expires) {
		return Claims{}, ErrTokenExpired
	}
	return c, nil
}

// IsFor tells whether the verified claims name recipient r.
func (s *Signer) IsFor(c Claims, r Recipient) bool {
	if r.IsVisitor() {
		return !c.agent
	}
	tag := s.tag(r.Agent)
	return c.agent && hmac.Equal(tag[:], c.tag[:])
}

func (s *Signer) mac(b []byte) []byte {
	h := hmac.New(sha256.New, s.macKey)
	h.Write(b)
	return h.Sum(nil)[:tokenLen-macOffset]
}

func (s *Signer) tag(username string) [4]byte {
	h := hmac.New(sha256.New, s.tagKey)
	h.Write([]byte(username))
	var t [4]byte
	copy(t[:], h.Sum(nil))
	return t
}
