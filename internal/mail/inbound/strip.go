package inbound

import (
	"regexp"
	"strings"
)

// The forms a mail client introduces the quoted history with. Each is
// matched against one line, or two or three lines joined (Gmail wraps a long
// "On … wrote:" line).
var quoteHeaders = []*regexp.Regexp{
	regexp.MustCompile(`(?i)^on\s.{1,200}\swrote:$`),              // Gmail, Apple Mail, Thunderbird
	regexp.MustCompile(`(?i)^am\s.{1,200}\sschrieb\s?.{0,100}:$`), // German
	regexp.MustCompile(`(?i)^le\s.{1,200}\sa\s[ée]crit\s?:$`),     // French
	regexp.MustCompile(`(?i)^el\s.{1,200}\sescribi[óo]:$`),        // Spanish
	regexp.MustCompile(`(?i)^op\s.{1,200}\sschreef\s?.{0,100}:$`), // Dutch
	regexp.MustCompile(`(?i)^-{2,}\s*original message\s*-{2,}$`),  // Outlook (old), many webmails
	regexp.MustCompile(`(?i)^-{2,}\s*(urspr[üu]ngliche nachricht|message d'origine)\s*-{2,}$`),
	regexp.MustCompile(`(?i)^begin forwarded message:$`), // Apple Mail
	regexp.MustCompile(`^_{20,}$`),                       // Outlook's rule above its header block
}

// An Outlook header block: "From: …" followed within a few lines by
// "Sent: …" or "Date: …" (also bold, as an HTML part converts them, and in
// a few languages).
var (
	outlookFrom = regexp.MustCompile(`(?i)^\*?(from|von|de|van)\s?:\*?\s`)
	outlookSent = regexp.MustCompile(`(?i)^\*?(sent|date|gesendet|datum|envoy[ée]|verzonden)\s?:\*?\s`)
)

// Phone and webmail sign-offs that stand alone at the end of a reply.
var signOff = regexp.MustCompile(`(?i)^(sent from my \w[\w ]{0,40}|get outlook for \w[\w ]{0,20}|sent from (mail|outlook) for \w[\w ]{0,20}|von meinem \w[\w ]{0,40} gesendet)\.?$`)

// StripQuoted returns the new text of a reply: everything above the quoted
// history (an "On … wrote:" line, an Outlook header block, an "Original
// Message" rule) and above the signature ("-- "), without quoted lines
// ("> …") and without a trailing "Sent from my phone".
func StripQuoted(text string) string {
	text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n")
	lines := strings.Split(text, "\n")
	var out []string
	for i, line := range lines {
		t := strings.TrimSpace(line)
		if line == "-- " || t == "--" || isQuoteHeader(lines, i) {
			break
		}
		if strings.HasPrefix(t, ">") {
			continue
		}
		out = append(out, strings.TrimRight(line, " \t"))
	}
	// Drop blank lines, then a sign-off, at the end.
	for {
		for len(out) > 0 && strings.TrimSpace(out[len(out)-1]) == "" {
			out = out[:len(out)-1]
		}
		if len(out) > 0 && signOff.MatchString(strings.TrimSpace(out[len(out)-1])) {
			out = out[:len(out)-1]
			continue
		}
		break
	}
	for len(out) > 0 && strings.TrimSpace(out[0]) == "" {
		out = out[1:]
	}
	return strings.Join(out, "\n")
}

func isQuoteHeader(lines []string, i int) bool {
	joined := strings.TrimSpace(lines[i])
	if joined == "" {
		return false
	}
	for n := 0; n < 3 && i+n < len(lines); n++ {
		if n > 0 {
			joined += " " + strings.TrimSpace(lines[i+n])
		}
		for _, re := range quoteHeaders {
			if re.MatchString(joined) {
				return true
			}
		}
	}
	if outlookFrom.MatchString(strings.TrimSpace(lines[i])) {
		for n := 1; n <= 4 && i+n < len(lines); n++ {
			if outlookSent.MatchString(strings.TrimSpace(lines[i+n])) {
				return true
			}
		}
	}
	return false
}
