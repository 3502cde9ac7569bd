package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/parley-chat/parley/internal/chat"
)

// The API token routes (/api/v1/admin/tokens): an owner's, from a console
// session only; no API token reaches them (a token cannot make tokens).

type apiTokenBody struct {
	Token chat.APIToken `json:"token"`
}

type apiTokenListBody struct {
	Tokens []chat.APIToken `json:"tokens"`
}

var errNoAPITokens = &chat.Error{Code: chat.CodeNotFound, Message: "API tokens are not available on this server"}

// apiTokensOn answers 404 when the server was built without API tokens.
func (s *Server) apiTokensOn(c *gin.Context) bool {
	if s.apiTokens == nil {
		s.fail(c, errNoAPITokens)
		return false
	}
	return true
}

// listAPITokens answers the tokens, without secrets: GET /api/v1/admin/tokens.
func (s *Server) listAPITokens(c *gin.Context) {
	if !s.apiTokensOn(c) {
		return
	}
	list, err := s.apiTokens.List(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, apiTokenListBody{Tokens: list})
}

// createAPIToken makes a token and shows its secret, once:
// POST /api/v1/admin/tokens.
func (s *Server) createAPIToken(c *gin.Context) {
	if !s.apiTokensOn(c) {
		return
	}
	var in chat.NewAPIToken
	if err := decodeJSON(c, &in, false); err != nil {
		s.fail(c, err)
		return
	}
	t, err := s.apiTokens.Create(c.Request.Context(), adminClaims(c).Username, in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, apiTokenBody{Token: t})
}

// revokeAPIToken deletes a token, on every instance at once:
// DELETE /api/v1/admin/tokens/{id}.
func (s *Server) revokeAPIToken(c *gin.Context) {
	if !s.apiTokensOn(c) {
		return
	}
	if err := s.apiTokens.Revoke(c.Request.Context(), c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
