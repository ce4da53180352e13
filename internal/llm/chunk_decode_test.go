package llm

import (
	"encoding/json"
	"reflect"
	"testing"
)

// checkChunkDecoding compares the one-scan chunk decoder with
// encoding/json, for a ChatChunk and for a StreamEvent, and the methods
// with encoding/json on the method-free types.
func checkChunkDecoding(t *testing.T, in []byte) (fast bool) {
	var fc, gc chatChunkJSON
	var fastChunk ChatChunk
	okChunk := decodeChunkFast(in, &fastChunk, nil)
	errChunk := json.Unmarshal(in, &gc)
	if okChunk {
		if errChunk != nil {
			t.Fatalf("%q: fast path accepted what encoding/json rejects: %v", in, errChunk)
		}
		fc = chatChunkJSON(fastChunk)
		if !reflect.DeepEqual(fc, gc) {
			t.Fatalf("%q: chunk decoded differently\n fast: %#v\n json: %#v", in, fc, gc)
		}
	}
	var fe StreamEvent
	var ge streamEventJSON
	okEvent := decodeChunkFast(in, &fe.ChatChunk, &fe.Error)
	errEvent := json.Unmarshal(in, &ge)
	if okEvent {
		if errEvent != nil {
			t.Fatalf("%q: fast path accepted what encoding/json rejects: %v", in, errEvent)
		}
		if !reflect.DeepEqual(chatChunkJSON(fe.ChatChunk), ge.chatChunkJSON) || !reflect.DeepEqual(fe.Error, ge.Error) {
			t.Fatalf("%q: event decoded differently\n fast: %#v\n json: %#v", in, fe, ge)
		}
	}

	// The methods, whichever path they take.
	var mc ChatChunk
	if err := json.Unmarshal(in, &mc); (err != nil) != (errChunk != nil) {
		t.Fatalf("%q: ChatChunk error %v, encoding/json %v", in, err, errChunk)
	} else if err == nil && !reflect.DeepEqual(chatChunkJSON(mc), gc) {
		t.Fatalf("%q: ChatChunk.UnmarshalJSON decoded differently\n got:  %#v\n json: %#v", in, mc, gc)
	}
	var me StreamEvent
	if err := json.Unmarshal(in, &me); (err != nil) != (errEvent != nil) {
		t.Fatalf("%q: StreamEvent error %v, encoding/json %v", in, err, errEvent)
	} else if err == nil && (!reflect.DeepEqual(chatChunkJSON(me.ChatChunk), ge.chatChunkJSON) || !reflect.DeepEqual(me.Error, ge.Error)) {
		t.Fatalf("%q: StreamEvent.UnmarshalJSON decoded differently\n got:  %#v\n json: %#v", in, me, ge)
	}
	return okChunk && okEvent
}

var chunkDecodeSamples = []string{
	`{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]},"logprobs":null,"finish_reason":null}]}`,
	`{"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}`,
	`{"id":"c","choices":[{"index":1,"delta":{"reasoning_content":"hm","refusal":"no","x":[1,{"a":null}]},"native_finish_reason":"STOP","finish_reason":"length"}]}`,
	`{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":null,"function":null},{"index":1,"id":null,"function":{"name":null,"arguments":"\t\u0041\u00e9\u4e2d","x":1}}]}}]}`,
	`{"choices":null,"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3,"prompt_tokens_details":null}}`,
	`{"choices":[{"delta":null}],"x":"y"}`, `{"error":{"message":"overloaded","type":"server_error"}}`, `{"error":null}`,
	`{"error":"x","id":"c"}`, ` {"id":"c"} `, `{}`, `{"choices":[],"system_fingerprint":null,"service_tier":"default"}`,
	`{"delta":{"tool_calls":[]}}`, `{"choices":[{"delta":{"tool_calls":[]}}]}`,
	" { \"id\" : \"c\" ,\n\t\"choices\" : [ { \"index\" : 0 , \"delta\" : { \"content\" : \"a\\nb\\\\\\/\\u00FF\" } } , {\"index\":1,\"delta\":{\"content\":\"\"}} ] ,\"usage\":{ \"total_tokens\" : 0 } }\r\n",
	`{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\":[1,\"\\u00e9\\\"\"]}"}},{"index":1,"id":"call_2","type":"function","function":{"name":"f"}}]},"finish_reason":"tool_calls"}]}`,
	// the general path
	`{"id":"a","id":"b"}`, `{"ID":"a"}`, `{"Error":{}}`, `{"error":1,"error":2}`, `{"\u0069d":"x"}`, `{"choices":[null]}`,
	`{"created":1.5}`, `{"created":"1"}`, `{"created":null}`, `{"choices":[{"index":null}]}`, `{"choices":[{"delta":{"Content":"x"}}]}`,
	`{"choices":[{"delta":{"content":"\ud83d\ude00"}}]}`, `{"choices":[{"delta":{"content":"\ud83d"}}]}`,
	"{\"choices\":[{\"delta\":{\"content\":\"\xff\\n\"}}]}", `{"choices":[{"delta":{"tool_calls":[{"index":-1}]}}]}`,
	`{"choices":[{"delta":{"tool_calls":[{"index":1e2}]}}]}`, `{"choices":{}}`, `{"usage":{"prompt_tokens":null}}`,
	"{\"k\u212a\":1}", `{"choices":[{"finish_reason":5}]}`,
	// invalid JSON the scanner must not let through
	`{"id":"c"}}`, `{"id":"c",}`, `{"choices":[{"delta":{"content":"\x"}}]}`, `{"choices":[{"delta":{"content":"\u12"}}]}`,
	`{"choices":[{"delta":{"content":"a\"}}]}`, `{"choices":[{"logprobs":nul}]}`, `{"choices":[{},]}`, `{"x":[}]}`,
	"{\"choices\":[{\"delta\":{\"content\":\"a\x01\"}}]}", `{"error":{"a":}}`, `{"choices":[{"delta":{"tool_calls":[{"index":01}]}}]}`,
	`[]`, `null`, `"x"`, ``,
}

func TestChunkFastDecode(t *testing.T) {
	fastOnes := 0
	for _, s := range chunkDecodeSamples {
		if checkChunkDecoding(t, []byte(s)) {
			fastOnes++
		}
	}
	for name, s := range chunkBenchSamples {
		if !checkChunkDecoding(t, []byte(s)) {
			t.Errorf("%s sample did not take the fast path", name)
		}
	}
	if fastOnes < 17 {
		t.Errorf("only %d samples took the fast path", fastOnes)
	}
}

func TestStreamEventError(t *testing.T) {
	var e StreamEvent
	if err := json.Unmarshal([]byte(`{"error":{"message":"m"},"id":"c"}`), &e); err != nil {
		t.Fatal(err)
	}
	if string(e.Error) != `{"message":"m"}` || e.ID != "c" {
		t.Fatalf("got %#v", e)
	}
	var c ChatChunk
	c.Raw = []byte("old")
	if err := json.Unmarshal([]byte(`{"error":{"message":"m"},"id":"c"}`), &c); err != nil || c.ID != "c" || c.Raw != nil {
		t.Fatalf("got %#v, %v", c, err)
	}
}

// FuzzChatChunkDecoding compares the one-scan chunk decoder with
// encoding/json on arbitrary input.
func FuzzChatChunkDecoding(f *testing.F) {
	for _, s := range chunkDecodeSamples {
		f.Add([]byte(s))
	}
	for _, s := range chunkBenchSamples {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) { checkChunkDecoding(t, in) })
}
