package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"unicode/utf8"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/llm"
)

func TestSetModel(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"first", `{"model":"anthropic/claude","max_tokens":5}`, `{"model":"claude","max_tokens":5}`},
		{"spacing kept", "{ \"max_tokens\" : 5,\n  \"model\" :  \"a/b\" , \"x\":[1] }", "{ \"max_tokens\" : 5,\n  \"model\" :  \"b\" , \"x\":[1] }"},
		{"nested model untouched", `{"metadata":{"model":"keep"},"model":"a/b"}`, `{"metadata":{"model":"keep"},"model":"b"}`},
		{"escaped key", `{"mod\u0065l":"a/b"}`, `{"mod\u0065l":"b"}`},
		{"no model", `{"max_tokens":5}`, `{"max_tokens":5}`},
		{"duplicates all replaced", `{"model":"x","model":"a/b"}`, `{"model":"b","model":"b"}`},
		{"not an object", `[1]`, `[1]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			model := "claude"
			if c.name != "first" {
				model = "b"
			}
			if got := string(SetModel([]byte(c.in), model)); got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
}

func FuzzSetModel(f *testing.F) {
	f.Add([]byte(`{"model":"anthropic/claude","max_tokens":5}`), "claude")
	f.Add([]byte(`{"a":{"model":1},"model":"x\"y"}`), "m\u2028")
	f.Fuzz(func(t *testing.T, body []byte, model string) {
		if !utf8.ValidString(model) {
			return // model names come from decoded JSON: always valid UTF-8
		}
		out := SetModel(body, model)
		var in map[string]json.RawMessage
		if json.Unmarshal(body, &in) != nil {
			return
		}
		var got map[string]json.RawMessage
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("valid body became invalid: %s -> %s", body, out)
		}
		if _, had := in["model"]; !had {
			if !bytes.Equal(out, body) {
				t.Fatalf("body without model changed")
			}
			return
		}
		var m string
		if err := json.Unmarshal(got["model"], &m); err != nil || m != model {
			t.Fatalf("model = %s, want %q", got["model"], model)
		}
	})
}

func TestNativeHeadersDropCredentials(t *testing.T) {
	in := http.Header{
		"X-Api-Key": {"gateway-key"}, "Authorization": {"Bearer gw"}, "X-Aig-Authorization": {"Bearer gw"},
		"Anthropic-Version": {"2023-06-01"}, "Anthropic-Beta": {"a,b"}, "Content-Type": {"application/json"},
		"Connection": {"keep-alive"}, "Cf-Aig-Cache-Ttl": {"5"},
	}
	h := nativeHeaders(in)
	for _, k := range []string{"X-Api-Key", "Authorization", "X-Aig-Authorization", "Connection", "Cf-Aig-Cache-Ttl"} {
		if h.Get(k) != "" {
			t.Errorf("%s forwarded", k)
		}
	}
	for _, k := range []string{"Anthropic-Version", "Anthropic-Beta", "Content-Type"} {
		if h.Get(k) != in.Get(k) {
			t.Errorf("%s not forwarded", k)
		}
	}
}

func TestDecodeMessagesErrors(t *testing.T) {
	cases := map[string]string{
		"empty":            ``,
		"not object":       `[]`,
		"no model":         `{"max_tokens":1,"messages":[{"role":"user","content":"x"}]}`,
		"no max_tokens":    `{"model":"a/b","messages":[{"role":"user","content":"x"}]}`,
		"zero max_tokens":  `{"model":"a/b","max_tokens":0,"messages":[{"role":"user","content":"x"}]}`,
		"no messages":      `{"model":"a/b","max_tokens":1}`,
		"bad content":      `{"model":"a/b","max_tokens":1,"messages":[{"role":"user","content":5}]}`,
		"block no type":    `{"model":"a/b","max_tokens":1,"messages":[{"role":"user","content":[{"text":"x"}]}]}`,
		"tool_use no id":   `{"model":"a/b","max_tokens":1,"messages":[{"role":"assistant","content":[{"type":"tool_use","name":"f","input":{}}]}]}`,
		"result no id":     `{"model":"a/b","max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_result","content":"x"}]}]}`,
		"image no source":  `{"model":"a/b","max_tokens":1,"messages":[{"role":"user","content":[{"type":"image"}]}]}`,
		"tool no name":     `{"model":"a/b","max_tokens":1,"tools":[{"input_schema":{}}],"messages":[{"role":"user","content":"x"}]}`,
		"bad tool_choice":  `{"model":"a/b","max_tokens":1,"tool_choice":{"type":"sometimes"},"messages":[{"role":"user","content":"x"}]}`,
		"tool_choice name": `{"model":"a/b","max_tokens":1,"tool_choice":{"type":"tool"},"messages":[{"role":"user","content":"x"}]}`,
		"wrong type":       `{"model":"a/b","max_tokens":"many","messages":[{"role":"user","content":"x"}]}`,
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := DecodeMessages([]byte(body))
			var ge *gwerr.Error
			if !errors.As(err, &ge) || ge.Status != 400 || ge.Message == "" {
				t.Fatalf("got %v, want a 400", err)
			}
		})
	}
	req, err := DecodeMessages([]byte(`{"model":"a/b","max_tokens":9,"stream":true,"messages":[{"role":"user","content":"x"}]}`))
	if err != nil || req.Model != "a/b" || !req.WantsUsageInStream() || req.MaxOutputTokens() != 9 || req.Messages[0].Role != llm.RoleUser {
		t.Fatalf("decoded %+v, %v", req, err)
	}
}
