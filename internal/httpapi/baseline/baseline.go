// Package baseline is the bare send handler that `parley bench` measures
// Parley's send path against, and nothing else: no production code imports
// it. It sits under httpapi because it is a gin handler (only httpapi and its
// subpackages import gin), and outside httpapi itself so that the server's
// package exports no handler that writes without asking who is writing.
package baseline

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parley-chat/parley/internal/chat"
)

// Handler returns a bare gin handler: POST /rooms/:id/messages with
// {"content": "…"} appends a visitor message through store.Append (the very
// script a real send runs, publish included) and answers 201 {"message": …}.
// It has none of Parley's middleware, no token, no validation and no rate
// limit, so its throughput is the ceiling that Parley's send path is measured
// against. Never serve it to the public: it writes into any room without
// asking who is writing.
func Handler(store chat.RoomStore) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.POST("/rooms/:id/messages", func(c *gin.Context) {
		var in chat.NewMessage
		if err := json.NewDecoder(c.Request.Body).Decode(&in); err != nil {
			c.AbortWithStatus(http.StatusBadRequest)
			return
		}
		now := time.Now().UTC()
		m, _, err := store.Append(c.Request.Context(), chat.Message{
			ID: chat.NewMessageID(now), RoomID: c.Param("id"), Sender: chat.SenderVisitor,
			Content: in.Content, CreatedAt: chat.Time{Time: now},
		}, chat.AppendOptions{ClientID: in.ClientID})
		if err != nil {
			// The bench only needs the code; the status is coarse on purpose
			// so that this package leans on nothing of httpapi's.
			status := http.StatusInternalServerError
			if chat.ErrorCode(err) == chat.CodeRoomNotFound {
				status = http.StatusNotFound
			}
			c.AbortWithStatusJSON(status, errorBody{Error: errorCode{Code: chat.ErrorCode(err)}})
			return
		}
		c.JSON(http.StatusCreated, messageBody{Message: m})
	})
	return e
}

type messageBody struct {
	Message chat.Message `json:"message"`
}

type errorBody struct {
	Error errorCode `json:"error"`
}

type errorCode struct {
	Code chat.Code `json:"code"`
}
