package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// Content security policies. The widget frame's frame-ancestors is built
// from the allowed origins.
const (
	adminCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
	frameCSPPrefix = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
		"img-src 'self' data:; frame-ancestors "
)

// Cache policies: the loader is cached briefly by every site that embeds it;
// everything else is revalidated (cheaply, with its ETag) on each use.
const (
	cacheLoader     = "public, max-age=300"
	cacheRevalidate = "no-cache"
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

// staticFiles serves one fs.FS with strong, content-derived ETags. Hashes
// are cached per file and recomputed when the file's size or modification
// time changes (an embed.FS never changes; an os.DirFS does while editing).
type staticFiles struct {
	fsys fs.FS
	mu   sync.Mutex
	tags map[string]fileTag
}

type fileTag struct {
	size    int64
	modTime time.Time
	etag    string
}

func newStaticFiles(fsys fs.FS) *staticFiles {
	return &staticFiles{fsys: fsys, tags: make(map[string]fileTag)}
}

// serve writes the file name (a slash-separated path inside the FS), or 404.
func (sf *staticFiles) serve(s *Server, c *gin.Context, name, cacheControl string) {
	data, etag, ok := sf.read(name)
	if !ok {
		s.fail(c, errNotFound)
		return
	}
	h := c.Writer.Header()
	ct, ok := contentTypes[path.Ext(name)]
	if !ok {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	h.Set("Cache-Control", cacheControl)
	h.Set("ETag", etag)
	http.ServeContent(c.Writer, c.Request, "", time.Time{}, bytes.NewReader(data))
}

func (sf *staticFiles) read(name string) ([]byte, string, bool) {
	if sf.fsys == nil || !fs.ValidPath(name) || name == "." {
		return nil, "", false
	}
	info, err := fs.Stat(sf.fsys, name)
	if err != nil || !info.Mode().IsRegular() {
		return nil, "", false
	}
	data, err := fs.ReadFile(sf.fsys, name)
	if err != nil {
		return nil, "", false
	}
	sf.mu.Lock()
	defer sf.mu.Unlock()
	t, ok := sf.tags[name]
	if !ok || t.size != info.Size() || !t.modTime.Equal(info.ModTime()) {
		sum := sha256.Sum256(data)
		t = fileTag{size: info.Size(), modTime: info.ModTime(), etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`}
		sf.tags[name] = t
	}
	return data, t.etag, true
}

// widgetLoader serves /widget.js.
func (s *Server) widgetLoader(c *gin.Context) {
	s.widget.serve(s, c, "loader.js", cacheLoader)
}

// widgetFile serves the frame under /widget/.
func (s *Server) widgetFile(c *gin.Context) {
	name := strings.TrimPrefix(c.Param("filepath"), "/")
	if name == "frame.html" {
		c.Header("Content-Security-Policy", frameCSPPrefix+s.origins.frameAncestors())
	}
	s.widget.serve(s, c, name, cacheRevalidate)
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
