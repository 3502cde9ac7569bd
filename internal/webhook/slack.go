package webhook

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/parley-chat/parley/internal/chat"
)

// slackQuote is how much of a visitor's message a Slack post quotes.
const slackQuote = 500

// slackBody is the Slack incoming-webhook message of a webhook event: a
// new conversation or a visitor's message, with a link to the conversation
// in the console when consoleURL is set; nil for what Slack is not told
// (an agent's message, the other events).
func slackBody(typ string, ev chat.Event, consoleURL string) []byte {
	var text string
	switch {
	case typ == chat.WebhookConversationCreated && ev.Room != nil:
		text = "New conversation with *" + slackEscape(visitorName(ev.Room)) + "*"
		if ev.Room.Page != "" {
			text += " on " + slackEscape(ev.Room.Page)
		}
	case typ == chat.WebhookMessageCreated && ev.Message != nil && ev.Message.Sender == chat.SenderVisitor:
		name := ev.Message.Author
		if ev.Room != nil {
			name = visitorName(ev.Room)
		}
		text = "*" + slackEscape(name) + "* wrote:\n>" + strings.ReplaceAll(slackEscape(cut(ev.Message.Content, slackQuote)), "\n", "\n>")
	default:
		return nil
	}
	if consoleURL != "" && ev.RoomID != "" {
		text += "\n<" + consoleURL + ev.RoomID + "|Open in Parley>"
	}
	b, _ := json.Marshal(map[string]any{
		"text":         text,
		"unfurl_links": false,
	})
	return b
}

func visitorName(r *chat.Room) string {
	if r.VisitorName != "" {
		return r.VisitorName
	}
	return "a visitor"
}

// slackEscape escapes the three characters Slack's mrkdwn gives meaning to
// as markup (links, mentions).
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
