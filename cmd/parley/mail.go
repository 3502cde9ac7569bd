package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/httpapi"
	"github.com/parley-chat/parley/internal/mail"
	"github.com/parley-chat/parley/internal/mail/inbound"
	"github.com/parley-chat/parley/internal/redisstore"
)

// mailer is the email side of a server, present when PARLEY_SMTP_URL is
// set: the queue worker, the notifier and, with PARLEY_SMTP_INBOUND_ADDR,
// the inbound SMTP listener.
type mailer struct {
	log      *slog.Logger
	signer   *mail.Signer
	composer *mail.Composer
	queue    *mail.Queue
	notifier *mail.Notifier
	inbound  *inbound.Server
	inLn     net.Listener // nil: no inbound mail
}

// notifyConfig is the Service's mail scheduling: on for the server when
// mail is (the tools, which exit at once, schedule nothing).
func notifyConfig(cfg config.Config, store *redisstore.Store) chat.NotifyConfig {
	if !cfg.Mail.Enabled() {
		return chat.NotifyConfig{}
	}
	return chat.NotifyConfig{AgentsAfter: cfg.Mail.NotifyAgentsAfter, VisitorAfter: cfg.Mail.NotifyVisitorAfter, Store: store}
}

// newMailer builds the mail side over b; secret is the server's signing
// secret, the tokens' key. The inbound listener is opened here, so a taken
// address stops start-up.
func newMailer(cfg config.Config, b *backend, secret []byte, metrics mail.Metrics) (*mailer, error) {
	m := &mailer{log: b.log, signer: mail.NewSigner(secret)}
	composer, err := mail.NewComposer(mail.ComposerConfig{
		From: cfg.Mail.From, PublicURL: cfg.Mail.PublicURL, InboundDomain: cfg.Mail.InboundDomain, Signer: m.signer,
	})
	if err != nil {
		return nil, fmt.Errorf("PARLEY_MAIL_FROM: %w", err)
	}
	var sender mail.Sender = mail.LogSender{Log: b.log}
	if cfg.Mail.Mode == config.MailSMTP {
		s := cfg.Mail.SMTP
		if sender, err = mail.NewSMTPSender(mail.SMTPConfig{
			Host: s.Host, Port: s.Port, Security: mail.Security(s.Security), Username: s.Username, Password: s.Password,
		}); err != nil {
			return nil, fmt.Errorf("PARLEY_SMTP_URL: %w", err)
		}
	}
	m.composer = composer
	if m.queue, err = mail.NewQueue(b.store, composer, sender, b.log, mail.QueueConfig{Metrics: metrics}); err != nil {
		return nil, err
	}
	if m.notifier, err = mail.NewNotifier(mail.NotifierConfig{
		Service: b.svc, Store: b.store, Queue: m.queue, Signer: m.signer, PublicURL: cfg.Mail.PublicURL, Log: b.log,
	}); err != nil {
		return nil, err
	}
	if cfg.Mail.InboundAddr == "" {
		return m, nil
	}
	if m.inbound, err = inbound.New(inbound.Config{
		Domain: cfg.Mail.InboundDomain, Signer: m.signer, Log: b.log,
		Agents:  func(ctx context.Context) ([]string, error) { return adminNames(ctx, b.accounts) },
		Handler: inbound.ChatHandler{Service: b.svc, Store: b.store, Log: b.log},
	}); err != nil {
		return nil, err
	}
	if m.inLn, err = net.Listen("tcp", cfg.Mail.InboundAddr); err != nil {
		return nil, fmt.Errorf("PARLEY_SMTP_INBOUND_ADDR: %w", err)
	}
	return m, nil
}

// deps is what the HTTP side needs of the mail: the email routes and
// promises (transcripts, unsubscribe, the reopen link, the dead letters).
func (m *mailer) deps(store *redisstore.Store) *httpapi.MailDeps {
	return &httpapi.MailDeps{Queue: m.queue, Composer: m.composer, Signer: m.signer, Unsubscribe: store}
}

func adminNames(ctx context.Context, accounts *auth.Accounts) ([]string, error) {
	admins, err := accounts.List(ctx)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(admins))
	for i, a := range admins {
		names[i] = a.Username
	}
	return names, nil
}

// start runs the worker, the notifier and the inbound listener until ctx
// ends; wg is done when all three have returned.
func (m *mailer) start(ctx context.Context, wg *sync.WaitGroup) {
	wg.Add(2)
	go func() {
		defer wg.Done()
		_ = m.queue.Run(ctx)
	}()
	go func() {
		defer wg.Done()
		m.notifier.Run(ctx)
	}()
	if m.inLn == nil {
		return
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := m.inbound.Serve(ctx, m.inLn); err != nil && !errors.Is(err, context.Canceled) {
			m.log.Error("inbound smtp listener stopped", "addr", m.inLn.Addr().String(), "err", err)
		}
	}()
}

// close releases what start would have: the listener of a server that
// never ran.
func (m *mailer) close() {
	if m != nil && m.inLn != nil {
		_ = m.inLn.Close()
	}
}

// setFirstAdminEmail gives the first admin PARLEY_ADMIN_EMAIL while their
// account has no address.
func setFirstAdminEmail(ctx context.Context, cfg config.Config, b *backend) error {
	if cfg.AdminEmail == "" {
		return nil
	}
	user := cfg.AdminUser
	if user == "" {
		user = "admin"
	}
	a, err := b.store.Admin(ctx, user)
	if errors.Is(err, chat.ErrAdminUnknown) {
		return nil
	}
	if err != nil || a.Email != "" {
		return err
	}
	p := a.Profile()
	p.Email = cfg.AdminEmail
	p.Notify = a.Notify // keep "never chosen"
	return b.store.SetAdminProfile(ctx, user, p)
}
