package inbound

import "testing"

func TestStripQuoted(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "Thanks, that works!\n", "Thanks, that works!"},
		{"gmail", "Thanks, that works!\n\nOn Tue, Dec 1, 2026 at 10:04 AM Acme Support <support@acme.example> wrote:\n> Try restarting it.\n> Sam\n", "Thanks, that works!"},
		{"gmail wrapped", "Yes please.\r\n\r\nOn Tue, Dec 1, 2026 at 10:04 AM Acme Support <\r\nreply+abc@reply.acme.example> wrote:\r\n\r\n> Shall I?\r\n", "Yes please."},
		{"apple mail", "Sure.\n\nSent from my iPhone\n\n> On 1 Dec 2026, at 10:04, Acme Support <support@acme.example> wrote:\n>\n> Hello\n", "Sure."},
		{"apple mail unquoted header", "Sure.\n\nOn 1 Dec 2026, at 10:04, Acme Support <support@acme.example> wrote:\n\nHello\n", "Sure."},
		{"outlook", "It is the blue one.\n\nFrom: Acme Support <support@acme.example>\nSent: Tuesday, December 1, 2026 10:04 AM\nTo: Dana <dana@example.com>\nSubject: Your conversation\n\nWhich one?\n", "It is the blue one."},
		{"outlook bold from html", "It is the blue one.\n________________________________\n*From:* Acme Support <support@acme.example>\n*Sent:* Tuesday\n", "It is the blue one."},
		{"original message", "OK.\n\n-----Original Message-----\nFrom: Acme\n", "OK."},
		{"signature", "See you.\n-- \nDana Smith\nACME Corp\n", "See you."},
		{"signature without space", "See you.\n--\nDana\n", "See you."},
		{"interleaved", "> Which colour?\nBlue.\n> And the size?\nLarge.\n", "Blue.\nLarge."},
		{"german", "Danke!\n\nAm 01.12.2026 um 10:04 schrieb Acme Support <support@acme.example>:\n> Hallo\n", "Danke!"},
		{"french", "Merci\n\nLe mar. 1 déc. 2026 à 10:04, Acme Support <support@acme.example> a écrit :\n> Bonjour\n", "Merci"},
		{"outlook mobile", "Fine\n\nGet Outlook for iOS\n", "Fine"},
		{"keeps a sentence starting with On", "On Monday I tried it again.\nStill broken.\n", "On Monday I tried it again.\nStill broken."},
		{"only a quote", "> quoted\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := StripQuoted(tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestHTMLToText(t *testing.T) {
	in := `<html><head><style>p{}</style></head><body><div dir="ltr">Thanks &amp; bye<br>Dana</div><br>` +
		`<div class="gmail_quote"><div>On Tue, Acme wrote:</div><blockquote>Try <b>this</b></blockquote></div>` +
		`<script>alert(1)</script></body></html>`
	got, err := htmlToTextString(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := "Thanks & bye\nDana"; StripQuoted(got) != want {
		t.Errorf("got %q (stripped %q), want %q", got, StripQuoted(got), want)
	}
}
