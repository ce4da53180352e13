package detect

// IBAN finds international bank account numbers: a two-letter country
// code, two check digits and 11–30 letters or digits, written together or
// in groups separated by single spaces, whose mod-97 checksum is 1 (ISO
// 13616). Upper case only, as IBANs are printed.
type IBAN struct{}

const (
	ibanMin    = 15
	ibanMax    = 34
	ibanMaxLen = 2*ibanMax - 1
)

func isIBANChar(b byte) bool { return isUpper(b) || isDigit(b) || b == ' ' }

func ibanStart(s string, i int) bool {
	return isUpper(s[i]) && !isAlnum(before(s, i))
}

// Find implements Detector.
func (IBAN) Find(s string, from int, dst []Match) []Match {
	for i := from; i+ibanMin <= len(s); i++ {
		if !ibanStart(s, i) {
			continue
		}
		if end := ibanAt(s, i); end > 0 {
			dst = append(dst, Match{i, end})
			i = end - 1
		}
	}
	return dst
}

// ibanAt returns the end of the longest valid IBAN starting at i, or 0.
func ibanAt(s string, i int) int {
	if i+4 > len(s) || !isUpper(s[i+1]) || !isDigit(s[i+2]) || !isDigit(s[i+3]) {
		return 0
	}
	var chars [ibanMax]byte
	var ends [ibanMax]int // ends[k] is where the IBAN of k+1 characters ends
	n := 0
	j := i
	for j < len(s) && n < ibanMax {
		c := s[j]
		if c == ' ' {
			// a single space between characters
			if n == 0 || !(isUpper(at(s, j+1)) || isDigit(at(s, j+1))) || s[j-1] == ' ' {
				break
			}
			j++
			continue
		}
		if !isUpper(c) && !isDigit(c) {
			break
		}
		chars[n] = c
		ends[n] = j + 1
		n++
		j++
	}
	// longest first: an IBAN in groups is often followed by an upper-case word
	for k := n; k >= ibanMin; k-- {
		end := ends[k-1]
		if c := at(s, end); isAlnum(c) || c == '_' {
			continue // cut inside a word
		}
		if ibanValid(chars[:k]) {
			return end
		}
	}
	return 0
}

// ibanValid checks the mod-97 checksum: the first four characters move to
// the end, letters become 10–35, and the number mod 97 must be 1.
func ibanValid(c []byte) bool {
	r := 0
	add := func(b byte) {
		if isDigit(b) {
			r = (r*10 + int(b-'0')) % 97
			return
		}
		v := int(b-'A') + 10
		r = (r*100 + v) % 97
	}
	for _, b := range c[4:] {
		add(b)
	}
	for _, b := range c[:4] {
		add(b)
	}
	return r == 1
}

// Pending implements Detector: an IBAN in progress is a run of upper-case
// letters, digits and spaces at the end, from a position where one may
// start.
func (IBAN) Pending(s string, from int) int {
	q := trailingRun(s, from, isIBANChar)
	for q < len(s) && !ibanStart(s, q) {
		q++
	}
	return q
}

// MaxLen implements Detector.
func (IBAN) MaxLen() int { return ibanMaxLen }

var _ Detector = IBAN{}
