package guardrails

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
)

// masker holds one call's reversible replacements: every distinct value
// masked in the prompt gets a numbered placeholder per label ([EMAIL_1],
// [EMAIL_2] …); the same value always gets the same placeholder, so a
// conversation's history masks consistently and a cache keyed on the
// masked prompt can serve every caller with the same shape of prompt.
type masker struct {
	toPlaceholder map[string]string
	toOriginal    map[string]string
	counts        map[string]int
	// longest is the length of the longest placeholder, the hold-back a
	// stream needs to see one whole.
	longest int
}

func newMasker() *masker {
	return &masker{toPlaceholder: map[string]string{}, toOriginal: map[string]string{}, counts: map[string]int{}}
}

// placeholder returns the placeholder for value.
func (m *masker) placeholder(label, value string) string {
	if p, ok := m.toPlaceholder[value]; ok {
		return p
	}
	m.counts[label]++
	p := "[" + label + "_" + strconv.Itoa(m.counts[label]) + "]"
	m.toPlaceholder[value] = p
	m.toOriginal[p] = value
	m.longest = max(m.longest, len(p))
	return p
}

func (m *masker) empty() bool { return m == nil || len(m.toOriginal) == 0 }

// restore replaces every placeholder in s by its value; in JSON text
// (tool call arguments) the value is escaped for a JSON string.
func (m *masker) restore(s string, inJSON bool) string {
	i := strings.IndexByte(s, '[')
	if i < 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for i >= 0 && i < len(s) {
		if j := strings.IndexByte(s[i:], ']'); j > 0 && j < m.longest {
			if orig, ok := m.toOriginal[s[i:i+j+1]]; ok {
				if b.Len() == 0 {
					b.Grow(len(s) + len(orig))
				}
				b.WriteString(s[last:i])
				if inJSON {
					orig = jsonEscape(orig)
				}
				b.WriteString(orig)
				last = i + j + 1
				i = last
				if k := strings.IndexByte(s[i:], '['); k >= 0 {
					i += k
					continue
				}
				break
			}
		}
		k := strings.IndexByte(s[i+1:], '[')
		if k < 0 {
			break
		}
		i += 1 + k
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// jsonEscape returns s as the inside of a JSON string.
func jsonEscape(s string) string {
	b, _ := json.Marshal(s) // a string always encodes
	return string(b[1 : len(b)-1])
}

// remask replaces every original value in s by its placeholder: what a
// log stores instead of the answer the client saw. s may be plain text or
// JSON text (a value with quotes appears escaped there).
func (m *masker) remask(s string) string {
	if m.empty() || s == "" {
		return s
	}
	forms := make(map[string]string, len(m.toPlaceholder))
	for v, p := range m.toPlaceholder {
		forms[v] = p
		if e := jsonEscape(v); e != v {
			forms[e] = p
		}
	}
	olds := make([]string, 0, len(forms))
	for v := range forms {
		olds = append(olds, v)
	}
	// longer values first, so a value that contains another wins
	sort.Slice(olds, func(i, j int) bool {
		if len(olds[i]) != len(olds[j]) {
			return len(olds[i]) > len(olds[j])
		}
		return olds[i] < olds[j]
	})
	pairs := make([]string, 0, 2*len(olds))
	for _, v := range olds {
		pairs = append(pairs, v, forms[v])
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

func isPlaceholderByte(c byte) bool {
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
}

// restorer restores placeholders in a stream of text, holding back a
// trailing "[LABEL_" that the next piece may complete.
type restorer struct {
	m      *masker
	inJSON bool
	held   string
}

// push takes the next piece and returns what can be passed on; final
// passes on everything.
func (r *restorer) push(s string, final bool) string {
	buf := s
	if r.held != "" {
		buf = r.held + s
		r.held = ""
	}
	if !final {
		if i := strings.LastIndexByte(buf, '['); i >= 0 && len(buf)-i < r.m.longest {
			tail := buf[i+1:]
			ok := true
			for k := 0; k < len(tail); k++ {
				if !isPlaceholderByte(tail[k]) {
					ok = false
					break
				}
			}
			if ok {
				r.held = buf[i:]
				buf = buf[:i]
			}
		}
	}
	return r.m.restore(buf, r.inJSON)
}
