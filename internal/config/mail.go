package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// MailMode says what happens to outgoing mail.
type MailMode string

const (
	// MailOff: no PARLEY_SMTP_URL; Parley sends and promises no mail.
	MailOff MailMode = ""
	// MailSMTP sends through the SMTP server of PARLEY_SMTP_URL.
	MailSMTP MailMode = "smtp"
	// MailLog writes every outgoing mail to the log instead of sending it
	// (PARLEY_SMTP_URL=log), for trying mail out locally.
	MailLog MailMode = "log"
)

// SMTPSecurity is how the connection to the SMTP server is protected.
type SMTPSecurity string

const (
	// STARTTLSOpportunistic upgrades with STARTTLS when the server offers
	// it (smtp://).
	STARTTLSOpportunistic SMTPSecurity = "starttls"
	// STARTTLSRequired refuses a server that does not offer STARTTLS
	// (smtp://…?tls=required).
	STARTTLSRequired SMTPSecurity = "starttls-required"
	// ImplicitTLS speaks TLS from the first byte (smtps://).
	ImplicitTLS SMTPSecurity = "tls"
)

// SMTP is the outgoing server of PARLEY_SMTP_URL.
type SMTP struct {
	Host     string
	Port     int
	Security SMTPSecurity
	Username string // "" = no authentication
	Password string
}

// String is the server without its password, safe for logs.
func (s SMTP) String() string {
	u := url.URL{Scheme: "smtp", Host: net.JoinHostPort(s.Host, strconv.Itoa(s.Port))}
	if s.Security == ImplicitTLS {
		u.Scheme = "smtps"
	}
	if s.Username != "" {
		u.User = url.User(s.Username)
	}
	if s.Security == STARTTLSRequired {
		u.RawQuery = "tls=required"
	}
	return u.String()
}

// Mail is the email settings: cmd/parley starts the queue worker and the
// notifier when Mode is not MailOff, and the inbound server when
// InboundAddr is set.
type Mail struct {
	Mode MailMode
	SMTP SMTP // Mode == MailSMTP only
	// From is the sender as written in PARLEY_MAIL_FROM
	// ("Acme Support <support@acme.example>"), FromAddress its address.
	From        string
	FromAddress string
	// PublicURL is Parley's public base URL without a trailing slash
	// (PARLEY_PUBLIC_URL); every link in a mail starts with it.
	PublicURL string
	// InboundAddr is the listen address of the inbound SMTP server
	// (PARLEY_SMTP_INBOUND_ADDR); "" = no inbound mail.
	InboundAddr string
	// InboundDomain is the domain of the reply addresses
	// reply+<token>@InboundDomain (PARLEY_INBOUND_DOMAIN).
	InboundDomain string
	// NotifyAgentsAfter and NotifyVisitorAfter are the delays before an
	// unanswered visitor message is mailed to the agents and an unseen reply
	// to the visitor.
	NotifyAgentsAfter  time.Duration
	NotifyVisitorAfter time.Duration
}

// Enabled tells whether Parley produces mail at all (sent or logged).
func (m Mail) Enabled() bool { return m.Mode != MailOff }

// loadMail reads the PARLEY_SMTP_*, PARLEY_MAIL_*, PARLEY_PUBLIC_URL,
// PARLEY_INBOUND_* and PARLEY_NOTIFY_* variables. bad records an error
// naming its variable; no message repeats PARLEY_SMTP_URL's value, which
// may hold a password.
func loadMail(get func(name, def string) string, bad func(name, format string, args ...any)) Mail {
	var m Mail
	raw := get("PARLEY_SMTP_URL", "")
	switch {
	case raw == "":
	case raw == "log":
		m.Mode = MailLog
	default:
		s, err := parseSMTPURL(raw)
		if err != nil {
			bad("PARLEY_SMTP_URL", "%v", err)
		} else {
			m.Mode, m.SMTP = MailSMTP, s
		}
	}

	if from := get("PARLEY_MAIL_FROM", ""); from != "" {
		a, err := mail.ParseAddress(from)
		if err != nil || !strings.Contains(a.Address, "@") {
			bad("PARLEY_MAIL_FROM", "want an address such as \"Acme Support <support@acme.example>\", got %q", from)
		} else {
			m.From, m.FromAddress = a.String(), a.Address
		}
	}
	if pub := get("PARLEY_PUBLIC_URL", ""); pub != "" {
		u, err := url.Parse(pub)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			bad("PARLEY_PUBLIC_URL", "want Parley's public base URL such as https://chat.acme.example, got %q", pub)
		} else {
			m.PublicURL = strings.TrimRight(u.String(), "/")
		}
	}
	if raw != "" {
		if get("PARLEY_MAIL_FROM", "") == "" {
			bad("PARLEY_MAIL_FROM", "required when PARLEY_SMTP_URL is set (the sender of every mail)")
		}
		if get("PARLEY_PUBLIC_URL", "") == "" {
			bad("PARLEY_PUBLIC_URL", "required when PARLEY_SMTP_URL is set (every link in a mail starts with it)")
		}
	}

	m.InboundAddr = get("PARLEY_SMTP_INBOUND_ADDR", "")
	m.InboundDomain = strings.ToLower(get("PARLEY_INBOUND_DOMAIN", ""))
	if m.InboundAddr != "" {
		if _, port, err := net.SplitHostPort(m.InboundAddr); err != nil || port == "" {
			bad("PARLEY_SMTP_INBOUND_ADDR", "want host:port such as :2525, got %q", m.InboundAddr)
		}
		if m.InboundDomain == "" {
			bad("PARLEY_INBOUND_DOMAIN", "required when PARLEY_SMTP_INBOUND_ADDR is set (the domain of the reply addresses)")
		}
		if raw == "" {
			bad("PARLEY_SMTP_INBOUND_ADDR", "needs PARLEY_SMTP_URL: replies come to addresses only outgoing mail hands out")
		}
	}
	if m.InboundDomain != "" {
		if !validDomain(m.InboundDomain) {
			bad("PARLEY_INBOUND_DOMAIN", "want a domain such as reply.acme.example, got %q", m.InboundDomain)
		}
		if m.InboundAddr == "" {
			bad("PARLEY_INBOUND_DOMAIN", "needs PARLEY_SMTP_INBOUND_ADDR (the listener that receives the replies)")
		}
	}

	var err error
	if m.NotifyAgentsAfter, err = time.ParseDuration(get("PARLEY_NOTIFY_AGENTS_AFTER", "1m")); err != nil || m.NotifyAgentsAfter < time.Second {
		bad("PARLEY_NOTIFY_AGENTS_AFTER", "want a duration of at least 1s such as 1m")
	}
	if m.NotifyVisitorAfter, err = time.ParseDuration(get("PARLEY_NOTIFY_VISITOR_AFTER", "5m")); err != nil || m.NotifyVisitorAfter < time.Second {
		bad("PARLEY_NOTIFY_VISITOR_AFTER", "want a duration of at least 1s such as 5m")
	}
	return m
}

// parseSMTPURL reads smtp://[user:pass@]host[:587][?tls=required] and
// smtps://[user:pass@]host[:465]. Its errors never quote the URL.
func parseSMTPURL(raw string) (SMTP, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return SMTP{}, fmt.Errorf("not a URL; want smtp://user:pass@host:587, smtps://user:pass@host:465 or log (credentials URL-encoded)")
	}
	var s SMTP
	switch u.Scheme {
	case "smtp":
		s.Security, s.Port = STARTTLSOpportunistic, 587
	case "smtps":
		s.Security, s.Port = ImplicitTLS, 465
	default:
		return SMTP{}, fmt.Errorf("scheme %q: want smtp://, smtps:// or log", u.Scheme)
	}
	s.Host = u.Hostname()
	if s.Host == "" || u.Opaque != "" {
		return SMTP{}, fmt.Errorf("no host; want smtp://user:pass@host:587")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return SMTP{}, fmt.Errorf("port %q is not a port number", p)
		}
		s.Port = n
	}
	if u.Path != "" && u.Path != "/" {
		return SMTP{}, fmt.Errorf("want no path after the host")
	}
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
		if s.Username == "" {
			return SMTP{}, fmt.Errorf("a password without a user name")
		}
	}
	q := u.Query()
	for k, v := range q {
		switch {
		case k == "tls" && len(v) == 1 && v[0] == "required" && s.Security == STARTTLSOpportunistic:
			s.Security = STARTTLSRequired
		case k == "tls" && len(v) == 1 && v[0] == "required":
			// smtps:// is always TLS; saying so again is harmless.
		default:
			return SMTP{}, fmt.Errorf("unknown parameter %q: the only one is tls=required", k)
		}
	}
	return s, nil
}

func validDomain(d string) bool {
	if len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}
