package detect

// Card finds payment card numbers: 13–19 digits, optionally grouped by
// single spaces or dashes, starting with a digit the card networks use
// (2–6) and passing the Luhn check. A longer run of digits is not a card
// number; a grouped number followed by more groups (an expiry date, a CVC)
// still is.
type Card struct{}

const (
	cardMinDigits = 13
	cardMaxDigits = 19
	cardMaxLen    = 2*cardMaxDigits - 1
)

func isCardSep(b byte) bool  { return b == ' ' || b == '-' }
func isCardChar(b byte) bool { return isDigit(b) || isCardSep(b) }

// cardStart reports whether a number may start at i: a digit not glued to
// a letter, a digit, or a digit group before it.
func cardStart(s string, i int) bool {
	if !isDigit(s[i]) {
		return false
	}
	p := before(s, i)
	if isAlnum(p) || p == '.' || p == ',' {
		return false
	}
	return !(isCardSep(p) && isDigit(before(s, i-1)))
}

// Find implements Detector.
func (Card) Find(s string, from int, dst []Match) []Match {
	for i := from; i < len(s); i++ {
		for i < len(s) && !isDigit(s[i]) {
			i++
		}
		if i == len(s) || !cardStart(s, i) {
			continue
		}
		if s[i] < '2' || s[i] > '6' {
			i = skipDigits(s, i)
			continue
		}
		if end := cardAt(s, i); end > 0 {
			dst = append(dst, Match{i, end})
			i = end - 1
			continue
		}
		i = skipDigits(s, i)
	}
	return dst
}

func skipDigits(s string, i int) int {
	for i+1 < len(s) && isDigit(s[i+1]) {
		i++
	}
	return i
}

// cardAt returns the end of the longest valid card number starting at i,
// or 0. Candidate ends are the ends of digit groups.
func cardAt(s string, i int) int {
	var digits [cardMaxDigits]byte
	n := 0
	best := 0
	j := i
	for j < len(s) {
		if !isDigit(s[j]) {
			break
		}
		if n == cardMaxDigits {
			return best // a 20th digit in the same group: not a card (unless a shorter grouped prefix was)
		}
		digits[n] = s[j] - '0'
		n++
		j++
		if isDigit(at(s, j)) {
			continue
		}
		// end of a group
		if n >= cardMinDigits && luhn(digits[:n]) && !isAlpha(at(s, j)) {
			best = j
		}
		if isCardSep(at(s, j)) && isDigit(at(s, j+1)) {
			j++
			continue
		}
		break
	}
	if best == j {
		// the whole run is the number: it must end cleanly
		if c := at(s, j); isAlnum(c) || c == '_' {
			return 0
		}
	}
	return best
}

func luhn(d []byte) bool {
	sum := 0
	double := false
	for k := len(d) - 1; k >= 0; k-- {
		v := int(d[k])
		if double {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return sum%10 == 0
}

// Pending implements Detector: a number in progress is a run of digits and
// separators at the end, starting with a digit.
func (Card) Pending(s string, from int) int {
	q := trailingRun(s, from, isCardChar)
	for q < len(s) && !isDigit(s[q]) {
		q++
	}
	return q
}

// MaxLen implements Detector.
func (Card) MaxLen() int { return cardMaxLen }

var _ Detector = Card{}
