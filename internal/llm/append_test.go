package llm

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// responseSamples are chat responses whose hand-written encoding must be
// json.Marshal's.
var responseSamples = []string{
	`{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"a <b> & c \u2028 \u2029 \u0000 \u001f \b\f\n\r\t \"q\" \\ é 😀"},"finish_reason":"stop","logprobs":null}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3},"system_fingerprint":"fp"}`,
	`{"id":"c","choices":[{"message":{"role":"assistant","content":null,"tool_calls":[{"id":"t","type":"function","function":{"name":"f","arguments":"{}"}}],"annotations":[]}}],"service_tier":"default","x":{"y":"<z>"}}`,
	`{"id":"c","choices":[{"index":1,"message":{"role":"assistant","content":"x","name":"n","tool_call_id":"t","refusal":"no <","reasoning_content":"because"},"finish_reason":"length","logprobs":{ "content" : [ {"token":"<"} ] }}],"usage":{"prompt_tokens":5,"completion_tokens":6,"total_tokens":11,"prompt_tokens_details":{"cached_tokens":2,"cache_write_tokens":1,"audio_tokens":3},"completion_tokens_details":{"reasoning_tokens":4,"audio_tokens":1}}}`,
	`{"choices":[{"message":{"role":"user","content":[{"type":"text","text":"p"}]}}],"usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}`,
	`{"choices":[{"message":{"role":"assistant","content":"","refusal":""}}]}`,
	"{\"id\":\"\xff\xfe bad utf8 \xe2\x80\",\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"\xed\xa0\x80 surrogate\"}}]}",
	`{}`,
}

// marshalResponseGeneral is ChatResponse.MarshalJSON as encoding/json
// writes it: the reference for the hand-written encoder.
func marshalResponseGeneral(t *testing.T, r ChatResponse) []byte {
	t.Helper()
	if r.Choices == nil {
		r.Choices = []Choice{}
	}
	for i := range r.Choices {
		m := &r.Choices[i].Message
		// Message.MarshalJSON's general path, for every message
		b, err := json.Marshal(m.wire())
		if err != nil {
			t.Fatal(err)
		}
		if b, err = appendExtra(b, m.Extra); err != nil {
			t.Fatal(err)
		}
		if len(m.Extra) == 0 && m.Content.kind != contentParts && len(m.ToolCalls) == 0 {
			if got, _ := m.MarshalJSON(); !bytes.Equal(got, b) {
				t.Fatalf("Message.MarshalJSON differs\n fast: %s\n json: %s", got, b)
			}
		}
	}
	b, err := json.Marshal(chatResponseJSON(r))
	if err != nil {
		t.Fatal(err)
	}
	out, err := appendExtra(b, r.Extra)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func checkResponseEncoding(t *testing.T, in []byte) {
	var r ChatResponse
	if err := r.UnmarshalJSON(in); err != nil {
		return
	}
	got, err := r.MarshalJSON()
	want := marshalResponseGeneral(t, r)
	if err != nil {
		t.Fatalf("%q: MarshalJSON: %v", in, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%q: encodings differ\n hand: %s\n json: %s", in, got, want)
	}
	if viaJSON, err := json.Marshal(r); err != nil || !bytes.Equal(viaJSON, got) {
		t.Fatalf("%q: json.Marshal gives %s (%v), MarshalJSON %s", in, viaJSON, err, got)
	}
}

func TestAppendMatchesJSONMarshal(t *testing.T) {
	for _, s := range responseSamples {
		checkResponseEncoding(t, []byte(s))
	}
	for _, s := range []string{"", "plain", "<>&", "\u2028\u2029", "\x00\x01\x1f\x7f", "\xff", "\xe2\x80", "é😀", `"\`} {
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	}
}

// FuzzChatResponseEncoding compares the hand-written response encoder
// with encoding/json on whatever decodes as a response.
func FuzzChatResponseEncoding(f *testing.F) {
	for _, s := range responseSamples {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkResponseEncoding(t, b)
		// and every string, anywhere it decodes
		var s string
		if json.Unmarshal(b, &s) == nil {
			want, _ := json.Marshal(s)
			if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
				t.Fatalf("appendJSONString(%q) = %s, want %s", s, got, want)
			}
		}
		want, _ := json.Marshal(string(b))
		if got := appendJSONString(nil, string(b)); !bytes.Equal(got, want) {
			t.Fatalf("appendJSONString(%q) = %s, want %s", b, got, want)
		}
	})
}

func checkResponseDecoding(t *testing.T, in []byte) {
	var fast, general ChatResponse
	okFast := decodeResponseFast(in, &fast)
	errGeneral := general.unmarshalGeneral(in)
	if !okFast {
		var direct ChatResponse
		if err := direct.UnmarshalJSON(in); (err == nil) != (errGeneral == nil) {
			t.Fatalf("%q: UnmarshalJSON error %v, general %v", in, err, errGeneral)
		}
		return
	}
	if errGeneral != nil {
		t.Fatalf("%q: fast path accepted what encoding/json rejects: %v", in, errGeneral)
	}
	if !reflect.DeepEqual(fast, general) {
		t.Fatalf("%q: decoded differently\n fast: %#v\n json: %#v", in, fast, general)
	}
}

func TestResponseFastDecode(t *testing.T) {
	fastOnes := 0
	for _, s := range append(responseSamples,
		`{"id":"a","choices":[{"index":0,"message":{"role":"assistant","content":"x"},"finish_reason":null,"logprobs":null}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0}}}`,
		`{"id":"a","ID":"b"}`, `{"id":"a","id":"b"}`, `{"created":1.5}`, `{"created":null}`, `{"choices":[null]}`,
		`{"choices":null,"usage":null}`, `{"choices":[]}`, `{"x":1,"x":2}`, `{"usage":{"Prompt_tokens":1}}`,
		`{"choices":[{"Index":1}]}`, `{"created":99999999999999999999}`, `{"id":"a"} x`, `{"a\u0062":1}`,
		`{"created":01}`, `{"x":tru}`, `{"choices":[{"logprobs":[1,]}]}`, `{"choices":[{"x":{]}]}`, `{"usage":{"x":-}}`,
		`{"usage":{"prompt_tokens_details":{"x":01}}}`, `{"choices":[{"index":0},]}`, `{"id":"a",}`, `{"id":"a"}}`,
	) {
		var r ChatResponse
		if decodeResponseFast([]byte(s), &r) {
			fastOnes++
		}
		checkResponseDecoding(t, []byte(s))
	}
	if fastOnes < 5 {
		t.Errorf("only %d samples took the fast path", fastOnes)
	}
}

// FuzzChatResponseDecoding compares the one-scan response decoder with
// encoding/json on arbitrary input.
func FuzzChatResponseDecoding(f *testing.F) {
	for _, s := range responseSamples {
		f.Add([]byte(s))
	}
	f.Fuzz(checkResponseDecoding)
}

func checkRequestDecoding(t *testing.T, in []byte) {
	var fast, general ChatRequest
	okFast := decodeRequestFast(in, &fast)
	errGeneral := general.unmarshalGeneral(in)
	if !okFast {
		return
	}
	if errGeneral != nil {
		t.Fatalf("%q: fast path accepted what encoding/json rejects: %v", in, errGeneral)
	}
	if !reflect.DeepEqual(fast, general) {
		t.Fatalf("%q: decoded differently\n fast: %#v\n json: %#v", in, fast, general)
	}
}

var requestDecodeSamples = []string{
	`{"model":"openai/gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Say hello."}],"max_tokens":256}`,
	`{"model":"m","messages":[],"stream":true,"stream_options":{"include_usage":true,"x":1},"temperature":0.7,"top_p":1,"n":2,"presence_penalty":-0.5,"frequency_penalty":1e-3,"seed":-42,"user":"u","reasoning_effort":"low","max_completion_tokens":9,"metadata":{"a":"<b>"},"logit_bias":{"1":2}}`,
	`{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"x"}]}]}`,
	`{"model":"m","messages":[null]}`, `{"model":"m","Model":"n"}`, `{"model":"m","model":"n"}`, `{"temperature":1e400}`,
	`{"max_tokens":1.0}`, `{"max_tokens":null}`, `{"stream":null}`, `{"stop":"x"}`, `{"stream_options":{"Include_usage":true}}`,
	`{"messages":{}}`, `{"x":1,"x":2}`, `{"seed":-0}`, `{"temperature":-0}`,
	`{"model":"m","messages":[{"role":"user","content":"x"}],"stop":["a","b"],"tools":[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object","properties":{"a":{"type":"string"}}}}}],"tool_choice":"auto","parallel_tool_calls":false,"response_format":{"type":"json_schema","json_schema":{"name":"s","schema":{}}}}`,
	`{"tool_choice":{"type":"function","function":{"name":"f"}},"stop":"x"}`, `{"tools":[{"Type":"function"}]}`, `{"stop":5}`,
	// invalid JSON the scanner must not let through
	`{"max_tokens":01}`, `{"max_tokens":-}`, `{"temperature":0x1p-2}`, `{"temperature":1.}`, `{"temperature":.5}`,
	`{"temperature":Inf}`, `{"temperature":1e}`, `{"temperature":1_0}`, `{"x":tru}`, `{"x":[1,]}`, `{"x":{"a":1,}}`,
	`{"model":"m"}}`, `{"model":"m",}`, `{"model":"m"` + "\x00" + `}`, "{\"x\x01\":1}", `{"stream_options":{"x":nul}}`,
	`{"messages":[{"role":"user","content":"x"},]}`, `{"messages":[{"role":"user","x":[}]}`,
}

func TestRequestFastDecode(t *testing.T) {
	fastOnes := 0
	for _, s := range append(requestDecodeSamples, requestSamples...) {
		var r ChatRequest
		if decodeRequestFast([]byte(s), &r) {
			fastOnes++
		}
		checkRequestDecoding(t, []byte(s))
	}
	if fastOnes < 4 {
		t.Errorf("only %d samples took the fast path", fastOnes)
	}
}

// FuzzChatRequestDecoding compares the one-scan request decoder with
// encoding/json on arbitrary input.
func FuzzChatRequestDecoding(f *testing.F) {
	for _, s := range append(requestDecodeSamples, requestSamples...) {
		f.Add([]byte(s))
	}
	f.Fuzz(checkRequestDecoding)
}
