package workersai

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"testing"

	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/sse"
)

// The benchmarks compare translation with what the OpenAI adapter does for
// the same work (encode the canonical request; decode OpenAI chunks), the
// baseline, in the same process: compare their ratio, not absolute times.

func benchRequest(b *testing.B) *llm.ChatRequest {
	raw, err := os.ReadFile("testdata/requests/tools.in.json")
	if err != nil {
		b.Fatal(err)
	}
	var req llm.ChatRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		b.Fatal(err)
	}
	return &req
}

func BenchmarkRequestBaselineOpenAI(b *testing.B) {
	req := benchRequest(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(req); err != nil {
			b.Fatal(err)
		}
	}
}

// openAIStream is the OpenAI SSE encoding of chunks, the baseline's input.
func openAIStream(b *testing.B, chunks []*llm.ChatChunk) []byte {
	var buf []byte
	for _, c := range chunks {
		data, err := json.Marshal(c)
		if err != nil {
			b.Fatal(err)
		}
		buf = sse.AppendEvent(buf, "", data)
	}
	return append(buf, "data: [DONE]\n\n"...)
}

func decodeOpenAIStream(b *testing.B, data []byte) {
	r := sse.NewReader(bytes.NewReader(data))
	for {
		ev, err := r.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			b.Fatal(err)
		}
		if string(ev.Data) == "[DONE]" {
			return
		}
		var c llm.ChatChunk
		if err := json.Unmarshal(ev.Data, &c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRequestWorkersAI(b *testing.B) {
	req := benchRequest(b)
	b.ReportAllocs()
	for b.Loop() {
		native, err := toRun(req, true)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(native); err != nil {
			b.Fatal(err)
		}
	}
}

func streamFixture(b *testing.B) []byte {
	data, err := os.ReadFile("testdata/streams/text.sse")
	if err != nil {
		b.Fatal(err)
	}
	return data
}

func BenchmarkStreamBaselineOpenAI(b *testing.B) {
	data := streamFixture(b)
	chunks := decodeStream(data, len(data)).Chunks
	oa := openAIStream(b, chunks)
	b.SetBytes(int64(len(oa)))
	b.ReportAllocs()
	for b.Loop() {
		decodeOpenAIStream(b, oa)
	}
}

func BenchmarkStreamWorkersAI(b *testing.B) {
	data := streamFixture(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if r := decodeStream(data, len(data)); r.Error != "" {
			b.Fatal(r.Error)
		}
	}
}
