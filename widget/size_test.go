package widget

import (
	"bytes"
	"compress/gzip"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
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
	"store.js", "transport.js", "render.js", "composer.js",
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

// panelRefs finds what a panel file makes the browser fetch: the src and
// href of frame.html, the static and dynamic imports of a module.
var panelRefs = regexp.MustCompile(`(?:src|href)="([^"#:]+)"|(?:from|import)\s*\(?\s*'([^']+)'`)

// TestPanelFilesListed keeps panelFiles, and so the budget, complete: it is
// every file reachable from frame.html, no more.
func TestPanelFilesListed(t *testing.T) {
	seen := map[string]bool{}
	queue := []string{"frame.html"}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if seen[name] {
			continue
		}
		seen[name] = true
		data, err := fs.ReadFile(Files, name)
		if err != nil {
			t.Fatalf("%s, reached from frame.html: %v", name, err)
		}
		for _, m := range panelRefs.FindAllStringSubmatch(string(data), -1) {
			ref := m[1] + m[2]
			if strings.HasPrefix(ref, "/widget/") {
				ref = strings.TrimPrefix(ref, "/widget/")
			} else {
				ref = path.Join(path.Dir(name), ref)
			}
			queue = append(queue, ref)
		}
	}
	var got []string
	for name := range seen {
		got = append(got, name)
	}
	slices.Sort(got)
	want := slices.Clone(panelFiles)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("files the panel downloads: got %v, want panelFiles %v", got, want)
	}
}
