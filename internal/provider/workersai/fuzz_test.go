package workersai

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
	f.Add([]byte(`{"result":{"response":[1],"tool_calls":[{"function":null,"arguments":"x"}]}}`))
	f.Add([]byte(`{"result":{"choices":{}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := decodeEnvelope(b)
		if err != nil {
			return
		}
		_, _ = fromRun(res, testMeta)
	})
}

// FuzzStream feeds arbitrary bytes to the SSE stream decoder.
func FuzzStream(f *testing.F) {
	addFixtures(f, "testdata/streams/*.sse")
	f.Add([]byte("data: {\"tool_calls\":[{\"index\":-1},{\"index\":-1,\"function\":{}}]}\n\ndata: [DONE]\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		dec := newStreamDecoder(bytes.NewReader(b), "workers-ai", testMeta)
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
