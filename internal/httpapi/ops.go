package httpapi

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/parley-chat/parley/internal/chat"
)

type statusBody struct {
	Status string `json:"status"`
}

func (s *Server) healthz(c *gin.Context) { c.JSON(http.StatusOK, statusBody{Status: "ok"}) }

// readyz answers 200 while the store answers within readyTimeout and is not
// full (503 store_full when Redis reached maxmemory).
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), readyTimeout)
	defer cancel()
	if err := s.ready(ctx); err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "not ready", attrRequestID(c), attrErr(err))
		if chat.ErrorCode(err) == chat.CodeFull {
			s.fail(c, chat.ErrFull)
		} else {
			s.fail(c, chat.ErrUnavailable)
		}
		return
	}
	c.JSON(http.StatusOK, statusBody{Status: "ok"})
}

// recordVisit counts a page view reported by a site.
func (s *Server) recordVisit(c *gin.Context) {
	var in chat.NewVisit
	if err := decodeJSON(c, &in, true); err != nil {
		s.fail(c, err)
		return
	}
	n, err := s.svc.RecordVisit(c.Request.Context(), in, c.ClientIP(), c.Request.UserAgent())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, n)
}

func (s *Server) visitCount(c *gin.Context) {
	n, err := s.svc.VisitCount(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, n)
}
