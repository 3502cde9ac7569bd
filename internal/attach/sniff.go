package attach

import (
	"bytes"
	"net/http"
	"strings"
)

// Sniff names the type of a file from its first bytes (at most 512 are
// looked at), never from its name or the type the client declared. ok is
// false for a type not on the allow-list: raster images, PDF, plain text,
// and the common office and archive formats. HTML, SVG, XML, scripts and
// executables are refused.
func Sniff(head []byte) (typ string, ok bool) {
	if len(head) > 512 {
		head = head[:512]
	}
	switch {
	case len(head) >= 12 && bytes.Equal(head[:4], []byte("RIFF")) && bytes.Equal(head[8:12], []byte("WEBP")):
		return "image/webp", true
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return "application/pdf", true
	case bytes.HasPrefix(head, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}):
		// The OLE2 container of .doc, .xls and .ppt.
		return "application/vnd.ms-office", true
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return zipType(head), true
	}
	t, _, _ := strings.Cut(http.DetectContentType(head), ";")
	switch t {
	case "image/png", "image/jpeg", "image/gif", "image/bmp", "image/webp", "application/pdf":
		return t, true
	case "text/plain":
		return "text/plain", true
	}
	return t, false
}

// zipType tells the Office Open XML and OpenDocument files from other zip
// archives by what their first entry shows.
func zipType(head []byte) string {
	switch {
	case bytes.HasPrefix(head[30:min(len(head), 38)], []byte("mimetype")) && len(head) > 38:
		rest := head[38:]
		if i := bytes.IndexFunc(rest, func(r rune) bool { return r < 0x20 || r > 0x7e }); i >= 0 {
			rest = rest[:i]
		}
		if t := string(rest); strings.HasPrefix(t, "application/vnd.oasis.opendocument.") {
			return t
		}
	case bytes.Contains(head, []byte("word/")):
		return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	case bytes.Contains(head, []byte("xl/")):
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case bytes.Contains(head, []byte("ppt/")):
		return "application/vnd.openxmlformats-officedocument.presentationml.presentation"
	}
	return "application/zip"
}

// Inline reports whether a type is served inline: raster images a browser
// shows without running anything. Everything else (SVG and HTML are never
// stored at all) is a download.
func Inline(typ string) bool {
	switch typ {
	case "image/png", "image/jpeg", "image/gif", "image/webp":
		return true
	}
	return false
}

// SanitizeName keeps only a safe base name of what the client called the
// file, for display: no directories, no control characters, at most 120
// characters. A name with nothing left is "file".
func SanitizeName(name string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	n := 0
	for _, r := range name {
		if r < 0x20 || r == 0x7f || r == '"' || (r >= 0x80 && r < 0xa0) || r == 0xfffd || r == 0x202e || r == 0x202d {
			continue
		}
		if n == 120 {
			break
		}
		b.WriteRune(r)
		n++
	}
	out := strings.Trim(strings.TrimSpace(b.String()), ".")
	if out == "" {
		return "file"
	}
	return out
}
