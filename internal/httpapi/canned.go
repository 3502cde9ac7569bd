package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/parley-chat/parley/internal/chat"
)

type cannedListBody struct {
	Canned []chat.Canned `json:"canned"`
}

type cannedBody struct {
	Canned chat.Canned `json:"canned"`
}

// listCanned answers the team's canned replies: GET /api/v1/admin/canned.
func (s *Server) listCanned(c *gin.Context) {
	list, err := s.svc.CannedReplies(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, cannedListBody{Canned: list})
}

// addCanned adds a canned reply: POST /api/v1/admin/canned.
func (s *Server) addCanned(c *gin.Context) {
	var in chat.NewCanned
	if err := decodeJSON(c, &in, false); err != nil {
		s.fail(c, err)
		return
	}
	item, err := s.svc.AddCanned(c.Request.Context(), adminClaims(c).Username, in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, cannedBody{Canned: item})
}

// updateCanned changes the fields of a canned reply the body names:
// PATCH /api/v1/admin/canned/{id}.
func (s *Server) updateCanned(c *gin.Context) {
	var in chat.CannedUpdate
	if err := decodeJSON(c, &in, false); err != nil {
		s.fail(c, err)
		return
	}
	item, err := s.svc.UpdateCanned(c.Request.Context(), c.Param("id"), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, cannedBody{Canned: item})
}

// deleteCanned removes a canned reply: DELETE /api/v1/admin/canned/{id}.
func (s *Server) deleteCanned(c *gin.Context) {
	if err := s.svc.DeleteCanned(c.Request.Context(), c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
