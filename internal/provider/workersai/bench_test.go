package workersai

import (
	"testing"

	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/provider/providertest"
)

// The benchmarks compare translation with what the OpenAI adapter does for
// the same work (encode the canonical request; decode OpenAI chunks), the
// baseline, in the same process: compare their ratio, not absolute times.

func benchRequest(b *testing.B) *llm.ChatRequest {
	return providertest.DecodeChatRequest(b, providertest.ReadFixture(b, "testdata/requests/tools.in.json"))
}

func BenchmarkRequestBaselineOpenAI(b *testing.B) {
	providertest.BenchOpenAIRequest(b, benchRequest(b))
}

func BenchmarkRequestWorkersAI(b *testing.B) {
	providertest.BenchRequest(b, benchRequest(b), func(req *llm.ChatRequest) (any, error) { return toRun(req, true) })
}

func streamFixture(b *testing.B) []byte {
	return providertest.ReadFixture(b, "testdata/streams/text.sse")
}

func BenchmarkStreamBaselineOpenAI(b *testing.B) {
	data := streamFixture(b)
	providertest.BenchOpenAIStream(b, decodeStream(data, len(data)).Chunks)
}

func BenchmarkStreamWorkersAI(b *testing.B) {
	providertest.BenchStream(b, streamFixture(b), func(data []byte) string { return decodeStream(data, len(data)).Error })
}
