package chat_test

import (
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/chat"
)

func TestNormalizeShortcut(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"hello", "hello"},
		{" /Hello ", "hello"},
		{"Refund_Policy-2", "refund_policy-2"},
		{strings.Repeat("a", chat.MaxShortcut), strings.Repeat("a", chat.MaxShortcut)},
	} {
		if got, err := chat.NormalizeShortcut(tc.in); err != nil || got != tc.want {
			t.Errorf("NormalizeShortcut(%q): got %q, %v, want %q", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "/", "//hi", "two words", "hi!", "é", strings.Repeat("a", chat.MaxShortcut+1), "a\nb"} {
		if got, err := chat.NormalizeShortcut(in); chat.ErrorCode(err) != chat.CodeInvalid {
			t.Errorf("NormalizeShortcut(%q): got %q, %v, want invalid_request", in, got, err)
		}
	}
}

func TestNormalizeCannedBody(t *testing.T) {
	if got, err := chat.NormalizeCannedBody("  Hi,\n\tthere  "); err != nil || got != "Hi,\n\tthere" {
		t.Errorf("got %q, %v, want the body trimmed, lines and tabs kept", got, err)
	}
	if _, err := chat.NormalizeCannedBody(strings.Repeat("é", chat.MaxCannedBody)); err != nil {
		t.Errorf("a body of %d characters: %v", chat.MaxCannedBody, err)
	}
	for _, in := range []string{"", " \n ", strings.Repeat("é", chat.MaxCannedBody+1), "a\x00b", "a\x1bb"} {
		if _, err := chat.NormalizeCannedBody(in); chat.ErrorCode(err) != chat.CodeInvalid {
			t.Errorf("NormalizeCannedBody(%q): got %v, want invalid_request", in, err)
		}
	}
}

func TestCannedID(t *testing.T) {
	a, b := chat.NewCannedID(), chat.NewCannedID()
	if !chat.ValidCannedID(a) || a == b {
		t.Fatalf("got ids %q and %q, want two different valid ones", a, b)
	}
	for _, id := range []string{"", "cr_", "r_aaaaaaaaaaaaaaaa", "cr_AAAAAAAAAAAAAAAA", "cr_aaaaaaaaaaaaaaa", a + "a"} {
		if chat.ValidCannedID(id) {
			t.Errorf("ValidCannedID(%q): got true", id)
		}
	}
}
