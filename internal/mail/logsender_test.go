package mail_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/mail"
)

func TestLogSender(t *testing.T) {
	var buf bytes.Buffer
	s := mail.LogSender{Log: slog.New(slog.NewTextHandler(&buf, nil))}
	msg, err := mustComposer(t, "").Compose(sampleMail("logged", chat.NewRoomID()))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), msg); err != nil {
		t.Fatalf("Send: %v", err)
	}
	out := buf.String()
	for _, want := range []string{"message_id=<logged@chat.acme.example>", "dana@example.com", "Your conversation with Acme", "Open the conversation: https://chat.acme.example/c?t=abc"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}
