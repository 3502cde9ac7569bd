package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/parley-chat/parley/internal/chat"
)

// adminMe answers the calling admin's profile: GET /api/v1/admin/me.
func (s *Server) adminMe(c *gin.Context) {
	p, err := s.svc.AdminProfile(c.Request.Context(), adminClaims(c).Username)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, p)
}

// updateAdminMe changes the fields of the calling admin's profile that the
// body names: PATCH /api/v1/admin/me.
func (s *Server) updateAdminMe(c *gin.Context) {
	var in chat.ProfileUpdate
	if err := decodeJSON(c, &in, false); err != nil {
		s.fail(c, err)
		return
	}
	p, err := s.svc.UpdateAdminProfile(c.Request.Context(), adminClaims(c).Username, in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, p)
}
