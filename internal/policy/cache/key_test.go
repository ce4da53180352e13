package cache

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/pipeline"
)

func TestCanonical(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"b":1,"a":2}`, `{"a":2,"b":1}`},
		{" { \"a\" : [ 1 , 2 ] }\n", `{"a":[1,2]}`},
		{`{"x":{"z":true,"y":null}}`, `{"x":{"y":null,"z":true}}`},
		{`[1.0, 1e0, 100e-2, 0.0, -0, -0.0, 1.5, 1e21]`, `[1,1,1,0,0,0,1.5,1e+21]`},
		{`12345678901234567890123`, `12345678901234567890123`},
		{`"a\u0041\/<>&"`, `"aA/<>&"`},
		{`"tab\there\u0001"`, `"tab\u0009here\u0001"`},
		{`{"a":1,"a":2}`, `{"a":2}`},
	}
	for _, tt := range tests {
		got, err := Canonical([]byte(tt.in))
		if err != nil || string(got) != tt.want {
			t.Errorf("Canonical(%s) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{``, `{`, `{"a":1}}`, `{"a":1} {"b":2}`, `nul`, `{"a":01}`} {
		if _, err := Canonical([]byte(bad)); err == nil {
			t.Errorf("Canonical(%q) accepted invalid JSON", bad)
		}
	}
}

func chatKey(t *testing.T, body string) string {
	t.Helper()
	var r llm.ChatRequest
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	k, err := requestDigest(&pipeline.Call{Kind: pipeline.KindChat, Chat: &r}, "openai/gpt-4o")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestRequestKey(t *testing.T) {
	base := `{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0}`
	same := map[string]string{
		"member order":    `{"temperature":0,"messages":[{"content":"hi","role":"user"}],"model":"m"}`,
		"number spelling": `{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0.0}`,
		"stream":          `{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0,"stream":true,"stream_options":{"include_usage":true}}`,
		"user":            `{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0,"user":"alice"}`,
		"metadata":        `{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0,"metadata":{"a":"b"},"store":true,"service_tier":"auto"}`,
		"model field":     `{"model":"other","messages":[{"role":"user","content":"hi"}],"temperature":0}`,
	}
	for name, body := range same {
		if chatKey(t, body) != chatKey(t, base) {
			t.Errorf("%s changed the key", name)
		}
	}
	differ := map[string]string{
		"prompt":        `{"model":"m","messages":[{"role":"user","content":"hi!"}],"temperature":0}`,
		"role":          `{"model":"m","messages":[{"role":"system","content":"hi"}],"temperature":0}`,
		"temperature":   `{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0.5}`,
		"no temp":       `{"model":"m","messages":[{"role":"user","content":"hi"}]}`,
		"unknown param": `{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0,"top_k":3}`,
		"nested order is irrelevant but values matter": `{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0,"logit_bias":{"1":2}}`,
	}
	for name, body := range differ {
		if chatKey(t, body) == chatKey(t, base) {
			t.Errorf("%s did not change the key", name)
		}
	}
	a := chatKey(t, `{"model":"m","messages":[{"role":"user","content":"x"}],"logit_bias":{"1":2,"3":4}}`)
	b := chatKey(t, `{"model":"m","messages":[{"role":"user","content":"x"}],"logit_bias":{"3":4,"1":2}}`)
	if a != b {
		t.Error("member order inside an unmodelled parameter changed the key")
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"*", "anything/at/all", true},
		{"openai/*", "openai/gpt-4o", true},
		{"openai/*", "openai", false},
		{"workers-ai/*", "workers-ai/@cf/meta/llama-3", true},
		{"openai/gpt-4o", "openai/gpt-4o-mini", false},
		{"openai/gpt-4o*", "openai/gpt-4o-mini", true},
		{"*-mini", "openai/gpt-4o-mini", true},
		{"gpt-?o", "gpt-4o", true},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false},
		{"", "", true},
		{"", "x", false},
	}
	for _, tt := range tests {
		if got := match(tt.pattern, tt.name); got != tt.want {
			t.Errorf("match(%q, %q) = %v", tt.pattern, tt.name, got)
		}
	}
}

func FuzzCanonical(f *testing.F) {
	for _, s := range []string{`{"b":1,"a":[1.0,2e3,"x"]}`, `[]`, `"\u00e9"`, `{"a":{"b":{"c":null}}}`, `-0.0`, `1e400`, `{"":""}`, "\"\xff\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := Canonical(in)
		if err != nil {
			if json.Valid(in) && bytes.Count(in, []byte("[")) < 5000 {
				t.Fatalf("valid JSON rejected: %v", err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("output is not JSON: %s", out)
		}
		again, err := Canonical(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %s → %s (%v)", out, again, err)
		}
		var a, b any
		if json.Unmarshal(in, &a) == nil && json.Unmarshal(out, &b) == nil && !reflect.DeepEqual(a, b) {
			t.Fatalf("meaning changed: %s → %s", in, out)
		}
	})
}

// FuzzRequestKey feeds arbitrary chat request bodies through the key
// builder: it never fails on a decodable request, is stable across a
// decode/encode round trip, and never lets two tenants share a key.
func FuzzRequestKey(f *testing.F) {
	f.Add([]byte(`{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0}`), "acme", "globex")
	f.Add([]byte(`{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"x"}]}],"tools":[{"type":"function","function":{"name":"f","parameters":{"b":1,"a":2}}}]}`), "a", "a/")
	f.Add([]byte(`{"messages":[],"stop":"x","logit_bias":{"2":1.50}}`), "", "t:")
	f.Fuzz(func(t *testing.T, body []byte, t1, t2 string) {
		var r llm.ChatRequest
		if json.Unmarshal(body, &r) != nil {
			return
		}
		c := &pipeline.Call{Kind: pipeline.KindChat, Chat: &r}
		k1, err := requestDigest(c, "m")
		if err != nil {
			t.Fatalf("a decodable request has no key: %v", err)
		}
		enc, err := json.Marshal(r)
		if err != nil {
			return
		}
		var r2 llm.ChatRequest
		if err := json.Unmarshal(enc, &r2); err != nil {
			t.Fatalf("re-decoding: %v", err)
		}
		k2, err := requestDigest(&pipeline.Call{Kind: pipeline.KindChat, Chat: &r2}, "m")
		if err != nil || k1 != k2 {
			t.Fatalf("key changed across a round trip")
		}
		if t1 != t2 {
			a, b := entryKey(Namespace(t1, false), "", k1), entryKey(Namespace(t2, false), "", k1)
			if a == b || strings.HasPrefix(a, Namespace(t2, false)+"/") || strings.HasPrefix(b, Namespace(t1, false)+"/") {
				t.Fatalf("tenants %q and %q share keys: %s %s", t1, t2, a, b)
			}
		}
	})
}
