package httpapi

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/gin-gonic/gin"
	"github.com/tdewolff/minify/v2"
	"github.com/tdewolff/minify/v2/css"
	"github.com/tdewolff/minify/v2/html"
	"github.com/tdewolff/minify/v2/js"
)

// Levels of the static precompression. Each file is compressed once, on its
// first request in that encoding, so the level trades milliseconds per
// server (the tests start dozens) for bytes on every download. gzip's best
// level takes a third longer than its default for 0.1% fewer bytes here;
// brotli above 5 takes ten times as long (over 100 ms for the panel at 9,
// 300 ms at 11) for 1-9% fewer. All files in both encodings, minified
// first, take about 50 ms of one core (BenchmarkStaticStart).
const (
	staticGzipLevel   = gzip.DefaultCompression
	staticBrotliLevel = 5
)

// compressible are the extensions worth compressing; images and fonts in
// other formats are compressed already.
var compressible = map[string]bool{
	".html": true, ".js": true, ".mjs": true, ".css": true, ".json": true, ".svg": true, ".txt": true,
}

// minifyTypes are the extensions minified before they are served, and the
// media type the minifier knows them by.
var minifyTypes = map[string]string{
	".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css",
}

// staticFiles serves one fs.FS: each file read, its HTML references pointed
// at the versioned URLs, minified and hashed once, and compressed once per
// encoding when first asked for. A file is prepared again when its size or
// modification time changes (an embed.FS never changes; an os.DirFS does
// while editing, though the version of its URLs stays the one of the start).
type staticFiles struct {
	fsys fs.FS
	// root is the directory the files are served under ("widget",
	// "admin"); with version it makes their versioned URLs.
	root    string
	version string
	min     *minify.M
	log     *slog.Logger

	mu    sync.Mutex
	files map[string]*asset
}

// asset is one prepared file.
type asset struct {
	size    int64
	modTime time.Time

	prepare sync.Once
	ok      bool
	ct      string
	data    []byte // identity body
	etag    string // strong, of data
	gz, br  variant
}

// variant is an encoded body, made on first use; data stays nil when the
// encoding would not make the file smaller.
type variant struct {
	once sync.Once
	data []byte
}

func newStaticFiles(fsys fs.FS, root, version string, log *slog.Logger) *staticFiles {
	m := minify.New()
	m.Add("text/html", &html.Minifier{KeepDocumentTags: true, KeepEndTags: true, KeepQuotes: true, KeepDefaultAttrVals: true})
	m.AddFunc("text/css", css.Minify)
	m.AddFunc("text/javascript", js.Minify)
	return &staticFiles{fsys: fsys, root: root, version: version, min: m, log: log, files: make(map[string]*asset)}
}

// serve writes the file name (a slash-separated path inside the FS) in the
// encoding the client prefers, or 404. Every compressible file varies by
// Accept-Encoding, and each encoding has its own strong ETag, so a cache
// never answers a gzip client's If-None-Match with brotli bytes.
func (sf *staticFiles) serve(s *Server, c *gin.Context, name, cacheControl string) {
	a, ok := sf.asset(name)
	if !ok {
		s.fail(c, errNotFound)
		return
	}
	h := c.Writer.Header()
	h.Set("Content-Type", a.ct)
	h.Set("Cache-Control", cacheControl)
	body, etag := a.data, a.etag
	if compressible[path.Ext(name)] {
		h.Add("Vary", "Accept-Encoding")
		switch acceptEncoding(c.GetHeader("Accept-Encoding")) {
		case encBrotli:
			if br := a.brotli(); br != nil {
				body, etag = br, encodedTag(a.etag, "br")
				h.Set("Content-Encoding", "br")
			}
		case encGzip:
			if gz := a.gzip(); gz != nil {
				body, etag = gz, encodedTag(a.etag, "gz")
				h.Set("Content-Encoding", "gzip")
			}
		}
	}
	h.Set("ETag", etag)
	// ServeContent leaves Content-Length out when Content-Encoding is set
	// (for writers that compress on the fly); these bytes are final. It
	// replaces the length for a range and drops it for a 304.
	h.Set("Content-Length", strconv.Itoa(len(body)))
	http.ServeContent(c.Writer, c.Request, "", time.Time{}, bytes.NewReader(body))
}

// encodedTag derives an encoding's ETag from the identity one.
func encodedTag(etag, suffix string) string {
	return etag[:len(etag)-1] + "-" + suffix + `"`
}

// asset returns the prepared file, preparing it on first use.
func (sf *staticFiles) asset(name string) (*asset, bool) {
	if sf.fsys == nil || !fs.ValidPath(name) || name == "." {
		return nil, false
	}
	info, err := fs.Stat(sf.fsys, name)
	if err != nil || !info.Mode().IsRegular() {
		return nil, false
	}
	sf.mu.Lock()
	a := sf.files[name]
	if a == nil || a.size != info.Size() || !a.modTime.Equal(info.ModTime()) {
		a = &asset{size: info.Size(), modTime: info.ModTime()}
		sf.files[name] = a
	}
	sf.mu.Unlock()
	a.prepare.Do(func() { sf.prepare(a, name) })
	return a, a.ok
}

// prepare reads, rewrites, minifies and hashes a file.
func (sf *staticFiles) prepare(a *asset, name string) {
	data, err := fs.ReadFile(sf.fsys, name)
	if err != nil {
		return
	}
	ext := path.Ext(name)
	if ext == ".html" && sf.version != "" {
		data = sf.versionRefs(name, data)
	}
	if mt, ok := minifyTypes[ext]; ok {
		// A file the minifier cannot parse is served as it is: bigger,
		// but working.
		if out, err := sf.min.Bytes(mt, data); err != nil {
			sf.log.Warn("static file not minified", slog.String("file", sf.root+"/"+name), attrErr(err))
		} else {
			data = out
		}
	}
	a.ct = contentTypes[ext]
	if a.ct == "" {
		a.ct = "application/octet-stream"
	}
	sum := sha256.Sum256(data)
	a.data, a.etag, a.ok = data, `"`+base64.RawURLEncoding.EncodeToString(sum[:12])+`"`, true
}

func (a *asset) gzip() []byte {
	a.gz.once.Do(func() {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, staticGzipLevel) // the level is valid
		_, _ = zw.Write(a.data)                             // a bytes.Buffer does not fail
		_ = zw.Close()
		if buf.Len() < len(a.data) {
			a.gz.data = buf.Bytes()
		}
	})
	return a.gz.data
}

func (a *asset) brotli() []byte {
	a.br.once.Do(func() {
		var buf bytes.Buffer
		bw := brotli.NewWriterLevel(&buf, staticBrotliLevel)
		_, _ = bw.Write(a.data)
		_ = bw.Close()
		if buf.Len() < len(a.data) {
			a.br.data = buf.Bytes()
		}
	})
	return a.br.data
}

// localRef finds the src and href attributes of an HTML file that name a
// file by a relative path: no scheme, no leading slash, no fragment or query.
var localRef = regexp.MustCompile(`(\s(?:src|href))="([^"/#?:][^"#?:]*)"`)

// versionRefs points the relative references of an HTML file at the
// versioned URLs of the same files (/v/<version>/<root>/...), when the file
// exists. The modules a page loads import each other by relative paths, so
// the whole graph stays under the version.
func (sf *staticFiles) versionRefs(name string, data []byte) []byte {
	return localRef.ReplaceAllFunc(data, func(m []byte) []byte {
		sub := localRef.FindSubmatch(m)
		target := path.Join(path.Dir(name), string(sub[2]))
		if info, err := fs.Stat(sf.fsys, target); err != nil || !info.Mode().IsRegular() {
			return m
		}
		return []byte(string(sub[1]) + `="` + versionedPrefix + sf.version + "/" + sf.root + "/" + target + `"`)
	})
}

// versionedPrefix starts every versioned URL: /v/<version>/widget/... and
// /v/<version>/admin/..., one version for both trees so that the console's
// imports of the shared widget modules ("../widget/dom.js") stay under it.
const versionedPrefix = "/v/"

// assetVersion is a hash of every file of the trees, named by their root:
// it changes whenever any file does, and only then.
func assetVersion(trees map[string]fs.FS) string {
	h := sha256.New()
	for _, root := range []string{"admin", "widget"} {
		fsys := trees[root]
		if fsys == nil {
			continue
		}
		_ = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return nil // an unreadable file is served as 404 anyway
			}
			data, err := fs.ReadFile(fsys, p)
			if err != nil {
				return nil
			}
			// Name and length first, so no two trees hash alike.
			h.Write([]byte(root + "/" + p + "\x00" + strconv.Itoa(len(data)) + "\x00"))
			h.Write(data)
			return nil
		})
	}
	return hex.EncodeToString(h.Sum(nil)[:6])
}
