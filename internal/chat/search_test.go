package chat_test

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parley-chat/parley/internal/chat"
)

func TestSearchTerms(t *testing.T) {
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"Hello, WORLD! hello again", []string{"hello", "world", "again"}},
		{"José's café in Straße", []string{"jose", "cafe", "strasse"}},
		{"The parcel is not at my door", []string{"parcel", "not", "door"}}, // the commonest words are skipped
		{"Cafe\u0301 decomposed", []string{"cafe", "decomposed"}},
		{"a I x 7 ok 42", []string{"ok", "42"}},
		{"order #12345-B", []string{"order", "12345"}},
		{strings.Repeat("x", 33) + " fine", []string{"fine"}},
		{"東京タワー", []string{"東京", "京タ", "タワ", "ワー"}},
		{"안녕하세요 friend", []string{"안녕", "녕하", "하세", "세요", "friend"}},
		{"我 love 中", []string{"我", "love", "中"}},
		{"一二三四五六七八九", []string{"一二", "二三", "三四", "四五", "五六", "六七", "七八", "八九"}},
		{"一二三四五六七八", []string{"一二", "二三", "三四", "四五", "五六", "六七", "七八"}},
		{"Привет мир", []string{"привет", "мир"}},
		{"", nil},
	} {
		if got := chat.SearchTerms(tc.text); !slices.Equal(got, tc.want) {
			t.Errorf("SearchTerms(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
	var many []string
	for i := range 100 {
		many = append(many, "w"+strings.Repeat("a", i%30+1)+string(rune('a'+i%26)))
	}
	if got := chat.SearchTerms(strings.Join(many, " ")); len(got) != chat.MaxMessageTerms {
		t.Errorf("got %d terms of 100 distinct words, want %d", len(got), chat.MaxMessageTerms)
	}
}

func TestVisitorTerms(t *testing.T) {
	got := chat.VisitorTerms("Priya Sharma", "priya.s@example.com")
	want := []string{"pr", "pri", "priy", "priya", "sh", "sha", "shar", "sharm", "sharma", "example", "com"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := chat.VisitorTerms(strings.Repeat("abcdefghij", 3)+" "+strings.Repeat("klmnopqrst", 3)+" "+strings.Repeat("uvwxyzabcd", 3), ""); len(got) != chat.MaxVisitorTerms {
		t.Errorf("got %d terms, want the cap %d", len(got), chat.MaxVisitorTerms)
	}
	if got := chat.VisitorTerms("", ""); len(got) != 0 {
		t.Errorf("got %q for nothing", got)
	}
}

func TestSnippet(t *testing.T) {
	if got := chat.Snippet("short text", []string{"text"}); got != "short text" {
		t.Errorf("got %q", got)
	}
	long := strings.Repeat("lorem ipsum ", 30) + "the Refund is here " + strings.Repeat("dolor sit ", 30)
	got := chat.Snippet(long, []string{"refund"})
	if !strings.Contains(got, "Refund is here") || !strings.HasPrefix(got, "…") || !strings.HasSuffix(got, "…") ||
		utf8.RuneCountInString(got) > chat.SnippetRunes+2 {
		t.Errorf("got %q, want ~%d runes around Refund", got, chat.SnippetRunes)
	}
	if got := chat.Snippet(long, []string{"absent"}); !strings.HasPrefix(got, "lorem") {
		t.Errorf("got %q, want the start when nothing matches", got)
	}
}

func TestSearchQuery(t *testing.T) {
	s := func(v string) *string { return &v }
	n := func(v int64) *int64 { return &v }
	for _, tc := range []struct {
		in    chat.SearchRequest
		terms []string
		limit int
		bad   bool
	}{
		{in: chat.SearchRequest{Q: s(" Refund  Order ")}, terms: []string{"refund", "order"}, limit: chat.DefaultSearchLimit},
		{in: chat.SearchRequest{Q: s("one two three four five six")}, terms: []string{"one", "two", "three", "four", "five"}, limit: 20},
		{in: chat.SearchRequest{Q: s("x"), Limit: n(50)}, terms: nil, limit: 50},
		{in: chat.SearchRequest{Q: s("the refund")}, terms: []string{"refund"}, limit: 20},
		{in: chat.SearchRequest{Q: s("The")}, terms: []string{"the"}, limit: 20}, // a name prefix being typed
		{in: chat.SearchRequest{}, bad: true},
		{in: chat.SearchRequest{Q: s("")}, bad: true},
		{in: chat.SearchRequest{Q: s(strings.Repeat("é", 201))}, bad: true},
		{in: chat.SearchRequest{Q: s("ok"), Limit: n(0)}, bad: true},
		{in: chat.SearchRequest{Q: s("ok"), Limit: n(51)}, bad: true},
		{in: chat.SearchRequest{Q: s("ok"), Limit: n(-3)}, bad: true},
	} {
		q, err := tc.in.Query()
		if tc.bad {
			if chat.ErrorCode(err) != chat.CodeInvalid {
				t.Errorf("%+v: got %v, want invalid_request", tc.in, err)
			}
			continue
		}
		if err != nil || !slices.Equal(q.Terms, tc.terms) || q.Limit != tc.limit {
			t.Errorf("%+v: got %+v, %v, want terms %q limit %d", tc.in, q, err, tc.terms, tc.limit)
		}
	}
}
