package providertest

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"

	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/sse"
)

// The baselines of the adapters' benchmarks: what the OpenAI adapter does
// for the same work (encode the canonical request; decode OpenAI chunks),
// run in the same process as the translation it is compared with. Compare
// their ratio, not absolute times.

// BenchOpenAIRequest measures encoding req as OpenAI JSON, the baseline of
// a request translation.
func BenchOpenAIRequest(b *testing.B, req *llm.ChatRequest) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchOpenAIStream measures decoding chunks from their OpenAI SSE
// encoding, the baseline of a stream decoder that yields them.
func BenchOpenAIStream(b *testing.B, chunks []*llm.ChatChunk) {
	oa := openAIStream(b, chunks)
	b.SetBytes(int64(len(oa)))
	b.ReportAllocs()
	for b.Loop() {
		decodeOpenAIStream(b, oa)
	}
}

// BenchRequest measures translate on req and the JSON encoding of what it
// returns: an adapter's request translation, to compare with
// BenchOpenAIRequest.
func BenchRequest(b *testing.B, req *llm.ChatRequest, translate func(*llm.ChatRequest) (any, error)) {
	b.ReportAllocs()
	for b.Loop() {
		native, err := translate(req)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(native); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchStream measures decode on a native stream, data: an adapter's
// stream decoder, to compare with BenchOpenAIStream. decode returns the
// error that ended the stream ("" for a clean end).
func BenchStream(b *testing.B, data []byte, decode func(data []byte) string) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if msg := decode(data); msg != "" {
			b.Fatal(msg)
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
