package chat

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
	"time"
)

var lowerBase32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewRoomID returns an unguessable room id: "r_" and 128 random bits.
func NewRoomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return "r_" + lowerBase32.EncodeToString(b[:])
}

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewMessageID returns a ULID: 48 bits of milliseconds and 80 random bits in
// Crockford base32, so ids sort by creation time.
func NewMessageID(t time.Time) string {
	var b [16]byte
	ms := uint64(t.UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	_, _ = rand.Read(b[6:])
	// 128 bits → 26 characters of 5 bits, the first carrying 3 bits.
	var sb strings.Builder
	sb.Grow(26)
	var acc uint64
	var bits uint
	// Prepend two zero bits so 130 bits split evenly.
	acc, bits = 0, 2
	for _, x := range b {
		acc = acc<<8 | uint64(x)
		bits += 8
		for bits >= 5 {
			bits -= 5
			sb.WriteByte(crockford[(acc>>bits)&31])
		}
	}
	return sb.String()
}

// NewTokenID returns a random id for a signed token.
func NewTokenID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return lowerBase32.EncodeToString(b[:])
}

// NewLabelID returns a random label id: "l_" and 50 random bits.
func NewLabelID() string {
	var b [7]byte
	_, _ = rand.Read(b[:])
	return labelIDPrefix + lowerBase32.EncodeToString(b[:])[:10]
}
