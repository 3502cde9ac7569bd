package httpapi

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parley-chat/parley/internal/attach"
	"github.com/parley-chat/parley/internal/chat"
)

// uploadTimeout bounds an upload: longer than the API's other requests, as
// a 10 MB file on a slow line takes a while.
const uploadTimeout = 2 * time.Minute

// multipartSlack is what a multipart body may hold beyond the file: the
// boundaries and the part headers.
const multipartSlack = 16 << 10

// maxParts bounds the parts read before the file's.
const maxParts = 4

var (
	errBadMultipart = &chat.Error{Code: chat.CodeInvalid, Message: "want a multipart/form-data body with the file in the field \"file\""}
	errAttachOff    = &chat.Error{Code: chat.CodeNotFound, Message: "attachments are off on this server"}
)

type attachmentBody struct {
	Attachment chat.Attachment `json:"attachment"`
}

// isUpload reports whether the request is one of the upload routes, whose
// body limit is the attachments'.
func isUpload(c *gin.Context) bool {
	p := c.FullPath()
	return c.Request.Method == http.MethodPost &&
		(p == "/api/v1/rooms/:id/attachments" || p == "/api/v1/admin/rooms/:id/attachments")
}

// uploadVisitor is a visitor's upload, counted against the uploads limit;
// a blocked visitor is refused before the file is read.
func (s *Server) uploadVisitor(c *gin.Context) {
	if s.attach == nil {
		s.fail(c, errAttachOff)
		return
	}
	if err := s.svc.AllowUpload(c.Request.Context(), c.Param("id"), c.ClientIP()); err != nil {
		s.fail(c, err)
		return
	}
	s.upload(c)
}

// upload streams the part "file" of a multipart body into the blob store:
// the request's multipart reader hands over the part as it arrives, so no
// file is held whole in memory.
func (s *Server) upload(c *gin.Context) {
	if s.attach == nil {
		s.fail(c, errAttachOff)
		return
	}
	// The server's read timeout is for JSON bodies; a file gets longer.
	_ = http.NewResponseController(c.Writer).SetReadDeadline(time.Now().Add(uploadTimeout))
	mr, err := c.Request.MultipartReader()
	if err != nil {
		s.fail(c, errBadMultipart)
		return
	}
	for range maxParts {
		part, err := mr.NextPart()
		if err != nil {
			var mb *http.MaxBytesError
			if errors.As(err, &mb) {
				s.fail(c, chat.Errorf(chat.CodeAttachmentTooLarge, "the file is larger than %d MB", s.attach.MaxSize()>>20))
				return
			}
			s.fail(c, errBadMultipart)
			return
		}
		if part.FormName() != "file" {
			_, _ = io.Copy(io.Discard, io.LimitReader(part, multipartSlack))
			continue
		}
		a, err := s.attach.Upload(c.Request.Context(), c.Param("id"), part.FileName(), part)
		if err != nil {
			s.fail(c, err)
			return
		}
		c.JSON(http.StatusCreated, attachmentBody{Attachment: a})
		return
	}
	s.fail(c, errBadMultipart)
}

// attachmentAuth lets an attachment through to a holder of its room's
// visitor token, of an admin token, or of a signed link (exp and sig, as
// mail transcripts carry).
func (s *Server) attachmentAuth(c *gin.Context) {
	id := c.Param("id")
	if !chat.ValidRoomID(id) {
		s.fail(c, errBadRoomID)
		return
	}
	if exp, sig := c.Query("exp"), c.Query("sig"); exp != "" || sig != "" {
		if s.attach == nil || !s.attach.Verify(id, c.Param("attachment"), exp, sig) {
			s.fail(c, &chat.Error{Code: chat.CodeUnauthorized, Message: "this link is invalid or has expired"})
			return
		}
		c.Next()
		return
	}
	tok := bearer(c)
	if tok == "" {
		s.fail(c, chat.ErrUnauthorized)
		return
	}
	if roomID, err := s.tokens.VerifyVisitor(tok); err == nil {
		if roomID != id {
			s.fail(c, chat.ErrForbidden)
			return
		}
		c.Next()
		return
	}
	// A login admin token, or an API token with the read scope.
	s.authAdmin(c, chat.ScopeRead)
}

// getAttachment serves a file, or with ?variant=thumb its thumbnail, so
// that opening it runs nothing: a download unless it is a raster image,
// nosniff, and a CSP that forbids everything.
func (s *Server) getAttachment(c *gin.Context) {
	if s.attach == nil {
		s.fail(c, errAttachOff)
		return
	}
	thumb := false
	switch c.Query("variant") {
	case "":
	case "thumb":
		thumb = true
	default:
		s.fail(c, &chat.Error{Code: chat.CodeInvalid, Message: "variant must be thumb"})
		return
	}
	a, rc, n, err := s.attach.Open(c.Request.Context(), c.Param("id"), c.Param("attachment"), thumb)
	if errors.Is(err, chat.ErrAttachmentUnknown) {
		s.fail(c, errNotFound)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	defer rc.Close()
	typ, name := a.Type, a.Name
	if thumb {
		typ = attach.ThumbType(a.Type)
	}
	disp := "attachment"
	if attach.Inline(typ) {
		disp = "inline"
	}
	h := c.Writer.Header()
	h.Set("Content-Type", typ)
	h.Set("Content-Length", strconv.FormatInt(n, 10))
	h.Set("Content-Disposition", disp+"; filename*=UTF-8''"+url.PathEscape(name))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, max-age=300")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	c.Status(http.StatusOK)
	if c.Request.Method == http.MethodHead {
		return
	}
	_, _ = io.Copy(c.Writer, rc)
}

// purgeFiles deletes a deleted room's files; a failure leaves the room due
// for the sweeper, which tries again.
func (s *Server) purgeFiles(c *gin.Context, roomID string) {
	if s.attach == nil {
		return
	}
	if err := s.attach.PurgeRoom(c.Request.Context(), roomID); err != nil {
		s.log.Warn("files of a deleted room left to the sweeper", "room_id", roomID, "err", err)
	}
}
