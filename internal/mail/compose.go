package mail

import (
	"bytes"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"net/mail"
	"net/url"
	"strings"
	texttemplate "text/template"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// ComposerConfig is what every mail of a Parley installation shares.
type ComposerConfig struct {
	// From is the sender ("Acme Support <support@acme.example>").
	From string
	// PublicURL is Parley's public base URL (no trailing slash): the host of
	// every Message-ID and the start of every link.
	PublicURL string
	// InboundDomain, when set, gives every mail a Reply-To of
	// reply+<token>@InboundDomain and the unsubscribe header a mailto.
	InboundDomain string
	Signer        *Signer
	// ReplyTTL and UnsubscribeTTL are how long a mail's reply address and
	// unsubscribe link work; 0 means 90 days and one year.
	ReplyTTL       time.Duration
	UnsubscribeTTL time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Composer turns a Mail into a MIME message.
type Composer struct {
	cfg  ComposerConfig
	from *mail.Address
	host string
}

// NewComposer checks cfg and returns a Composer.
func NewComposer(cfg ComposerConfig) (*Composer, error) {
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("mail: from %q: %w", cfg.From, err)
	}
	if cfg.Signer == nil {
		return nil, errors.New("mail: composer needs a signer")
	}
	u, err := url.Parse(cfg.PublicURL)
	if err != nil || u.Hostname() == "" {
		return nil, fmt.Errorf("mail: public URL %q has no host", cfg.PublicURL)
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if cfg.ReplyTTL == 0 {
		cfg.ReplyTTL = 90 * 24 * time.Hour
	}
	if cfg.UnsubscribeTTL == 0 {
		cfg.UnsubscribeTTL = 365 * 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Composer{cfg: cfg, from: from, host: u.Hostname()}, nil
}

// MessageID returns the Message-ID of mail id, without angle brackets:
// id@host, host being PARLEY_PUBLIC_URL's.
func (c *Composer) MessageID(id string) string { return id + "@" + c.host }

// ThreadID returns the Message-ID every mail of a room refers to
// (In-Reply-To and References), so a mail client threads them all in one
// conversation: "room-<room id>@host". No mail carries it as its own id; a
// client threads by the reference all the same.
func (c *Composer) ThreadID(roomID string) string { return "room-" + roomID + "@" + c.host }

// ReplyAddress returns the address a reply to a mail of this room for r is
// sent to, or "" when inbound mail is off.
func (c *Composer) ReplyAddress(roomID string, r Recipient) (string, error) {
	if c.cfg.InboundDomain == "" {
		return "", nil
	}
	t, err := c.cfg.Signer.Sign(PurposeReply, roomID, r, c.cfg.Now().Add(c.cfg.ReplyTTL))
	if err != nil {
		return "", err
	}
	return "reply+" + t + "@" + c.cfg.InboundDomain, nil
}

// Compose builds the message of m: a multipart/alternative with a plain
// text part and an HTML part (every piece of m escaped by html/template).
func (c *Composer) Compose(m Mail) (*gomail.Msg, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	now := c.cfg.Now()
	msg := gomail.NewMsg()
	msg.FromMailAddress(c.from)
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("mail: to: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(c.MessageID(m.ID))
	msg.SetDateWithValue(now)
	thread := "<" + c.ThreadID(m.RoomID) + ">"
	msg.SetGenHeaderPreformatted(gomail.HeaderInReplyTo, thread)
	msg.SetGenHeaderPreformatted(gomail.HeaderReferences, thread)
	// Mails are sent by a program: suppress vacation auto-replies, which
	// would otherwise come back as visitor messages.
	msg.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	msg.SetGenHeader("Auto-Submitted", "auto-generated")

	reply := ""
	if !m.NoReply {
		var err error
		if reply, err = c.ReplyAddress(m.RoomID, m.Recipient); err != nil {
			return nil, err
		}
	}
	if reply != "" {
		if err := msg.ReplyTo(reply); err != nil {
			return nil, fmt.Errorf("mail: reply-to: %w", err)
		}
	}
	var unsubURL string
	if m.Unsubscribe {
		t, err := c.cfg.Signer.Sign(PurposeUnsubscribe, m.RoomID, m.Recipient, now.Add(c.cfg.UnsubscribeTTL))
		if err != nil {
			return nil, err
		}
		unsubURL = c.cfg.PublicURL + "/unsubscribe?t=" + t
		list := "<" + unsubURL + ">"
		if c.cfg.InboundDomain != "" {
			list += ", <mailto:unsubscribe+" + t + "@" + c.cfg.InboundDomain + ">"
		}
		msg.SetGenHeaderPreformatted(gomail.HeaderListUnsubscribe, list)
		msg.SetGenHeaderPreformatted(gomail.HeaderListUnsubscribePost, "List-Unsubscribe=One-Click")
	}

	data := bodyData{Mail: m, UnsubscribeURL: unsubURL, CanReply: reply != ""}
	var text, html bytes.Buffer
	if err := textBody.Execute(&text, data); err != nil {
		return nil, fmt.Errorf("mail: text body: %w", err)
	}
	if err := htmlBody.Execute(&html, data); err != nil {
		return nil, fmt.Errorf("mail: html body: %w", err)
	}
	msg.SetBodyString(gomail.TypeTextPlain, text.String())
	msg.AddAlternativeString(gomail.TypeTextHTML, html.String())
	return msg, nil
}

type bodyData struct {
	Mail
	UnsubscribeURL string
	CanReply       bool
}

var funcs = map[string]any{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2 Jan 15:04 MST")
	},
	"lines": func(s string) []string { return strings.Split(s, "\n") },
}

var textBody = texttemplate.Must(texttemplate.New("text").Funcs(funcs).Parse(
	`{{if .Intro}}{{.Intro}}

{{end}}{{range .Messages}}{{.Author}}{{with when .At}} ({{.}}){{end}}:
{{range lines .Text}}  {{.}}
{{end}}{{range .Files}}  [file] {{.Label}}: {{.URL}}
{{end}}
{{end}}{{with .Link}}{{.Label}}: {{.URL}}
{{end}}{{if .CanReply}}
You can also reply to this mail: your reply goes into the conversation.
{{end}}{{with .UnsubscribeURL}}
To stop these mails: {{.}}
{{end}}`))

var htmlBody = htmltemplate.Must(htmltemplate.New("html").Funcs(funcs).Parse(
	`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family:sans-serif;line-height:1.4;color:#222">
{{if .Intro}}<p>{{.Intro}}</p>
{{end}}{{range .Messages}}<div style="margin:0 0 12px"><div style="color:#666;font-size:90%"><strong>{{.Author}}</strong>{{with when .At}} · {{.}}{{end}}</div>
<div style="white-space:pre-wrap">{{.Text}}</div>{{range .Files}}
<div>&#128206; <a href="{{.URL}}">{{.Label}}</a></div>{{end}}</div>
{{end}}{{with .Link}}<p><a href="{{.URL}}">{{.Label}}</a></p>
{{end}}{{if .CanReply}}<p style="color:#666;font-size:90%">You can also reply to this mail: your reply goes into the conversation.</p>
{{end}}{{with .UnsubscribeURL}}<p style="color:#666;font-size:90%"><a href="{{.}}">Stop these mails</a></p>
{{end}}</body></html>
`))
