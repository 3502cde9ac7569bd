package widget

import (
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// catalogueKey finds a key of a catalogue object (one per line, as written),
// catalogueBlock the object of i18n.js's English catalogue, placeholder the
// {name} placeholders of a text.
var (
	catalogueKey   = regexp.MustCompile(`(?m)^  (\w+): (\{\n(?:    .*\n)*  \}|.*)`)
	catalogueBlock = regexp.MustCompile(`(?s)export const en = \{\n(.*?)\n\};`)
	placeholder    = regexp.MustCompile(`\{\w+\}`)
)

// loaderOnly are English keys only the loader uses: it has its own words
// for the button in every language (loader.js), so the catalogues leave them out.
var loaderOnly = []string{"chat", "openChat", "unread"}

// TestCatalogues keeps every catalogue of i18n/ complete and in step with
// the English one in i18n.js: the same keys (no missing text falls back to
// English by accident, no typo goes unused) and the same placeholders; and
// LOCALES lists exactly the catalogues there are.
func TestCatalogues(t *testing.T) {
	src, err := fs.ReadFile(Files, "i18n.js")
	if err != nil {
		t.Fatal(err)
	}
	block := catalogueBlock.FindSubmatch(src)
	if block == nil {
		t.Fatal("i18n.js: no `export const en = {…};`")
	}
	en := texts(string(block[1]))
	if len(en) < 50 {
		t.Fatalf("English keys: got %d, want the panel's texts", len(en))
	}
	names, err := fs.Glob(Files, "i18n/*.js")
	if err != nil {
		t.Fatal(err)
	}
	locales := []string{"en"}
	for _, name := range names {
		locales = append(locales, strings.TrimSuffix(strings.TrimPrefix(name, "i18n/"), ".js"))
		data, err := fs.ReadFile(Files, name)
		if err != nil {
			t.Fatal(err)
		}
		got := texts(string(data))
		for key, text := range en {
			if slices.Contains(loaderOnly, key) {
				continue
			}
			tr, ok := got[key]
			if !ok {
				t.Errorf("%s: no %s (English: %s)", name, key, text)
				continue
			}
			if a, b := placeholders(text), placeholders(tr); !slices.Equal(a, b) {
				t.Errorf("%s: %s has placeholders %v, want %v as in English", name, key, b, a)
			}
		}
		for key := range got {
			if _, ok := en[key]; !ok {
				t.Errorf("%s: %s is not a key of the English catalogue", name, key)
			}
		}
	}
	for _, l := range []string{"de", "fr", "es", "pt", "it", "nl", "ko", "ja", "zh", "ar"} {
		if !slices.Contains(locales, l) {
			t.Errorf("no catalogue i18n/%s.js", l)
		}
	}
	m := regexp.MustCompile(`export const LOCALES = \[([^\]]*)\]`).FindSubmatch(src)
	if m == nil {
		t.Fatal("i18n.js: no LOCALES")
	}
	listed := strings.Split(strings.NewReplacer("'", "", " ", "").Replace(string(m[1])), ",")
	slices.Sort(listed)
	slices.Sort(locales)
	if !slices.Equal(listed, locales) {
		t.Errorf("LOCALES: got %v, want the catalogues %v", listed, locales)
	}
	loader, err := fs.ReadFile(Files, "loader.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range locales {
		if !regexp.MustCompile(`(?m)^    ` + l + `: \[`).Match(loader) {
			t.Errorf("loader.js: no button words for %s", l)
		}
	}
}

// texts reads a catalogue's keys and their source text (a plural object's
// forms run together, which keeps its placeholders).
func texts(src string) map[string]string {
	out := map[string]string{}
	for _, m := range catalogueKey.FindAllStringSubmatch(src, -1) {
		out[m[1]] = m[2]
	}
	return out
}

// placeholders are the distinct {names} of a text, sorted.
func placeholders(text string) []string {
	p := placeholder.FindAllString(text, -1)
	slices.Sort(p)
	return slices.Compact(p)
}
