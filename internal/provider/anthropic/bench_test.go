package anthropic

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"testing"

	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/sse"
)

// The benchmarks come in pairs: the translation, and a baseline doing the
// least any gateway must do with the same bytes (frame the events, decode
// or encode each one's JSON once). Compare the two within one run.

func benchStream(b *testing.B) []byte {
	src, err := os.ReadFile("testdata/stream/tool_use.input.sse")
	if err != nil {
		b.Fatal(err)
	}
	return src
}

func BenchmarkStreamDecode(b *testing.B) {
	src := benchStream(b)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		s := NewStream(io.NopCloser(bytes.NewReader(src)), "anthropic", "", 1)
		for {
			if _, err := s.Recv(); err != nil {
				break
			}
		}
	}
}

func BenchmarkStreamDecodeBaseline(b *testing.B) {
	src := benchStream(b)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		r := sse.NewReader(bytes.NewReader(src))
		for {
			ev, err := r.Next()
			if err != nil {
				break
			}
			var v map[string]any
			_ = json.Unmarshal(ev.Data, &v)
		}
	}
}

func benchChunks(b *testing.B) []*llm.ChatChunk {
	src, err := os.ReadFile("testdata/encodestream/tool_calls.input.json")
	if err != nil {
		b.Fatal(err)
	}
	var chunks []*llm.ChatChunk
	if err := json.Unmarshal(src, &chunks); err != nil {
		b.Fatal(err)
	}
	return chunks
}

func BenchmarkStreamEncode(b *testing.B) {
	chunks := benchChunks(b)
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		enc := StreamEncoder{ID: "msg", Model: "m"}
		buf = buf[:0]
		for _, c := range chunks {
			for _, ev := range enc.Chunk(c) {
				buf = sse.AppendEvent(buf, ev.Name, ev.Data)
			}
		}
		for _, ev := range enc.End() {
			buf = sse.AppendEvent(buf, ev.Name, ev.Data)
		}
	}
}

func BenchmarkStreamEncodeBaseline(b *testing.B) {
	chunks := benchChunks(b)
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		buf = buf[:0]
		for _, c := range chunks {
			data, _ := c.MarshalJSON()
			buf = sse.AppendEvent(buf, "", data)
		}
	}
}
