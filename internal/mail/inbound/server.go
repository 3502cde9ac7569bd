// Package inbound is Parley's inbound SMTP server: it takes replies to the
// mails Parley sent (addressed reply+<token>@PARLEY_INBOUND_DOMAIN) and
// one-click unsubscribes by mail (unsubscribe+<token>@…), checks the
// signed token at RCPT, keeps the new text of a reply (quoted history and
// signature stripped) and hands it to a Handler. It relays nothing: every
// other recipient is refused.
package inbound

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	gomail "github.com/emersion/go-message/mail"
	"github.com/emersion/go-smtp"
	"golang.org/x/net/netutil"

	"github.com/parley-chat/parley/internal/mail"
)

// Reply is the new text of a reply mail.
type Reply struct {
	RoomID string
	// From is who the token of the reply address was made for: the room's
	// visitor, or the agent with that username.
	From mail.Recipient
	// Text is the reply without quoted history and signature, never empty.
	Text string
	// MessageID is the reply's Message-ID without angle brackets ("" when
	// it had none): ChatHandler makes it the message's client id (see
	// ClientID), so a mail delivered twice is stored once.
	MessageID string
	// Sender is the envelope sender (MAIL FROM), for the log.
	Sender string
}

// Handler receives what the server accepted. An error from it makes the
// server answer 451 (try again later), so the sending server retries.
type Handler interface {
	Reply(ctx context.Context, r Reply) error
	Unsubscribe(ctx context.Context, roomID string, r mail.Recipient) error
}

// Config tunes a Server.
type Config struct {
	// Domain is PARLEY_INBOUND_DOMAIN: the only domain recipients may have.
	Domain string
	Signer *mail.Signer
	// Agents lists the current agents' usernames, to find the one an agent
	// token names; nil refuses tokens made for agents.
	Agents  func(ctx context.Context) ([]string, error)
	Handler Handler
	Log     *slog.Logger
	// MaxBytes bounds a mail (552 above it); 256 KiB when 0.
	MaxBytes int64
	// MaxConns bounds the connections served at once (others wait to be
	// accepted); 100 when 0.
	MaxConns int
	// Timeout bounds each read and write on a connection; 1 m when 0.
	Timeout time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Server is the inbound SMTP server.
type Server struct {
	cfg Config
	srv *smtp.Server
}

// New checks cfg and returns a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Domain == "" || cfg.Signer == nil || cfg.Handler == nil || cfg.Log == nil {
		return nil, errors.New("inbound: need a domain, a signer, a handler and a logger")
	}
	cfg.Domain = strings.ToLower(cfg.Domain)
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 256 << 10
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 100
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg}
	srv := smtp.NewServer(s)
	srv.Domain = cfg.Domain
	srv.MaxMessageBytes = cfg.MaxBytes
	srv.MaxRecipients = 1
	srv.ReadTimeout, srv.WriteTimeout = cfg.Timeout, cfg.Timeout
	srv.ErrorLog = errorLog{cfg.Log}
	s.srv = srv
	return s, nil
}

// ListenAndServe listens on addr (PARLEY_SMTP_INBOUND_ADDR) and serves
// until ctx ends.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("inbound: listen: %w", err)
	}
	return s.Serve(ctx, l)
}

// Serve serves l until ctx ends, then closes every connection and returns
// nil.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-ctx.Done()
		_ = s.srv.Close()
	}()
	err := s.srv.Serve(netutil.LimitListener(l, s.cfg.MaxConns))
	if ctx.Err() != nil || errors.Is(err, smtp.ErrServerClosed) {
		err = nil
	}
	if err != nil {
		_ = s.srv.Close()
	}
	wg.Wait()
	if err != nil {
		return fmt.Errorf("inbound: serve: %w", err)
	}
	return nil
}

// NewSession implements smtp.Backend.
func (s *Server) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: s, remote: c.Conn().RemoteAddr().String()}, nil
}

// The answers, with their enhanced codes (RFC 3463).
var (
	errRelay     = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Relaying denied: this server only takes replies to its own mail"}
	errNoMailbox = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such reply address, or it has expired"}
	errNoText    = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "No text in this mail: send a plain text or HTML reply"}
	errEmpty     = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Nothing new in this reply once the quoted text is removed"}
	errBadMIME   = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "This mail cannot be read as MIME"}
	errLater     = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary failure, please try again later"}
	errNoRcpt    = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 5, 1}, Message: "No valid recipient"}
)

type session struct {
	s      *Server
	remote string
	from   string
	// The one accepted recipient.
	purpose mail.Purpose
	roomID  string
	who     mail.Recipient
	ok      bool
}

func (se *session) Reset()        { se.from, se.ok = "", false }
func (se *session) Logout() error { return nil }

func (se *session) Mail(from string, _ *smtp.MailOptions) error {
	se.from = from
	return nil
}

func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	cfg := se.s.cfg
	log := cfg.Log.With("remote", se.remote)
	local, domain, found := strings.Cut(to, "@")
	if !found || !strings.EqualFold(domain, cfg.Domain) {
		log.Info("inbound: refused a recipient of another domain")
		return errRelay
	}
	tag, token, _ := strings.Cut(strings.ToLower(local), "+")
	var p mail.Purpose
	switch tag {
	case "reply":
		p = mail.PurposeReply
	case "unsubscribe":
		p = mail.PurposeUnsubscribe
	default:
		log.Info("inbound: refused an unknown mailbox")
		return errNoMailbox
	}
	c, err := cfg.Signer.Verify(token, p, cfg.Now())
	if err != nil {
		log.Info("inbound: refused a reply address", "reason", err.Error())
		return errNoMailbox
	}
	who := mail.Visitor
	if c.IsAgent() {
		if who, err = se.agent(c); err != nil {
			log.Info("inbound: refused a reply address", "reason", err.Error())
			return errNoMailbox
		}
	}
	se.purpose, se.roomID, se.who, se.ok = p, c.RoomID, who, true
	return nil
}

// agent finds the current agent an agent token names.
func (se *session) agent(c mail.Claims) (mail.Recipient, error) {
	cfg := se.s.cfg
	if cfg.Agents == nil {
		return mail.Recipient{}, errors.New("agent replies are off")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	names, err := cfg.Agents(ctx)
	if err != nil {
		return mail.Recipient{}, fmt.Errorf("list agents: %w", err)
	}
	var found []mail.Recipient
	for _, n := range names {
		if r := (mail.Recipient{Agent: n}); cfg.Signer.IsFor(c, r) {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		return mail.Recipient{}, fmt.Errorf("%d current agents match the token", len(found))
	}
	return found[0], nil
}

func (se *session) Data(r io.Reader) error {
	if !se.ok {
		_, _ = io.Copy(io.Discard, r)
		return errNoRcpt
	}
	cfg := se.s.cfg
	log := cfg.Log.With("remote", se.remote, "room_id", se.roomID)
	// go-smtp stops the reader with 552 past MaxMessageBytes.
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if se.purpose == mail.PurposeUnsubscribe {
		if err := cfg.Handler.Unsubscribe(ctx, se.roomID, se.who); err != nil {
			log.Error("inbound: unsubscribe", "err", err)
			return errLater
		}
		return nil
	}
	mr, err := gomail.CreateReader(bytes.NewReader(raw))
	if err != nil && mr == nil {
		return errBadMIME
	}
	if auto := strings.ToLower(strings.TrimSpace(mr.Header.Get("Auto-Submitted"))); (auto != "" && auto != "no") || se.from == "" {
		// A vacation reply or a bounce: taken, so the sender stops, and
		// dropped, so it never becomes a message.
		log.Info("inbound: dropped an automatic reply")
		return nil
	}
	messageID, _ := mr.Header.MessageID()
	text, err := bodyText(mr)
	if errors.Is(err, errNoTextPart) {
		return errNoText
	}
	if err != nil {
		return errBadMIME
	}
	text = StripQuoted(text)
	if strings.TrimSpace(text) == "" {
		return errEmpty
	}
	if err := cfg.Handler.Reply(ctx, Reply{RoomID: se.roomID, From: se.who, Text: text, MessageID: messageID, Sender: se.from}); err != nil {
		log.Error("inbound: hand over a reply", "err", err)
		return errLater
	}
	return nil
}

// errorLog sends go-smtp's connection errors to the logger at debug.
type errorLog struct{ log *slog.Logger }

func (e errorLog) Printf(format string, v ...any) {
	e.log.Debug("inbound: " + fmt.Sprintf(format, v...))
}
func (e errorLog) Println(v ...any) { e.log.Debug("inbound: " + fmt.Sprint(v...)) }
