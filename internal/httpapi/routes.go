package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/parley-chat/parley/internal/chat"
)

// routes lists every route of the server. Global middleware (security
// headers, request id, access log, metrics, recovery, body limit, CORS of the
// visitor surface) is
// installed in newEngine; per-route middleware is visible here:
//
//	short     the per-request deadline (every route but the streams)
//	upload    the longer deadline of an upload
//	visitor   a visitor token for the room in the path
//	admin     a login admin token that was not revoked (no API token)
//	read, reply, manage
//	          a login admin token, or an API token with that scope
//	          (docs/API.md, API tokens)
//	owner     an owner's admin token (after admin or a scope)
//	room      a well-formed :id
//	site      the Referrer-Policy of files that run in a customer's site
//	zip       gzip or brotli for a JSON answer of 1 KiB or more (never on
//	          the streams, nor on the answers that carry a token)
func (s *Server) routes(e *gin.Engine) {
	short := deadline(requestTimeout)
	upload := deadline(uploadTimeout)
	zip := s.compressJSON
	visitor := s.visitorAuth
	admin := s.adminAuth
	read := s.adminScope(chat.ScopeRead)
	reply := s.adminScope(chat.ScopeReply)
	manage := s.adminScope(chat.ScopeManage)
	room := s.roomParam
	site := siteHeaders
	owner := s.ownerOnly

	// Operations. /metrics here wants PARLEY_METRICS_TOKEN; the private
	// listener (PARLEY_METRICS_ADDR) serves it without.
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.metricsAuth, gin.WrapH(s.metrics.handler))

	// Visitor API (CORS for the allowed origins). The OPTIONS routes only
	// exist so that preflights reach the CORS middleware, which answers them;
	// a preflight without Origin falls through to not_found.
	e.OPTIONS("/api/v1/rooms", s.notFound)
	e.OPTIONS("/api/v1/rooms/*any", s.notFound)
	e.POST("/api/v1/rooms", short, s.createRoom)
	e.POST("/api/v1/rooms/open", short, s.reopenRoom)
	e.GET("/api/v1/rooms/:id", short, visitor, s.getRoom)
	e.DELETE("/api/v1/rooms/:id", short, visitor, s.visitorDelete)
	e.GET("/api/v1/rooms/:id/messages", short, zip, visitor, s.listMessages)
	e.POST("/api/v1/rooms/:id/messages", short, visitor, s.sendVisitor)
	e.POST("/api/v1/rooms/:id/read", short, visitor, s.visitorRead)
	e.POST("/api/v1/rooms/:id/typing", short, visitor, s.visitorTyping)
	e.GET("/api/v1/rooms/:id/events", visitor, s.visitorEvents)
	e.POST("/api/v1/rooms/:id/transcript", short, visitor, s.visitorTranscript)
	e.POST("/api/v1/rooms/:id/pages", short, visitor, s.reportPage)
	e.POST("/api/v1/rooms/:id/attachments", upload, visitor, s.uploadVisitor)
	e.GET("/api/v1/rooms/:id/attachments/:attachment", short, s.attachmentAuth, s.getAttachment)
	e.HEAD("/api/v1/rooms/:id/attachments/:attachment", short, s.attachmentAuth, s.getAttachment)

	// Mail links (RFC 8058 one-click unsubscribe: the signed t= is the
	// capability, so no session and no CSRF token).
	e.GET("/unsubscribe", short, s.unsubscribeForm)
	e.POST("/unsubscribe", short, s.unsubscribe)

	// Visitor counter (CORS for the allowed origins).
	e.OPTIONS("/api/v1/visits", s.notFound)
	e.POST("/api/v1/visits", short, s.recordVisit)
	e.GET("/api/v1/visits", short, s.visitCount)

	// Business hours, as the panel reads them before it has a room (CORS for
	// the allowed origins).
	e.OPTIONS("/api/v1/hours", s.notFound)
	e.GET("/api/v1/hours", short, s.publicHours)

	// Admin API (same origin only: no CORS).
	a := e.Group("/api/v1/admin", adminHeaders)
	a.POST("/login", short, s.login)
	a.POST("/logout", short, admin, s.logout)
	a.GET("/rooms", short, zip, read, s.listRooms)
	a.GET("/search", short, zip, read, s.search)
	// Opening a room marks it read and shows the agent viewing: reply.
	a.GET("/rooms/:id", short, zip, reply, room, s.openRoom)
	a.DELETE("/rooms/:id", short, manage, owner, room, s.adminDelete)
	a.GET("/rooms/:id/messages", short, zip, read, room, s.listMessages)
	a.POST("/rooms/:id/messages", short, reply, room, s.sendAdmin)
	a.POST("/rooms/:id/read", short, reply, room, s.adminRead)
	a.POST("/rooms/:id/typing", short, reply, room, s.adminTyping)
	a.POST("/rooms/:id/block", short, manage, room, s.block)
	a.DELETE("/rooms/:id/block", short, manage, room, s.unblock)
	a.GET("/events", read, s.adminEvents)
	a.GET("/visits", short, zip, read, s.visitReport)
	a.POST("/rooms/:id/transcript", short, reply, room, s.adminTranscript)
	a.POST("/rooms/:id/attachments", upload, reply, room, s.upload)
	a.GET("/mail", short, read, s.mailStatus)
	a.GET("/mail/dead", short, zip, read, s.deadMails)
	a.GET("/me", short, read, s.adminMe)
	a.PATCH("/me", short, admin, s.updateAdminMe)

	// The team inbox: status, assignment, labels, private notes, who is
	// viewing, the views' counts.
	a.POST("/rooms/:id/status", short, manage, room, s.setStatus)
	a.POST("/rooms/:id/assign", short, manage, room, s.assign)
	a.PUT("/rooms/:id/labels", short, manage, room, s.setRoomLabels)
	a.GET("/rooms/:id/notes", short, zip, read, room, s.listNotes)
	a.GET("/rooms/:id/visitor", short, zip, read, room, s.visitorInfo)
	a.POST("/rooms/:id/notes", short, reply, room, s.addNote)
	a.POST("/rooms/:id/viewing", short, reply, room, s.viewing)
	a.GET("/counts", short, read, s.roomCounts)
	a.GET("/labels", short, read, s.listLabels)
	a.POST("/labels", short, manage, owner, s.createLabel)
	a.PATCH("/labels/:label", short, manage, owner, s.updateLabel)
	a.DELETE("/labels/:label", short, manage, owner, s.deleteLabel)
	// Canned replies: the team's snippets, any agent may manage them.
	a.GET("/canned", short, zip, read, s.listCanned)
	a.POST("/canned", short, manage, s.addCanned)
	a.PATCH("/canned/:id", short, manage, s.updateCanned)
	a.DELETE("/canned/:id", short, manage, s.deleteCanned)
	// The team: every agent reads it, owners manage it.
	a.GET("/agents", short, zip, read, s.listAgents)
	a.POST("/agents", short, admin, owner, s.createAgent)
	a.PATCH("/agents/:username", short, admin, owner, s.updateAgent)
	a.DELETE("/agents/:username", short, admin, owner, s.removeAgent)
	// Settings: every agent reads them, owners change them.
	a.GET("/settings/hours", short, admin, s.getHours)
	a.PUT("/settings/hours", short, admin, owner, s.putHours)
	a.DELETE("/settings/hours", short, admin, owner, s.deleteHours)
	// Webhooks: owners only; the secret is on the answers of POST and
	// rotate only.
	a.GET("/webhooks", short, admin, owner, s.listWebhooks)
	a.POST("/webhooks", short, admin, owner, s.createWebhook)
	a.DELETE("/webhooks/:id", short, admin, owner, s.deleteWebhook)
	a.POST("/webhooks/:id/rotate", short, admin, owner, s.rotateWebhook)
	a.POST("/webhooks/:id/enable", short, admin, owner, s.enableWebhook)
	a.GET("/webhooks/:id/deliveries", short, zip, admin, owner, s.webhookDeliveries)
	a.POST("/webhooks/:id/deliveries/:job/resend", short, admin, owner, s.resendWebhook)
	// API tokens: owners only, from a console session (admin: no API
	// token makes or sees tokens); the secret is on the answer of POST only.
	a.GET("/tokens", short, admin, owner, s.listAPITokens)
	a.POST("/tokens", short, admin, owner, s.createAPIToken)
	a.DELETE("/tokens/:id", short, admin, owner, s.revokeAPIToken)

	// Static files: the widget, the visitor counter, the demo page, the console, and the files
	// of the last two under their versioned URLs.
	for _, m := range []string{http.MethodGet, http.MethodHead} {
		e.Handle(m, "/", site, s.demoPage)
		e.Handle(m, "/widget.js", site, s.widgetLoader)
		e.Handle(m, "/counter.js", site, s.visitCounter)
		e.Handle(m, "/widget/*filepath", site, s.widgetFile)
		e.Handle(m, "/admin", adminHeaders, adminRedirect)
		e.Handle(m, "/admin/*filepath", adminHeaders, s.adminFile)
		e.Handle(m, "/v/:version/widget/*filepath", site, s.versionedWidget)
		e.Handle(m, "/v/:version/admin/*filepath", adminHeaders, s.versionedAdmin)
	}

	e.NoRoute(s.notFound)
}
