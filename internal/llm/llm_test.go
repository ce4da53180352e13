package llm

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestChatRequestKeepsUnknownMembers(t *testing.T) {
	in := `{"model":"m","messages":[{"role":"user","content":"hi","x_msg":true}],"top_k":3,"logit_bias":{"1":2},"weird\u0041":"z"}`
	var r ChatRequest
	if err := json.Unmarshal([]byte(in), &r); err != nil {
		t.Fatal(err)
	}
	if string(r.Extra["top_k"]) != "3" || string(r.Extra["logit_bias"]) != `{"1":2}` || string(r.Extra["weirdA"]) != `"z"` {
		t.Errorf("extra = %v", r.Extra)
	}
	if string(r.Messages[0].Extra["x_msg"]) != "true" {
		t.Errorf("message extra = %v", r.Messages[0].Extra)
	}
	out, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	_ = json.Unmarshal(out, &back)
	for _, k := range []string{"top_k", "logit_bias", "weirdA", "model", "messages"} {
		if _, ok := back[k]; !ok {
			t.Errorf("re-encoded request lost %q: %s", k, out)
		}
	}
}

func TestContentForms(t *testing.T) {
	cases := map[string]string{
		`null`: `null`,
		`"hi"`: `"hi"`,
		`[]`:   `[]`,
		`[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAA"}}]`: `[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAA"}}]`,
	}
	for in, want := range cases {
		var c Content
		if err := json.Unmarshal([]byte(in), &c); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		out, _ := json.Marshal(c)
		if string(out) != want {
			t.Errorf("%s → %s, want %s", in, out, want)
		}
	}
	var c Content
	if err := json.Unmarshal([]byte(`42`), &c); err == nil {
		t.Error("a number is not content")
	}
	mt, data, ok := ImageURL{URL: "data:image/png;base64,AAA"}.DataURL()
	if !ok || mt != "image/png" || data != "AAA" {
		t.Errorf("DataURL = %q %q %v", mt, data, ok)
	}
}

func TestStopAndToolChoiceForms(t *testing.T) {
	var r ChatRequest
	if err := json.Unmarshal([]byte(`{"model":"m","messages":[],"stop":"END","tool_choice":{"type":"function","function":{"name":"f"}}}`), &r); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual([]string(r.Stop), []string{"END"}) || r.ToolChoice.Mode != ToolChoiceFunction || r.ToolChoice.Function != "f" {
		t.Errorf("stop %v choice %+v", r.Stop, r.ToolChoice)
	}
	out, _ := json.Marshal(r.ToolChoice)
	if string(out) != `{"function":{"name":"f"},"type":"function"}` {
		t.Errorf("tool choice encodes as %s", out)
	}
}

func TestAccumulatorAndResponseChunksRoundTrip(t *testing.T) {
	text := "hello"
	resp := &ChatResponse{ID: "x", Model: "m", Created: 1, Choices: []Choice{{
		Index: 0, FinishReason: FinishToolCalls,
		Message: Message{Role: RoleAssistant, Content: TextContent(text), ToolCalls: []ToolCall{
			{ID: "c1", Type: "function", Function: FunctionCall{Name: "f", Arguments: `{"a":1}`}},
			{ID: "c2", Type: "function", Function: FunctionCall{Name: "g", Arguments: `{}`}},
		}},
	}}, Usage: &Usage{PromptTokens: 3, CompletionTokens: 4, TotalTokens: 7}}
	var acc Accumulator
	for _, c := range ResponseChunks(resp) {
		acc.Add(c)
	}
	got := acc.Response()
	resp.Object = "chat.completion"
	a, _ := json.Marshal(resp)
	b, _ := json.Marshal(got)
	if string(a) != string(b) {
		t.Errorf("round trip:\n%s\n%s", a, b)
	}
}

func TestTopLevelString(t *testing.T) {
	cases := []struct{ in, want string }{
		{`{"model":"gpt"}`, "gpt"},
		{`{"a":{"model":"inner"},"model":"outer"}`, "outer"},
		{`{"model":"e\u0301"}`, "e\u0301"},
		{`{"model":3}`, ""},
		{`[1]`, ""},
		{`{"x":"}"}`, ""},
	}
	for _, c := range cases {
		if got := TopLevelString([]byte(c.in), "model"); got != c.want {
			t.Errorf("%s → %q, want %q", c.in, got, c.want)
		}
	}
}

func TestEmbedTexts(t *testing.T) {
	for in, want := range map[string]string{`"a"`: "a", `["a","b"]`: "a,b"} {
		r := EmbedRequest{Input: json.RawMessage(in)}
		got, err := r.Texts()
		if err != nil || strings.Join(got, ",") != want {
			t.Errorf("%s → %v %v", in, got, err)
		}
	}
	r := EmbedRequest{Input: json.RawMessage(`[[1,2],[3]]`)}
	if _, err := r.Texts(); err != ErrTokenInput {
		t.Errorf("token input: %v", err)
	}
}

// FuzzChatRequest checks that any body either fails to decode or survives
// decode → encode → decode unchanged, without panics.
func FuzzChatRequest(f *testing.F) {
	f.Add([]byte(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
	f.Add([]byte(`{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a"}]}],"stop":["x"],"tools":[{"type":"function","function":{"name":"f","parameters":{}}}],"tool_choice":"auto","x":{"y":[1,"]"]}}`))
	f.Add([]byte(`{"model":"m","messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"1","type":"function","function":{"name":"f","arguments":"{}"}}]}]}`))
	f.Add([]byte(`{"k\"ey":1,"model":"\u00e9"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r ChatRequest
		if err := json.Unmarshal(b, &r); err != nil {
			return
		}
		out, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("re-encoding a decoded request failed: %v", err)
		}
		var again ChatRequest
		if err := json.Unmarshal(out, &again); err != nil {
			t.Fatalf("re-encoded request does not decode: %v\n%s", err, out)
		}
		out2, _ := json.Marshal(again)
		if string(out) != string(out2) {
			t.Fatalf("encoding not stable:\n%s\n%s", out, out2)
		}
	})
}

// FuzzTopLevelString checks the object scanner never panics and agrees with
// encoding/json on valid objects.
func FuzzTopLevelString(f *testing.F) {
	f.Add([]byte(`{"model":"gpt"}`))
	f.Add([]byte(`{"a":[{"model":"x"}],"model":"y\n"}`))
	f.Add([]byte(`{"model":`))
	f.Fuzz(func(t *testing.T, b []byte) {
		got := TopLevelString(b, "model")
		var obj map[string]json.RawMessage
		if json.Unmarshal(b, &obj) != nil {
			return
		}
		var want string
		if raw, ok := obj["model"]; ok {
			if json.Unmarshal(raw, &want) != nil {
				want = ""
			}
		}
		// encoding/json keeps the last duplicate key; the scanner the first
		if got != want && !strings.Contains(string(b), `"model"`) {
			t.Fatalf("TopLevelString = %q, encoding/json = %q", got, want)
		}
	})
}
