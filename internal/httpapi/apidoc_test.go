package httpapi_test

import (
	"bufio"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/httpapi"
	"github.com/parley-chat/parley/internal/redisstore"
)

// apiDocPath is the contract, relative to this package.
const apiDocPath = "../../docs/API.md"

// routeHeading matches a route heading of docs/API.md: "### METHOD /path",
// nothing else on the line.
var routeHeading = regexp.MustCompile(`^### ([A-Z]+) (/\S*)\s*$`)

// TestAPIDocCoversRoutes checks docs/API.md against the routes the real gin
// engine registers, both ways: every route has a heading, and every route
// heading is a route. The rule, as the doc states it:
//
//   - a route is documented by a heading "### METHOD /path", with gin's
//     ":name" written "{name}" and "*name" written "{name}";
//   - OPTIONS routes are not headings: they only exist so that CORS
//     preflights reach the CORS middleware (the doc's CORS section covers
//     them);
//   - a HEAD route is covered by the GET heading of the same path (the
//     static routes answer both); a HEAD route without a GET twin needs a
//     heading of its own.
func TestAPIDocCoversRoutes(t *testing.T) {
	want := documentedRoutes(t, engineRoutes(t))
	got := docHeadings(t)

	var missing, stale []string
	for _, r := range want {
		if !slices.Contains(got, r) {
			missing = append(missing, r)
		}
	}
	for _, h := range got {
		if !slices.Contains(want, h) {
			stale = append(stale, h)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%s has no heading for %d route(s) of routes.go (add a section \"### METHOD /path\" for each):\n\t%s",
			apiDocPath, len(missing), strings.Join(missing, "\n\t"))
	}
	if len(stale) > 0 {
		t.Errorf("%s has %d route heading(s) that the server does not register (removed or renamed route?):\n\t%s",
			apiDocPath, len(stale), strings.Join(stale, "\n\t"))
	}
	seen := map[string]bool{}
	for _, h := range got {
		if seen[h] {
			t.Errorf("%s documents %q twice", apiDocPath, h)
		}
		seen[h] = true
	}
}

// engineRoutes builds a Server the way cmd/parley does (no Redis is dialled:
// nothing is requested) and returns the routes of its gin engine.
func engineRoutes(t *testing.T) gin.RoutesInfo {
	t.Helper()
	client, err := redisstore.Connect("redis://127.0.0.1:1") // never dialled
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = client.Close() })
	store := redisstore.New(client, redisstore.Options{})
	tokens, err := auth.NewTokens(auth.RandomSecret(), store, time.Hour, nil)
	if err != nil {
		t.Fatalf("tokens: %v", err)
	}
	hub := chat.NewHub(1)
	t.Cleanup(hub.Close)
	api := httpapi.New(httpapi.Options{
		Service:  chat.NewService(store, chat.Config{}),
		Tokens:   tokens,
		Accounts: auth.NewAccounts(store),
		Hub:      hub,
		Registry: prometheus.NewRegistry(),
	})
	engine, ok := api.Handler().(*gin.Engine)
	if !ok {
		t.Fatalf("Server.Handler() is a %T, not the *gin.Engine this test walks: adjust engineRoutes", api.Handler())
	}
	routes := engine.Routes()
	if len(routes) == 0 {
		t.Fatal("the engine has no routes")
	}
	return routes
}

// documentedRoutes converts routes to the doc's heading form and applies the
// OPTIONS and HEAD rules; the result is sorted and has no duplicates.
func documentedRoutes(t *testing.T, routes gin.RoutesInfo) []string {
	t.Helper()
	get := map[string]bool{}
	for _, r := range routes {
		if r.Method == http.MethodGet {
			get[r.Path] = true
		}
	}
	var out []string
	for _, r := range routes {
		switch {
		case r.Method == http.MethodOptions:
			continue
		case r.Method == http.MethodHead && get[r.Path]:
			continue
		}
		out = append(out, r.Method+" "+docPath(r.Path))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// docPath writes gin's ":id" and "*filepath" as "{id}" and "{filepath}".
func docPath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if len(s) > 1 && (s[0] == ':' || s[0] == '*') {
			segs[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(segs, "/")
}

// docHeadings returns the route headings of docs/API.md as "METHOD /path",
// outside fenced code blocks.
func docHeadings(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(apiDocPath)
	if err != nil {
		t.Fatalf("the API contract must be at docs/API.md: %v", err)
	}
	defer f.Close()
	var out []string
	fenced := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
			continue
		}
		if fenced {
			continue
		}
		if m := routeHeading.FindStringSubmatch(line); m != nil {
			out = append(out, m[1]+" "+m[2])
		} else if strings.HasPrefix(line, "### ") && strings.Contains(line, " /") {
			t.Errorf("%s: heading %q looks like a route but is not \"### METHOD /path\"", apiDocPath, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("%s has no route headings", apiDocPath)
	}
	return out
}

func TestAPIDocPath(t *testing.T) {
	for in, want := range map[string]string{
		"/api/v1/rooms/:id/messages": "/api/v1/rooms/{id}/messages",
		"/widget/*filepath":          "/widget/{filepath}",
		"/":                          "/",
		"/healthz":                   "/healthz",
	} {
		if got := docPath(in); got != want {
			t.Errorf("docPath(%q) = %q, want %q", in, got, want)
		}
	}
}
