package detect

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DefaultRegexMaxLen bounds matches of a regular expression whose own
// length is unbounded (it uses * or +), for stream filtering.
const DefaultRegexMaxLen = 256

// Regex is a detector from an operator's regular expression (RE2 syntax:
// linear time, no backtracking). In a stream, a match is held back while
// it may still grow; a match longer than the bound given to NewRegex may
// be cut there.
type Regex struct {
	re      *regexp.Regexp
	maxLen  int
	ascii   [256]bool // bytes that can occur in a match
	unicode bool      // non-ASCII runes can occur in a match
	prefix  string    // literal every match starts with, if any
}

// NewRegex compiles expr. maxLen bounds a match when the expression itself
// does not (0: DefaultRegexMaxLen). An expression that matches the empty
// string is an error: it would match everywhere.
func NewRegex(expr string, maxLen int) (*Regex, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		var se *syntax.Error
		if errors.As(err, &se) {
			return nil, fmt.Errorf("invalid regular expression: %s", se.Code)
		}
		return nil, fmt.Errorf("invalid regular expression: %w", err)
	}
	if re.MatchString("") {
		return nil, errors.New("the regular expression matches the empty string")
	}
	parsed, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, fmt.Errorf("invalid regular expression: %w", err)
	}
	parsed = parsed.Simplify()
	r := &Regex{re: re}
	r.prefix, _ = re.LiteralPrefix()
	if maxLen <= 0 {
		maxLen = DefaultRegexMaxLen
	}
	if n, bounded := regexMaxLen(parsed); bounded && n < maxLen {
		maxLen = n
	}
	r.maxLen = maxLen
	r.charset(parsed)
	return r, nil
}

// regexMaxLen is the longest match of re in bytes, if bounded.
func regexMaxLen(re *syntax.Regexp) (int, bool) {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary, syntax.OpNoMatch:
		return 0, true
	case syntax.OpLiteral:
		n := 0
		for _, r := range re.Rune {
			n += maxRuneLen(r, re.Flags&syntax.FoldCase != 0)
		}
		return n, true
	case syntax.OpCharClass:
		n := 1
		for i := 0; i+1 < len(re.Rune); i += 2 {
			n = max(n, utf8.RuneLen(re.Rune[i+1]))
		}
		return n, true
	case syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		return utf8.UTFMax, true
	case syntax.OpCapture:
		return regexMaxLen(re.Sub[0])
	case syntax.OpStar, syntax.OpPlus:
		return 0, false
	case syntax.OpQuest:
		return regexMaxLen(re.Sub[0])
	case syntax.OpRepeat:
		if re.Max < 0 {
			return 0, false
		}
		n, ok := regexMaxLen(re.Sub[0])
		return n * re.Max, ok
	case syntax.OpConcat:
		total := 0
		for _, sub := range re.Sub {
			n, ok := regexMaxLen(sub)
			if !ok {
				return 0, false
			}
			total += n
		}
		return total, true
	case syntax.OpAlternate:
		best := 0
		for _, sub := range re.Sub {
			n, ok := regexMaxLen(sub)
			if !ok {
				return 0, false
			}
			best = max(best, n)
		}
		return best, true
	}
	return 0, false
}

func maxRuneLen(r rune, fold bool) int {
	n := utf8.RuneLen(r)
	if fold {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			n = max(n, utf8.RuneLen(f))
		}
	}
	return max(n, 1)
}

// charset records which characters a match can contain.
func (r *Regex) charset(re *syntax.Regexp) {
	addRange := func(lo, hi rune) {
		if hi >= utf8.RuneSelf {
			r.unicode = true
		}
		for c := lo; c <= hi && c < utf8.RuneSelf; c++ {
			r.ascii[c] = true
		}
	}
	switch re.Op {
	case syntax.OpLiteral:
		for _, c := range re.Rune {
			addRange(c, c)
			if re.Flags&syntax.FoldCase != 0 {
				for f := unicode.SimpleFold(c); f != c; f = unicode.SimpleFold(f) {
					addRange(f, f)
				}
			}
		}
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			addRange(re.Rune[i], re.Rune[i+1])
		}
	case syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		addRange(0, unicode.MaxRune)
	}
	for _, sub := range re.Sub {
		r.charset(sub)
	}
}

func (r *Regex) in(b byte) bool {
	if b >= utf8.RuneSelf {
		return r.unicode
	}
	return r.ascii[b]
}

// Find implements Detector. The one byte before from is given to the
// expression as context, so \b and the like see it.
func (r *Regex) Find(s string, from int, dst []Match) []Match {
	base := 0
	if from > 0 {
		base = runeStart(s, from-1)
	}
	sub := s[base:]
	off := 0
	for off <= len(sub) {
		loc := r.re.FindStringIndex(sub[off:])
		if loc == nil {
			break
		}
		start, end := base+off+loc[0], base+off+loc[1]
		if end == start {
			off += loc[1] + 1
			continue
		}
		if start >= from {
			dst = append(dst, Match{start, end})
		}
		off += loc[1]
	}
	return dst
}

// Pending implements Detector: a match in progress is a run of characters
// the expression can match, at the end.
func (r *Regex) Pending(s string, from int) int {
	q := trailingRun(s, from, r.in)
	if r.prefix != "" && q < len(s) {
		// only where the literal prefix starts, or could start
		for p := q; p < len(s); p++ {
			t := s[p:]
			if strings.HasPrefix(t, r.prefix) || strings.HasPrefix(r.prefix, t) {
				return p
			}
		}
		return len(s)
	}
	return q
}

// MaxLen implements Detector.
func (r *Regex) MaxLen() int { return r.maxLen + 1 }

// Words finds any of a list of words or phrases, as whole words (not
// inside a longer word), ignoring the case of ASCII letters.
type Words struct {
	words  []string // longest first
	first  [256]bool
	maxLen int
}

// NewWords returns a detector of words; empty entries are ignored.
func NewWords(words []string) (*Words, error) {
	w := &Words{}
	for _, s := range words {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !utf8.ValidString(s) {
			return nil, fmt.Errorf("word %q is not valid UTF-8", s)
		}
		w.words = append(w.words, s)
		w.first[lowerASCII(s[0])] = true
		w.first[upperASCII(s[0])] = true
		w.maxLen = max(w.maxLen, len(s))
	}
	if len(w.words) == 0 {
		return nil, errors.New("the word list is empty")
	}
	sort.SliceStable(w.words, func(i, j int) bool { return len(w.words[i]) > len(w.words[j]) })
	return w, nil
}

func lowerASCII(b byte) byte {
	if isUpper(b) {
		return b + 'a' - 'A'
	}
	return b
}

func upperASCII(b byte) byte {
	if isLower(b) {
		return b - ('a' - 'A')
	}
	return b
}

// equalFoldASCII compares a and b ignoring the case of ASCII letters.
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

func isWordRune(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// wordBefore reports whether a word character ends s[:i].
func wordBefore(s string, i int) bool {
	if i <= 0 {
		return false
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return isWordRune(r)
}

// wordAt reports whether a word character starts s[i:].
func wordAt(s string, i int) bool {
	if i >= len(s) {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return isWordRune(r)
}

// Find implements Detector.
func (w *Words) Find(s string, from int, dst []Match) []Match {
	for i := from; i < len(s); i++ {
		if !w.first[s[i]] {
			continue
		}
		if end := w.at(s, i); end > 0 {
			dst = append(dst, Match{i, end})
			i = end - 1
		}
	}
	return dst
}

// at returns the end of the longest word at i, or 0.
func (w *Words) at(s string, i int) int {
	for _, word := range w.words {
		end := i + len(word)
		if end > len(s) || !equalFoldASCII(s[i:end], word) {
			continue
		}
		if wordAt(word, 0) && wordBefore(s, i) {
			continue
		}
		if wordBefore(word, len(word)) && wordAt(s, end) {
			continue
		}
		return end
	}
	return 0
}

// Pending implements Detector: the end of the text may be the start of a
// word, or a whole word whose next character is not known yet.
func (w *Words) Pending(s string, from int) int {
	for p := max(from, len(s)-w.maxLen); p < len(s); p++ {
		if !w.first[s[p]] {
			continue
		}
		t := s[p:]
		for _, word := range w.words {
			if len(t) <= len(word) && equalFoldASCII(t, word[:len(t)]) {
				return p
			}
		}
	}
	return len(s)
}

// MaxLen implements Detector: the longest word and the character after it.
func (w *Words) MaxLen() int { return w.maxLen + utf8.UTFMax }

var (
	_ Detector = (*Regex)(nil)
	_ Detector = (*Words)(nil)
)
