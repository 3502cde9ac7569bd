package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/parley-chat/parley/internal/chat"
)

// search answers GET /api/v1/admin/search?q=…&limit=…: the conversations
// whose visitor name, email, messages or notes have every word of q,
// newest first, each with the snippet it matched.
func (s *Server) search(c *gin.Context) {
	var in chat.SearchRequest
	if q, ok := c.GetQuery("q"); ok {
		in.Q = &q
	}
	if err := optionalInt(c, "limit", &in.Limit); err != nil {
		s.fail(c, err)
		return
	}
	q, err := in.Query()
	if err != nil {
		s.fail(c, err)
		return
	}
	page, err := s.svc.Search(c.Request.Context(), q)
	if err != nil {
		s.fail(c, err)
		return
	}
	if page.Results == nil {
		page.Results = []chat.SearchResult{}
	}
	c.JSON(http.StatusOK, page)
}
