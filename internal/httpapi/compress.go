package httpapi

import (
	"compress/gzip"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/gin-gonic/gin"
)

// encoding is a content coding Parley can send.
type encoding int

const (
	encIdentity encoding = iota
	encGzip
	encBrotli
)

// token is the coding's name in Content-Encoding.
func (e encoding) token() string {
	switch e {
	case encGzip:
		return "gzip"
	case encBrotli:
		return "br"
	}
	return "identity"
}

// acceptEncoding picks the coding to send from an Accept-Encoding header
// (RFC 9110, 12.5.3): the highest q-value wins, brotli before gzip before
// identity when they tie; q=0 refuses a coding; "*" stands for every coding
// not named; identity is acceptable unless refused, and below any named
// coding unless given a weight. No header means identity. When identity is refused and nothing else is acceptable,
// identity is sent anyway: a 406 would help no one.
func acceptEncoding(header string) encoding {
	if header == "" {
		return encIdentity
	}
	br, gz, id, star := -1.0, -1.0, -1.0, -1.0
	for part := range strings.SplitSeq(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil || f < 0 || f > 1 {
					f = 0 // a malformed weight accepts nothing
				}
				q = f
			}
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "br":
			br = q
		case "gzip", "x-gzip":
			gz = q
		case "identity":
			id = q
		case "*":
			star = q
		}
	}
	if br < 0 {
		br = max(star, 0)
	}
	if gz < 0 {
		gz = max(star, 0)
	}
	if id < 0 {
		// Identity unnamed is acceptable (unless "*;q=0") but the least
		// wanted: a client that lists codings lists what it prefers.
		id = 0.001
		if star >= 0 {
			id = star
		}
	}
	switch {
	case br > 0 && br >= gz && br >= id:
		return encBrotli
	case gz > 0 && gz >= id:
		return encGzip
	}
	return encIdentity
}

// JSON compression. Below compressMin a response goes out as it is: the
// headers and the coding's framing would eat most of the gain.
const (
	compressMin = 1 << 10
	// Levels for answers compressed on every request (see
	// BenchmarkCompressRoomList): on a 50-room list (24 KB) both add about
	// 0.1-0.15 ms of CPU to the 0.15 ms of encoding the JSON, for 1.2 KB
	// (brotli) or 1.6 KB (gzip). Brotli 4 costs three times as much for
	// 5% fewer bytes.
	jsonGzipLevel   = 5
	jsonBrotliLevel = 2
)

// compressors pools the writers of the JSON compression: a brotli or gzip
// writer holds tens of kilobytes of tables, too much to allocate per request.
type compressors struct {
	gz, br sync.Pool
}

func (z *compressors) get(enc encoding, w io.Writer) io.WriteCloser {
	if enc == encBrotli {
		if bw, ok := z.br.Get().(*brotli.Writer); ok {
			bw.Reset(w)
			return bw
		}
		return brotli.NewWriterLevel(w, jsonBrotliLevel)
	}
	if zw, ok := z.gz.Get().(*gzip.Writer); ok {
		zw.Reset(w)
		return zw
	}
	zw, _ := gzip.NewWriterLevel(w, jsonGzipLevel) // the level is valid
	return zw
}

func (z *compressors) put(enc encoding, wc io.WriteCloser) {
	if enc == encBrotli {
		z.br.Put(wc)
	} else {
		z.gz.Put(wc)
	}
}

// compressJSON compresses the JSON answer of a route when the client
// accepts gzip or brotli and the body reaches compressMin.
//
// It is installed per route, on the reads whose answers grow (room lists,
// message history, the visits report), and deliberately nowhere else:
//
//   - never on the event streams: a compressor buffers, and an event must
//     leave as soon as it is written;
//   - never on the answers that carry a token (POST /api/v1/rooms, the
//     admin login). BREACH recovers a secret from the compressed size of
//     answers that also reflect text the attacker chose; these answers
//     reflect the visitor's name and email next to the token, and are
//     small anyway. The compressed routes carry no credential, and they are
//     authorized by the Authorization header, never by a cookie, so a
//     cross-site page cannot make a browser request them to measure.
func (s *Server) compressJSON(c *gin.Context) {
	c.Writer.Header().Add("Vary", "Accept-Encoding")
	enc := acceptEncoding(c.GetHeader("Accept-Encoding"))
	if enc == encIdentity {
		c.Next()
		return
	}
	orig := c.Writer
	w := &compressWriter{ResponseWriter: orig, z: s.zip, enc: enc}
	c.Writer = w
	// On a panic, recoverPanic (outside) answers through the real writer:
	// what was buffered is dropped.
	defer func() { c.Writer = orig }()
	c.Next()
	w.finish()
}

// compressWriter holds back the first compressMin bytes of an answer, then
// decides: a JSON body that reached the threshold, before any header left,
// is compressed; anything else passes through unchanged.
type compressWriter struct {
	gin.ResponseWriter
	z       *compressors
	enc     encoding
	buf     []byte
	decided bool
	out     io.WriteCloser // the compressor, once compressing
}

func (w *compressWriter) Write(p []byte) (int, error) {
	if !w.decided {
		if len(w.buf)+len(p) < compressMin {
			w.buf = append(w.buf, p...)
			return len(p), nil
		}
		if err := w.decide(); err != nil {
			return 0, err
		}
	}
	if w.out != nil {
		return w.out.Write(p)
	}
	return w.ResponseWriter.Write(p)
}

func (w *compressWriter) WriteString(s string) (int, error) { return w.Write([]byte(s)) }

// decide starts compressing, or not, and sends what was held back.
func (w *compressWriter) decide() error {
	w.decided = true
	h := w.ResponseWriter.Header()
	status := w.ResponseWriter.Status()
	if !w.ResponseWriter.Written() && h.Get("Content-Encoding") == "" &&
		strings.HasPrefix(h.Get("Content-Type"), "application/json") &&
		status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified {
		h.Set("Content-Encoding", w.enc.token())
		h.Del("Content-Length")
		w.out = w.z.get(w.enc, w.ResponseWriter)
	}
	if len(w.buf) == 0 {
		return nil
	}
	buf := w.buf
	w.buf = nil
	var err error
	if w.out != nil {
		_, err = w.out.Write(buf)
	} else {
		_, err = w.ResponseWriter.Write(buf)
	}
	return err
}

// Flush sends what is held back (compressed or not) and flushes.
func (w *compressWriter) Flush() {
	if !w.decided {
		_ = w.decide()
	}
	if f, ok := w.out.(interface{ Flush() error }); ok {
		_ = f.Flush()
	}
	w.ResponseWriter.Flush()
}

// finish ends the answer: a short body goes out uncompressed, a compressed
// one gets its trailer and the compressor goes back to the pool.
func (w *compressWriter) finish() {
	if !w.decided {
		w.decided = true
		if len(w.buf) > 0 {
			_, _ = w.ResponseWriter.Write(w.buf)
		}
		return
	}
	if w.out != nil {
		_ = w.out.Close()
		w.z.put(w.enc, w.out)
		w.out = nil
	}
}
