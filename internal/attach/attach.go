// Package attach owns what happens to an attachment between the upload and
// the blob store, and after: its type is sniffed against an allow-list, an
// image's metadata (EXIF, GPS, text chunks) is stripped as it streams
// through, a thumbnail is made, the metadata is recorded in the store only
// once the bytes are stored, and a sweeper deletes the files of rooms that
// were deleted or expired and of attachments never sent. It knows nothing
// of HTTP or Redis.
package attach

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp" // decodes webp for thumbnails

	"github.com/parley-chat/parley/internal/blob"
	"github.com/parley-chat/parley/internal/chat"
)

// Defaults for the zero values of Config.
const (
	DefaultMaxSize   = 10 << 20
	DefaultMaxPixels = 24_000_000
	DefaultThumbSize = 320
	// SweepEvery is how often Run looks for rooms to sweep.
	SweepEvery = 30 * time.Second
	// sweepLease is how long a claimed room is another instance's to skip.
	sweepLease = 5 * time.Minute
)

// Config configures a Service. Blobs and Store are required.
type Config struct {
	Blobs blob.Store
	Store chat.AttachmentStore
	// Secret signs the attachments' links (mail transcripts).
	Secret []byte
	// MaxSize bounds one file in bytes (PARLEY_ATTACHMENT_MAX).
	MaxSize int64
	// MaxPixels refuses an image larger than this many pixels before it
	// is decoded: a thumbnail's decode costs 4 bytes a pixel.
	MaxPixels int
	// MaxDecodeBytes bounds the memory one thumbnail's decode may take, as
	// estimated from the image's header (decodeCost); an image over it is
	// stored without a thumbnail. Default MaxPixels × 4 (an RGBA image of
	// MaxPixels).
	MaxDecodeBytes int64
	// ThumbSize is the longest edge of a thumbnail.
	ThumbSize int
	// Concurrency bounds the thumbnails decoded at once on this instance;
	// default DefaultConcurrency().
	Concurrency int
	Log         *slog.Logger
	Now         func() time.Time
}

// Service handles attachments. Build it with New.
type Service struct {
	cfg   Config
	thumb chan struct{}
	key   []byte
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.MaxSize <= 0 {
		cfg.MaxSize = DefaultMaxSize
	}
	if cfg.MaxPixels <= 0 {
		cfg.MaxPixels = DefaultMaxPixels
	}
	if cfg.ThumbSize <= 0 {
		cfg.ThumbSize = DefaultThumbSize
	}
	if cfg.MaxDecodeBytes <= 0 {
		cfg.MaxDecodeBytes = int64(cfg.MaxPixels) * 4
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	m := hmac.New(sha256.New, cfg.Secret)
	m.Write([]byte("parley attachment link v1"))
	return &Service{cfg: cfg, thumb: make(chan struct{}, cfg.Concurrency), key: m.Sum(nil)}
}

// DefaultConcurrency is how many thumbnails an instance decodes at once
// unless told: 1 on up to 2 CPUs (GOMAXPROCS), 2 on more. Each decode may
// take up to MaxDecodeBytes, so this bounds the instance's peak.
func DefaultConcurrency() int {
	if runtime.GOMAXPROCS(0) <= 2 {
		return 1
	}
	return 2
}

// MaxSize is the largest file accepted, in bytes.
func (s *Service) MaxSize() int64 { return s.cfg.MaxSize }

// Errors of an upload.
var (
	ErrEmpty       = &chat.Error{Code: chat.CodeInvalid, Message: "the file is empty"}
	ErrTruncated   = &chat.Error{Code: chat.CodeInvalid, Message: "the upload was cut short; nothing was stored"}
	ErrBadImage    = &chat.Error{Code: chat.CodeInvalid, Message: "the image cannot be read; nothing was stored"}
	ErrTypeRefused = &chat.Error{Code: chat.CodeAttachmentType, Message: "this type of file is not allowed: send an image, a PDF, a text or an office document"}
	ErrImagePixels = &chat.Error{Code: chat.CodeImageTooLarge, Message: "the image has too many pixels"}
)

func (s *Service) errTooLarge() error {
	return chat.Errorf(chat.CodeAttachmentTooLarge, "the file is larger than %d MB", s.cfg.MaxSize>>20)
}

// Key returns the blob key of an attachment, or of its thumbnail.
func Key(roomID, id string, thumb bool) string {
	k := "rooms/" + roomID + "/" + id
	if thumb {
		k += ".thumb"
	}
	return k
}

// partKey is where a WebP is stored while its header is put right: the
// bytes are already stripped, and the room's DeletePrefix covers it.
func partKey(roomID, id string) string { return Key(roomID, id, false) + ".part" }

func roomPrefix(roomID string) string { return "rooms/" + roomID + "/" }

// URL is where an attachment is served (docs/API.md).
func URL(roomID, id string) string { return "/api/v1/rooms/" + roomID + "/attachments/" + id }

// Upload stores a file a client sends into a room: body is its bytes, name
// what the client called it. The returned attachment is stored, bytes and
// metadata both, and waits to be sent for chat.PendingAttachmentTTL.
// Errors: attachment_too_large, attachment_type_not_allowed,
// image_too_large, invalid_request (empty, cut short, a broken image),
// room_not_found; nothing is stored on any of them.
func (s *Service) Upload(ctx context.Context, roomID, name string, body io.Reader) (chat.Attachment, error) {
	src := &source{r: body, left: s.cfg.MaxSize + 1}
	br := bufio.NewReaderSize(src, 4096)
	head, err := br.Peek(512)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return chat.Attachment{}, s.sourceErr(src, err)
	}
	if len(head) == 0 {
		return chat.Attachment{}, ErrEmpty
	}
	typ, ok := Sniff(head)
	if !ok {
		return chat.Attachment{}, ErrTypeRefused
	}
	id := chat.NewAttachmentID()
	key := Key(roomID, id, false)
	// A stripped WebP's size goes in its header, known only at its end: it
	// is stored under a part key first, then copied with the size put right.
	putKey := key
	if typ == "image/webp" {
		putKey = partKey(roomID, id)
	}
	var riffSize uint32

	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		var err error
		switch typ {
		case "image/jpeg":
			err = stripJPEG(pw, br)
		case "image/png":
			err = stripPNG(pw, br)
		case "image/webp":
			riffSize, err = stripWebP(pw, br)
		default:
			_, err = io.Copy(pw, br)
		}
		if err == nil && src.over {
			err = errTooBig
		}
		pw.CloseWithError(err)
		done <- err
	}()
	size, err := s.cfg.Blobs.Put(ctx, putKey, pr, -1, typ)
	_ = pr.CloseWithError(errors.New("attach: upload ended")) // unblocks the filter on a failed Put
	if ferr := <-done; ferr != nil {
		_ = s.cfg.Blobs.Delete(context.WithoutCancel(ctx), putKey)
		return chat.Attachment{}, s.sourceErr(src, ferr)
	}
	if err != nil {
		return chat.Attachment{}, err
	}
	if putKey != key {
		size, err = s.finishWebP(ctx, putKey, key, riffSize)
		if derr := s.cfg.Blobs.Delete(context.WithoutCancel(ctx), putKey); derr != nil {
			s.cfg.Log.Warn("attachment part not deleted", "room_id", roomID, "attachment_id", id, "err", derr)
		}
		if err != nil {
			s.removeFiles(context.WithoutCancel(ctx), roomID, id)
			return chat.Attachment{}, err
		}
	}

	a := chat.Attachment{ID: id, Name: SanitizeName(name), Size: size, Type: typ, URL: URL(roomID, id)}
	if Inline(typ) {
		made, err := s.makeThumb(ctx, roomID, id, typ)
		if err != nil {
			s.removeFiles(context.WithoutCancel(ctx), roomID, id)
			return chat.Attachment{}, err
		}
		if made {
			a.ThumbnailURL = a.URL + "?variant=thumb"
		}
	}
	if err := s.cfg.Store.PutAttachment(ctx, roomID, a, s.cfg.Now().Add(chat.PendingAttachmentTTL)); err != nil {
		s.removeFiles(context.WithoutCancel(ctx), roomID, id)
		return chat.Attachment{}, err
	}
	return a, nil
}

var errTooBig = errors.New("attach: over the size limit")

// finishWebP copies the stripped WebP stored under from to key to, with
// the RIFF size in its header set to riffSize; it returns the bytes stored.
// It streams, blob to blob.
func (s *Service) finishWebP(ctx context.Context, from, to string, riffSize uint32) (int64, error) {
	rc, n, err := s.cfg.Blobs.Open(ctx, from)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	if n != int64(riffSize)+8 {
		return 0, fmt.Errorf("attach: webp part holds %d bytes, want %d", n, int64(riffSize)+8)
	}
	var hdr [8]byte
	if _, err := io.ReadFull(rc, hdr[:]); err != nil {
		return 0, fmt.Errorf("attach: webp part: %w", err)
	}
	binary.LittleEndian.PutUint32(hdr[4:], riffSize)
	return s.cfg.Blobs.Put(ctx, to, io.MultiReader(bytes.NewReader(hdr[:]), rc), n, "image/webp")
}

// sourceErr names what went wrong reading an upload: over the limit, the
// client's body ended early, or a broken image.
func (s *Service) sourceErr(src *source, err error) error {
	var mb *http.MaxBytesError
	switch {
	case src.over || errors.Is(err, errTooBig) || errors.As(src.err, &mb):
		return s.errTooLarge()
	case src.err != nil:
		return ErrTruncated
	case errors.Is(err, errBadImage):
		return ErrBadImage
	}
	return err
}

func (s *Service) removeFiles(ctx context.Context, roomID, id string) {
	for _, thumb := range []bool{false, true} {
		if err := s.cfg.Blobs.Delete(ctx, Key(roomID, id, thumb)); err != nil {
			s.cfg.Log.Warn("attachment not deleted", "room_id", roomID, "attachment_id", id, "err", err)
		}
	}
}

// makeThumb stores a thumbnail of a stored image, after checking its size
// from its header: an image of too many pixels is refused undecoded
// (ErrImagePixels), and one whose decode would take more than
// MaxDecodeBytes gets no thumbnail (made is false; the file is fine). At
// most Concurrency decodes run at once; a request waiting for its turn
// ends with its ctx.
func (s *Service) makeThumb(ctx context.Context, roomID, id, typ string) (made bool, err error) {
	rc, _, err := s.cfg.Blobs.Open(ctx, Key(roomID, id, false))
	if err != nil {
		return false, err
	}
	cost, cfg, err := decodeCost(bufio.NewReader(rc), typ)
	_ = rc.Close()
	if err != nil {
		return false, ErrBadImage
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > s.cfg.MaxPixels {
		return false, ErrImagePixels
	}
	if cost > s.cfg.MaxDecodeBytes {
		s.cfg.Log.Info("image stored without a thumbnail: its decode is over the budget",
			"room_id", roomID, "attachment_id", id, "type", typ, "width", cfg.Width, "height", cfg.Height,
			"decode_bytes", cost, "budget", s.cfg.MaxDecodeBytes)
		return false, nil
	}
	select {
	case s.thumb <- struct{}{}:
		defer func() { <-s.thumb }()
	case <-ctx.Done():
		return false, ctx.Err()
	}
	rc, _, err = s.cfg.Blobs.Open(ctx, Key(roomID, id, false))
	if err != nil {
		return false, err
	}
	img, _, err := image.Decode(bufio.NewReader(rc))
	_ = rc.Close()
	if err != nil {
		return false, ErrBadImage
	}
	w, h := cfg.Width, cfg.Height
	if m := s.cfg.ThumbSize; w > m || h > m {
		if w >= h {
			w, h = m, max(1, h*m/w)
		} else {
			w, h = max(1, w*m/h), m
		}
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), img, img.Bounds(), draw.Src, nil)
	img = nil // the decoded picture can go before the encode
	var buf bytes.Buffer
	if typ == "image/jpeg" {
		err = jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 80})
	} else {
		err = png.Encode(&buf, dst)
	}
	if err != nil {
		return false, fmt.Errorf("attach: thumbnail: %w", err)
	}
	if _, err = s.cfg.Blobs.Put(ctx, Key(roomID, id, true), &buf, int64(buf.Len()), ThumbType(typ)); err != nil {
		return false, err
	}
	return true, nil
}

// ThumbType is the type of the thumbnail of an image of type typ.
func ThumbType(typ string) string {
	if typ == "image/jpeg" {
		return "image/jpeg"
	}
	return "image/png"
}

var _ = gif.Decode // registers the gif decoder for thumbnails

// Open returns an attachment of a room and its bytes (its thumbnail's, with
// thumb, which only images have). chat.ErrAttachmentUnknown when the room
// has no such attachment.
func (s *Service) Open(ctx context.Context, roomID, id string, thumb bool) (chat.Attachment, io.ReadCloser, int64, error) {
	if !chat.ValidAttachmentID(id) {
		return chat.Attachment{}, nil, 0, chat.ErrAttachmentUnknown
	}
	a, err := s.cfg.Store.Attachment(ctx, roomID, id)
	if err != nil {
		return chat.Attachment{}, nil, 0, err
	}
	if thumb && a.ThumbnailURL == "" {
		return chat.Attachment{}, nil, 0, chat.ErrAttachmentUnknown
	}
	rc, n, err := s.cfg.Blobs.Open(ctx, Key(roomID, id, thumb))
	if errors.Is(err, blob.ErrNotFound) {
		return chat.Attachment{}, nil, 0, chat.ErrAttachmentUnknown
	}
	if err != nil {
		return chat.Attachment{}, nil, 0, err
	}
	return a, rc, n, nil
}

// Sign returns the query (exp=…&sig=…) that lets anyone holding it fetch
// one attachment until exp: for the links of mail transcripts, whose
// readers have no token.
func (s *Service) Sign(roomID, id string, exp time.Time) string {
	e := strconv.FormatInt(exp.Unix(), 10)
	return "exp=" + e + "&sig=" + s.sig(roomID, id, e)
}

// Verify checks a signed link's exp and sig.
func (s *Service) Verify(roomID, id, exp, sig string) bool {
	e, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || time.Unix(e, 0).Before(s.cfg.Now()) {
		return false
	}
	return hmac.Equal([]byte(sig), []byte(s.sig(roomID, id, exp)))
}

func (s *Service) sig(roomID, id, exp string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(roomID + "\x00" + id + "\x00" + exp))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// PurgeRoom deletes the files of a room that was deleted (the store keeps
// it due for the sweeper until this succeeds).
func (s *Service) PurgeRoom(ctx context.Context, roomID string) error {
	return s.sweepRoom(ctx, roomID, s.cfg.Now())
}

// Sweep deletes the files of the due rooms that are gone and of attachments
// that waited past now unsent; it returns how many rooms it looked at.
// Instances may sweep at once: a room is claimed by one.
func (s *Service) Sweep(ctx context.Context, now time.Time) (int, error) {
	ids, err := s.cfg.Store.ClaimAttachmentRooms(ctx, now, sweepLease, 100)
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		if err := s.sweepRoom(ctx, id, now); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

func (s *Service) sweepRoom(ctx context.Context, roomID string, now time.Time) error {
	if !chat.ValidRoomID(roomID) {
		return s.cfg.Store.ForgetAttachmentRoom(ctx, roomID)
	}
	gone, expired, err := s.cfg.Store.ExpireAttachments(ctx, roomID, now)
	if err != nil {
		return err
	}
	if gone {
		if err := s.cfg.Blobs.DeletePrefix(ctx, roomPrefix(roomID)); err != nil {
			return err
		}
		return s.cfg.Store.ForgetAttachmentRoom(ctx, roomID)
	}
	for _, id := range expired {
		s.removeFiles(ctx, roomID, id)
	}
	return nil
}

// Run sweeps every SweepEvery until ctx ends.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(SweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for {
				n, err := s.Sweep(ctx, s.cfg.Now())
				if err != nil {
					if ctx.Err() == nil {
						s.cfg.Log.Warn("attachment sweep failed", "err", err)
					}
					break
				}
				if n < 100 {
					break
				}
			}
		}
	}
}

// source reads an upload's body up to a limit, and remembers how it failed.
type source struct {
	r    io.Reader
	left int64
	over bool
	err  error
}

func (s *source) Read(p []byte) (int, error) {
	if s.left <= 0 {
		s.over = true
		return 0, errTooBig
	}
	if int64(len(p)) > s.left {
		p = p[:s.left]
	}
	n, err := s.r.Read(p)
	s.left -= int64(n)
	if s.left <= 0 {
		s.over = true
		return n, errTooBig
	}
	if err != nil && !errors.Is(err, io.EOF) {
		s.err = err
	}
	return n, err
}
