package gemini

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/aigateway/aigateway/internal/provider/upstream"
)

func addFixtures(f *testing.F, glob string) {
	m, _ := filepath.Glob(glob)
	for _, p := range m {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
}

// FuzzDecodeResponse feeds arbitrary bodies to the non-streamed decoder and
// converter: they may fail, never panic.
func FuzzDecodeResponse(f *testing.F) {
	addFixtures(f, "testdata/responses/*.json")
	f.Add([]byte(`{"candidates":[{"content":null,"index":-1}]}`))
	f.Add([]byte(`{"candidates":[{"content":{"parts":[{"functionCall":{"name":"x","args":[1]}}]}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeResponse(b)
		if err != nil {
			return
		}
		_ = fromGenerate(r, testMeta)
	})
}

// FuzzStream feeds arbitrary bytes to the SSE stream decoder.
func FuzzStream(f *testing.F) {
	addFixtures(f, "testdata/streams/*.sse")
	f.Add([]byte("data: {\"candidates\":[{\"index\":3,\"finishReason\":\"STOP\"}]}\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		dec := newStreamDecoder(bytes.NewReader(b), "google-ai-studio", testMeta)
		_, _ = upstream.Collect(dec)
	})
}

// FuzzParseError feeds arbitrary error bodies.
func FuzzParseError(f *testing.F) {
	addFixtures(f, "testdata/errors/*")
	f.Fuzz(func(t *testing.T, b []byte) {
		e := parseError(500, b)
		if e == nil || e.Message == "" {
			t.Fatal("no error or empty message")
		}
	})
}

// FuzzSchema feeds arbitrary JSON schemas to the schema cleaner.
func FuzzSchema(f *testing.F) {
	f.Add([]byte(`{"type":["string","null"],"$ref":"#/$defs/a","$defs":{"a":{"$ref":"#/$defs/a"}}}`))
	f.Add([]byte(`{"properties":{"a":{"items":[{"const":1}]}},"required":["a",2]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = cleanSchema(b)
	})
}
