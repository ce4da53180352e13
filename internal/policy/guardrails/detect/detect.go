// Package detect finds sensitive values in text: personal data (e-mail
// addresses, phone numbers, payment card numbers, IBANs, US social
// security numbers, IP addresses), credentials (API keys, private keys,
// JWTs), and what an operator lists (regular expressions, word lists).
//
// Detectors are hand-written scanners where a regular expression would be
// slow or imprecise: each validates what it finds (Luhn for cards, mod-97
// for IBANs, the assigned ranges for SSNs, address parsing for IPs), runs
// in linear time and allocates nothing unless it finds something.
//
// Every detector can also be run over a stream of text: Pending says how
// much of the end of the text may still become part of a match once more
// text arrives, so a stream filter holds back only that (bounded by MaxLen)
// and passes everything before it on at once.
package detect

import (
	"slices"
	"unicode/utf8"
)

// Match is a found value: s[Start:End].
type Match struct {
	Start, End int
}

// Detector finds one kind of value. Detectors are immutable and safe for
// concurrent use.
//
// The contract that makes stream filtering exact: a detector decides
// whether a match starts at i by looking at s[i-1] (one byte of left
// context at most, or one rune for word lists) and at no more than
// MaxLen()+1 bytes from i on; and every match, and every match that more
// text could still produce, that reaches the end of s starts at or after
// Pending(s, from).
type Detector interface {
	// Find appends to dst the matches in s that start at or after from, in
	// order and without overlap; s[:from] is only context (what came
	// before).
	Find(s string, from int, dst []Match) []Match
	// Pending returns the smallest index p ≥ from such that no match that
	// more text appended to s could produce or change starts before p.
	// It returns len(s) when the end of s cannot be part of a match.
	Pending(s string, from int) int
	// MaxLen bounds the length of a match in bytes.
	MaxLen() int
}

// Union is a detector of several kinds of value; where their matches
// overlap, the one that starts first wins (the longer one on a tie).
func Union(ds ...Detector) Detector {
	if len(ds) == 1 {
		return ds[0]
	}
	u := union{ds: ds}
	for _, d := range ds {
		u.max = max(u.max, d.MaxLen())
	}
	return u
}

type union struct {
	ds  []Detector
	max int
}

func (u union) Find(s string, from int, dst []Match) []Match {
	n := len(dst)
	for _, d := range u.ds {
		dst = d.Find(s, from, dst)
	}
	return SortAndDropOverlaps(dst, n)
}

// SortAndDropOverlaps orders dst[n:] by start (longer first on a tie) and
// removes every match that overlaps an earlier one.
func SortAndDropOverlaps(dst []Match, n int) []Match {
	part := dst[n:]
	if len(part) < 2 {
		return dst
	}
	slices.SortFunc(part, func(a, b Match) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return b.End - a.End
	})
	out := part[:1]
	for _, m := range part[1:] {
		if m.Start >= out[len(out)-1].End {
			out = append(out, m)
		}
	}
	return dst[:n+len(out)]
}

func (u union) Pending(s string, from int) int {
	p := len(s)
	for _, d := range u.ds {
		p = min(p, d.Pending(s, from))
	}
	return p
}

func (u union) MaxLen() int { return u.max }

// Builtin kinds, by the name used in configuration.
const (
	KindEmail      = "email"
	KindPhone      = "phone"
	KindCard       = "credit_card"
	KindIBAN       = "iban"
	KindSSN        = "us_ssn"
	KindIPv4       = "ipv4"
	KindIPv6       = "ipv6"
	KindIP         = "ip_address"
	KindAPIKey     = "api_key"
	KindPrivateKey = "private_key"
	KindJWT        = "jwt"
	KindCredential = "credential"
)

// Builtin returns the built-in detector of a kind and its default
// placeholder label, or ok false for an unknown kind.
func Builtin(kind string) (d Detector, label string, ok bool) {
	switch kind {
	case KindEmail:
		return Email{}, "EMAIL", true
	case KindPhone:
		return Phone{}, "PHONE", true
	case KindCard:
		return Card{}, "CARD", true
	case KindIBAN:
		return IBAN{}, "IBAN", true
	case KindSSN:
		return SSN{}, "SSN", true
	case KindIPv4:
		return IPv4{}, "IP", true
	case KindIPv6:
		return IPv6{}, "IP", true
	case KindIP:
		return Union(IPv4{}, IPv6{}), "IP", true
	case KindAPIKey:
		return APIKey{}, "API_KEY", true
	case KindPrivateKey:
		return PrivateKey{}, "PRIVATE_KEY", true
	case KindJWT:
		return JWT{}, "JWT", true
	case KindCredential:
		return Union(APIKey{}, PrivateKey{}, JWT{}), "SECRET", true
	}
	return nil, "", false
}

// BuiltinKinds lists the built-in kinds, for help texts and validation.
func BuiltinKinds() []string {
	return []string{KindEmail, KindPhone, KindCard, KindIBAN, KindSSN, KindIPv4, KindIPv6, KindIP,
		KindAPIKey, KindPrivateKey, KindJWT, KindCredential}
}

// byte classes

func isDigit(b byte) bool { return b >= '0' && b <= '9' }
func isUpper(b byte) bool { return b >= 'A' && b <= 'Z' }
func isLower(b byte) bool { return b >= 'a' && b <= 'z' }
func isAlpha(b byte) bool { return isUpper(b) || isLower(b) }
func isAlnum(b byte) bool { return isDigit(b) || isAlpha(b) }
func isHex(b byte) bool {
	return isDigit(b) || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F')
}

// before returns s[i-1], or a space at the start of s.
func before(s string, i int) byte {
	if i <= 0 {
		return ' '
	}
	return s[i-1]
}

// at returns s[i], or a space past the end of s.
func at(s string, i int) byte {
	if i >= len(s) {
		return ' '
	}
	return s[i]
}

// trailingRun returns the start of the run of bytes in set that ends s,
// not before from.
func trailingRun(s string, from int, in func(byte) bool) int {
	q := len(s)
	for q > from && in(s[q-1]) {
		q--
	}
	return q
}

// runeStart moves i back to the start of the rune it is in.
func runeStart(s string, i int) int {
	for i > 0 && i < len(s) && !utf8.RuneStart(s[i]) {
		i--
	}
	return i
}
