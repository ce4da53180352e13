package guardrails

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/aigateway/aigateway/internal/llm"
)

// maskedBody returns the request body with the replaced values replaced.
// When the client's JSON uses only the escapes an encoder must use, every
// value appears in it exactly as it encodes, so the replacement is a
// plain text substitution; otherwise the masked request is encoded anew
// (slower: it is twice the work of decoding).
func maskedBody(body []byte, replaced []string, req *llm.ChatRequest) []byte {
	if len(body) > 0 && !hasOptionalEscapes(body) {
		pairs := make([]string, 0, len(replaced))
		escaped := make(map[string]bool, len(replaced)/2)
		ok := true
		for i := 0; i < len(replaced); i += 2 {
			if escaped[replaced[i]] {
				continue
			}
			escaped[replaced[i]] = true
			e := jsonEscapeText(replaced[i])
			pairs = append(pairs, e, replaced[i+1])
			ok = ok && !strings.Contains(e, `\u`)
		}
		if ok {
			return replaceOutsideEscapes(body, pairs)
		}
	}
	b, err := json.Marshal(req)
	if err != nil {
		return nil // never keep the original values
	}
	return b
}

// replaceOutsideEscapes replaces each pairs[2i] by pairs[2i+1] in JSON
// text, except where an occurrence would start inside an escape sequence
// ("nice" in "\nice"). Where occurrences overlap, the one that starts
// first wins, the longer one on a tie, so a value that contains another
// is replaced whole. One copy of the text is made.
func replaceOutsideEscapes(body []byte, pairs []string) []byte {
	type hit struct {
		at, end int
		to      string
	}
	s := string(body)
	var hits []hit
	seen := make(map[string]bool, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		from, to := pairs[i], pairs[i+1]
		if from == "" || seen[from] {
			continue
		}
		seen[from] = true
		for k := 0; k < len(s); {
			j := strings.Index(s[k:], from)
			if j < 0 {
				break
			}
			j += k
			slashes := 0
			for p := j - 1; p >= 0 && s[p] == '\\'; p-- {
				slashes++
			}
			if slashes%2 == 0 {
				hits = append(hits, hit{j, j + len(from), to})
			}
			k = j + 1
		}
	}
	if len(hits) == 0 {
		return body
	}
	slices.SortFunc(hits, func(a, b hit) int {
		if a.at != b.at {
			return a.at - b.at
		}
		return b.end - a.end
	})
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for _, h := range hits {
		if h.at < last {
			continue
		}
		b.WriteString(s[last:h.at])
		b.WriteString(h.to)
		last = h.end
	}
	b.WriteString(s[last:])
	return []byte(b.String())
}

// hasOptionalEscapes reports whether JSON text uses escapes an encoder
// may choose not to use (\u, \/, \b, \f), so the same string could be
// written differently.
func hasOptionalEscapes(b []byte) bool {
	for i := 0; i+1 < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		switch b[i+1] {
		case 'u', '/', 'b', 'f':
			return true
		}
		i++
	}
	return false
}

// jsonEscapeText escapes s as the inside of a JSON string with only the
// mandatory escapes (quote, backslash, control characters).
func jsonEscapeText(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	out := b.String()
	return out[1 : len(out)-2] // quotes and the encoder's newline
}

// unsafeInJSON reports whether replacing value inside JSON text could
// break the JSON (it spans a quote or an escape).
func unsafeInJSON(value string) bool { return strings.ContainsAny(value, `"\`) }
