package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/webhook"
)

type webhookBody struct {
	Webhook webhook.Endpoint `json:"webhook"`
}

type webhookListBody struct {
	Webhooks []webhook.Endpoint `json:"webhooks"`
}

type deliveriesBody struct {
	Deliveries []chat.WebhookDelivery `json:"deliveries"`
}

var errNoWebhooks = &chat.Error{Code: chat.CodeNotFound, Message: "webhooks are not available on this server"}

// hooksOn answers 404 when the server was built without webhooks.
func (s *Server) hooksOn(c *gin.Context) bool {
	if s.hooks == nil {
		s.fail(c, errNoWebhooks)
		return false
	}
	return true
}

// listWebhooks answers the endpoints, without secrets: GET /api/v1/admin/webhooks.
func (s *Server) listWebhooks(c *gin.Context) {
	if !s.hooksOn(c) {
		return
	}
	list, err := s.hooks.List(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, webhookListBody{Webhooks: list})
}

// createWebhook registers an endpoint and shows its secret, once:
// POST /api/v1/admin/webhooks.
func (s *Server) createWebhook(c *gin.Context) {
	if !s.hooksOn(c) {
		return
	}
	var in webhook.NewEndpoint
	if err := decodeJSON(c, &in, false); err != nil {
		s.fail(c, err)
		return
	}
	e, err := s.hooks.Create(c.Request.Context(), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, webhookBody{Webhook: e})
}

// deleteWebhook removes an endpoint: DELETE /api/v1/admin/webhooks/{id}.
func (s *Server) deleteWebhook(c *gin.Context) {
	if !s.hooksOn(c) {
		return
	}
	if err := s.hooks.Delete(c.Request.Context(), c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// rotateWebhook gives an endpoint a new secret, shown once; the old one
// signs too for a day: POST /api/v1/admin/webhooks/{id}/rotate.
func (s *Server) rotateWebhook(c *gin.Context) {
	if !s.hooksOn(c) {
		return
	}
	e, err := s.hooks.Rotate(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, webhookBody{Webhook: e})
}

// enableWebhook lifts a failing endpoint's mark:
// POST /api/v1/admin/webhooks/{id}/enable.
func (s *Server) enableWebhook(c *gin.Context) {
	if !s.hooksOn(c) {
		return
	}
	if err := s.hooks.Enable(c.Request.Context(), c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// webhookDeliveries lists an endpoint's recent attempts:
// GET /api/v1/admin/webhooks/{id}/deliveries.
func (s *Server) webhookDeliveries(c *gin.Context) {
	if !s.hooksOn(c) {
		return
	}
	list, err := s.hooks.Deliveries(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, deliveriesBody{Deliveries: list})
}

// resendWebhook queues one delivery's event again:
// POST /api/v1/admin/webhooks/{id}/deliveries/{job}/resend.
func (s *Server) resendWebhook(c *gin.Context) {
	if !s.hooksOn(c) {
		return
	}
	if err := s.hooks.Resend(c.Request.Context(), c.Param("id"), c.Param("job")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusAccepted)
}
