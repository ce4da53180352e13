package detect

import "strings"

// Email finds e-mail addresses: a local part of 1–64 characters of
// [A-Za-z0-9._%+-] and a domain of dot-separated labels ending in a
// top-level domain of letters. Quoted local parts and IP-literal domains
// (legal, but never seen in prose) are not matched.
type Email struct{}

const (
	emailMaxLocal  = 64
	emailMaxDomain = 253
)

func isEmailLocal(b byte) bool {
	return isAlnum(b) || b == '.' || b == '_' || b == '%' || b == '+' || b == '-'
}

func isEmailChar(b byte) bool { return isEmailLocal(b) || b == '@' }

// Find implements Detector.
func (Email) Find(s string, from int, dst []Match) []Match {
	i := from
	for i < len(s) {
		a := strings.IndexByte(s[i:], '@')
		if a < 0 {
			break
		}
		a += i
		start := a
		for start > 0 && isEmailLocal(s[start-1]) && a-start <= emailMaxLocal {
			start--
		}
		// the local part must be the whole run before '@', 1–64 long, must
		// not start with a dot, and must start within the searched text
		if start == a || a-start > emailMaxLocal || isEmailLocal(before(s, start)) ||
			s[start] == '.' || start < from || start < i {
			i = a + 1
			continue
		}
		end := emailDomainEnd(s, a+1)
		if end < 0 {
			i = a + 1
			continue
		}
		dst = append(dst, Match{start, end})
		i = end
	}
	return dst
}

// emailDomainEnd parses a domain at s[i:] and returns where the longest
// valid domain ends (its last label all letters, at least two), or -1.
func emailDomainEnd(s string, i int) int {
	best := -1
	pos := i
	labels := 0
	for pos < len(s) && pos-i < emailMaxDomain {
		// one label
		j := pos
		alpha := true
		for j < len(s) && j-pos < 63 && j-i < emailMaxDomain && (isAlnum(s[j]) || s[j] == '-') {
			if !isAlpha(s[j]) {
				alpha = false
			}
			j++
		}
		if j == pos || s[pos] == '-' || s[j-1] == '-' {
			break
		}
		labels++
		if labels >= 2 && alpha && j-pos >= 2 {
			best = j
		}
		if at(s, j) != '.' || !(isAlnum(at(s, j+1))) {
			break
		}
		pos = j + 1
	}
	if best < 0 {
		return -1
	}
	// the address must not run on into more address characters
	if c := at(s, best); isAlnum(c) || c == '-' || c == '_' || c == '@' {
		return -1
	}
	return best
}

// Pending implements Detector: an address in progress is a run of address
// characters at the end.
func (Email) Pending(s string, from int) int {
	return trailingRun(s, from, isEmailChar)
}

// MaxLen implements Detector.
func (Email) MaxLen() int { return emailMaxLocal + 1 + emailMaxDomain }

var _ Detector = Email{}
