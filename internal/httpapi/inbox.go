package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/parley-chat/parley/internal/chat"
)

// The team inbox routes: status, assignment, labels, notes, the agents'
// activity and the view counts.

// agentRef names the calling agent as the others see them.
func agentRef(c *gin.Context) chat.AgentRef {
	cl := adminClaims(c)
	name := cl.DisplayName
	if name == "" {
		name = cl.Username
	}
	return chat.AgentRef{Username: cl.Username, DisplayName: name}
}

// setStatus is POST /api/v1/admin/rooms/{id}/status.
func (s *Server) setStatus(c *gin.Context) {
	var in chat.StatusRequest
	if err := decodeJSON(c, &in, false); err != nil {
		s.fail(c, err)
		return
	}
	r, err := s.svc.SetStatus(c.Request.Context(), c.Param("id"), in)
	s.respondRoom(c, r, err)
}

// assign is POST /api/v1/admin/rooms/{id}/assign.
func (s *Server) assign(c *gin.Context) {
	var in chat.AssignRequest
	if err := decodeJSON(c, &in, false); err != nil {
		s.fail(c, err)
		return
	}
	r, err := s.svc.Assign(c.Request.Context(), c.Param("id"), in)
	s.respondRoom(c, r, err)
}

// setRoomLabels is PUT /api/v1/admin/rooms/{id}/labels.
func (s *Server) setRoomLabels(c *gin.Context) {
	var in chat.RoomLabels
	if err := decodeJSON(c, &in, false); err != nil {
		s.fail(c, err)
		return
	}
	r, err := s.svc.SetRoomLabels(c.Request.Context(), c.Param("id"), in)
	s.respondRoom(c, r, err)
}

func (s *Server) respondRoom(c *gin.Context, r chat.Room, err error) {
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, roomBody{Room: r})
}

type noteBody struct {
	Note chat.Note `json:"note"`
}

type notesBody struct {
	Notes []chat.Note `json:"notes"`
}

// addNote is POST /api/v1/admin/rooms/{id}/notes.
func (s *Server) addNote(c *gin.Context) {
	var in chat.NewNote
	if err := decodeJSON(c, &in, false); err != nil {
		s.fail(c, err)
		return
	}
	n, err := s.svc.AddNote(c.Request.Context(), c.Param("id"), agentRef(c), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, noteBody{Note: n})
}

// listNotes is GET /api/v1/admin/rooms/{id}/notes.
func (s *Server) listNotes(c *gin.Context) {
	notes, err := s.svc.Notes(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, notesBody{Notes: notes})
}

// viewing is POST /api/v1/admin/rooms/{id}/viewing: the console says, every
// few seconds, that its agent has the conversation open.
func (s *Server) viewing(c *gin.Context) {
	if err := s.svc.Activity(c.Request.Context(), c.Param("id"), agentRef(c), chat.ActivityViewing); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// roomCounts is GET /api/v1/admin/counts.
func (s *Server) roomCounts(c *gin.Context) {
	n, err := s.svc.RoomCounts(c.Request.Context(), adminClaims(c).Username)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"counts": n})
}

type labelBody struct {
	Label chat.Label `json:"label"`
}

type labelsBody struct {
	Labels []chat.Label `json:"labels"`
}

// listLabels is GET /api/v1/admin/labels.
func (s *Server) listLabels(c *gin.Context) {
	ls, err := s.svc.Labels(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, labelsBody{Labels: ls})
}

// createLabel is POST /api/v1/admin/labels.
func (s *Server) createLabel(c *gin.Context) {
	var in chat.LabelInput
	if err := decodeJSON(c, &in, false); err != nil {
		s.fail(c, err)
		return
	}
	l, err := s.svc.CreateLabel(c.Request.Context(), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, labelBody{Label: l})
}

// updateLabel is PATCH /api/v1/admin/labels/{label}.
func (s *Server) updateLabel(c *gin.Context) {
	var in chat.LabelInput
	if err := decodeJSON(c, &in, false); err != nil {
		s.fail(c, err)
		return
	}
	l, err := s.svc.UpdateLabel(c.Request.Context(), c.Param("label"), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, labelBody{Label: l})
}

// deleteLabel is DELETE /api/v1/admin/labels/{label}.
func (s *Server) deleteLabel(c *gin.Context) {
	if err := s.svc.DeleteLabel(c.Request.Context(), c.Param("label")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
