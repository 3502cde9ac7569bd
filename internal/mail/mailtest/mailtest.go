// Package mailtest is a recording SMTP server for tests, built on go-smtp
// and listening on a loopback port: it keeps every mail it accepted with
// its envelope and raw bytes, and can be told to refuse (4xx or 5xx) or to
// hang, so tests see what a real mail server would do to Parley's mail.
package mailtest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Received is one accepted mail.
type Received struct {
	From string
	To   []string
	Raw  []byte
	// TLS tells whether the mail came over an encrypted connection.
	TLS bool
	// User is the authenticated user name, "" without AUTH.
	User string
}

// Options tune a Server.
type Options struct {
	// TLS offers STARTTLS with a self-signed certificate for 127.0.0.1 and
	// localhost; Server.ClientTLS trusts it.
	TLS bool
	// Implicit speaks TLS from the first byte (smtps) instead.
	Implicit bool
	// Username and Password, when set, are the one account AUTH PLAIN
	// accepts; mail without it is refused with 530.
	Username, Password string
}

// Server is a running test SMTP server.
type Server struct {
	tb   testing.TB
	srv  *smtp.Server
	addr string
	cert *x509.Certificate
	opts Options

	mu       sync.Mutex
	received []Received
	refuse   []*smtp.SMTPError // next transactions' MAIL FROM answers
	hang     chan struct{}     // non-nil: DATA waits on it
	attempts int               // MAIL FROM commands seen
	notify   chan struct{}
}

// Start starts a server on a free 127.0.0.1 port; it is closed when the
// test ends.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s := &Server{tb: tb, opts: opts, notify: make(chan struct{}, 1)}
	srv := smtp.NewServer(s)
	srv.Domain = "mailtest.local"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.MaxMessageBytes = 1 << 20
	srv.AllowInsecureAuth = true
	var l net.Listener
	var err error
	if opts.TLS || opts.Implicit {
		var cfg *tls.Config
		cfg, s.cert = selfSigned(tb)
		srv.TLSConfig = cfg
		if opts.Implicit {
			l, err = tls.Listen("tcp", "127.0.0.1:0", cfg)
		}
	}
	if l == nil && err == nil {
		l, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		tb.Fatalf("mailtest: listen: %v", err)
	}
	s.srv, s.addr = srv, l.Addr().String()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	tb.Cleanup(func() {
		s.mu.Lock()
		if s.hang != nil {
			close(s.hang)
			s.hang = nil
		}
		s.mu.Unlock()
		_ = srv.Close()
		<-done
	})
	return s
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.addr }

// Host and Port split Addr.
func (s *Server) Host() string { h, _, _ := net.SplitHostPort(s.addr); return h }

// Port is the server's port.
func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.addr)
	n, _ := strconv.Atoi(p)
	return n
}

// ClientTLS returns a client TLS config that trusts the server's
// certificate (nil without TLS).
func (s *Server) ClientTLS() *tls.Config {
	if s.cert == nil {
		return nil
	}
	pool := x509.NewCertPool()
	pool.AddCert(s.cert)
	return &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

// Refuse makes the next n transactions fail at MAIL FROM with code (421,
// 451 temporary; 550 permanent).
func (s *Server) Refuse(n, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.refuse = append(s.refuse, &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 0, 0}, Message: "mailtest refuses"})
	}
}

// Hang makes every DATA wait (without answering) until the returned
// function is called or the test ends.
func (s *Server) Hang() (release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := make(chan struct{})
	s.hang = ch
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			if s.hang == ch {
				s.hang = nil
			}
			s.mu.Unlock()
			close(ch)
		})
	}
}

// Attempts is how many transactions (MAIL FROM) the server has seen,
// refused ones included.
func (s *Server) Attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// Received returns a copy of every accepted mail, in order.
func (s *Server) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

// WaitFor waits until at least n mails were accepted and returns them, or
// fails the test after timeout.
func (s *Server) WaitFor(n int, timeout time.Duration) []Received {
	s.tb.Helper()
	deadline := time.After(timeout)
	for {
		if r := s.Received(); len(r) >= n {
			return r
		}
		select {
		case <-s.notify:
		case <-deadline:
			s.tb.Fatalf("mailtest: got %d mails after %v, want %d", len(s.Received()), timeout, n)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// NewSession implements smtp.Backend.
func (s *Server) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &session{s: s, tls: isTLS}, nil
}

type session struct {
	s    *Server
	tls  bool
	user string
	cur  Received
}

func (se *session) AuthMechanisms() []string {
	if se.s.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (se *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != se.s.opts.Username || password != se.s.opts.Password {
			return smtp.ErrAuthFailed
		}
		se.user = username
		return nil
	}), nil
}

func (se *session) Mail(from string, _ *smtp.MailOptions) error {
	s := se.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts++
	if len(s.refuse) > 0 {
		err := s.refuse[0]
		s.refuse = s.refuse[1:]
		return err
	}
	if s.opts.Username != "" && se.user == "" {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "authentication required"}
	}
	se.cur = Received{From: from, TLS: se.tls, User: se.user}
	return nil
}

func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	se.cur.To = append(se.cur.To, to)
	return nil
}

func (se *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	se.s.mu.Lock()
	hang := se.s.hang
	se.s.mu.Unlock()
	if hang != nil {
		<-hang
		return errors.New("mailtest: released from hang")
	}
	se.cur.Raw = bytes.Clone(raw)
	se.s.mu.Lock()
	se.s.received = append(se.s.received, se.cur)
	se.s.mu.Unlock()
	select {
	case se.s.notify <- struct{}{}:
	default:
	}
	return nil
}

func (se *session) Reset()        { se.cur = Received{} }
func (se *session) Logout() error { return nil }

// Shutdown stops accepting connections (for a "server down" phase); it
// cannot be restarted.
func (s *Server) Shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }

func selfSigned(tb testing.TB) (*tls.Config, *x509.Certificate) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatalf("mailtest: key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "mailtest"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatalf("mailtest: certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatalf("mailtest: certificate: %v", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, cert
}
