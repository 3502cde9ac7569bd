package chat

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// VisitorSplits is how many visitors one client (one IP key and user agent)
// can count as in a day, whatever visitorIds it sends: enough to tell apart
// a few people behind one address with the same browser, too few to inflate
// the counter.
const VisitorSplits = 4

// visitSaltTTL keeps a day's salt through the day in every time zone's
// reckoning and a little after; then nothing can link the day's hashes to an
// address any more.
const visitSaltTTL = 48 * time.Hour

// newVisitSalt is a candidate for the day's salt: the first one stored wins.
func newVisitSalt() []byte {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return b
}

// visitorHash is the member a view counts under in the day's distinct
// visitors: a hash of the day's secret salt, the client's key and its user
// agent, so the count needs nothing stored on the visitor's device, and what
// Redis keeps cannot be tied to an address once the salt has expired. A
// visitorId only picks one of VisitorSplits buckets of that client.
func visitorHash(salt []byte, clientKey, userAgent, visitorID string) string {
	bucket := byte(0)
	if visitorID != "" {
		sum := sha256.Sum256(append(append([]byte{}, salt...), visitorID...))
		bucket = sum[0] % VisitorSplits
	}
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte{0})
	h.Write([]byte(clientKey))
	h.Write([]byte{0})
	h.Write([]byte(userAgent))
	h.Write([]byte{0, bucket})
	return hex.EncodeToString(h.Sum(nil)[:16])
}
