package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
)

type loginBody struct {
	Token     string    `json:"token"`
	ExpiresAt chat.Time `json:"expiresAt"`
	Admin     adminInfo `json:"admin"`
}

type adminInfo struct {
	Username    string    `json:"username"`
	DisplayName string    `json:"displayName"`
	Role        chat.Role `json:"role"`
}

type adminRoomBody struct {
	Room     chat.Room      `json:"room"`
	Messages []chat.Message `json:"messages"`
	Notes    []chat.Note    `json:"notes"`
}

func (s *Server) login(c *gin.Context) {
	var in chat.Credentials
	if err := decodeJSON(c, &in, false); err != nil {
		s.fail(c, err)
		return
	}
	adm, err := s.svc.Login(c.Request.Context(), s.accounts, in, c.ClientIP())
	if err != nil {
		s.fail(c, err)
		return
	}
	tok, exp, err := s.tokens.IssueAdmin(adm)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, loginBody{
		Token: tok, ExpiresAt: chat.Time{Time: exp},
		Admin: adminInfo{Username: adm.Username, DisplayName: adm.DisplayName, Role: chat.RoleOf(string(adm.Role))},
	})
}

func adminClaims(c *gin.Context) auth.AdminClaims {
	v, _ := c.Get(ctxAdmin)
	claims, _ := v.(auth.AdminClaims)
	return claims
}

func (s *Server) logout(c *gin.Context) {
	if err := s.tokens.Revoke(c.Request.Context(), adminClaims(c)); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) listRooms(c *gin.Context) {
	in := chat.RoomsRequest{Cursor: c.Query("cursor")}
	if err := optionalInt(c, "limit", &in.Limit); err != nil {
		s.fail(c, err)
		return
	}
	if f, ok := c.GetQuery("filter"); ok {
		in.Filter = &f
	}
	if l, ok := c.GetQuery("label"); ok {
		in.Label = &l
	}
	q, err := in.Query()
	if err != nil {
		s.fail(c, err)
		return
	}
	q.Agent = adminClaims(c).Username
	page, err := s.svc.ListRooms(c.Request.Context(), q)
	if err != nil {
		s.fail(c, err)
		return
	}
	if page.Rooms == nil {
		page.Rooms = []chat.Room{}
	}
	c.JSON(http.StatusOK, page)
}

func (s *Server) openRoom(c *gin.Context) {
	r, msgs, notes, err := s.svc.AgentOpen(c.Request.Context(), c.Param("id"), agentRef(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	if msgs == nil {
		msgs = []chat.Message{}
	}
	if notes == nil {
		notes = []chat.Note{}
	}
	c.JSON(http.StatusOK, adminRoomBody{Room: r, Messages: msgs, Notes: notes})
}

func (s *Server) sendAdmin(c *gin.Context) {
	var in chat.NewMessage
	if err := decodeJSON(c, &in, false); err != nil {
		s.fail(c, err)
		return
	}
	m, created, err := s.svc.SendAgent(c.Request.Context(), c.Param("id"), agentRef(c), in)
	s.respondSent(c, m, created, err)
}

func (s *Server) adminRead(c *gin.Context) {
	if _, err := s.svc.AdminRead(c.Request.Context(), c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) adminTyping(c *gin.Context) {
	if err := s.svc.AgentTyping(c.Request.Context(), c.Param("id"), agentRef(c)); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// adminDelete is an admin deleting a conversation.
func (s *Server) adminDelete(c *gin.Context) { s.deleteRoom(c, chat.SenderAdmin) }

// block blocks a room's visitor and, when the optional body asks, the
// address the room was opened from.
func (s *Server) block(c *gin.Context) {
	var in chat.BlockRequest
	if err := decodeJSON(c, &in, true); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.svc.Block(c.Request.Context(), c.Param("id"), in); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// unblock lifts both blocks.
func (s *Server) unblock(c *gin.Context) {
	if err := s.svc.Unblock(c.Request.Context(), c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) visitReport(c *gin.Context) {
	var in chat.VisitsRequest
	if err := optionalInt(c, "days", &in.Days); err != nil {
		s.fail(c, err)
		return
	}
	days, err := in.Query()
	if err != nil {
		s.fail(c, err)
		return
	}
	rep, err := s.svc.VisitReport(c.Request.Context(), days)
	if err != nil {
		s.fail(c, err)
		return
	}
	if rep.Days == nil {
		rep.Days = []chat.DayVisits{}
	}
	if rep.TopPages == nil {
		rep.TopPages = []chat.PageViews{}
	}
	c.JSON(http.StatusOK, rep)
}
