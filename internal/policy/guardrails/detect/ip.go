package detect

import "net/netip"

// IPv4 finds dotted-quad IPv4 addresses (each part 0–255, no leading
// zeros), not glued to letters, digits or further dotted parts, so version
// numbers such as 1.2.3.4.5 and v1.2.3.4 are not reported.
type IPv4 struct{}

const ipv4MaxLen = 15

func isIPv4Char(b byte) bool { return isDigit(b) || b == '.' }

// Find implements Detector.
func (IPv4) Find(s string, from int, dst []Match) []Match {
	for i := from; i < len(s); i++ {
		for i < len(s) && !isDigit(s[i]) {
			i++
		}
		if i == len(s) {
			break
		}
		if p := before(s, i); !isAlnum(p) && p != '.' && p != '_' {
			if end := ipv4At(s, i); end > 0 {
				dst = append(dst, Match{i, end})
				i = end - 1
				continue
			}
		}
		i = skipDigits(s, i)
	}
	return dst
}

func ipv4At(s string, i int) int {
	j := i
	for part := 0; part < 4; part++ {
		if part > 0 {
			if at(s, j) != '.' {
				return 0
			}
			j++
		}
		k := j
		v := 0
		for isDigit(at(s, k)) && k-j < 4 {
			v = v*10 + int(s[k]-'0')
			k++
		}
		if n := k - j; n == 0 || n > 3 || v > 255 || (n > 1 && s[j] == '0') {
			return 0
		}
		j = k
	}
	n := at(s, j)
	if isAlnum(n) || n == '_' || (n == '.' && isAlnum(at(s, j+1))) {
		return 0
	}
	return j
}

// Pending implements Detector.
func (IPv4) Pending(s string, from int) int {
	q := trailingRun(s, from, isIPv4Char)
	for q < len(s) && !isDigit(s[q]) {
		q++
	}
	return q
}

// MaxLen implements Detector.
func (IPv4) MaxLen() int { return ipv4MaxLen + 2 }

// IPv6 finds IPv6 addresses in any textual form RFC 4291 allows (full,
// compressed with ::, with an embedded IPv4 address). A candidate must
// hold at least two colons and a hex digit and parse as an address, so
// times (12:30:45) and C++ scopes (std::vector) are not reported.
type IPv6 struct{}

const ipv6MaxLen = 45

func isIPv6Char(b byte) bool { return isHex(b) || b == ':' || b == '.' }

// ipv6Start marks the bytes an IPv6 address can start with.
var ipv6Start = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = isHex(byte(c)) || c == ':'
	}
	return t
}()

// Find implements Detector.
func (IPv6) Find(s string, from int, dst []Match) []Match {
	for i := from; i < len(s); i++ {
		for i < len(s) && !ipv6Start[s[i]] {
			i++
		}
		if i == len(s) {
			break
		}
		if p := before(s, i); isAlnum(p) || p == '_' || p == ':' || p == '.' {
			// inside a word: skip to its end
			for i+1 < len(s) && isAlnum(s[i+1]) {
				i++
			}
			continue
		}
		// every IPv6 address has a colon after at most four hex digits
		j := i
		for j < len(s) && j-i < 4 && isHex(s[j]) {
			j++
		}
		if at(s, j) != ':' {
			for i+1 < len(s) && isAlnum(s[i+1]) {
				i++
			}
			continue
		}
		r := i
		colons, hex := 0, false
		for r < len(s) && isIPv6Char(s[r]) && r-i <= ipv6MaxLen {
			switch {
			case s[r] == ':':
				colons++
			case s[r] != '.':
				hex = true
			}
			r++
		}
		if r-i > ipv6MaxLen || colons < 2 || !hex {
			i = r - 1
			continue
		}
		if n := at(s, r); isAlnum(n) || n == '_' {
			i = r - 1
			continue
		}
		// a sentence may end right after the address: try without trailing
		// dots and colons too
		for end := r; end > i+1; end-- {
			if end < r && s[end] != '.' && s[end] != ':' {
				break
			}
			if a, err := netip.ParseAddr(s[i:end]); err == nil && a.Is6() && a.Zone() == "" {
				dst = append(dst, Match{i, end})
				break
			}
		}
		i = r - 1
	}
	return dst
}

// Pending implements Detector.
func (IPv6) Pending(s string, from int) int {
	return trailingRun(s, from, isIPv6Char)
}

// MaxLen implements Detector.
func (IPv6) MaxLen() int { return ipv6MaxLen + 2 }

var (
	_ Detector = IPv4{}
	_ Detector = IPv6{}
)
