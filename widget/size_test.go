package widget

import (
	"bytes"
	"compress/gzip"
	"io/fs"
	"testing"
)

// gzipSize returns the gzipped size of a file of Files at the default
// compression level (what a server or CDN typically uses).
func gzipSize(tb testing.TB, name string) int {
	tb.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	if err != nil {
		tb.Fatal(err)
	}
	data, err := fs.ReadFile(Files, name)
	if err != nil {
		tb.Fatalf("read %s: %v", name, err)
	}
	if _, err := zw.Write(data); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Len()
}

// panelFiles is every file the panel downloads: its page, its style and
// each ES module frame.js imports, directly or not.
var panelFiles = []string{
	"frame.html", "frame.css", "frame.js",
	"sse.js", "ids.js", "dates.js", "dom.js",
}

// TestSizeBudget keeps the widget light (DESIGN.md, performance budget): the
// loader every page of a site downloads stays under 4 KB gzipped, the panel
// a visitor downloads on first click under 20 KB.
func TestSizeBudget(t *testing.T) {
	tests := []struct {
		name  string
		files []string
		limit int
	}{
		{"loader", []string{"loader.js"}, 4096},
		{"panel", panelFiles, 20480},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Each file is gzipped on its own when served, so the sum is
			// what a browser really downloads.
			total := 0
			for _, f := range tt.files {
				n := gzipSize(t, f)
				t.Logf("%s: %d bytes gzipped", f, n)
				total += n
			}
			t.Logf("%s total: %d bytes gzipped (budget %d)", tt.name, total, tt.limit)
			if total > tt.limit {
				t.Errorf("%s: got %d bytes gzipped, want at most %d", tt.name, total, tt.limit)
			}
		})
	}
}
