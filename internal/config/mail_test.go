package config

import (
	"strings"
	"testing"
	"time"
)

func TestMailOffByDefault(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.Mail.Enabled() || c.Mail.Mode != MailOff {
		t.Errorf("mail: got mode %q, want off without PARLEY_SMTP_URL", c.Mail.Mode)
	}
	if c.Mail.NotifyAgentsAfter != time.Minute || c.Mail.NotifyVisitorAfter != 5*time.Minute {
		t.Errorf("delays: got %v and %v, want 1m and 5m", c.Mail.NotifyAgentsAfter, c.Mail.NotifyVisitorAfter)
	}
}

func mailEnv(extra map[string]string) map[string]string {
	m := map[string]string{
		"PARLEY_MAIL_FROM":  "Acme Support <support@acme.example>",
		"PARLEY_PUBLIC_URL": "https://chat.acme.example/",
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func TestMailSMTPURL(t *testing.T) {
	tests := []struct {
		url  string
		want SMTP
	}{
		{"smtp://mailer:p%40ss%3Aw0rd@smtp.acme.example:587", SMTP{Host: "smtp.acme.example", Port: 587, Security: STARTTLSOpportunistic, Username: "mailer", Password: "p@ss:w0rd"}},
		{"smtp://smtp.acme.example", SMTP{Host: "smtp.acme.example", Port: 587, Security: STARTTLSOpportunistic}},
		{"smtp://u:hunter2@smtp.acme.example:2525?tls=required", SMTP{Host: "smtp.acme.example", Port: 2525, Security: STARTTLSRequired, Username: "u", Password: "hunter2"}},
		{"smtps://u:hunter2@smtp.acme.example", SMTP{Host: "smtp.acme.example", Port: 465, Security: ImplicitTLS, Username: "u", Password: "hunter2"}},
		{"smtp://[::1]:25", SMTP{Host: "::1", Port: 25, Security: STARTTLSOpportunistic}},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			c, err := Load(env(mailEnv(map[string]string{"PARLEY_SMTP_URL": tt.url})))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if c.Mail.Mode != MailSMTP || c.Mail.SMTP != tt.want {
				t.Errorf("got %q %+v, want smtp %+v", c.Mail.Mode, c.Mail.SMTP, tt.want)
			}
			if c.Mail.PublicURL != "https://chat.acme.example" || c.Mail.FromAddress != "support@acme.example" {
				t.Errorf("got public URL %q from %q", c.Mail.PublicURL, c.Mail.FromAddress)
			}
			if tt.want.Password != "" && strings.Contains(c.Mail.SMTP.String(), tt.want.Password) {
				t.Errorf("String() = %q shows the password", c.Mail.SMTP.String())
			}
		})
	}
}

func TestMailLogMode(t *testing.T) {
	c, err := Load(env(mailEnv(map[string]string{"PARLEY_SMTP_URL": "log"})))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.Mail.Mode != MailLog || !c.Mail.Enabled() {
		t.Errorf("got mode %q, want log", c.Mail.Mode)
	}
}

func TestMailErrorsNameTheVariable(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string // the variable the error must name
	}{
		{"bad scheme", mailEnv(map[string]string{"PARLEY_SMTP_URL": "http://smtp.acme.example"}), "PARLEY_SMTP_URL"},
		{"no host", mailEnv(map[string]string{"PARLEY_SMTP_URL": "smtp://"}), "PARLEY_SMTP_URL"},
		{"bad port", mailEnv(map[string]string{"PARLEY_SMTP_URL": "smtp://h:99999"}), "PARLEY_SMTP_URL"},
		{"unknown parameter", mailEnv(map[string]string{"PARLEY_SMTP_URL": "smtp://h?tls=maybe"}), "PARLEY_SMTP_URL"},
		{"not a URL", mailEnv(map[string]string{"PARLEY_SMTP_URL": "smtp://u:secret@h:%zz"}), "PARLEY_SMTP_URL"},
		{"bad from", mailEnv(map[string]string{"PARLEY_SMTP_URL": "log", "PARLEY_MAIL_FROM": "support at acme"}), "PARLEY_MAIL_FROM"},
		{"bad public URL", mailEnv(map[string]string{"PARLEY_SMTP_URL": "log", "PARLEY_PUBLIC_URL": "chat.acme.example"}), "PARLEY_PUBLIC_URL"},
		{"SMTP without FROM", map[string]string{"PARLEY_SMTP_URL": "smtp://h", "PARLEY_PUBLIC_URL": "https://c.example"}, "PARLEY_MAIL_FROM"},
		{"SMTP without public URL", map[string]string{"PARLEY_SMTP_URL": "smtp://h", "PARLEY_MAIL_FROM": "a@b.example"}, "PARLEY_PUBLIC_URL"},
		{"inbound without domain", mailEnv(map[string]string{"PARLEY_SMTP_URL": "log", "PARLEY_SMTP_INBOUND_ADDR": ":2525"}), "PARLEY_INBOUND_DOMAIN"},
		{"inbound bad addr", mailEnv(map[string]string{"PARLEY_SMTP_URL": "log", "PARLEY_SMTP_INBOUND_ADDR": "2525", "PARLEY_INBOUND_DOMAIN": "reply.acme.example"}), "PARLEY_SMTP_INBOUND_ADDR"},
		{"inbound without outbound", map[string]string{"PARLEY_SMTP_INBOUND_ADDR": ":2525", "PARLEY_INBOUND_DOMAIN": "reply.acme.example"}, "PARLEY_SMTP_INBOUND_ADDR"},
		{"domain without inbound", mailEnv(map[string]string{"PARLEY_SMTP_URL": "log", "PARLEY_INBOUND_DOMAIN": "reply.acme.example"}), "PARLEY_INBOUND_DOMAIN"},
		{"bad domain", mailEnv(map[string]string{"PARLEY_SMTP_URL": "log", "PARLEY_SMTP_INBOUND_ADDR": ":2525", "PARLEY_INBOUND_DOMAIN": "reply@acme"}), "PARLEY_INBOUND_DOMAIN"},
		{"bad agents delay", map[string]string{"PARLEY_NOTIFY_AGENTS_AFTER": "soon"}, "PARLEY_NOTIFY_AGENTS_AFTER"},
		{"bad visitor delay", map[string]string{"PARLEY_NOTIFY_VISITOR_AFTER": "10ms"}, "PARLEY_NOTIFY_VISITOR_AFTER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(env(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error naming %s", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error %q shows the SMTP password", err)
			}
		})
	}
}

func TestMailInbound(t *testing.T) {
	c, err := Load(env(mailEnv(map[string]string{
		"PARLEY_SMTP_URL": "log", "PARLEY_SMTP_INBOUND_ADDR": "127.0.0.1:2525", "PARLEY_INBOUND_DOMAIN": "Reply.Acme.example",
		"PARLEY_NOTIFY_AGENTS_AFTER": "2s", "PARLEY_NOTIFY_VISITOR_AFTER": "3s",
	})))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.Mail.InboundAddr != "127.0.0.1:2525" || c.Mail.InboundDomain != "reply.acme.example" {
		t.Errorf("got inbound %q at %q", c.Mail.InboundAddr, c.Mail.InboundDomain)
	}
	if c.Mail.NotifyAgentsAfter != 2*time.Second || c.Mail.NotifyVisitorAfter != 3*time.Second {
		t.Errorf("got delays %v, %v", c.Mail.NotifyAgentsAfter, c.Mail.NotifyVisitorAfter)
	}
}
