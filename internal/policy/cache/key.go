package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/pipeline"
)

// ignoredFields are request members that do not change the answer: who
// asks (user, safety_identifier), how it is delivered (stream,
// stream_options), and bookkeeping (metadata, store, service_tier,
// prompt_cache_*). Requests that differ only in them share an entry.
var ignoredFields = map[string]bool{
	"user": true, "stream": true, "stream_options": true, "metadata": true,
	"store": true, "service_tier": true, "safety_identifier": true,
	"prompt_cache_key": true, "prompt_cache_retention": true,
}

// Namespace is the key prefix of a tenant's entries, or of the shared
// namespace. The tenant is escaped so that no tenant's namespace is a
// prefix of another's.
func Namespace(tenant string, shared bool) string {
	if shared {
		return "shared"
	}
	return "t:" + url.PathEscape(tenant)
}

// entryKey is where an entry lives: its namespace, then the client's own
// key (x-aig-cache-key) or the digest of the request.
func entryKey(ns, custom, digest string) string {
	if custom != "" {
		return ns + "/k:" + custom
	}
	return ns + "/h:" + digest
}

// digest hashes length-prefixed parts, so no two different part lists
// give the same input.
func digest(parts ...[]byte) string {
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	h.Write([]byte("aig-cache-v1"))
	for _, p := range parts {
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(p)))])
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// requestDigest is the exact key of a call: its kind, its target (the
// model asked for and what it resolves to), and its canonical request.
func requestDigest(c *pipeline.Call, target string) (string, error) {
	switch c.Kind {
	case pipeline.KindChat:
		if c.NativeChat != nil {
			// The ingress speaks a provider's own format (Anthropic's
			// /v1/messages) and an attempt may pass its answer through
			// natively: key on the request as the client wrote it, since
			// the canonical form drops what only that format has.
			return digest([]byte("chat-native"), []byte(c.Ingress.Name()), []byte(target),
				selectedHeaders(c.HTTP.Header, nativeChatKeyHeaders), c.Body), nil
		}
		body, err := chatCanonical(c.Chat, false)
		if err != nil {
			return "", err
		}
		return digest([]byte("chat"), []byte(target), body), nil
	case pipeline.KindEmbed:
		body, err := embedCanonical(c.Embed)
		if err != nil {
			return "", err
		}
		return digest([]byte("embed"), []byte(target), body), nil
	case pipeline.KindNative:
		n := c.Native
		pid := c.Model
		if len(c.Targets) > 0 {
			pid = c.Targets[0].ProviderID
		}
		return digest([]byte("native"), []byte(pid), []byte(n.Method), []byte(n.Path),
			[]byte(n.RawQuery), nativeHeaders(n.Header), n.Body), nil
	}
	return "", fmt.Errorf("calls of kind %v are not cached", c.Kind)
}

// nativeKeyHeaders are the passthrough request headers that change the
// answer (API versions and betas, the format asked for) or who may see
// it: a caller's own provider credential is part of the key (hashed with
// the rest, never stored), so a cached answer is never handed to a caller
// whose credential the provider did not accept.
var nativeKeyHeaders = []string{
	"Accept", "Anthropic-Beta", "Anthropic-Version", "Api-Key", "Authorization",
	"Openai-Beta", "X-Api-Key", "X-Goog-Api-Key",
}

// nativeChatKeyHeaders are those of a chat call in a provider's format
// that change the answer. Credentials are not among them: on the unified
// API they are gateway keys, which never reach the provider.
var nativeChatKeyHeaders = []string{"Anthropic-Beta", "Anthropic-Version"}

func nativeHeaders(h http.Header) []byte { return selectedHeaders(h, nativeKeyHeaders) }

func selectedHeaders(h http.Header, keys []string) []byte {
	var b []byte
	for _, k := range keys {
		for _, v := range h.Values(k) {
			b = append(b, k...)
			b = append(b, ':')
			b = append(b, v...)
			b = append(b, 0)
		}
	}
	return b
}

// chatCanonical is the canonical JSON of a chat request without the
// members that do not change the answer and without the model (keyed
// separately); withoutMessages also drops the messages (the semantic
// scope: same parameters, any prompt).
func chatCanonical(r *llm.ChatRequest, withoutMessages bool) ([]byte, error) {
	cp := *r
	cp.Model, cp.Stream, cp.StreamOptions, cp.User = "", false, nil, ""
	cp.Extra = withoutIgnored(cp.Extra)
	if withoutMessages {
		cp.Messages = nil
	}
	b, err := json.Marshal(cp)
	if err != nil {
		return nil, fmt.Errorf("encoding request for the cache key: %w", err)
	}
	return Canonical(b)
}

func embedCanonical(r *llm.EmbedRequest) ([]byte, error) {
	cp := *r
	cp.Model, cp.User = "", ""
	cp.Extra = withoutIgnored(cp.Extra)
	b, err := json.Marshal(cp)
	if err != nil {
		return nil, fmt.Errorf("encoding request for the cache key: %w", err)
	}
	return Canonical(b)
}

func withoutIgnored(e llm.Extra) llm.Extra {
	drop := false
	for k := range e {
		if ignoredFields[k] {
			drop = true
			break
		}
	}
	if !drop {
		return e
	}
	out := make(llm.Extra, len(e))
	for k, v := range e {
		if !ignoredFields[k] {
			out[k] = v
		}
	}
	return out
}

// Canonical returns the canonical form of a JSON document: no
// insignificant whitespace, object keys sorted at every depth (a repeated
// key keeps its last value, as decoders do), numbers in one normal form
// (1.0 and 1e0 are 1), strings escaped one way. Documents that mean the
// same give the same bytes; it fails on anything that is not one JSON
// value.
func Canonical(b []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("canonical json: %w", err)
	}
	if rest := b[dec.InputOffset():]; len(bytes.Trim(rest, " \t\r\n")) > 0 {
		return nil, fmt.Errorf("canonical json: data after the value")
	}
	return appendCanonical(make([]byte, 0, len(b)), v), nil
}

func appendCanonical(out []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(out, "null"...)
	case bool:
		return strconv.AppendBool(out, x)
	case json.Number:
		return append(out, normNumber(string(x))...)
	case string:
		return appendString(out, x)
	case []any:
		out = append(out, '[')
		for i, e := range x {
			if i > 0 {
				out = append(out, ',')
			}
			out = appendCanonical(out, e)
		}
		return append(out, ']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out = append(out, '{')
		for i, k := range keys {
			if i > 0 {
				out = append(out, ',')
			}
			out = appendString(out, k)
			out = append(out, ':')
			out = appendCanonical(out, x[k])
		}
		return append(out, '}')
	}
	panic(fmt.Sprintf("canonical json: unexpected %T", v)) // json.Decoder yields only the types above
}

// normNumber writes integers as they are (they may exceed float64
// precision: seeds, ids) and every other number in the shortest form that
// reads back as the same float64, integral ones without fraction.
func normNumber(s string) string {
	if isInteger(s) {
		if s == "-0" {
			return "0"
		}
		return s
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s // out of float64 range: keep the literal
	}
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func isInteger(s string) bool {
	if len(s) > 0 && s[0] == '-' {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// appendString writes s as a JSON string, escaping only what JSON
// requires. s is valid UTF-8 (it came out of the decoder).
func appendString(out []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	out = append(out, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				out = append(out, '\\', c)
			case c < 0x20:
				out = append(out, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				out = append(out, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			out = append(out, `\ufffd`...)
		} else {
			out = append(out, s[i:i+size]...)
		}
		i += size
	}
	return append(out, '"')
}

// match reports whether name matches a glob where '*' is any run of
// characters ('/' included) and '?' any one character.
func match(pattern, name string) bool {
	p, n := 0, 0
	star, starN := -1, 0
	for n < len(name) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == name[n]):
			p++
			n++
		case p < len(pattern) && pattern[p] == '*':
			star, starN = p, n
			p++
		case star >= 0:
			starN++
			p, n = star+1, starN
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
