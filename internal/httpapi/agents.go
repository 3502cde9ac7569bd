package httpapi

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/parley-chat/parley/internal/chat"
)

// The team routes (/api/v1/admin/agents). Every agent reads the list; the
// rest is an owner's (ownerOnly).

type agentsBody struct {
	Agents []chat.Agent `json:"agents"`
}

type agentBody struct {
	Agent chat.Agent `json:"agent"`
	// Password is set when the request set one (generated or chosen): the
	// only time it is ever shown.
	Password string `json:"password,omitempty"`
}

// ownerOnly lets only an owner through; it comes after admin, whose check
// of the token read the account's role on this very request.
func (s *Server) ownerOnly(c *gin.Context) {
	if adminClaims(c).Role != chat.RoleOwner {
		s.fail(c, chat.ErrNotOwner)
		return
	}
	c.Next()
}

// listAgents answers the team: GET /api/v1/admin/agents.
func (s *Server) listAgents(c *gin.Context) {
	agents, err := s.svc.Agents(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, agentsBody{Agents: agents})
}

// createAgent adds an account: POST /api/v1/admin/agents.
func (s *Server) createAgent(c *gin.Context) {
	var in chat.NewAgent
	if err := decodeJSON(c, &in, false); err != nil {
		s.fail(c, err)
		return
	}
	adm, password, err := s.accounts.Create(c.Request.Context(), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, agentBody{Agent: adm.Agent(), Password: password})
}

// updateAgent changes an account: PATCH /api/v1/admin/agents/{username}.
func (s *Server) updateAgent(c *gin.Context) {
	var in chat.AgentUpdate
	if err := decodeJSON(c, &in, false); err != nil {
		s.fail(c, err)
		return
	}
	adm, password, err := s.accounts.Update(c.Request.Context(), c.Param("username"), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, agentBody{Agent: adm.Agent(), Password: password})
}

// removeAgent deletes an account: DELETE /api/v1/admin/agents/{username}.
func (s *Server) removeAgent(c *gin.Context) {
	ctx, username := c.Request.Context(), chat.NormalizeUsername(c.Param("username"))
	err := s.accounts.RemoveAgent(ctx, c.Param("username"))
	if err != nil && !errors.Is(err, chat.ErrAdminUnknown) {
		s.fail(c, err)
		return
	}
	// The conversations assigned to them go back to nobody (each gets its
	// room event). Should that fail, the account is gone all the same and
	// the answer says the store failed; removing again (a 404 then) still
	// finishes the unassigning.
	if uerr := s.svc.UnassignAll(ctx, username); uerr != nil {
		s.fail(c, uerr)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
