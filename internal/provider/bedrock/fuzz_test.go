package bedrock

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aigateway/aigateway/internal/provider/upstream"
)

func addFixtures(f *testing.F, glob string) {
	m, _ := filepath.Glob(glob)
	for _, p := range m {
		if strings.HasSuffix(p, ".golden.json") {
			continue
		}
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
}

// FuzzDecodeResponse feeds arbitrary Converse bodies to the decoder and
// converter: they may fail, never panic.
func FuzzDecodeResponse(f *testing.F) {
	addFixtures(f, "testdata/responses/*.json")
	f.Add([]byte(`{"output":{"message":{"content":[{"toolUse":{"input":null}},{"reasoningContent":{}}]}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeResponse(b)
		if err != nil {
			return
		}
		_ = fromConverse(r, testMeta, true)
		_ = fromConverse(r, testMeta, false)
	})
}

// FuzzEventStream feeds arbitrary bytes to the event-stream framing and
// the stream decoder on top of it.
func FuzzEventStream(f *testing.F) {
	m, _ := filepath.Glob("testdata/streams/*.json")
	for _, p := range m {
		if strings.HasSuffix(p, ".golden.json") {
			continue
		}
		data, _ := loadStream(f, p)
		f.Add(data)
	}
	f.Add([]byte{0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		dec := newStreamDecoder(bytes.NewReader(b), "aws-bedrock", testMeta, len(b)%2 == 0)
		_, _ = upstream.Collect(dec)
	})
}

// FuzzParseError feeds arbitrary error bodies.
func FuzzParseError(f *testing.F) {
	addFixtures(f, "testdata/errors/*")
	f.Fuzz(func(t *testing.T, b []byte) {
		if e := parseError(500, "", b); e == nil || e.Message == "" {
			t.Fatal("no error or empty message")
		}
		_ = exceptionError(string(b), b)
	})
}
