package prompts

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/pipeline"
	"github.com/aigateway/aigateway/internal/prompt"
)

type templates map[string]*prompt.Template

func (ts templates) PromptTemplate(_ context.Context, name string, version int) (*prompt.Template, error) {
	t, ok := ts[name]
	if !ok || (version != 0 && version != t.Version) {
		return nil, gwerr.NotFound("prompt_not_found", "no prompt template named %q", name)
	}
	return t, nil
}

var greet = templates{"greet": {Name: "greet", Version: 3, Model: "openai/gpt-4o-mini",
	Messages: []prompt.Message{{Role: "user", Content: "Greet {{who}} in {{lang}}"}}, Defaults: map[string]string{"lang": "English"}}}

func call(target, body string) *pipeline.Call {
	r := httptest.NewRequest("POST", target, strings.NewReader(body))
	r.SetPathValue("name", strings.TrimPrefix(strings.SplitN(target, "?", 2)[0], "/v1/prompts/"))
	return &pipeline.Call{HTTP: r, Body: []byte(body), Kind: pipeline.KindChat}
}

func TestDecode(t *testing.T) {
	c := call("/v1/prompts/greet", `{"variables":{"who":"Ada","lang":"French"},"stream":true,"stream_options":{"include_usage":true}}`)
	if err := (Ingress{Templates: greet}).Decode(c); err != nil {
		t.Fatal(err)
	}
	if c.Model != "openai/gpt-4o-mini" || !c.Chat.Stream || !c.Chat.WantsUsageInStream() ||
		c.Chat.Messages[0].Content.Text() != "Greet Ada in French" || c.Prompt != (pipeline.PromptRef{Name: "greet", Version: 3}) {
		t.Errorf("call %+v %+v", c.Chat, c.Prompt)
	}
	c = call("/v1/prompts/greet", `{"variables":{"who":12345678901234567890}}`)
	if err := (Ingress{Templates: greet}).Decode(c); err != nil || c.Chat.Messages[0].Content.Text() != "Greet 12345678901234567890 in English" {
		t.Errorf("large number: %v", err)
	}
	for name, tc := range map[string]struct {
		target, body, param, msg string
	}{
		"missing":        {"/v1/prompts/greet", `{}`, "variables", "missing variables: who"},
		"empty body":     {"/v1/prompts/greet", ``, "variables", "missing variables: who"},
		"extra":          {"/v1/prompts/greet", `{"variables":{"who":"a","x":1}}`, "variables", "unknown variables: x"},
		"array value":    {"/v1/prompts/greet", `{"variables":{"who":[1]}}`, "variables", "must be a string, number or boolean"},
		"unknown member": {"/v1/prompts/greet", `{"model":"x"}`, "", "model"},
		"two objects":    {"/v1/prompts/greet", `{} {}`, "", "JSON"},
		"bad version":    {"/v1/prompts/greet?version=0", `{}`, "version", "at least 1"},
	} {
		t.Run(name, func(t *testing.T) {
			err := (Ingress{Templates: greet}).Decode(call(tc.target, tc.body))
			var ge *gwerr.Error
			if !errors.As(err, &ge) || ge.Status != 400 || ge.Param != tc.param || !strings.Contains(ge.Message, tc.msg) {
				t.Errorf("err = %+v", err)
			}
		})
	}
	err := (Ingress{Templates: greet}).Decode(call("/v1/prompts/greet?version=2", `{}`))
	var ge *gwerr.Error
	if !errors.As(err, &ge) || ge.Status != 404 {
		t.Errorf("missing version: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(`{"variables":{"who":"Ada"}}`)
	f.Add(`{"variables":{"who":1e400},"stream":true}`)
	f.Add(`{"variables":null}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, body string) {
		c := call("/v1/prompts/greet", body)
		err := (Ingress{Templates: greet}).Decode(c)
		if err != nil {
			var ge *gwerr.Error
			if !errors.As(err, &ge) || ge.Status != 400 {
				t.Fatalf("%q: not a 400: %v", body, err)
			}
			return
		}
		if c.Chat == nil || len(c.Chat.Messages) != 1 {
			t.Fatalf("%q: no request", body)
		}
	})
}
