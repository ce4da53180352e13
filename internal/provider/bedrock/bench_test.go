package bedrock

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

func BenchmarkRequestBedrock(b *testing.B) {
	providertest.BenchRequest(b, benchRequest(b), func(req *llm.ChatRequest) (any, error) {
		c, err := toConverse(req)
		if err != nil {
			return nil, err
		}
		return c.req, nil
	})
}

func BenchmarkStreamBaselineOpenAI(b *testing.B) {
	data, _ := loadStream(b, "testdata/streams/text.json")
	providertest.BenchOpenAIStream(b, decodeStream(data, len(data), false).Chunks)
}

func BenchmarkStreamBedrock(b *testing.B) {
	data, _ := loadStream(b, "testdata/streams/text.json")
	providertest.BenchStream(b, data, func(data []byte) string { return decodeStream(data, len(data), false).Error })
}
