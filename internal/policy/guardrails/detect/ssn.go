package detect

// SSN finds US social security numbers written AAA-GG-SSSS (or with
// spaces), excluding numbers the SSA never issues: area 000, 666 or
// 900–999, group 00, serial 0000. Nine digits without separators are too
// often something else to be reported.
type SSN struct{}

const ssnLen = 11

func isSSNChar(b byte) bool { return isDigit(b) || b == '-' || b == ' ' }

// Find implements Detector.
func (SSN) Find(s string, from int, dst []Match) []Match {
	for i := from; i+ssnLen <= len(s); i++ {
		for i+ssnLen <= len(s) && !isDigit(s[i]) {
			i++
		}
		if i+ssnLen > len(s) {
			break
		}
		if ssnAt(s, i) {
			dst = append(dst, Match{i, i + ssnLen})
			i += ssnLen - 1
			continue
		}
		i = skipDigits(s, i)
	}
	return dst
}

func ssnAt(s string, i int) bool {
	p := before(s, i)
	if isAlnum(p) || p == '.' || ((p == '-' || p == ' ' || p == '/') && isDigit(before(s, i-1))) {
		return false
	}
	x := s[i : i+ssnLen]
	sep := x[3]
	if (sep != '-' && sep != ' ') || x[6] != sep {
		return false
	}
	for _, k := range [...]int{0, 1, 2, 4, 5, 7, 8, 9, 10} {
		if !isDigit(x[k]) {
			return false
		}
	}
	n := at(s, i+ssnLen)
	if isAlnum(n) || ((n == '-' || n == ' ' || n == '/' || n == '.') && isDigit(at(s, i+ssnLen+1))) {
		return false
	}
	area := int(x[0]-'0')*100 + int(x[1]-'0')*10 + int(x[2]-'0')
	group := int(x[4]-'0')*10 + int(x[5]-'0')
	serial := x[7:11]
	return area != 0 && area != 666 && area < 900 && group != 0 && serial != "0000"
}

// Pending implements Detector: a number in progress is a run of digits
// and the separators that decide where one ends (- space / .) at the end,
// from its first digit.
func (SSN) Pending(s string, from int) int {
	q := trailingRun(s, from, func(b byte) bool { return isSSNChar(b) || b == '/' || b == '.' })
	for q < len(s) && !isDigit(s[q]) {
		q++
	}
	return q
}

// MaxLen implements Detector: the number and the two characters after it
// that decide whether it ends there.
func (SSN) MaxLen() int { return ssnLen + 1 }

var _ Detector = SSN{}
