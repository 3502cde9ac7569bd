package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Sender hands a composed message to the world. Send returns nil once the
// server accepted the message; an error for which Permanent is true will
// not succeed on a retry.
type Sender interface {
	Send(ctx context.Context, msg *gomail.Msg) error
}

// Security is how the connection to the SMTP server is protected; the
// values are config.SMTPSecurity's.
type Security string

const (
	// STARTTLSOpportunistic upgrades with STARTTLS when the server offers it.
	STARTTLSOpportunistic Security = "starttls"
	// STARTTLSRequired refuses a server that does not offer STARTTLS.
	STARTTLSRequired Security = "starttls-required"
	// ImplicitTLS speaks TLS from the first byte (smtps, port 465).
	ImplicitTLS Security = "tls"
)

// SMTPConfig is the outgoing server.
type SMTPConfig struct {
	Host     string
	Port     int
	Security Security
	// Username and Password authenticate (the best mechanism the server
	// offers) when Username is set.
	Username string
	Password string
	// TLS is the TLS configuration (nil: the system roots, ServerName =
	// Host); tests pass one that trusts their own certificate.
	TLS *tls.Config
	// Timeout bounds each step of the conversation with the server (dial,
	// each command, the data); 0 means 30 s. The whole send is bounded by
	// the context.
	Timeout time.Duration
	// HELO is the name Parley gives itself; "" means the public host.
	HELO string
}

// SMTPSender sends through one SMTP server with go-mail, one connection
// per mail (a notification mail is rare enough that a pool would only hold
// idle connections the server closes anyway).
type SMTPSender struct {
	cfg SMTPConfig
}

// NewSMTPSender checks cfg and returns a Sender.
func NewSMTPSender(cfg SMTPConfig) (*SMTPSender, error) {
	if cfg.Host == "" || cfg.Port <= 0 {
		return nil, errors.New("mail: smtp: no host or port")
	}
	switch cfg.Security {
	case STARTTLSOpportunistic, STARTTLSRequired, ImplicitTLS:
	case "":
		cfg.Security = STARTTLSOpportunistic
	default:
		return nil, fmt.Errorf("mail: smtp: unknown security %q", cfg.Security)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	return &SMTPSender{cfg: cfg}, nil
}

// Send dials, upgrades or not per the policy, authenticates when
// configured, sends msg and quits. Its errors never hold the password.
func (s *SMTPSender) Send(ctx context.Context, msg *gomail.Msg) error {
	tlsConf := s.cfg.TLS
	if tlsConf == nil {
		tlsConf = &tls.Config{ServerName: s.cfg.Host, MinVersion: tls.VersionTLS12}
	}
	opts := []gomail.Option{
		gomail.WithPort(s.cfg.Port),
		gomail.WithTimeout(s.cfg.Timeout),
		gomail.WithTLSConfig(tlsConf),
	}
	switch s.cfg.Security {
	case ImplicitTLS:
		opts = append(opts, gomail.WithSSL())
	case STARTTLSRequired:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if s.cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.cfg.Username), gomail.WithPassword(s.cfg.Password))
	}
	if s.cfg.HELO != "" {
		opts = append(opts, gomail.WithHELO(s.cfg.HELO))
	}
	c, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return fmt.Errorf("mail: smtp client: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("mail: smtp %s:%d: %w", s.cfg.Host, s.cfg.Port, redact(err, s.cfg.Password))
	}
	return nil
}

// redact keeps a password out of an error text, should a server or a
// library ever echo it.
func redact(err error, password string) error {
	if password == "" || !strings.Contains(err.Error(), password) {
		return err
	}
	return &redacted{msg: strings.ReplaceAll(err.Error(), password, "***"), err: err}
}

type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }

// Permanent tells whether err is the server's permanent refusal (a 5xx
// reply to this message): retrying would only get the same answer. A
// connection that failed, timed out or got a 4xx is not permanent.
func Permanent(err error) bool {
	var se *gomail.SendError
	if errors.As(err, &se) {
		code := se.ErrorCode()
		return code >= 500 && code < 600
	}
	return false
}

// LogSender writes each mail to the log instead of sending it
// (PARLEY_SMTP_URL=log): its headers and its plain text part, at info.
type LogSender struct {
	Log *slog.Logger
}

// Send logs msg and always succeeds.
func (l LogSender) Send(_ context.Context, msg *gomail.Msg) error {
	var raw bytes.Buffer
	if _, err := msg.WriteTo(&raw); err != nil {
		return fmt.Errorf("mail: log sender: %w", err)
	}
	first := func(h gomail.Header) string {
		if v := msg.GetGenHeader(h); len(v) > 0 {
			return v[0]
		}
		return ""
	}
	to := msg.GetToString()
	var text string
	for _, p := range msg.GetParts() {
		if p.GetContentType() == gomail.TypeTextPlain {
			b, err := p.GetContent()
			if err == nil {
				text = string(b)
			}
			break
		}
	}
	l.Log.Info("mail: not sent (PARLEY_SMTP_URL=log)",
		"message_id", first(gomail.HeaderMessageID),
		"to", strings.Join(to, ", "),
		"subject", first(gomail.HeaderSubject),
		"bytes", raw.Len(),
		"text", text)
	return nil
}
