package prompt

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func summarize() *Template {
	return &Template{
		Name:  "summarize",
		Model: "openai/gpt-4o-mini",
		Messages: []Message{
			{Role: "system", Content: "You summarise text in {{ language }}."},
			{Role: "user", Content: "Summarise in at most {{words}} words:\n\n{{text}}"},
		},
		Params:   map[string]any{"temperature": 0.2, "max_tokens": 300},
		Defaults: map[string]string{"language": "English"},
	}
}

func TestRender(t *testing.T) {
	tpl := summarize()
	if ps := tpl.Validate(); len(ps) > 0 {
		t.Fatalf("valid template reported %v", ps)
	}
	if got := strings.Join(tpl.Variables(), ","); got != "language,text,words" {
		t.Errorf("variables %s", got)
	}
	req, err := tpl.Render(map[string]any{"text": "Go is {{fun}} & fast", "words": float64(20)})
	if err != nil {
		t.Fatal(err)
	}
	if req.Model != "openai/gpt-4o-mini" || len(req.Messages) != 2 {
		t.Fatalf("request %+v", req)
	}
	if got := req.Messages[0].Content.Text(); got != "You summarise text in English." {
		t.Errorf("system %q", got)
	}
	if got := req.Messages[1].Content.Text(); got != "Summarise in at most 20 words:\n\nGo is {{fun}} & fast" {
		t.Errorf("user %q (a value must never be read as a template)", got)
	}
	if req.Temperature == nil || *req.Temperature != 0.2 || req.MaxTokens == nil || *req.MaxTokens != 300 {
		t.Errorf("params not applied: %+v", req)
	}
	req, err = tpl.Render(map[string]any{"text": "x", "words": true, "language": "French"})
	if err != nil || req.Messages[0].Content.Text() != "You summarise text in French." || !strings.Contains(req.Messages[1].Content.Text(), "at most true words") {
		t.Errorf("override default / bool: %v %+v", err, req)
	}
}

func TestRenderVariableErrors(t *testing.T) {
	tpl := summarize()
	_, err := tpl.Render(map[string]any{"txt": "x", "wrds": 1.0, "text": map[string]any{}})
	var ve *VariablesError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v", err)
	}
	if strings.Join(ve.Missing, ",") != "words" || strings.Join(ve.Extra, ",") != "txt,wrds" || ve.Invalid["text"] == "" {
		t.Errorf("%+v", ve)
	}
	msg := err.Error()
	for _, want := range []string{"missing variables: words", "unknown variables: txt, wrds", "variable text must be a string"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if _, err := tpl.Render(map[string]any{"text": nil, "words": 1.0}); err == nil || !strings.Contains(err.Error(), "null") {
		t.Errorf("null value: %v", err)
	}
}

func TestValidate(t *testing.T) {
	cases := map[string]struct {
		edit  func(*Template)
		field string
	}{
		"bad name":         {func(t *Template) { t.Name = "Has Space" }, "name"},
		"name with slash":  {func(t *Template) { t.Name = "a/b" }, "name"},
		"no model":         {func(t *Template) { t.Model = " " }, "model"},
		"no messages":      {func(t *Template) { t.Messages = nil }, "messages"},
		"bad role":         {func(t *Template) { t.Messages[0].Role = "tool" }, "messages[0].role"},
		"bad variable":     {func(t *Template) { t.Messages[1].Content = "{{ .Text }}" }, "messages[1].content"},
		"empty variable":   {func(t *Template) { t.Messages[1].Content = "{{}}" }, "messages[1].content"},
		"unknown default":  {func(t *Template) { t.Defaults["nope"] = "x" }, "defaults.nope"},
		"reserved param":   {func(t *Template) { t.Params["stream"] = true }, "params.stream"},
		"model param":      {func(t *Template) { t.Params["model"] = "x" }, "params.model"},
		"invalid param":    {func(t *Template) { t.Params["temperature"] = "hot" }, "params"},
		"too long content": {func(t *Template) { t.Messages[0].Content = strings.Repeat("x", MaxContentLen+1) }, "messages[0].content"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tpl := summarize()
			tc.edit(tpl)
			ps := tpl.Validate()
			found := false
			for _, p := range ps {
				if p.Field == tc.field {
					found = true
				}
			}
			if !found {
				t.Errorf("problems %v lack field %s", ps, tc.field)
			}
		})
	}
}

func TestLiteralBraces(t *testing.T) {
	tpl := &Template{Name: "json", Model: "m", Messages: []Message{{Role: "user",
		Content: "Reply as {\"a\":{\"b\":1}} or {{ unclosed\nand {{x}} {{{y}}}"}}}
	if ps := tpl.Validate(); len(ps) > 0 {
		t.Fatalf("%v", ps)
	}
	req, err := tpl.Render(map[string]any{"x": "X", "y": "Y"})
	if err != nil {
		t.Fatal(err)
	}
	if got := req.Messages[0].Content.Text(); got != "Reply as {\"a\":{\"b\":1}} or {{ unclosed\nand X {Y}" {
		t.Errorf("got %q", got)
	}
}

func TestTemplateJSON(t *testing.T) {
	b, err := json.Marshal(summarize())
	if err != nil {
		t.Fatal(err)
	}
	var back Template
	if err := json.Unmarshal(b, &back); err != nil || back.Name != "summarize" || len(back.Messages) != 2 {
		t.Errorf("round trip %s: %v", b, err)
	}
	if strings.Contains(string(b), "created_at") {
		t.Errorf("zero time encoded: %s", b)
	}
}

func FuzzRender(f *testing.F) {
	f.Add("Hello {{name}}, {{ x }} {{", `{"name":"a","x":1}`)
	f.Add("{{a}}{{b}}{{a}}", `{"a":"{{b}}","b":true}`)
	f.Add("{{}} {{ .X }}", `{}`)
	f.Fuzz(func(t *testing.T, content, vars string) {
		tpl := &Template{Name: "f", Model: "m", Messages: []Message{{Role: "user", Content: content}}}
		var v map[string]any
		if json.Unmarshal([]byte(vars), &v) != nil {
			return
		}
		ps := tpl.Validate()
		req, err := tpl.Render(v)
		if len(ps) > 0 {
			if err == nil {
				t.Fatalf("invalid template %q rendered", content)
			}
			return
		}
		if err != nil {
			var ve *VariablesError
			if !errors.As(err, &ve) {
				t.Fatalf("render error of unexpected type: %v", err)
			}
			return
		}
		if len(req.Messages) != 1 {
			t.Fatalf("messages %d", len(req.Messages))
		}
	})
}
