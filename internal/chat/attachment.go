package chat

import (
	"context"
	"crypto/rand"
	"regexp"
	"time"
)

// Attachment is a file a visitor or an agent uploaded into a room. A message
// names it by ID; URL serves it to a holder of the room's visitor token or an
// admin token, ThumbnailURL (images only) a small JPEG or PNG of it.
type Attachment struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Size         int64  `json:"size"`
	Type         string `json:"type"`
	URL          string `json:"url"`
	ThumbnailURL string `json:"thumbnailUrl,omitempty"`
}

// The attachments' error codes (docs/API.md).
const (
	CodeAttachmentTooLarge Code = "attachment_too_large"
	CodeAttachmentType     Code = "attachment_type_not_allowed"
	CodeImageTooLarge      Code = "image_too_large"
	CodeAttachmentUnknown  Code = "attachment_unknown"
	CodeAttachmentUsed     Code = "attachment_used"
	CodeTooManyAttachments Code = "too_many_attachments"
)

// MaxAttachments is how many files one message may carry.
const MaxAttachments = 10

// PendingAttachmentTTL is how long an uploaded attachment waits to be sent;
// after it, the sweeper deletes it.
const PendingAttachmentTTL = time.Hour

// Errors of the attachments.
var (
	ErrAttachmentUnknown = &Error{Code: CodeAttachmentUnknown, Message: "no such attachment in this room (or it expired before it was sent)"}
	ErrAttachmentUsed    = &Error{Code: CodeAttachmentUsed, Message: "this attachment was already sent in a message"}
)

var attachmentIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{8,40}$`)

// ValidAttachmentID reports whether id is shaped like an id NewAttachmentID
// makes.
func ValidAttachmentID(id string) bool { return attachmentIDPattern.MatchString(id) }

// NewAttachmentID returns a fresh random attachment id.
func NewAttachmentID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return "a_" + lowerBase32.EncodeToString(b[:])
}

// AttachmentStore keeps the attachments' metadata (the bytes are in a blob
// store) and the schedule of the sweeper that deletes them with their room.
type AttachmentStore interface {
	// PutAttachment records an uploaded attachment of a room as waiting to
	// be sent until pendingUntil, and schedules the room's sweep.
	// ErrRoomNotFound when the room is gone.
	PutAttachment(ctx context.Context, roomID string, a Attachment, pendingUntil time.Time) error
	// Attachment returns an attachment of a room, sent or not, or
	// ErrAttachmentUnknown.
	Attachment(ctx context.Context, roomID, id string) (Attachment, error)
	// ClaimAttachmentRooms returns up to n rooms whose sweep is due at now,
	// each claimed for lease: another instance does not get them meanwhile.
	ClaimAttachmentRooms(ctx context.Context, now time.Time, lease time.Duration, n int) ([]string, error)
	// ExpireAttachments forgets the attachments of a room that waited past
	// now unsent, returning their ids (the caller deletes their bytes), and
	// schedules the room's next sweep. gone is true when the room no longer
	// exists: then nothing is forgotten, the caller deletes every file of
	// the room and calls ForgetAttachmentRoom.
	ExpireAttachments(ctx context.Context, roomID string, now time.Time) (gone bool, expired []string, err error)
	// ForgetAttachmentRoom removes what is left of a gone room's
	// attachments and its sweep.
	ForgetAttachmentRoom(ctx context.Context, roomID string) error
}

// normalizeAttachments checks the ids a message names: well formed, at most
// MaxAttachments, none twice.
func normalizeAttachments(ids []string) error {
	if len(ids) > MaxAttachments {
		return Errorf(CodeTooManyAttachments, "a message may carry at most %d attachments", MaxAttachments)
	}
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if !ValidAttachmentID(id) {
			return ErrAttachmentUnknown
		}
		if seen[id] {
			return invalid("attachments must not name an attachment twice")
		}
		seen[id] = true
	}
	return nil
}

// AllowUpload lets a room's visitor at clientIP upload a file, counting it
// against the uploads limit (rate_limited when over it). A blocked visitor
// gets ErrBlocked, as their sends do, whether the room or the address is
// blocked; a room that is gone, ErrRoomNotFound. Both are checked before
// the file is read, so nothing is stored for them.
func (s *Service) AllowUpload(ctx context.Context, roomID, clientIP string) error {
	if err := s.refuseBlockedClient(ctx, clientIP); err != nil {
		return err
	}
	r, err := s.Room(ctx, roomID)
	if err != nil {
		return err
	}
	if r.Blocked {
		return ErrBlocked
	}
	return s.allow(ctx, s.limits.Uploads, "uploads:"+roomID)
}
