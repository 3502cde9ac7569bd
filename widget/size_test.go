package widget

import (
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// panelFiles is every file the panel downloads: its page, its style and
// each ES module frame.js imports, directly or not. The size budget of
// these, in the bytes the server really sends, is TestSizeOnTheWire in
// cmd/parley, which follows the same references from the served frame.html.
var panelFiles = []string{
	"frame.html", "frame.css", "frame.js",
	"store.js", "transport.js", "render.js", "composer.js",
	"sse.js", "ids.js", "dates.js", "dom.js", "linkify.js", "i18n.js",
}

// lazyFiles are the modules the panel imports dynamically, on first use
// (attach.js: a file picked, pasted or dropped, or a message with files),
// and what they load (attach.css, by import.meta.url): not part of the
// panel's first download, so not of its budget; TestSizeOnTheWire gives
// them their own.
var lazyFiles = []string{"attach.js", "attach.css"}

// panelRefs finds what a panel file makes the browser fetch: the src and
// href of frame.html, the static imports of a module. lazyRefs finds its
// dynamic imports.
var (
	panelRefs = regexp.MustCompile(`(?:src|href)="([^"#:]+)"|(?:from|import)\s*'([^']+)'`)
	lazyRefs  = regexp.MustCompile(`import\(\s*'([^']+)'\s*\)|new URL\('([^']+)', import\.meta\.url\)`)
)

// TestPanelFilesListed keeps panelFiles complete: it is every file reachable
// from frame.html, no more; lazyFiles is every file imported dynamically.
func TestPanelFilesListed(t *testing.T) {
	seen := map[string]bool{}
	lazy := map[string]bool{}
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
		for _, m := range lazyRefs.FindAllStringSubmatch(string(data), -1) {
			lazy[path.Join(path.Dir(name), m[1]+m[2])] = true
		}
	}
	for name := range lazy {
		if _, err := fs.Stat(Files, name); err != nil {
			t.Errorf("%s, imported lazily: %v", name, err)
		}
		if seen[name] {
			delete(lazy, name) // also imported statically: part of the panel
			continue
		}
		data, _ := fs.ReadFile(Files, name)
		for _, m := range lazyRefs.FindAllStringSubmatch(string(data), -1) {
			lazy[path.Join(path.Dir(name), m[1]+m[2])] = true
		}
	}
	var gotLazy []string
	for name := range lazy {
		gotLazy = append(gotLazy, name)
	}
	slices.Sort(gotLazy)
	wantLazy := slices.Clone(lazyFiles)
	slices.Sort(wantLazy)
	if !slices.Equal(gotLazy, wantLazy) {
		t.Errorf("files the panel imports lazily: got %v, want lazyFiles %v", gotLazy, wantLazy)
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
