package anthropic

import (
	"bytes"
	"encoding/json"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/aigateway/aigateway/internal/llm"
)

// converterFiles are the pure translation files: no I/O, no clock.
var converterFiles = []string{"wire.go", "request.go", "tochat.go", "response.go", "decode.go", "encode.go", "errors.go"}

// TestConvertersImportNoNetHTTP keeps the converters pure (rule 11 of the
// architecture): no net/http, no time.
func TestConvertersImportNoNetHTTP(t *testing.T) {
	fset := token.NewFileSet()
	for _, name := range converterFiles {
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p == "net/http" || p == "time" || p == "os" {
				t.Errorf("%s imports %s; converters must not do I/O or read the clock", name, p)
			}
		}
	}
}

// seeds returns the fixture inputs of a testdata directory as fuzz seeds.
func seeds(f *testing.F, pattern string) {
	files, _ := filepath.Glob(filepath.Join("testdata", pattern))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzDecodeResponse: any bytes from an upstream either fail to decode or
// translate without panicking into a response that encodes.
func FuzzDecodeResponse(f *testing.F) {
	seeds(f, "response/*.input.json")
	f.Add([]byte(`{"content":[{"type":"tool_use","input":null}],"stop_reason":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Response
		if json.Unmarshal(b, &r) != nil {
			return
		}
		out := ToChatResponse(&r, 1)
		if _, err := json.Marshal(out); err != nil {
			t.Fatalf("translated response does not encode: %v", err)
		}
		back := FromChatResponse(out, "msg_x")
		if _, err := json.Marshal(back); err != nil {
			t.Fatalf("re-encoded response does not encode: %v", err)
		}
	})
}

// FuzzStreamDecode: any byte stream decodes without panicking, and the
// same bytes split in two decode to the same chunks.
func FuzzStreamDecode(f *testing.F) {
	seeds(f, "stream/*.input.sse")
	f.Add([]byte("event: content_block_delta\ndata: {\"index\":3,\"delta\":{\"type\":\"input_json_delta\"}}\n\n"))
	f.Add([]byte("data: {\"type\":\"error\"}\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		whole, werr := decodeAll(bytes.NewReader(b))
		split, serr := decodeAll(&splitReader{b: b, n: len(b) / 2})
		if (werr == nil) != (serr == nil) || len(whole) != len(split) {
			t.Fatalf("split decodes differently: %d chunks (%v) vs %d (%v)", len(whole), werr, len(split), serr)
		}
		for _, c := range whole {
			if _, err := json.Marshal(c); err != nil {
				t.Fatalf("chunk does not encode: %v", err)
			}
		}
	})
}

// FuzzDecodeRequest is the /v1/messages request decoder: any body is a 400
// or a canonical request, which translates back without panicking.
func FuzzDecodeRequest(f *testing.F) {
	seeds(f, "tochat/*.input.json")
	f.Add([]byte(`{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64"}}]}]}`))
	f.Add([]byte(`{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"x","content":null}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeRequest(b)
		if err != nil {
			return
		}
		c := ToChat(r)
		enc, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("canonical request does not encode: %v", err)
		}
		var again llm.ChatRequest
		if err := json.Unmarshal(enc, &again); err != nil {
			t.Fatalf("canonical request does not decode: %v\n%s", err, enc)
		}
		if out, err := FromChat(c); err == nil {
			if _, err := json.Marshal(out); err != nil {
				t.Fatalf("native request does not encode: %v", err)
			}
		}
	})
}

// FuzzFromChat: any canonical request is a 400 or a native request that
// encodes.
func FuzzFromChat(f *testing.F) {
	seeds(f, "fromchat/*.input.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		var req llm.ChatRequest
		if json.Unmarshal(b, &req) != nil {
			return
		}
		out, err := FromChat(&req)
		if err != nil {
			return
		}
		if _, err := json.Marshal(out); err != nil {
			t.Fatalf("native request does not encode: %v", err)
		}
	})
}

// FuzzReadUsage: usage extraction from passthrough bodies never panics.
func FuzzReadUsage(f *testing.F) {
	seeds(f, "response/*.input.json")
	seeds(f, "stream/*.input.sse")
	f.Fuzz(func(t *testing.T, b []byte) {
		ReadUsage(b, false)
		ReadUsage(b, true)
	})
}

// FuzzParseError: error bodies of any shape give a type and a message.
func FuzzParseError(f *testing.F) {
	f.Add([]byte(`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`))
	f.Add([]byte(`{"error":"plain"}`))
	f.Add([]byte(`<html>502 Bad Gateway</html>`))
	f.Add([]byte(`upstream connect error`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e := UpstreamError(0, b, "anthropic")
		if e.Status < 400 || e.Status > 599 || e.Message == "" {
			t.Fatalf("error %+v has no usable status or message", e)
		}
	})
}
