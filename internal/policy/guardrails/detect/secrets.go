package detect

import (
	"encoding/base64"
	"strings"
)

// APIKey finds API keys and tokens by the prefixes their issuers give them:
// OpenAI and Anthropic (sk-…), Stripe (sk_live_…, rk_live_…), AWS access
// key ids (AKIA…, ASIA…), GitHub (ghp_…, github_pat_…), GitLab (glpat-…),
// Slack (xoxb-…), Google (AIza…), Hugging Face (hf_…) and this gateway
// (aig_…). A key must be a whole token of its alphabet and length.
type APIKey struct{}

type keyShape struct {
	prefix   string
	body     func(byte) bool
	min, max int
}

func isTokenChar(b byte) bool  { return isAlnum(b) || b == '_' || b == '-' }
func isAlnumUnder(b byte) bool { return isAlnum(b) || b == '_' }
func isUpperDigit(b byte) bool { return isUpper(b) || isDigit(b) }

var keyShapes = [...]keyShape{
	{"sk-", isTokenChar, 20, 256},
	{"sk_live_", isAlnum, 16, 128},
	{"sk_test_", isAlnum, 16, 128},
	{"rk_live_", isAlnum, 16, 128},
	{"rk_test_", isAlnum, 16, 128},
	{"AKIA", isUpperDigit, 16, 16},
	{"ASIA", isUpperDigit, 16, 16},
	{"ghp_", isAlnum, 36, 255},
	{"gho_", isAlnum, 36, 255},
	{"ghu_", isAlnum, 36, 255},
	{"ghs_", isAlnum, 36, 255},
	{"ghr_", isAlnum, 36, 255},
	{"github_pat_", isAlnumUnder, 22, 255},
	{"glpat-", isTokenChar, 20, 64},
	{"xoxb-", isTokenChar, 10, 255},
	{"xoxp-", isTokenChar, 10, 255},
	{"xoxa-", isTokenChar, 10, 255},
	{"xoxr-", isTokenChar, 10, 255},
	{"xoxs-", isTokenChar, 10, 255},
	{"AIza", isTokenChar, 35, 35},
	{"hf_", isAlnum, 30, 64},
	{"aig_", isAlnum, 43, 43}, // the gateway's own keys (package keys)
}

// keyFirst marks the bytes a key prefix starts with; keysByFirst lists
// the shapes per first byte, so a word starting with "s" is only tried
// against the three shapes that do.
var keyFirst, keysByFirst = func() (first [256]bool, by [256][]int) {
	for i, k := range keyShapes {
		first[k.prefix[0]] = true
		by[k.prefix[0]] = append(by[k.prefix[0]], i)
	}
	return first, by
}()

const apiKeyMaxLen = 11 + 256

// Find implements Detector.
func (APIKey) Find(s string, from int, dst []Match) []Match {
	for i := from; i < len(s); i++ {
		for i < len(s) && !keyFirst[s[i]] {
			i++
		}
		if i == len(s) || isTokenChar(before(s, i)) {
			continue
		}
		if end := apiKeyAt(s, i); end > 0 {
			dst = append(dst, Match{i, end})
			i = end - 1
		}
	}
	return dst
}

func apiKeyAt(s string, i int) int {
	rest := s[i:]
	for _, k := range keysByFirst[s[i]] {
		ks := &keyShapes[k]
		if !strings.HasPrefix(rest, ks.prefix) {
			continue
		}
		j := i + len(ks.prefix)
		for j < len(s) && ks.body(s[j]) && j-i-len(ks.prefix) <= ks.max {
			j++
		}
		n := j - i - len(ks.prefix)
		if n >= ks.min && n <= ks.max && !isTokenChar(at(s, j)) {
			return j
		}
	}
	return 0
}

// Pending implements Detector: a key in progress is the last token, when
// it starts like a key.
func (APIKey) Pending(s string, from int) int {
	q := trailingRun(s, from, isTokenChar)
	if q == len(s) || (q == from && isTokenChar(before(s, q))) {
		return len(s)
	}
	tok := s[q:]
	if !keyFirst[tok[0]] {
		return len(s)
	}
	for _, ks := range keyShapes {
		if strings.HasPrefix(tok, ks.prefix) || strings.HasPrefix(ks.prefix, tok) {
			return q
		}
	}
	return len(s)
}

// MaxLen implements Detector.
func (APIKey) MaxLen() int { return apiKeyMaxLen + 1 }

// JWT finds JSON Web Tokens: three base64url segments separated by dots,
// the first two JSON objects (so starting "eyJ"), the header naming an
// algorithm.
type JWT struct{}

const (
	jwtMaxHeader    = 1024
	jwtMaxPayload   = 4096
	jwtMaxSignature = 1024
	jwtMaxLen       = jwtMaxHeader + jwtMaxPayload + jwtMaxSignature + 2
)

func isB64URL(b byte) bool  { return isAlnum(b) || b == '_' || b == '-' }
func isJWTChar(b byte) bool { return isB64URL(b) || b == '.' }

// Find implements Detector.
func (JWT) Find(s string, from int, dst []Match) []Match {
	i := from
	for i < len(s) {
		k := strings.Index(s[i:], "eyJ")
		if k < 0 {
			break
		}
		k += i
		if isJWTChar(before(s, k)) {
			i = k + 1
			continue
		}
		if end := jwtAt(s, k); end > 0 {
			dst = append(dst, Match{k, end})
			i = end
			continue
		}
		i = k + 1
	}
	return dst
}

func jwtAt(s string, i int) int {
	h := segment(s, i, jwtMaxHeader)
	if h < 0 || at(s, h) != '.' {
		return 0
	}
	if !strings.HasPrefix(s[h+1:], "ey") {
		return 0
	}
	p := segment(s, h+1, jwtMaxPayload)
	if p < 0 || at(s, p) != '.' {
		return 0
	}
	sig := segment(s, p+1, jwtMaxSignature)
	if sig < 0 || at(s, sig) == '.' {
		return 0 // a fourth segment: not a JWS compact token
	}
	hdr, err := base64.RawURLEncoding.DecodeString(s[i:h])
	if err != nil || !strings.Contains(string(hdr), `"alg"`) {
		return 0
	}
	return sig
}

// segment returns the end of the base64url run at i (at most max long,
// and not followed by more base64url), or -1.
func segment(s string, i, max int) int {
	j := i
	for j < len(s) && isB64URL(s[j]) {
		j++
		if j-i > max {
			return -1
		}
	}
	return j
}

// Pending implements Detector.
func (JWT) Pending(s string, from int) int {
	q := trailingRun(s, from, isJWTChar)
	if q == len(s) || (q == from && isJWTChar(before(s, q))) {
		return len(s)
	}
	tok := s[q:]
	if strings.HasPrefix(tok, "eyJ") || strings.HasPrefix("eyJ", tok) {
		return q
	}
	return len(s)
}

// MaxLen implements Detector.
func (JWT) MaxLen() int { return jwtMaxLen + 1 }

// PrivateKey finds PEM private key blocks (-----BEGIN … PRIVATE KEY-----
// through -----END … PRIVATE KEY-----, also PGP key blocks). A block whose
// end line is missing is matched up to where its base64 body ends.
type PrivateKey struct{}

const (
	pemBegin  = "-----BEGIN "
	pemEnd    = "-----END "
	pemDashes = "-----"
	pemMaxLen = 16 << 10
)

// Find implements Detector.
func (PrivateKey) Find(s string, from int, dst []Match) []Match {
	i := from
	for i < len(s) {
		k := strings.Index(s[i:], pemBegin)
		if k < 0 {
			break
		}
		k += i
		if end, _, ok := pemAt(s, k); ok {
			dst = append(dst, Match{k, end})
			i = end
			continue
		}
		i = k + 1
	}
	return dst
}

// pemLabel parses "LABEL-----" at i; it returns the end, the label, and
// whether the text ended first.
func pemLabel(s string, i int) (end int, label string, short bool) {
	j := i
	for j < len(s) && j-i <= 48 && (isUpperDigit(s[j]) || s[j] == ' ') {
		j++
	}
	if j-i > 48 {
		return -1, "", false
	}
	rest := s[j:]
	if len(rest) < len(pemDashes) {
		if strings.HasPrefix(pemDashes, rest) {
			return -1, s[i:j], true
		}
		return -1, "", false
	}
	if !strings.HasPrefix(rest, pemDashes) {
		return -1, "", false
	}
	return j + len(pemDashes), s[i:j], false
}

// pemAt parses a private key block at i (at "-----BEGIN "). ok is false
// when it is not one; complete is false when more text could still change
// where it ends.
func pemAt(s string, i int) (end int, complete, ok bool) {
	hdr, label, short := pemLabel(s, i+len(pemBegin))
	if short {
		return len(s), false, true
	}
	if hdr < 0 || !strings.Contains(label, "PRIVATE KEY") {
		return 0, false, false
	}
	limit := min(len(s), i+pemMaxLen)
	if e := strings.Index(s[hdr:limit], pemEnd); e >= 0 {
		e += hdr
		end, _, short := pemLabel(s[:limit], e+len(pemEnd))
		switch {
		case short && limit == len(s):
			return len(s), false, true
		case end > 0:
			return end, true, true
		}
	}
	// no end line (yet): the base64 body and its headers
	j := hdr
	for j < limit && (isAlnum(s[j]) || strings.IndexByte("+/=\r\n\t :,-", s[j]) >= 0) {
		j++
	}
	return j, i+pemMaxLen <= len(s), true
}

// Pending implements Detector: an unfinished block, or the start of a
// "-----BEGIN " line at the end.
func (PrivateKey) Pending(s string, from int) int {
	for i := max(from, len(s)-pemMaxLen-1); i < len(s); {
		k := strings.Index(s[i:], pemBegin)
		if k < 0 {
			break
		}
		k += i
		if _, complete, ok := pemAt(s, k); ok && !complete {
			return k
		}
		i = k + 1
	}
	for n := min(len(pemBegin)-1, len(s)-from); n > 0; n-- {
		if strings.HasSuffix(s, pemBegin[:n]) {
			return len(s) - n
		}
	}
	return len(s)
}

// MaxLen implements Detector.
func (PrivateKey) MaxLen() int { return pemMaxLen + 1 }

var (
	_ Detector = APIKey{}
	_ Detector = JWT{}
	_ Detector = PrivateKey{}
)
