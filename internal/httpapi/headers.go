package httpapi

import (
	_ "embed"

	"github.com/gin-gonic/gin"
)

// Security headers of every response. The API and the console send no
// referrer at all; the files a site embeds (the loader, the frame, the demo
// page) send their origin only, as browsers do by default, and no path.
const (
	referrerAPI  = "no-referrer"
	referrerSite = "strict-origin-when-cross-origin"
	// permissionsPolicy denies every powerful feature: neither the chat nor
	// the console uses one, and a frame with them denied cannot be made to
	// ask the visitor for them.
	permissionsPolicy = "accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), " +
		"magnetometer=(), microphone=(), payment=(), usb=()"
)

// securityHeaders sets the headers every answer carries (API, errors, static
// files, the head of event streams, hijacked ones included, since it is
// built from the headers set so far).
func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", referrerAPI)
	h.Set("Permissions-Policy", permissionsPolicy)
	c.Next()
}

// siteHeaders marks the files that run in or for a customer's site.
func siteHeaders(c *gin.Context) {
	c.Writer.Header().Set("Referrer-Policy", referrerSite)
	c.Next()
}

// unlistedPage is what the frame route serves to a host page whose origin
// is not allowed: the panel's look, one sentence, no script, no data.
//
//go:embed unlisted.html
var unlistedPage []byte
