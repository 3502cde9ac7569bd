package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// Content security policies. The widget frame's frame-ancestors is built
// from the allowed origins.
const (
	adminCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
		"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
	frameCSPPrefix = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
		"img-src 'self' data: blob:; frame-ancestors "
)

// Cache policies: the loader (and the counter) is cached briefly by every site that embeds it
// (its URL is fixed); the pages (frame.html, the console's index.html, the
// demo) and the unversioned files are revalidated (cheaply, with their ETag)
// on each use, so a deploy shows at once; the files under a versioned URL
// never change, so they are cached for a year without revalidation.
const (
	cacheLoader     = "public, max-age=300"
	cacheRevalidate = "no-cache"
	cacheImmutable  = "public, max-age=31536000, immutable"
)

// contentTypes are set explicitly so that the host's mime.types cannot
// change them.
var contentTypes = map[string]string{
	".html":  "text/html; charset=utf-8",
	".js":    "text/javascript; charset=utf-8",
	".mjs":   "text/javascript; charset=utf-8",
	".css":   "text/css; charset=utf-8",
	".json":  "application/json",
	".svg":   "image/svg+xml",
	".png":   "image/png",
	".ico":   "image/x-icon",
	".woff2": "font/woff2",
	".txt":   "text/plain; charset=utf-8",
}

// widgetLoader serves /widget.js.
func (s *Server) widgetLoader(c *gin.Context) {
	s.widget.serve(s, c, "loader.js", cacheLoader)
}

// visitCounter serves /counter.js, the opt-in visitor counter a site adds
// next to (or instead of) the loader: like the loader, its URL is fixed and
// every page of the site loads it.
func (s *Server) visitCounter(c *gin.Context) {
	s.widget.serve(s, c, "counter.js", cacheLoader)
}

// widgetFile serves the frame under /widget/.
func (s *Server) widgetFile(c *gin.Context) {
	name := strings.TrimPrefix(c.Param("filepath"), "/")
	if name == "frame.html" {
		s.widgetFrame(c)
		return
	}
	if name == "open.html" { // the reopen page of a mail link: never framed
		c.Header("Content-Security-Policy", frameCSPPrefix+"'none'")
	}
	s.widget.serve(s, c, name, cacheRevalidate)
}

// widgetFrame serves the chat panel to the host page named by ?origin= (the
// loader passes its page's location.origin), and only when that origin is
// allowed: its frame-ancestors is exactly that origin, so a page that lies
// about its origin gets a frame the browser refuses to show, whichever the
// browser, without relying on the frame's own check. Parley's own origin
// (the demo page) and no origin at all (the panel opened on its own) get
// 'self'. An origin that is not allowed gets a page that says the chat is
// not set up for this site, holding nothing worth framing.
func (s *Server) widgetFrame(c *gin.Context) {
	origin := c.Query("origin")
	switch {
	case origin == "" || sameHost(origin, c.Request.Host):
		c.Header("Content-Security-Policy", frameCSPPrefix+"'self'")
	case s.origins.allowed(origin):
		// allowed only accepts bare origins (no space, quote, comma or
		// semicolon), so the value cannot add a directive.
		c.Header("Content-Security-Policy", frameCSPPrefix+strings.ToLower(origin))
	default:
		s.warnUnlisted(c, origin)
		s.serveUnlisted(c)
		return
	}
	s.widget.serve(s, c, "frame.html", cacheRevalidate)
}

// unlistedCSP lets anyone frame the not-set-up page: it has no script, no
// form and no data, only the panel's stylesheet.
const unlistedCSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors *; base-uri 'none'; form-action 'none'"

var unlistedETag = func() string {
	sum := sha256.Sum256(unlistedPage)
	return `"u` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`
}()

// serveUnlisted answers the frame route for an origin that is not allowed.
// It is a 200, so the visitor reads the sentence instead of a browser error
// page; the warning in the log tells the operator the rest.
func (s *Server) serveUnlisted(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Type", contentTypes[".html"])
	h.Set("Content-Security-Policy", unlistedCSP)
	h.Set("Cache-Control", cacheRevalidate)
	h.Set("ETag", unlistedETag)
	http.ServeContent(c.Writer, c.Request, "", time.Time{}, bytes.NewReader(unlistedPage))
}

// demoPage serves / .
func (s *Server) demoPage(c *gin.Context) {
	s.widget.serve(s, c, "demo.html", cacheRevalidate)
}

// adminHeaders locks the console down: a strict CSP, no framing, no sniffing,
// no referrer.
func adminHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", adminCSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	c.Next()
}

// adminFile serves the console under /admin/.
func (s *Server) adminFile(c *gin.Context) {
	name := strings.TrimPrefix(c.Param("filepath"), "/")
	if name == "" || strings.HasSuffix(name, "/") {
		name += "index.html"
	}
	s.admin.serve(s, c, name, cacheRevalidate)
}

func adminRedirect(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, "/admin/") }

// versionedWidget serves /v/{version}/widget/{filepath}, versionedAdmin
// /v/{version}/admin/{filepath}: the files the pages reference, under the
// version of the running build. A page is never served there: a page's own
// headers (the frame's CSP, the console's) belong to its fixed URL.
func (s *Server) versionedWidget(c *gin.Context) { s.versioned(c, s.widget) }
func (s *Server) versionedAdmin(c *gin.Context)  { s.versioned(c, s.admin) }

func (s *Server) versioned(c *gin.Context, sf *staticFiles) {
	name := strings.TrimPrefix(c.Param("filepath"), "/")
	if path.Ext(name) == ".html" {
		s.fail(c, errNotFound)
		return
	}
	// Another version's URL (a page of the previous deploy, or of another
	// instance mid-rollout) still gets today's file, but revalidated: it
	// must not be pinned for a year under a name that meant other bytes.
	cc := cacheImmutable
	if c.Param("version") != s.version {
		cc = cacheRevalidate
	}
	sf.serve(s, c, name, cc)
}
