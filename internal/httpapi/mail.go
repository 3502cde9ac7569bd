package httpapi

import (
	_ "embed"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/mail"
)

// MailDeps is what the email routes need (Options.Mail). Without it email
// is off: the widget and the console promise no mail, and the email routes
// answer 409 email_off.
type MailDeps struct {
	Queue    *mail.Queue
	Composer *mail.Composer
	Signer   *mail.Signer
	// Unsubscribe records one-click unsubscribes (the Redis store).
	Unsubscribe chat.UnsubscribeStore
	// Now is the tokens' clock; time.Now when nil.
	Now func() time.Time
}

func (d *MailDeps) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// maxDeadShown is how many dead mails the console lists.
const maxDeadShown = 100

// errBadOpenToken answers a reopen token that is forged, expired or for
// another purpose.
var errBadOpenToken = &chat.Error{Code: chat.CodeUnauthorized, Message: "this link is not valid or has expired"}

//go:embed unsubscribe.html
var unsubscribeHTML string

var unsubscribePage = template.Must(template.New("unsubscribe").Parse(unsubscribeHTML))

// unsubscribeCSP: the page has no script, one inline style block, and a
// form that posts back to itself.
const unsubscribeCSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

type pageData struct {
	Title, Text, Action string
}

// showPage answers one of the unsubscribe pages.
func showPage(c *gin.Context, status int, d pageData) {
	h := c.Writer.Header()
	h.Set("Content-Type", contentTypes[".html"])
	h.Set("Content-Security-Policy", unsubscribeCSP)
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	c.Status(status)
	_ = unsubscribePage.Execute(c.Writer, d)
}

var badLinkPage = pageData{Title: "This link does not work", Text: "It may have expired, or been cut short by your mail program. The mail it came with has a fresh one."}

// unsubscribeClaims checks the t= of an unsubscribe link.
func (s *Server) unsubscribeClaims(c *gin.Context) (mail.Claims, bool) {
	if s.mail == nil {
		showPage(c, http.StatusConflict, pageData{Title: "Email is off", Text: "This server sends no mail."})
		return mail.Claims{}, false
	}
	claims, err := s.mail.Signer.Verify(c.Query("t"), mail.PurposeUnsubscribe, s.mail.now())
	if err != nil {
		s.log.LogAttrs(c.Request.Context(), slog.LevelInfo, "unsubscribe: refused link", attrRequestID(c), attrErr(err))
		showPage(c, http.StatusBadRequest, badLinkPage)
		return mail.Claims{}, false
	}
	return claims, true
}

// unsubscribeForm is GET /unsubscribe?t=: a page with a button, so that a
// mail scanner following the link unsubscribes nobody.
func (s *Server) unsubscribeForm(c *gin.Context) {
	if _, ok := s.unsubscribeClaims(c); !ok {
		return
	}
	showPage(c, http.StatusOK, pageData{
		Title:  "Stop these mails?",
		Text:   "You will get no more mails about this conversation.",
		Action: "/unsubscribe?t=" + url.QueryEscape(c.Query("t")),
	})
}

// unsubscribe is POST /unsubscribe?t= (RFC 8058 one-click: no session and
// no CSRF token, the signed link is the capability): a visitor's link stops
// that room's mails, an agent's sets their preference to never.
func (s *Server) unsubscribe(c *gin.Context) {
	claims, ok := s.unsubscribeClaims(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	var err error
	if !claims.IsAgent() {
		err = s.mail.Unsubscribe.UnsubscribeVisitor(ctx, claims.RoomID, chat.UnsubscribeTTL)
	} else {
		var username string
		username, err = s.agentOf(c, claims)
		if err == nil {
			err = s.mail.Unsubscribe.UnsubscribeAgent(ctx, username)
		}
	}
	if errors.Is(err, chat.ErrAdminUnknown) {
		showPage(c, http.StatusBadRequest, badLinkPage)
		return
	}
	if err != nil {
		if chat.ErrorCode(err) == chat.CodeInternal {
			s.log.LogAttrs(ctx, slog.LevelError, "internal error", attrRequestID(c), attrErr(err), attrRoute(c))
		}
		showPage(c, http.StatusServiceUnavailable, pageData{Title: "Please try again", Text: "We could not record this just now. Nothing was changed."})
		return
	}
	text := "You will get no more mails about this conversation."
	if claims.IsAgent() {
		text = "You will get no more notification mails. You can turn them back on in the console."
	}
	showPage(c, http.StatusOK, pageData{Title: "You are unsubscribed", Text: text})
}

// agentOf finds the one current agent an agent token names, or
// ErrAdminUnknown.
func (s *Server) agentOf(c *gin.Context, claims mail.Claims) (string, error) {
	admins, err := s.svc.Store().Admins(c.Request.Context())
	if err != nil {
		return "", err
	}
	found := ""
	for _, a := range admins {
		if s.mail.Signer.IsFor(claims, mail.Recipient{Agent: a.Username}) {
			if found != "" {
				return "", chat.ErrAdminUnknown // two tags collide: neither
			}
			found = a.Username
		}
	}
	if found == "" {
		return "", chat.ErrAdminUnknown
	}
	return found, nil
}

type openBody struct {
	Token string `json:"token"`
}

// reopenRoom is POST /api/v1/rooms/open: a reopen link's token (room-bound,
// signed, expiring) for a visitor token of that room alone.
func (s *Server) reopenRoom(c *gin.Context) {
	var in openBody
	if err := decodeJSON(c, &in, false); err != nil {
		s.fail(c, err)
		return
	}
	if s.mail == nil {
		s.fail(c, chat.ErrEmailOff)
		return
	}
	claims, err := s.mail.Signer.Verify(strings.TrimSpace(in.Token), mail.PurposeOpen, s.mail.now())
	if err != nil || claims.IsAgent() {
		s.fail(c, errBadOpenToken)
		return
	}
	r, err := s.svc.Room(c.Request.Context(), claims.RoomID)
	if err != nil {
		s.fail(c, err)
		return
	}
	if r.Blocked {
		s.fail(c, chat.ErrBlocked)
		return
	}
	s.respondRoomToken(c, http.StatusOK, r)
}

type transcriptBody struct {
	To string `json:"to"`
}

type acceptedBody struct {
	ID string `json:"id"`
}

// visitorTranscript is POST /api/v1/rooms/:id/transcript: the conversation
// mailed to the email the visitor gave.
func (s *Server) visitorTranscript(c *gin.Context) {
	s.sendTranscript(c, "", mail.Visitor)
}

// adminTranscript is POST /api/v1/admin/rooms/:id/transcript, to {"to"} or
// the visitor's email.
func (s *Server) adminTranscript(c *gin.Context) {
	var in transcriptBody
	if err := decodeJSON(c, &in, true); err != nil {
		s.fail(c, err)
		return
	}
	to := ""
	if strings.TrimSpace(in.To) != "" {
		var err error
		if to, err = chat.TranscriptAddress(in.To); err != nil {
			s.fail(c, err)
			return
		}
	}
	s.sendTranscript(c, to, mail.Recipient{Agent: adminClaims(c).Username})
}

func (s *Server) sendTranscript(c *gin.Context, to string, r mail.Recipient) {
	if s.mail == nil {
		s.fail(c, chat.ErrEmailOff)
		return
	}
	ctx := c.Request.Context()
	id := c.Param("id")
	room, msgs, err := s.svc.Transcript(ctx, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	if to == "" {
		to = room.VisitorEmail
	}
	if to == "" {
		s.fail(c, chat.ErrNoVisitorEmail)
		return
	}
	if room.Blocked && r.IsVisitor() {
		s.fail(c, chat.ErrBlocked)
		return
	}
	// To the visitor's own address the mail is the visitor's (their reply
	// posts as theirs, the link reopens the room); to any other address an
	// agent chose, it is nobody's: no reply address, no reopen link.
	if strings.EqualFold(to, room.VisitorEmail) {
		r = mail.Visitor
	}
	if err := s.svc.AllowTranscript(ctx, id); err != nil {
		s.fail(c, err)
		return
	}
	open := ""
	if r.IsVisitor() {
		if open, err = s.mail.Composer.OpenURL(id); err != nil {
			s.fail(c, err)
			return
		}
	}
	m := mail.Transcript(room, msgs, to, r, open)
	if s.attach != nil {
		exp := time.Now().Add(mail.FileLinkTTL)
		base := s.mail.Composer.PublicURL()
		mail.AddFiles(&m, msgs, func(roomID string, a chat.Attachment) string {
			return base + a.URL + "?" + s.attach.Sign(roomID, a.ID, exp)
		})
	}
	if err := s.mail.Queue.Enqueue(ctx, m); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, acceptedBody{ID: m.ID})
}

type mailStats struct {
	Waiting  int64 `json:"waiting"`
	Sending  int64 `json:"sending"`
	Retrying int64 `json:"retrying"`
	Dead     int64 `json:"dead"`
}

type mailStatusBody struct {
	Enabled bool `json:"enabled"`
	// Hint says how to turn email on, while it is off.
	Hint  string     `json:"hint,omitempty"`
	Stats *mailStats `json:"stats,omitempty"`
}

// mailStatus is GET /api/v1/admin/mail: whether this server sends mail
// and, when it does, the queue's counts; how the console knows what to
// show (a 200 either way: email off is a setting, not an error).
func (s *Server) mailStatus(c *gin.Context) {
	if s.mail == nil {
		c.JSON(http.StatusOK, mailStatusBody{Hint: chat.ErrEmailOff.Message})
		return
	}
	st, err := s.mail.Queue.Stats(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, mailStatusBody{Enabled: true, Stats: &mailStats{Waiting: st.Waiting, Sending: st.Sending, Retrying: st.Retrying, Dead: st.Dead}})
}

type deadMail struct {
	ID       string    `json:"id"`
	RoomID   string    `json:"roomId,omitempty"`
	To       string    `json:"to,omitempty"`
	Subject  string    `json:"subject,omitempty"`
	Attempts int       `json:"attempts"`
	Reason   string    `json:"reason"`
	At       chat.Time `json:"at"`
}

type deadBody struct {
	Dead []deadMail `json:"dead"`
}

// deadMails is GET /api/v1/admin/mail/dead: the dead-letter list, newest
// first, with why each mail failed.
func (s *Server) deadMails(c *gin.Context) {
	if s.mail == nil {
		s.fail(c, chat.ErrEmailOff)
		return
	}
	list, err := s.mail.Queue.Dead(c.Request.Context(), maxDeadShown)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := deadBody{Dead: make([]deadMail, 0, len(list))}
	for _, d := range list {
		var m mail.Mail
		_ = json.Unmarshal(d.Payload, &m) // an undecodable payload still shows its id and reason
		out.Dead = append(out.Dead, deadMail{ID: d.ID, RoomID: m.RoomID, To: m.To, Subject: m.Subject,
			Attempts: d.Attempts, Reason: d.Reason, At: chat.Time{Time: d.At.UTC()}})
	}
	c.JSON(http.StatusOK, out)
}
