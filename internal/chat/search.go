package chat

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Search finds conversations by the words of their messages and notes and
// by the visitor's name and email. The store keeps an inverted index of
// terms; what a term is, is decided here, the same way for what is indexed
// and for what is searched.

// The bounds of the search index and of a query.
const (
	// MinTermRunes and MaxTermRunes bound the length of an indexed word;
	// a CJK bigram (or a lone CJK character) is a term whatever its length.
	MinTermRunes = 2
	MaxTermRunes = 32
	// MaxMessageTerms is how many distinct terms one message (or note)
	// indexes: its first ones.
	MaxMessageTerms = 32
	// MaxVisitorTerms is how many terms a visitor's name and email index
	// together (with their prefixes).
	MaxVisitorTerms = 64
	// MaxQueryTerms is how many terms of a query are searched; later ones
	// are ignored.
	MaxQueryTerms = 5
	// MaxQuery is the longest query, in characters.
	MaxQuery = 200
	// DefaultSearchLimit and MaxSearchLimit bound a page of results.
	DefaultSearchLimit = 20
	MaxSearchLimit     = 50
	// SnippetRunes is about how long a match's snippet is.
	SnippetRunes = 160
)

// SearchTerms returns the distinct terms of text, in order of first
// appearance, at most MaxMessageTerms: words lowercased with simple accents
// folded (é → e, ß → ss), split on anything but letters and digits, of
// MinTermRunes to MaxTermRunes runes, but the commonest English words
// (stopWords); a run of Han, Hiragana, Katakana or
// Hangul characters is cut into overlapping bigrams instead (a lone
// character is kept as it is), since those scripts do not separate words
// with spaces.
func SearchTerms(text string) []string {
	return collectTerms(text, MaxMessageTerms)
}

func collectTerms(text string, max int) []string {
	return collect(text, max, true)
}

// stopWords are the English words in nearly every message: indexing them
// would put every room in their zsets (the biggest of the index, and a
// ZADD each in most sends) for queries that could not narrow anything.
// Messages and queries both skip them; a query of nothing else keeps them,
// since a visitor's name prefixes are indexed whole ("the" of Theodore).
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for w := range strings.FieldsSeq(`the and for are was were been being you your yours this that these those
		with from have has had its our ours they them their what which who whom into onto than then there here
		is it to of in on at be by an or as so do if me my we us he she his her him am`) {
		m[w] = true
	}
	return m
}()

func collect(text string, max int, skipStop bool) []string {
	var out []string
	eachTerm(text, func(t []byte) bool {
		if skipStop && len(t) <= 5 && stopWords[string(t)] {
			return true
		}
		// Linear: a message has at most max (32) distinct terms, and a map
		// would cost more than the comparisons, which allocate nothing.
		for _, o := range out {
			if o == string(t) {
				return true
			}
		}
		out = append(out, string(t))
		return len(out) < max
	})
	return out
}

// eachTerm calls yield with every term of text, in order, repeats
// included, until yield returns false. The slice is only valid during the
// call: a caller keeping a term copies it (string(t)), so repeated words
// cost no allocation.
func eachTerm(text string, yield func(t []byte) bool) {
	var buf [4 * MaxTermRunes]byte
	word := buf[:0]
	wordRunes := 0
	var cjkBuf [8]rune
	cjk := cjkBuf[:0]
	var pair [8]byte
	carried := false // cjk starts with the last rune of a longer run
	flushWord := func() bool {
		w, n := word, wordRunes
		word, wordRunes = buf[:0], 0
		if n >= MinTermRunes && n <= MaxTermRunes {
			return yield(w)
		}
		return true
	}
	flushCJK := func() bool {
		c, lone := cjk, !carried
		cjk, carried = cjkBuf[:0], false
		if len(c) == 1 && lone {
			return yield(utf8.AppendRune(pair[:0], c[0]))
		}
		for i := 0; i+1 < len(c); i++ {
			if !yield(utf8.AppendRune(utf8.AppendRune(pair[:0], c[i]), c[i+1])) {
				return false
			}
		}
		return true
	}
	for _, r := range text {
		switch {
		case r < utf8.RuneSelf && ('a' <= r && r <= 'z' || '0' <= r && r <= '9'):
			if len(cjk) > 0 && !flushCJK() {
				return
			}
			wordRunes++
			if wordRunes <= MaxTermRunes {
				word = append(word, byte(r))
			}
		case r < utf8.RuneSelf && 'A' <= r && r <= 'Z':
			if len(cjk) > 0 && !flushCJK() {
				return
			}
			wordRunes++
			if wordRunes <= MaxTermRunes {
				word = append(word, byte(r)+'a'-'A')
			}
		case r >= utf8.RuneSelf && isCJK(r):
			if !flushWord() {
				return
			}
			if len(cjk) == cap(cjkBuf) { // keep the last rune: the pairs overlap
				if !flushCJK() {
					return
				}
				cjk, carried = append(cjk, cjkBuf[len(cjkBuf)-1]), true
			}
			cjk = append(cjk, r)
		case r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)):
			if len(cjk) > 0 && !flushCJK() {
				return
			}
			if unicode.Is(unicode.Mn, r) { // a combining accent: folded away
				continue
			}
			r = unicode.ToLower(r)
			if f, ok := foldRune[r]; ok {
				wordRunes += len(f) // the folds are ASCII
				if wordRunes <= MaxTermRunes {
					word = append(word, f...)
				}
			} else {
				wordRunes++
				if wordRunes <= MaxTermRunes {
					word = utf8.AppendRune(word, r)
				}
			}
		default:
			if len(word) > 0 && !flushWord() || (len(cjk) > 0 && !flushCJK()) {
				return
			}
		}
	}
	if flushWord() && len(cjk) > 0 {
		flushCJK()
	}
}

func isCJK(r rune) bool {
	// ー (the long vowel mark) and 々 (the repeat mark) are of no script
	// but written inside Japanese words.
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) ||
		r == 'ー' || r == 'ｰ' || r == '々'
}

// foldRune folds the accented Latin letters of the common European
// languages to their plain ones, so "José" is found as "jose". Letters not
// here are kept as they are.
var foldRune = func() map[rune]string {
	m := map[rune]string{'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'đ': "d", 'ð': "d", 'þ': "th", 'ł': "l", 'ı': "i"}
	for plain, accented := range map[string]string{
		"a": "àáâãäåāăą", "c": "çćĉċč", "d": "ď", "e": "èéêëēĕėęě", "g": "ĝğġģ", "h": "ĥħ",
		"i": "ìíîïĩīĭįİ", "j": "ĵ", "k": "ķ", "l": "ĺļľŀ", "n": "ñńņňŉ", "o": "òóôõöōŏő",
		"r": "ŕŗř", "s": "śŝşš", "t": "ţťŧ", "u": "ùúûüũūŭůűų", "w": "ŵ", "y": "ýÿŷ", "z": "źżž",
	} {
		for _, r := range accented {
			m[r] = plain
		}
	}
	return m
}()

// VisitorTerms returns the terms a visitor's name and email are found by:
// each word of the name and of the email's local part with every prefix of
// at least MinTermRunes runes (so "pri" finds Priya as she is typed), and
// the words of the email's domain whole, at most MaxVisitorTerms.
func VisitorTerms(name, email string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(t string) bool {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
		return len(out) < MaxVisitorTerms
	}
	withPrefixes := func(t string) bool {
		if isCJK([]rune(t)[0]) {
			return add(t)
		}
		runes := []rune(t)
		for n := MinTermRunes; n <= len(runes); n++ {
			if !add(string(runes[:n])) {
				return false
			}
		}
		return true
	}
	local, domain, _ := strings.Cut(email, "@")
	ok := true
	eachTerm(name, func(t []byte) bool { ok = withPrefixes(string(t)); return ok })
	if ok {
		eachTerm(local, func(t []byte) bool { ok = withPrefixes(string(t)); return ok })
	}
	if ok {
		eachTerm(domain, func(t []byte) bool { return add(string(t)) })
	}
	return out
}

// SearchRequest is an admin's search as it came: a nil field was not
// given. Query turns it into a SearchQuery.
type SearchRequest struct {
	Q     *string
	Limit *int64
}

// SearchQuery is a validated search: the conversations that have every
// term, newest first.
type SearchQuery struct {
	Terms []string
	Limit int
}

var errSearchLimit = invalid("limit must be between 1 and %d", MaxSearchLimit)

// Query checks r: q is required, 1 to MaxQuery characters of text. A query
// with no term to look for (a single letter, punctuation) is valid and finds
// nothing.
func (r SearchRequest) Query() (SearchQuery, error) {
	if r.Q == nil {
		return SearchQuery{}, invalid("q is required")
	}
	q := strings.TrimSpace(*r.Q)
	if n := utf8.RuneCountInString(q); n == 0 || n > MaxQuery {
		return SearchQuery{}, invalid("q must be 1-%d characters", MaxQuery)
	}
	if !utf8.ValidString(q) || hasControl(q) {
		return SearchQuery{}, invalid("q must be valid text")
	}
	limit, err := explicit(r.Limit, MaxSearchLimit, errSearchLimit)
	if err != nil {
		return SearchQuery{}, err
	}
	if limit == 0 {
		limit = DefaultSearchLimit
	}
	if limit < 1 || limit > MaxSearchLimit {
		return SearchQuery{}, errSearchLimit
	}
	terms := collect(q, MaxQueryTerms, true)
	if len(terms) == 0 {
		terms = collect(q, MaxQueryTerms, false)
	}
	return SearchQuery{Terms: terms, Limit: limit}, nil
}

// The kinds of SearchMatch.
const (
	MatchMessage = "message"
	MatchNote    = "note"
	MatchVisitor = "visitor"
)

// SearchMatch is where a conversation matched: a message, a note or the
// visitor's name and email, with a snippet of its text around the first
// word of the query. Text is "" for a message trimmed away since.
type SearchMatch struct {
	Kind      string `json:"kind"`
	Text      string `json:"text"`
	Seq       int64  `json:"seq,omitempty"`
	Sender    Sender `json:"sender,omitempty"`
	Author    string `json:"author,omitempty"`
	CreatedAt *Time  `json:"createdAt,omitempty"`
}

// SearchResult is one conversation a search found.
type SearchResult struct {
	Room  Room        `json:"room"`
	Match SearchMatch `json:"match"`
}

// SearchPage is the answer to a search. More is true when more
// conversations match, or when the search stopped at its bound of work
// before it knew.
type SearchPage struct {
	Results []SearchResult `json:"results"`
	More    bool           `json:"more"`
}

// SearchStore searches the index the RoomStore keeps with every message,
// note and visitor detail, and keeps it clean of rooms that expired.
type SearchStore interface {
	// Search returns the rooms that have every term of q (1 to
	// MaxQueryTerms), newest first, each with the text of its latest match
	// of the rarest term, snipped around the query (Snippet).
	Search(ctx context.Context, q SearchQuery) (SearchPage, error)
}

// Search finds conversations; see SearchRequest.Query.
func (s *Service) Search(ctx context.Context, q SearchQuery) (SearchPage, error) {
	if q.Limit < 1 || q.Limit > MaxSearchLimit {
		return SearchPage{}, errSearchLimit
	}
	if len(q.Terms) == 0 {
		return SearchPage{Results: []SearchResult{}}, nil
	}
	if len(q.Terms) > MaxQueryTerms {
		q.Terms = q.Terms[:MaxQueryTerms]
	}
	return s.store.Search(ctx, q)
}

// Snippet returns about SnippetRunes runes of text around the first word
// that is one of terms (or, for a term of a name, starts with it), with "…"
// where it was cut; text itself when short enough, its start when no word
// matches.
func Snippet(text string, terms []string) string {
	runes := []rune(text)
	if len(runes) <= SnippetRunes {
		return text
	}
	at := firstMatch(runes, terms)
	start := max(0, at-SnippetRunes/3)
	end := min(len(runes), start+SnippetRunes)
	start = max(0, end-SnippetRunes)
	// Cut at spaces, not inside words, when one is near.
	if start > 0 {
		if i := indexSpace(runes[start:min(end, start+20)]); i >= 0 {
			start += i + 1
		}
	}
	if end < len(runes) {
		if i := lastSpace(runes[max(start, end-20):end]); i >= 0 {
			end = max(start, end-20) + i
		}
	}
	s := strings.TrimSpace(string(runes[start:end]))
	if start > 0 {
		s = "…" + s
	}
	if end < len(runes) {
		s += "…"
	}
	return s
}

// firstMatch returns the rune offset of the first word of runes that is
// (or starts with) one of terms, 0 for none.
func firstMatch(runes []rune, terms []string) int {
	want := map[string]bool{}
	for _, t := range terms {
		want[t] = true
	}
	for i := 0; i < len(runes); {
		if !unicode.IsLetter(runes[i]) && !unicode.IsDigit(runes[i]) {
			i++
			continue
		}
		j := i
		for j < len(runes) && (unicode.IsLetter(runes[j]) || unicode.IsDigit(runes[j]) || unicode.Is(unicode.Mn, runes[j])) {
			j++
		}
		found := false
		eachTerm(string(runes[i:j]), func(t []byte) bool {
			for w := range want {
				if string(t) == w || strings.HasPrefix(string(t), w) {
					found = true
					return false
				}
			}
			return true
		})
		if found {
			return i
		}
		i = j
	}
	return 0
}

func indexSpace(r []rune) int {
	for i, c := range r {
		if unicode.IsSpace(c) {
			return i
		}
	}
	return -1
}

func lastSpace(r []rune) int {
	for i := len(r) - 1; i >= 0; i-- {
		if unicode.IsSpace(r[i]) {
			return i
		}
	}
	return -1
}
