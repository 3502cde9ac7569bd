package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/parley-chat/parley/internal/chat"
)

// hoursBody is the owners' view of the business hours.
type hoursBody struct {
	// Hours are the hours in effect.
	Hours chat.Hours `json:"hours"`
	// Source is console (saved, wins), env or none (always open).
	Source chat.HoursSource `json:"source"`
	// Env are the environment's hours, which apply again after a reset.
	Env chat.Hours `json:"env"`
	chat.HoursState
}

// publicHoursBody is what a visitor's panel learns before it has a room.
type publicHoursBody struct {
	chat.HoursState
	// Email tells the panel that this server sends mail (as on POST
	// /rooms): only then does it ask for an email outside the hours.
	Email bool `json:"email,omitempty"`
}

func (s *Server) getHours(c *gin.Context) {
	h, src, err := s.svc.BusinessHours(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, hoursBody{Hours: h, Source: src, Env: s.svc.EnvHours(), HoursState: h.StateAt(s.svc.Now())})
}

func (s *Server) putHours(c *gin.Context) {
	var in chat.Hours
	if err := decodeJSON(c, &in, false); err != nil {
		s.fail(c, err)
		return
	}
	h, err := s.svc.SetBusinessHours(c.Request.Context(), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, hoursBody{Hours: h, Source: chat.HoursFromConsole, Env: s.svc.EnvHours(), HoursState: h.StateAt(s.svc.Now())})
}

func (s *Server) deleteHours(c *gin.Context) {
	if err := s.svc.ResetBusinessHours(c.Request.Context()); err != nil {
		s.fail(c, err)
		return
	}
	s.getHours(c)
}

func (s *Server) publicHours(c *gin.Context) {
	st, err := s.svc.HoursNow(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, publicHoursBody{HoursState: st, Email: s.mail != nil})
}
