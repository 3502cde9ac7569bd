package inbound

import (
	"errors"
	"io"
	"strings"

	_ "github.com/emersion/go-message/charset" // decode ISO-8859-*, Windows-125*, … bodies
	gomail "github.com/emersion/go-message/mail"
	"golang.org/x/net/html"
)

// errNoTextPart: the mail has no text/plain or text/html part.
var errNoTextPart = errors.New("inbound: no text part")

// bodyText returns the text of a mail: its first inline text/plain part,
// or else its first text/html part with the tags (and the quoted
// blockquotes) taken out.
func bodyText(r *gomail.Reader) (string, error) {
	var htmlText string
	haveHTML := false
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", err
		}
		h, ok := p.Header.(*gomail.InlineHeader)
		if !ok {
			continue // an attachment
		}
		mt, _, err := h.ContentType()
		if err != nil && mt == "" {
			mt = "text/plain" // RFC 2045: a missing or broken type is plain text
		}
		switch mt {
		case "text/plain":
			b, err := io.ReadAll(p.Body)
			if err != nil {
				return "", err
			}
			return string(b), nil
		case "text/html":
			if !haveHTML {
				t, err := htmlToText(p.Body)
				if err != nil {
					return "", err
				}
				htmlText, haveHTML = t, true
			}
		}
	}
	if haveHTML {
		return htmlText, nil
	}
	return "", errNoTextPart
}

// skipped are elements whose content is not the writer's text: scripts
// and styles, and the quoted history mail clients put in a blockquote.
var skipped = map[string]bool{"script": true, "style": true, "head": true, "title": true, "blockquote": true}

// breaks are elements that end a line.
var breaks = map[string]bool{"br": true, "p": true, "div": true, "li": true, "tr": true, "h1": true, "h2": true, "h3": true, "h4": true, "pre": true, "hr": true, "table": true}

// htmlToText reads an HTML body into plain text.
func htmlToText(r io.Reader) (string, error) {
	z := html.NewTokenizer(r)
	var b strings.Builder
	// Inside a skipped element: its tag, and how deep in same-named ones.
	skipTag, depth := "", 0
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if errors.Is(z.Err(), io.EOF) {
				return b.String(), nil
			}
			return "", z.Err()
		case html.TextToken:
			if depth == 0 {
				b.WriteString(strings.Join(strings.Fields(string(z.Text())), " "))
			}
		case html.StartTagToken:
			name, hasAttr := z.TagName()
			tag := string(name)
			switch {
			case depth > 0:
				if tag == skipTag {
					depth++
				}
			case skipped[tag] || (tag == "div" && hasAttr && isQuoteDiv(z)):
				skipTag, depth = tag, 1
			case breaks[tag]:
				b.WriteString("\n")
			}
		case html.SelfClosingTagToken:
			name, _ := z.TagName()
			if depth == 0 && breaks[string(name)] {
				b.WriteString("\n")
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			tag := string(name)
			switch {
			case depth > 0:
				if tag == skipTag {
					depth--
				}
			case breaks[tag]:
				b.WriteString("\n")
			}
		}
	}
}

// isQuoteDiv tells a div that holds quoted history: Gmail's gmail_quote,
// Outlook's divRplyFwdMsg and appendonsend, Yahoo's yahoo_quoted.
func isQuoteDiv(z *html.Tokenizer) bool {
	for {
		k, v, more := z.TagAttr()
		key, val := string(k), string(v)
		if (key == "class" && (strings.Contains(val, "gmail_quote") || strings.Contains(val, "yahoo_quoted"))) ||
			(key == "id" && (val == "divRplyFwdMsg" || val == "appendonsend")) {
			return true
		}
		if !more {
			return false
		}
	}
}
