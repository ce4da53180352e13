package detect

// Phone finds telephone numbers in the two forms that are unambiguous in
// prose: international numbers written with a leading + (8–15 digits in
// groups separated by single spaces, dashes or dots, parentheses allowed:
// +44 20 7946 0958, +1 (555) 123-4567, +49-30-1234567), and North American
// numbers with separators ((555) 123-4567, 555-123-4567, 1-800-555-0199).
// National numbers without a country code (020 7946 0958) look like any
// other digit groups and are not reported.
type Phone struct{}

const (
	phoneMinDigits = 8
	phoneMaxDigits = 15
	phoneMaxLen    = 64
)

func isPhoneChar(b byte) bool {
	return isDigit(b) || b == '+' || b == '(' || b == ')' || b == ' ' || b == '-' || b == '.' || b == '/'
}

func isPhoneSep(b byte) bool { return b == ' ' || b == '-' || b == '.' }

func phoneBoundary(s string, i int) bool {
	p := before(s, i)
	if isAlnum(p) || p == '+' || p == '_' {
		return false
	}
	return !((isPhoneSep(p) || p == '/' || p == '(' || p == ')') && isDigit(before(s, i-1)))
}

// Find implements Detector.
func (Phone) Find(s string, from int, dst []Match) []Match {
	for i := from; i < len(s); i++ {
		c := s[i]
		if c != '+' && c != '(' && !isDigit(c) {
			continue
		}
		end := 0
		if phoneBoundary(s, i) {
			if c == '+' {
				end = phoneIntl(s, i)
			} else {
				end = phoneNANP(s, i)
			}
		}
		if end > 0 {
			dst = append(dst, Match{i, end})
			i = end - 1
			continue
		}
		if isDigit(c) {
			i = skipDigits(s, i)
		}
	}
	return dst
}

// phoneIntl returns the end of the longest international number at i (a
// '+'), or 0.
func phoneIntl(s string, i int) int {
	j := i + 1
	if c := at(s, j); !isDigit(c) || c == '0' {
		return 0
	}
	digits, best := 0, 0
	for j-i <= phoneMaxLen {
		paren := false
		switch c := at(s, j); {
		case c == '(':
			k := j + 1
			for isDigit(at(s, k)) && k-j <= phoneMaxDigits {
				k++
			}
			if k == j+1 || at(s, k) != ')' {
				return best
			}
			digits += k - j - 1
			j, paren = k+1, true
		case isDigit(c):
			for isDigit(at(s, j)) && digits <= phoneMaxDigits {
				j++
				digits++
			}
		default:
			return best
		}
		if digits > phoneMaxDigits || j-i > phoneMaxLen {
			return best
		}
		if n := at(s, j); digits >= phoneMinDigits && !isAlnum(n) && n != '_' && n != '(' {
			best = j
		}
		switch c := at(s, j); {
		case isPhoneSep(c) && (isDigit(at(s, j+1)) || at(s, j+1) == '('):
			j++
		case c == '(' || (paren && isDigit(c)):
			// "+44 (0)20 …": a group right after a parenthesised one
		default:
			return best
		}
	}
	return best
}

// phoneNANP returns the end of a North American number at i, or 0.
func phoneNANP(s string, i int) int {
	j := i
	if s[j] == '1' && isPhoneSep(at(s, j+1)) && (isDigit(at(s, j+2)) || at(s, j+2) == '(') {
		j += 2
	}
	var sep byte
	if at(s, j) == '(' {
		if !digitsAt(s, j+1, 3) || at(s, j+4) != ')' {
			return 0
		}
		if s[j+1] < '2' {
			return 0
		}
		j += 5
		if at(s, j) == ' ' {
			j++
		}
	} else {
		if !digitsAt(s, j, 3) || s[j] < '2' {
			return 0
		}
		sep = at(s, j+3)
		if !isPhoneSep(sep) {
			return 0
		}
		j += 4
	}
	if !digitsAt(s, j, 3) || s[j] < '2' {
		return 0
	}
	s2 := at(s, j+3)
	if !isPhoneSep(s2) || (sep != 0 && s2 != sep) {
		return 0
	}
	j += 4
	if !digitsAt(s, j, 4) {
		return 0
	}
	j += 4
	n := at(s, j)
	if isAlnum(n) || n == '_' || ((n == '-' || n == '.' || n == '/') && isDigit(at(s, j+1))) {
		return 0
	}
	return j
}

func digitsAt(s string, i, n int) bool {
	if i+n > len(s) {
		return false
	}
	for k := i; k < i+n; k++ {
		if !isDigit(s[k]) {
			return false
		}
	}
	return true
}

// Pending implements Detector: a number in progress is a run of digits
// and number punctuation at the end, from a character a number may start
// with.
func (Phone) Pending(s string, from int) int {
	q := trailingRun(s, from, isPhoneChar)
	for q < len(s) && s[q] != '+' && s[q] != '(' && !isDigit(s[q]) {
		q++
	}
	return q
}

// MaxLen implements Detector.
func (Phone) MaxLen() int { return phoneMaxLen + 2 }

var _ Detector = Phone{}
