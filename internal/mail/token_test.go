package mail_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/mail"
)

func TestTokens(t *testing.T) {
	s := mail.NewSigner(testSecret)
	room := chat.NewRoomID()
	now := time.Now()
	exp := now.Add(time.Hour)
	agent := mail.Recipient{Agent: "sam"}
	tok, err := s.Sign(mail.PurposeReply, room, agent, exp)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	if l := len("reply+" + tok); l > 64 || strings.ToLower(tok) != tok {
		t.Errorf("reply+token is %d characters (%q), want at most 64, lower case", l, tok)
	}

	t.Run("valid", func(t *testing.T) {
		c, err := s.Verify(tok, mail.PurposeReply, now)
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if c.RoomID != room || !c.IsAgent() || !s.IsFor(c, agent) || s.IsFor(c, mail.Recipient{Agent: "kim"}) || s.IsFor(c, mail.Visitor) {
			t.Errorf("got claims %+v, want room %s for agent sam only", c, room)
		}
		if c.Expires.Unix() != exp.Unix() {
			t.Errorf("expires: got %v, want %v", c.Expires, exp)
		}
		// Mail systems may fold the case of a local part.
		if _, err := s.Verify(strings.ToUpper(tok), mail.PurposeReply, now); err != nil {
			t.Errorf("Verify of the upper-cased token: %v", err)
		}
	})
	t.Run("visitor", func(t *testing.T) {
		vt, _ := s.Sign(mail.PurposeOpen, room, mail.Visitor, exp)
		c, err := s.Verify(vt, mail.PurposeOpen, now)
		if err != nil || c.IsAgent() || !s.IsFor(c, mail.Visitor) || s.IsFor(c, agent) {
			t.Errorf("got %+v, %v; want a visitor token", c, err)
		}
	})
	t.Run("expired", func(t *testing.T) {
		if _, err := s.Verify(tok, mail.PurposeReply, exp.Add(time.Second)); !errors.Is(err, mail.ErrTokenExpired) {
			t.Errorf("got %v, want ErrTokenExpired", err)
		}
	})
	t.Run("wrong purpose", func(t *testing.T) {
		if _, err := s.Verify(tok, mail.PurposeUnsubscribe, now); !errors.Is(err, mail.ErrTokenPurpose) {
			t.Errorf("got %v, want ErrTokenPurpose", err)
		}
	})
	t.Run("other secret", func(t *testing.T) {
		other := mail.NewSigner([]byte("another secret of at least 32 bytes!"))
		if _, err := other.Verify(tok, mail.PurposeReply, now); !errors.Is(err, mail.ErrTokenMalformed) {
			t.Errorf("got %v, want ErrTokenMalformed", err)
		}
	})
	t.Run("forged", func(t *testing.T) {
		for i := range tok {
			for _, c := range "ab67" {
				if rune(tok[i]) == c {
					continue
				}
				f := tok[:i] + string(c) + tok[i+1:]
				if _, err := s.Verify(f, mail.PurposeReply, now); !errors.Is(err, mail.ErrTokenMalformed) {
					t.Fatalf("token changed at %d (%q): got %v, want ErrTokenMalformed", i, f, err)
				}
			}
		}
		for _, f := range []string{"", "x", tok + "a", tok[:len(tok)-1], strings.Repeat("1", len(tok))} {
			if _, err := s.Verify(f, mail.PurposeReply, now); !errors.Is(err, mail.ErrTokenMalformed) {
				t.Errorf("Verify(%q): got %v, want ErrTokenMalformed", f, err)
			}
		}
	})
	t.Run("not a room", func(t *testing.T) {
		if _, err := s.Sign(mail.PurposeReply, "room-1", mail.Visitor, exp); err == nil {
			t.Errorf("Sign of a non-room id: got no error")
		}
	})
}
