package llm

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// requestSamples are request bodies whose canonical encoding must not
// depend on how it is called.
var requestSamples = []string{
	`{"model":"m","messages":[{"role":"user","content":"hi"}]}`,
	`{"model":"m","messages":[{"role":"user","content":"a <b> & c \u2028"}],"metadata":{"note":"<x> & y"}}`,
	`{ "model" : "m" , "messages" : [ { "role" : "user" , "content" : [ {"type":"text","text":"x"} ] , "x_extra" : { "a" : [ 1 , 2 ] } } ] , "logit_bias" : { "50256" : -100 } }`,
	`{"model":"m","messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{\"a\": 1}"}}]}],"tools":[{"type":"function","function":{"name":"f","parameters":{ "type": "object" }}}],"tool_choice":{"type":"function","function":{"name":"f"}},"stop":"x","top_k":5,"weird":"\u00e9\ud83d\ude00"}`,
	"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"e\":\"\xe2\x80\xa8 line sep\"}",
}

// TestMarshalJSONMatchesJSONMarshal guards the shortcut encoders take:
// calling MarshalJSON directly must give json.Marshal's exact bytes.
func TestMarshalJSONMatchesJSONMarshal(t *testing.T) {
	for _, body := range requestSamples {
		var r ChatRequest
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		direct, err := r.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		viaJSON, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(direct, viaJSON) {
			t.Errorf("MarshalJSON and json.Marshal differ\n direct: %s\n   json: %s", direct, viaJSON)
		}
		if general := marshalGeneral(t, r); !bytes.Equal(direct, general) {
			t.Errorf("spliced and general encoding differ\n spliced: %s\n general: %s", direct, general)
		}
	}
}

// TestUnmarshalJSONDirectMatchesJSONUnmarshal guards the decode shortcut:
// UnmarshalJSON on raw bytes behaves as json.Unmarshal does, errors too.
func TestUnmarshalJSONDirectMatchesJSONUnmarshal(t *testing.T) {
	inputs := append([]string{
		``, ` `, `null`, `[]`, `"x"`, `{}`, `{"model":1}`, `{"model":"m"} x`, `{"model":"m",}`,
		` {"model":"m","messages":[]} `, `{"messages":[null]}`, `{"messages":[{"role":5}]}`,
		`{"temperature":"hot","messages":[{"role":5}]}`, `{"messages":[{"content":"\ud800"}]}`,
		`{"messages":[{"content":"a\u0000b"}]}`, "{\"messages\":[{\"content\":\"\xff\"}]}",
		`{"a\u0062c":1,"model":"m"}`,
	}, requestSamples...)
	for _, in := range inputs {
		var direct, viaJSON ChatRequest
		errDirect := direct.UnmarshalJSON([]byte(in))
		errJSON := json.Unmarshal([]byte(in), &viaJSON)
		if (errDirect == nil) != (errJSON == nil) || (errDirect != nil && errDirect.Error() != errJSON.Error()) {
			t.Errorf("%q: direct error %v, json.Unmarshal error %v", in, errDirect, errJSON)
			continue
		}
		if errDirect != nil {
			continue
		}
		a, _ := json.Marshal(direct)
		b, _ := json.Marshal(viaJSON)
		if !bytes.Equal(a, b) {
			t.Errorf("%q: decoded differently\n direct: %s\n   json: %s", in, a, b)
		}
	}
}

// FuzzChatRequestEncoding checks both shortcuts on arbitrary input.
func FuzzChatRequestEncoding(f *testing.F) {
	for _, s := range requestSamples {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var direct, viaJSON ChatRequest
		errDirect := direct.UnmarshalJSON(b)
		errJSON := json.Unmarshal(b, &viaJSON)
		if (errDirect == nil) != (errJSON == nil) || (errDirect != nil && errDirect.Error() != errJSON.Error()) {
			t.Fatalf("direct error %v, json.Unmarshal error %v", errDirect, errJSON)
		}
		if errDirect != nil {
			return
		}
		out, err := direct.MarshalJSON()
		if err != nil {
			return // e.g. a value json cannot encode back; json.Marshal fails alike
		}
		want, err := json.Marshal(viaJSON)
		if err != nil {
			t.Fatalf("json.Marshal failed where MarshalJSON did not: %v", err)
		}
		if !bytes.Equal(out, want) {
			t.Fatalf("encodings differ\n direct: %s\n   json: %s", out, want)
		}
		if general := marshalGeneral(t, direct); !bytes.Equal(out, general) {
			t.Fatalf("spliced and general encoding differ\n spliced: %s\n general: %s", out, general)
		}
	})
}

// marshalGeneral is ChatRequest.MarshalJSON without the splice: the
// reference the spliced encoding must match (messages are compared with
// plain encoding/json by TestMessageEncodingUnchanged).
func marshalGeneral(t *testing.T, r ChatRequest) []byte {
	t.Helper()
	b, err := json.Marshal(chatRequestJSON(r))
	if err != nil {
		t.Fatal(err)
	}
	out, err := appendExtra(b, r.Extra)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// FuzzPlainString checks the string fast path of Content decoding against
// encoding/json on every valid JSON string.
func FuzzPlainString(f *testing.F) {
	for _, s := range []string{`"abc"`, `"a\"b"`, `"é"`, "\"\xff\"", `"\u00e9"`, "\"a\tb\"", `""`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return
		}
		got, ok := plainString(b)
		if !ok {
			return
		}
		var want string
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("fast path accepted %q, json.Unmarshal: %v", b, err)
		}
		if got != want {
			t.Fatalf("%q: fast path %q, json.Unmarshal %q", b, got, want)
		}
	})
}

// TestChatResponseShortcuts guards the same two shortcuts for responses.
func TestChatResponseShortcuts(t *testing.T) {
	for _, in := range []string{
		`{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"a <b> & c"},"finish_reason":"stop","logprobs":null}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3},"system_fingerprint":"fp"}`,
		`{ "id" : "c" , "choices" : [ { "message" : { "role" : "assistant" , "content" : null , "tool_calls" : [ { "id" : "t" , "type" : "function" , "function" : { "name" : "f" , "arguments" : "{}" } } ] , "annotations" : [ ] } } ] , "service_tier" : "default" , "x" : { "y" : "<z>" } }`,
		``, `null`, `[]`, `{"choices":{}}`, `{"created":"x"}`, `{"id":"c"} trailing`,
	} {
		var direct, viaJSON ChatResponse
		errDirect := direct.UnmarshalJSON([]byte(in))
		errJSON := json.Unmarshal([]byte(in), &viaJSON)
		if (errDirect == nil) != (errJSON == nil) || (errDirect != nil && errDirect.Error() != errJSON.Error()) {
			t.Errorf("%q: direct error %v, json.Unmarshal error %v", in, errDirect, errJSON)
			continue
		}
		if errDirect != nil {
			continue
		}
		a, err := direct.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(viaJSON)
		if !bytes.Equal(a, b) {
			t.Errorf("%q: encodings differ\n direct: %s\n   json: %s", in, a, b)
		}
	}
}

var messageSamples = []string{
	`{"role":"user","content":"hi"}`,
	`{ "role" : "assistant" , "content" : null , "refusal" : "no" , "x" : { "a" : 1 } }`,
	`{"role":"user","content":"a","content":null,"name":"n","tool_call_id":"t","reasoning_content":"r","tool_calls":null}`,
	`{"role":"user","Role":"x","content":"a"}`, `{"ROLE":"user"}`, `{"reaſoning_content":"x"}`,
	`{"role":"user","content":[{"type":"text","text":"x"}]}`, `{"role":"a\"b"}`, `{"role":5}`, `{"role":null}`,
	`{"role":"user","tool_calls":[]}`, `{"role":"user","extra":tru}`, `{"role":"user"} x`, `{"a\u0062":1}`,
	`{"role":"é","content":"ünïcödé"}`, "{\"role\":\"\xff\"}", `{}`, `null`, `[]`,
}

func TestMessageFastPath(t *testing.T) {
	for _, s := range messageSamples {
		checkMessageFastPath(t, []byte(s))
	}
}

// FuzzMessageFastPath: whenever the fast path decodes a message, the
// general path decodes the same bytes to the same message.
func FuzzMessageFastPath(f *testing.F) {
	for _, s := range messageSamples {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkMessageFastPath(t, b) })
}

func checkMessageFastPath(t *testing.T, b []byte) {
	t.Helper()
	var fast Message
	if !decodeMessageFast(b, &fast) {
		return
	}
	var general Message
	if err := general.unmarshalGeneral(b); err != nil {
		t.Fatalf("%q: fast path accepted what the general path rejects: %v", b, err)
	}
	if !reflect.DeepEqual(fast, general) {
		t.Fatalf("%q:\n fast    %#v\n general %#v", b, fast, general)
	}
}

// TestMessageWireMirrorsMessage: every encoded member of Message is in
// messageWire, in the same order, with the same tag (Content aside, whose
// type differs on purpose); a member added to one and not the other would
// silently vanish from upstream requests.
func TestMessageWireMirrorsMessage(t *testing.T) {
	mt, wt := reflect.TypeOf(Message{}), reflect.TypeOf(messageWire{})
	var encoded []reflect.StructField
	for i := 0; i < mt.NumField(); i++ {
		if f := mt.Field(i); f.Tag.Get("json") != "-" {
			encoded = append(encoded, f)
		}
	}
	if len(encoded) != wt.NumField() {
		t.Fatalf("Message encodes %d members, messageWire has %d", len(encoded), wt.NumField())
	}
	for i, f := range encoded {
		w := wt.Field(i)
		if f.Name != w.Name || f.Tag != w.Tag || (f.Name != "Content" && f.Type != w.Type) {
			t.Errorf("member %d: Message has %s %s %q, messageWire %s %s %q", i, f.Name, f.Type, f.Tag, w.Name, w.Type, w.Tag)
		}
	}
}

// TestMessageEncodingUnchanged compares the encoder with the plain
// encoding/json rendering of the same message.
func TestMessageEncodingUnchanged(t *testing.T) {
	refusal := "no <thanks>"
	for _, m := range []Message{
		{Role: "user", Content: TextContent("a <b> & \u2028 \xff é")},
		{Role: "assistant", Refusal: &refusal, ToolCalls: []ToolCall{{ID: "c", Type: "function", Function: FunctionCall{Name: "f", Arguments: "{}"}}}},
		{Role: "user", Content: PartsContent(Part{Type: PartText, Text: "x"}, Part{Type: PartImageURL, ImageURL: &ImageURL{URL: "data:image/png;base64,AA=="}})},
		{Role: "user", Content: Content{kind: contentParts}},
		{Role: "tool", ToolCallID: "c", Name: "n", ReasoningContent: "r", Extra: Extra{"z": json.RawMessage(`{"a": [1, 2]}`)}},
	} {
		got, err := m.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		plain, err := json.Marshal(messageJSON(m))
		if err != nil {
			t.Fatal(err)
		}
		want, err := appendExtra(plain, m.Extra)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("\n got %s\nwant %s", got, want)
		}
	}
}
