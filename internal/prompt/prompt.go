// Package prompt owns prompt templates: named, versioned chat messages
// with {{variable}} slots and a model, which the gateway serves as an API
// (POST /v1/prompts/{name}). Rendering is substitution and nothing else:
// no functions, no conditions, and a value is never read as template
// syntax, so callers can send any text as a value.
package prompt

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aigateway/aigateway/internal/llm"
)

// Sources of a template.
const (
	SourceConfig = "config"
	SourceStore  = "store"
)

// Message is one templated chat message.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Template is one version of a prompt template.
type Template struct {
	Name string `json:"name"`
	// Version counts from 1 per name.
	Version int `json:"version"`
	// Model is what the template runs on: "provider/model", an alias or a
	// route.
	Model       string    `json:"model"`
	Description string    `json:"description,omitempty"`
	Messages    []Message `json:"messages"`
	// Params are further chat request members (temperature, max_tokens,
	// response_format …).
	Params map[string]any `json:"params,omitempty"`
	// Defaults make variables optional.
	Defaults map[string]string `json:"defaults,omitempty"`
	// Source is SourceConfig or SourceStore.
	Source    string    `json:"source,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// Problem is one thing wrong with a template, located by its field.
type Problem struct {
	Field string
	Msg   string
}

func (p Problem) Error() string { return p.Field + ": " + p.Msg }

// Limits on templates.
const (
	MaxNameLen     = 64
	MaxMessages    = 64
	MaxContentLen  = 256 << 10
	maxVariableLen = 64
)

var roles = map[string]bool{llm.RoleSystem: true, llm.RoleDeveloper: true, llm.RoleUser: true, llm.RoleAssistant: true}

// reservedParams are request members a template's params may not set:
// the template owns the model and messages, the caller owns streaming.
var reservedParams = []string{"model", "messages", "stream", "stream_options"}

// ValidName reports whether s can name a template (and a URL path
// segment): lower-case letters, digits, '-', '_' and '.', starting with a
// letter or digit.
func ValidName(s string) bool {
	if s == "" || len(s) > MaxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '-' || c == '_' || c == '.') && i > 0:
		default:
			return false
		}
	}
	return true
}

// Validate returns every problem of the template. Version and Source are
// not checked (the store assigns versions).
func (t *Template) Validate() []Problem {
	var ps []Problem
	add := func(field, format string, args ...any) {
		ps = append(ps, Problem{field, fmt.Sprintf(format, args...)})
	}
	if !ValidName(t.Name) {
		add("name", "must be 1 to %d lower-case letters, digits, '-', '_' or '.', starting with a letter or digit", MaxNameLen)
	}
	if strings.TrimSpace(t.Model) == "" {
		add("model", "is required")
	}
	switch {
	case len(t.Messages) == 0:
		add("messages", "needs at least one message")
	case len(t.Messages) > MaxMessages:
		add("messages", "has %d messages, at most %d are allowed", len(t.Messages), MaxMessages)
	}
	vars := map[string]bool{}
	for i, m := range t.Messages {
		field := fmt.Sprintf("messages[%d]", i)
		if !roles[m.Role] {
			add(field+".role", "must be system, developer, user or assistant")
		}
		if len(m.Content) > MaxContentLen {
			add(field+".content", "is longer than %d bytes", MaxContentLen)
			continue
		}
		segs, err := parse(m.Content)
		if err != nil {
			add(field+".content", "%v", err)
			continue
		}
		for _, s := range segs {
			if s.variable {
				vars[s.text] = true
			}
		}
	}
	for k := range t.Defaults {
		if !vars[k] {
			add("defaults."+k, "is not a variable of the template")
		}
	}
	for _, k := range reservedParams {
		if _, ok := t.Params[k]; ok {
			add("params."+k, "cannot be set by a template")
		}
	}
	if len(ps) == 0 && len(t.Params) > 0 {
		if _, err := t.request(nil); err != nil {
			add("params", "%v", err)
		}
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Field < ps[j].Field })
	return ps
}

// segment is literal text or a variable name.
type segment struct {
	text     string
	variable bool
}

// parse splits content into literal text and {{variables}}. "{{" that is
// not closed by "}}" on the same line is literal text; a closed one must
// hold a valid variable name.
func parse(s string) ([]segment, error) {
	var out []segment
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			break
		}
		rest := s[i+2:]
		j := strings.Index(rest, "}}")
		if j < 0 || strings.Contains(rest[:j], "\n") {
			// not a slot: keep "{{" and go on after it
			out = appendText(out, s[:i+2])
			s = rest
			continue
		}
		if strings.Contains(rest[:j], "{") {
			// "{{{x}}": the slot starts later
			out = appendText(out, s[:i+1])
			s = s[i+1:]
			continue
		}
		name := strings.TrimSpace(rest[:j])
		if !validVariable(name) {
			return nil, fmt.Errorf("{{%s}} is not a variable: write {{name}} with letters, digits and _ (up to %d)", rest[:j], maxVariableLen)
		}
		out = appendText(out, s[:i])
		out = append(out, segment{text: name, variable: true})
		s = rest[j+2:]
	}
	return appendText(out, s), nil
}

func appendText(out []segment, s string) []segment {
	if s == "" {
		return out
	}
	if n := len(out); n > 0 && !out[n-1].variable {
		out[n-1].text += s
		return out
	}
	return append(out, segment{text: s})
}

func validVariable(s string) bool {
	if s == "" || len(s) > maxVariableLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9') {
			continue
		}
		return false
	}
	return true
}

// Variables lists the template's variables, sorted.
func (t *Template) Variables() []string {
	seen := map[string]bool{}
	for _, m := range t.Messages {
		segs, _ := parse(m.Content)
		for _, s := range segs {
			if s.variable {
				seen[s.text] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// VariablesError is a render refused for its variables; Missing and Extra
// are sorted.
type VariablesError struct {
	Missing []string
	Extra   []string
	// Invalid maps variables to what is wrong with their values.
	Invalid map[string]string
}

func (e *VariablesError) Error() string {
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, "missing variables: "+strings.Join(e.Missing, ", "))
	}
	if len(e.Extra) > 0 {
		parts = append(parts, "unknown variables: "+strings.Join(e.Extra, ", "))
	}
	for _, k := range slices.Sorted(maps.Keys(e.Invalid)) {
		parts = append(parts, fmt.Sprintf("variable %s %s", k, e.Invalid[k]))
	}
	return strings.Join(parts, "; ")
}

// Render fills the template with vars (strings, numbers and booleans, as
// decoded from JSON) and returns the chat request it makes. Every
// variable needs a value or a default; a value for a name that is not a
// variable is an error too, since it is most likely a typo.
func (t *Template) Render(vars map[string]any) (*llm.ChatRequest, error) {
	want := t.Variables()
	ve := &VariablesError{}
	values := make(map[string]string, len(want))
	for _, name := range want {
		v, ok := vars[name]
		if !ok {
			if d, ok := t.Defaults[name]; ok {
				values[name] = d
				continue
			}
			ve.Missing = append(ve.Missing, name)
			continue
		}
		s, err := valueText(v)
		if err != nil {
			if ve.Invalid == nil {
				ve.Invalid = map[string]string{}
			}
			ve.Invalid[name] = err.Error()
			continue
		}
		values[name] = s
	}
	for name := range vars {
		if !slices.Contains(want, name) {
			ve.Extra = append(ve.Extra, name)
		}
	}
	sort.Strings(ve.Extra)
	if len(ve.Missing)+len(ve.Extra)+len(ve.Invalid) > 0 {
		return nil, ve
	}
	return t.request(values)
}

// valueText turns a JSON value into the text substituted for it.
func valueText(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case json.Number:
		return x.String(), nil
	case int:
		return strconv.Itoa(x), nil
	case nil:
		return "", fmt.Errorf("is null; give a string, number or boolean")
	}
	return "", fmt.Errorf("must be a string, number or boolean")
}

// request builds the chat request with values substituted (nil values:
// variables left empty, for validating params).
func (t *Template) request(values map[string]string) (*llm.ChatRequest, error) {
	msgs := make([]llm.Message, len(t.Messages))
	for i, m := range t.Messages {
		segs, err := parse(m.Content)
		if err != nil {
			return nil, fmt.Errorf("messages[%d].content: %w", i, err)
		}
		var b strings.Builder
		for _, s := range segs {
			if s.variable {
				b.WriteString(values[s.text])
			} else {
				b.WriteString(s.text)
			}
		}
		msgs[i] = llm.Message{Role: m.Role, Content: llm.TextContent(b.String())}
	}
	req := &llm.ChatRequest{Model: t.Model, Messages: msgs}
	if len(t.Params) == 0 {
		return req, nil
	}
	base, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encoding request: %w", err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(base, &m); err != nil {
		return nil, fmt.Errorf("decoding request: %w", err)
	}
	for k, v := range t.Params {
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("param %s cannot be encoded", k)
		}
		m[k] = raw
	}
	merged, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encoding request: %w", err)
	}
	var out llm.ChatRequest
	if err := json.Unmarshal(merged, &out); err != nil {
		return nil, fmt.Errorf("the params make an invalid chat request: %v", err)
	}
	return &out, nil
}
