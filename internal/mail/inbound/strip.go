package inbound

import (
	"regexp"
	"strings"
)

// maxQuoteHeader and maxSignOff bound the lines the patterns below look at:
// bounds in the patterns themselves ({1,200}) would compile to programs of a
// megabyte, allocated at start-up by every Parley whether mail is on or not.
const (
	maxQuoteHeader = 400
	maxSignOff     = 70
)

// The forms a mail client introduces the quoted history with. Each is
// matched against one line, or two or three lines joined (Gmail wraps a long
// "On … wrote:" line).
var quoteHeaders = []*regexp.Regexp{
	regexp.MustCompile(`(?i)^on\s.+\swrote:$`),                   // Gmail, Apple Mail, Thunderbird
	regexp.MustCompile(`(?i)^am\s.+\sschrieb\s?.*:$`),            // German
	regexp.MustCompile(`(?i)^le\s.+\sa\s[ée]crit\s?:$`),          // French
	regexp.MustCompile(`(?i)^el\s.+\sescribi[óo]:$`),             // Spanish
	regexp.MustCompile(`(?i)^op\s.+\sschreef\s?.*:$`),            // Dutch
	regexp.MustCompile(`(?i)^-{2,}\s*original message\s*-{2,}$`), // Outlook (old), many webmails
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
var signOff = regexp.MustCompile(`(?i)^(sent from my \w[\w ]*|get outlook for \w[\w ]*|sent from (mail|outlook) for \w[\w ]*|von meinem \w[\w ]* gesendet)\.?$`)

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
		if len(out) > 0 && len(out[len(out)-1]) <= maxSignOff && signOff.MatchString(strings.TrimSpace(out[len(out)-1])) {
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
		if len(joined) > maxQuoteHeader {
			break
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
