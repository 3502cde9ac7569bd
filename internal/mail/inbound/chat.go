package inbound

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/mail"
)

// ChatHandler is the Handler Parley runs: a reply becomes a message of its
// room through the Service (blocks and rate limits apply), the visitor's as
// the visitor's, an agent's as that agent's reply; an unsubscribe stops the
// recipient's notification mails.
type ChatHandler struct {
	Service *chat.Service
	Store   chat.UnsubscribeStore
	Log     *slog.Logger
}

// ClientID is the client id a reply is stored under: "mail:" and a digest
// of its Message-ID, so the same mail delivered twice is stored once. ""
// for a mail without a Message-ID.
func ClientID(messageID string) string {
	if messageID == "" {
		return ""
	}
	h := sha256.Sum256([]byte(messageID))
	return "mail:" + hex.EncodeToString(h[:16])
}

// Reply stores r. A reply that can never be stored (the room is gone, the
// visitor blocked, the text refused) is dropped with a log line rather
// than retried by the sending server; a rate limit or a store failure is
// an error, so the sender tries again later.
func (h ChatHandler) Reply(ctx context.Context, r Reply) error {
	in := chat.NewMessage{Content: r.Text, ClientID: ClientID(r.MessageID)}
	var err error
	if r.From.IsVisitor() {
		_, _, err = h.Service.SendVisitor(ctx, r.RoomID, in, "")
	} else {
		var a chat.Admin
		if a, err = h.Service.Store().Admin(ctx, r.From.Agent); err == nil {
			author := a.DisplayName
			if author == "" {
				author = a.Username
			}
			_, _, err = h.Service.SendAgent(ctx, r.RoomID, chat.AgentRef{Username: a.Username, DisplayName: author}, in)
		}
	}
	switch code := chat.ErrorCode(err); {
	case err == nil:
		return nil
	case errors.Is(err, chat.ErrRoomNotFound), errors.Is(err, chat.ErrBlocked), errors.Is(err, chat.ErrAdminUnknown), code == chat.CodeInvalid:
		h.Log.Warn("inbound: reply dropped", "room_id", r.RoomID, "reason", err.Error())
		return nil
	}
	return err
}

// Unsubscribe stops the notification mails of r about roomID (an agent's
// about every room), as the one-click link does: the same store calls.
func (h ChatHandler) Unsubscribe(ctx context.Context, roomID string, r mail.Recipient) error {
	if r.IsVisitor() {
		return h.Store.UnsubscribeVisitor(ctx, roomID, chat.UnsubscribeTTL)
	}
	err := h.Store.UnsubscribeAgent(ctx, r.Agent)
	if errors.Is(err, chat.ErrAdminUnknown) {
		h.Log.Warn("inbound: unsubscribe of a removed account dropped", "room_id", roomID)
		return nil // nothing left to stop; the sender must not retry
	}
	return err
}
