package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/parley-chat/parley"

// layerRule is one clause of the dependency rule of docs/ARCHITECTURE.md:
// an import (a path, or a path prefix ending in "/") allowed only in the
// packages under owner.
type layerRule struct {
	imports string
	owner   string
	why     string
}

var layerRules = []layerRule{
	{"github.com/gin-gonic/", "internal/httpapi", "gin is the HTTP edge's business"},
	{"github.com/gin-contrib/", "internal/httpapi", "gin is the HTTP edge's business"},
	{"github.com/redis/go-redis/", "internal/redisstore", "go-redis belongs to the Redis store"},
	{"github.com/wneessen/go-mail", "internal/mail", "mail libraries belong to the mail package"},
	{"github.com/emersion/", "internal/mail", "mail libraries belong to the mail package"},
}

// TestLayers enforces the dependency rule on every Go file of the module,
// tests included: the domain (internal/chat) imports only the standard
// library; only internal/httpapi and its subpackages import gin; only
// internal/redisstore and its subpackages import go-redis; only internal/mail
// and its subpackages import the mail libraries (go-mail, go-smtp, go-message).
func TestLayers(t *testing.T) {
	root := moduleRoot(t)
	imports := moduleImports(t, root)
	if len(imports) < 10 {
		t.Fatalf("found %d packages under %s, want the whole module", len(imports), root)
	}
	var bad []string
	for pkg, files := range imports {
		for file, paths := range files {
			for _, imp := range paths {
				if why := breaks(pkg, imp); why != "" {
					bad = append(bad, file+" imports "+imp+": "+why)
				}
			}
		}
	}
	sort.Strings(bad)
	for _, b := range bad {
		t.Error(b)
	}
}

// breaks says why package pkg (a path relative to the module root) may not
// import imp, or "" when it may.
func breaks(pkg, imp string) string {
	if under(pkg, "internal/chat") && !strings.HasSuffix(pkg, "_test") {
		if isStd(imp) {
			return ""
		}
		return "internal/chat is the domain and imports only the standard library"
	}
	if under(pkg, "internal/webhook") && !strings.HasSuffix(pkg, "_test") {
		if isStd(imp) || imp == "github.com/parley-chat/parley/internal/chat" {
			return ""
		}
		return "internal/webhook imports only internal/chat and the standard library"
	}
	for _, r := range layerRules {
		if strings.HasPrefix(imp, r.imports) && !under(pkg, r.owner) {
			return r.why + " (only " + r.owner + " and its subpackages)"
		}
	}
	return ""
}

func under(pkg, dir string) bool {
	pkg = strings.TrimSuffix(pkg, "_test")
	return pkg == dir || strings.HasPrefix(pkg, dir+"/")
}

// isStd reports whether an import path is the standard library's: its first
// element has no dot (the module's own packages are not allowed either).
func isStd(imp string) bool {
	first, _, _ := strings.Cut(imp, "/")
	return !strings.Contains(first, ".")
}

// TestLayersCatchBreaks keeps the rule from passing vacuously: each clause
// refuses the import it is there to refuse.
func TestLayersCatchBreaks(t *testing.T) {
	tests := []struct {
		pkg, imp string
		refused  bool
	}{
		{"internal/chat", "github.com/redis/go-redis/v9", true},
		{"internal/chat", module + "/internal/auth", true},
		{"internal/chat", "golang.org/x/crypto/bcrypt", true},
		{"internal/chat", "net/mail", false},
		{"internal/auth", "github.com/gin-gonic/gin", true},
		{"cmd/parley", "github.com/gin-contrib/cors", true},
		{"internal/httpapi", "github.com/gin-gonic/gin", false},
		{"internal/httpapi/baseline", "github.com/gin-gonic/gin", false},
		{"internal/httpapiextra", "github.com/gin-gonic/gin", true},
		{"internal/bench", "github.com/redis/go-redis/v9", true},
		{"internal/redisstore", "github.com/redis/go-redis/v9", false},
		{"internal/redisstore/redistest", "github.com/redis/go-redis/v9", false},
		{"internal/mail/inbound", "github.com/emersion/go-smtp", false},
		{"internal/mail", "github.com/wneessen/go-mail", false},
		{"internal/httpapi", "github.com/wneessen/go-mail", true},
		{"internal/redisstore", "github.com/emersion/go-message/mail", true},
	}
	for _, tt := range tests {
		got := breaks(tt.pkg, tt.imp) != ""
		if got != tt.refused {
			t.Errorf("%s importing %s: refused %v, want %v", tt.pkg, tt.imp, got, tt.refused)
		}
	}
}

// moduleRoot is the directory holding go.mod, two levels above this package.
func moduleRoot(tb testing.TB) string {
	tb.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		tb.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil || !strings.Contains(string(data), "module "+module+"\n") {
		tb.Fatalf("%s is not the module root (go.mod: %v)", root, err)
	}
	return root
}

// moduleImports parses the imports of every .go file of the module: package
// directory (relative, with "_test" appended for external test packages) →
// file → import paths.
func moduleImports(tb testing.TB, root string) map[string]map[string][]string {
	tb.Helper()
	out := map[string]map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules" || name == "artifacts") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		pkg := path.Dir(filepath.ToSlash(rel))
		if strings.HasSuffix(f.Name.Name, "_test") {
			pkg += "_test"
		}
		if out[pkg] == nil {
			out[pkg] = map[string][]string{}
		}
		for _, spec := range f.Imports {
			imp, _ := strconv.Unquote(spec.Path.Value)
			out[pkg][filepath.ToSlash(rel)] = append(out[pkg][filepath.ToSlash(rel)], imp)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}
