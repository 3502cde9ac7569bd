package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/parley-chat/parley/internal/chat"
)

type roomBody struct {
	Room chat.Room `json:"room"`
}

type roomTokenBody struct {
	Room  chat.Room `json:"room"`
	Token string    `json:"token"`
	// Email tells the panel that this server sends mail: only then does it
	// offer to answer by email or to mail a transcript.
	Email bool `json:"email,omitempty"`
}

type messagesBody struct {
	Messages []chat.Message `json:"messages"`
	HasMore  bool           `json:"hasMore"`
}

type messageBody struct {
	Message chat.Message `json:"message"`
}

// createRoom opens a conversation, or resumes the one of a returning visitor
// whose token is still good (see chat.Service.OpenRoom).
func (s *Server) createRoom(c *gin.Context) {
	var in chat.NewRoom
	if err := decodeJSON(c, &in, true); err != nil {
		s.fail(c, err)
		return
	}
	resumeID := ""
	if raw := bearer(c); raw != "" {
		if id, err := s.tokens.VerifyVisitor(raw); err == nil {
			resumeID = id
		}
	}
	r, created, err := s.svc.OpenRoom(c.Request.Context(), in, resumeID, c.ClientIP())
	if err != nil {
		s.fail(c, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	s.respondRoomToken(c, status, r)
}

func (s *Server) respondRoomToken(c *gin.Context, status int, r chat.Room) {
	tok, _, err := s.tokens.IssueVisitor(r.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(status, roomTokenBody{Room: r.ForVisitor(), Token: tok, Email: s.mail != nil})
}

func (s *Server) getRoom(c *gin.Context) {
	r, err := s.svc.Room(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, roomBody{Room: r.ForVisitor()})
}

// listMessages serves both sides' message pages.
func (s *Server) listMessages(c *gin.Context) {
	q, err := messageQuery(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	msgs, more, err := s.svc.Messages(c.Request.Context(), c.Param("id"), q)
	if err != nil {
		s.fail(c, err)
		return
	}
	if msgs == nil {
		msgs = []chat.Message{}
	}
	c.JSON(http.StatusOK, messagesBody{Messages: msgs, HasMore: more})
}

func (s *Server) sendVisitor(c *gin.Context) {
	var in chat.NewMessage
	if err := decodeJSON(c, &in, false); err != nil {
		s.fail(c, err)
		return
	}
	m, created, err := s.svc.SendVisitor(c.Request.Context(), c.Param("id"), in, c.ClientIP())
	s.respondSent(c, m, created, err)
}

func (s *Server) respondSent(c *gin.Context, m chat.Message, created bool, err error) {
	if err != nil {
		s.fail(c, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		s.metrics.messages.WithLabelValues(string(m.Sender)).Inc()
	}
	if m.Raw != "" { // the JSON the store wrote: no second encoding
		c.Data(status, jsonContentType, []byte(`{"message":`+m.Raw+`}`))
		return
	}
	c.JSON(status, messageBody{Message: m})
}

// jsonContentType is the Content-Type gin's JSON answers have.
const jsonContentType = "application/json; charset=utf-8"

func (s *Server) visitorRead(c *gin.Context) {
	var in chat.ReadMark
	if err := decodeJSON(c, &in, false); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.svc.VisitorRead(c.Request.Context(), c.Param("id"), in); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) visitorTyping(c *gin.Context) {
	if err := s.svc.VisitorTyping(c.Request.Context(), c.Param("id"), c.ClientIP()); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// visitorDelete is the visitor erasing their conversation.
func (s *Server) visitorDelete(c *gin.Context) { s.deleteRoom(c, chat.SenderVisitor) }

// deleteRoom serves both the visitor's erase and the admin's delete.
func (s *Server) deleteRoom(c *gin.Context, by chat.Sender) {
	if err := s.svc.DeleteRoom(c.Request.Context(), c.Param("id"), by); err != nil {
		s.fail(c, err)
		return
	}
	s.purgeFiles(c, c.Param("id"))
	c.Status(http.StatusNoContent)
}
