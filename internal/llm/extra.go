package llm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Extra holds JSON object members that a canonical type does not model, keyed
// by member name, so that they survive decode → encode unchanged.
type Extra map[string]json.RawMessage

// errNotObject is returned when a JSON value that must be an object is not.
var errNotObject = errors.New("expected a JSON object")

// objectMember is one top-level member of a JSON object as found by scanObject.
type objectMember struct {
	// rawKey is the key between its quotes, still escaped when escaped is
	// set; use key() for its value. Kept raw so that looking a key up does
	// not allocate.
	rawKey  []byte
	escaped bool
	value   []byte
}

// is reports whether the member's key is k, without allocating for an
// unescaped key.
func (m objectMember) is(k string) bool {
	if !m.escaped {
		return string(m.rawKey) == k
	}
	got, err := m.key()
	return err == nil && got == k
}

// key returns the unescaped key.
func (m objectMember) key() (string, error) {
	if !m.escaped {
		return string(m.rawKey), nil
	}
	var k string
	q := make([]byte, 0, len(m.rawKey)+2)
	q = append(append(append(q, '"'), m.rawKey...), '"')
	if err := json.Unmarshal(q, &k); err != nil {
		return "", errors.New("invalid object key")
	}
	return k, nil
}

// scanObject walks the top level of the JSON object in b and calls fn for each
// member with its unquoted key and its raw value. It validates only structure
// (strings, nesting), leaving value validation to encoding/json, which always
// decodes the same bytes as well. It allocates only for keys with escapes.
func scanObject(b []byte, fn func(m objectMember) error) error {
	_, err := scanObjectEnd(b, fn)
	return err
}

// scanMembers is scanObjectEnd with the checks every one-scan decoder
// makes: member decodes a member it models and returns that member's bit
// (one per key), or 0 for a member it does not model. A key with escapes,
// a modelled key seen twice, an unmodelled key that matches one of known
// only case-insensitively or whose value is not valid JSON, and any error
// of member stop the scan with errStop; the decoder's caller then takes
// encoding/json's path, which decides what such input means.
func scanMembers(b []byte, known []string, member func(m objectMember) (uint64, error)) (int, error) {
	var seen uint64
	return scanObjectEnd(b, func(m objectMember) error {
		if m.escaped {
			return errStop
		}
		bit, err := member(m)
		switch {
		case err != nil:
			return errStop
		case bit == 0:
			if !unknownKey(m.rawKey, known) || !json.Valid(m.value) {
				return errStop
			}
		case seen&bit != 0:
			return errStop
		}
		seen |= bit
		return nil
	})
}

// scanObjectEnd is scanObject that also returns the index just past the
// object's closing brace.
func scanObjectEnd(b []byte, fn func(m objectMember) error) (int, error) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return 0, errNotObject
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, fmt.Errorf("invalid object member at offset %d", i)
		}
		end, escaped, err := scanString(b, i)
		if err != nil {
			return 0, err
		}
		if escaped && !json.Valid(b[i:end]) {
			return 0, fmt.Errorf("invalid object key at offset %d", i)
		}
		rawKey := b[i+1 : end-1]
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return 0, fmt.Errorf("expected ':' at offset %d", i)
		}
		i = skipSpace(b, i+1)
		vEnd, err := skipValue(b, i)
		if err != nil {
			return 0, err
		}
		if err := fn(objectMember{rawKey: rawKey, escaped: escaped, value: b[i:vEnd]}); err != nil {
			return 0, err
		}
		i = skipSpace(b, vEnd)
		if i >= len(b) {
			return 0, errors.New("unexpected end of object")
		}
		if b[i] == '}' {
			return i + 1, nil
		}
		if b[i] != ',' {
			return 0, fmt.Errorf("expected ',' or '}' at offset %d", i)
		}
		i = skipSpace(b, i+1)
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// scanString returns the index just past the closing quote of the string that
// starts at b[i], and whether it contains escapes.
func scanString(b []byte, i int) (end int, escaped bool, err error) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return j + 1, escaped, nil
		}
	}
	return 0, false, errors.New("unterminated string")
}

// skipValue returns the index just past the JSON value starting at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errors.New("missing value")
	}
	switch b[i] {
	case '"':
		end, _, err := scanString(b, i)
		return end, err
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, _, err := scanString(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errors.New("unterminated object or array")
	default:
		j := i
		for j < len(b) {
			switch b[j] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				if j == i {
					return 0, fmt.Errorf("invalid value at offset %d", i)
				}
				return j, nil
			}
			j++
		}
		if j == i {
			return 0, errors.New("missing value")
		}
		return j, nil
	}
}

// collectExtra returns the members of the object in b whose keys are not
// known, the keys the canonical type models. Known members cost no
// allocation.
func collectExtra(b []byte, known map[string]bool) (Extra, error) {
	var extra Extra
	err := scanObject(b, func(m objectMember) error {
		if !m.escaped && known[string(m.rawKey)] {
			return nil
		}
		k, err := m.key()
		if err != nil {
			return err
		}
		if known[k] {
			return nil
		}
		if extra == nil {
			extra = make(Extra, 2)
		}
		extra[k] = json.RawMessage(bytes.Clone(m.value))
		return nil
	})
	return extra, err
}

// appendExtra splices the members of extra into the JSON object obj, which
// must end with '}'. Keys are written in sorted order so the output is
// deterministic (cache keys and golden files rely on it).
func appendExtra(obj []byte, extra Extra) ([]byte, error) {
	if len(extra) == 0 {
		return obj, nil
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := obj[:len(obj)-1]
	empty := len(bytes.TrimSpace(out)) == 1 // just "{"
	for _, k := range keys {
		if !empty {
			out = append(out, ',')
		}
		empty = false
		// invalid UTF-8 becomes U+FFFD, as encoding/json decodes it, so
		// encoding is stable across decode → encode cycles
		kb, err := json.Marshal(strings.ToValidUTF8(k, "\uFFFD"))
		if err != nil {
			return nil, err
		}
		out = append(out, kb...)
		out = append(out, ':')
		v := extra[k]
		if len(v) == 0 {
			v = json.RawMessage("null")
		}
		if out, err = appendCompactHTML(out, v); err != nil {
			return nil, fmt.Errorf("member %s: %w", k, err)
		}
	}
	return append(out, '}'), nil
}

// appendCompactHTML appends v as json.Marshal would write a RawMessage:
// without insignificant space and with <, > and & escaped. The result is
// then exactly the bytes json.Marshal produces for the whole value, so a
// caller may use MarshalJSON's output without json.Marshal's extra pass.
// Values as clients send them (compact, no HTML) are appended as they are.
func appendCompactHTML(dst, v []byte) ([]byte, error) {
	if !needsCompaction(v) && json.Valid(v) {
		return append(dst, v...), nil
	}
	var c bytes.Buffer
	if err := json.Compact(&c, v); err != nil {
		return nil, err
	}
	b := bytes.NewBuffer(dst)
	json.HTMLEscape(b, c.Bytes())
	return b.Bytes(), nil
}

// needsCompaction reports whether v may hold space outside strings, or
// characters json.Marshal escapes (<, >, &, U+2028, U+2029).
func needsCompaction(v []byte) bool {
	for _, ch := range v {
		switch ch {
		case ' ', '\t', '\n', '\r', '<', '>', '&', 0xE2:
			return true
		}
	}
	return false
}

// Get decodes the member k into v and reports whether it was present.
func (e Extra) Get(k string, v any) (bool, error) {
	raw, ok := e[k]
	if !ok {
		return false, nil
	}
	return true, json.Unmarshal(raw, v)
}

// Set encodes v as member k.
func (e *Extra) Set(k string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if *e == nil {
		*e = make(Extra, 1)
	}
	(*e)[k] = raw
	return nil
}

// TopLevelString returns the string member key of the JSON object in b
// without decoding the rest; "" when absent, not a string, or b is not an
// object. Passthrough uses it to learn the model of a native request.
func TopLevelString(b []byte, key string) string {
	var out string
	_ = scanObject(b, func(m objectMember) error {
		if len(m.value) == 0 || m.value[0] != '"' {
			return nil
		}
		if !m.is(key) {
			return nil
		}
		if bytes.IndexByte(m.value, '\\') < 0 {
			out = string(m.value[1 : len(m.value)-1])
		} else if json.Unmarshal(m.value, &out) != nil {
			out = ""
		}
		return errStop
	})
	return out
}

var errStop = errors.New("stop")
