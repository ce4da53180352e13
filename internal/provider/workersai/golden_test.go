package workersai

import (
	"flag"
	"path/filepath"
	"testing"

	"github.com/aigateway/aigateway/internal/provider/providertest"
	"github.com/aigateway/aigateway/internal/provider/upstream"
)

var update = flag.Bool("update", false, "rewrite golden files")

var testMeta = upstream.Meta{ID: "chatcmpl-test", Created: 1700000000, Model: "@cf/meta/llama-test"}

// TestRequestGolden translates canonical requests (requests/*.in.json) to
// /run inputs and compares them with the golden native form.
func TestRequestGolden(t *testing.T) {
	providertest.GoldenEach(t, "testdata/requests", "*.in.json", ".in.json", *update, func(t *testing.T, _ string, in []byte) any {
		req := providertest.DecodeChatRequest(t, in)
		native, err := toRun(req, req.Stream)
		if err != nil {
			t.Fatalf("toRun: %v", err)
		}
		return native
	})
}

// TestResponseGolden translates native answers (responses/*.json) to
// chat.completion objects.
func TestResponseGolden(t *testing.T) {
	providertest.GoldenEach(t, "testdata/responses", "*.json", ".json", *update, func(t *testing.T, _ string, in []byte) any {
		res, err := decodeEnvelope(in)
		if err != nil {
			t.Fatal(err)
		}
		out, err := fromRun(res, testMeta)
		if err != nil {
			t.Fatal(err)
		}
		return out
	})
}

func decodeStream(data []byte, split int) providertest.StreamResult {
	res, _ := providertest.DecodeStream(newStreamDecoder(providertest.SplitReader(data, split), "workers-ai", testMeta))
	return res
}

// TestStreamGolden decodes native SSE streams (streams/*.sse).
func TestStreamGolden(t *testing.T) {
	providertest.GoldenEach(t, "testdata/streams", "*.sse", ".sse", *update, func(t *testing.T, _ string, in []byte) any {
		return decodeStream(in, len(in))
	})
}

// TestStreamSplitAtEveryByte checks that where the network splits a stream
// does not change what it decodes to.
func TestStreamSplitAtEveryByte(t *testing.T) {
	for _, in := range providertest.Fixtures(t, "testdata/streams", "*.sse") {
		t.Run(filepath.Base(in), func(t *testing.T) {
			b := providertest.ReadFixture(t, in)
			providertest.SameAtEverySplit(t, b, func(split int) any { return decodeStream(b, split) })
		})
	}
}

// TestErrorGolden translates error bodies; the file name starts with the
// HTTP status they come with.
func TestErrorGolden(t *testing.T) {
	providertest.GoldenEach(t, "testdata/errors", "*", "", *update, func(t *testing.T, name string, in []byte) any {
		e := parseError(providertest.FixtureStatus(t, name), in)
		return map[string]any{"status": e.Status, "type": e.Type, "code": e.Code, "message": e.Message, "retryable": e.Retryable, "retry_after": e.RetryAfter.String()}
	})
}

func TestConvertersArePure(t *testing.T) { providertest.PureConverters(t, ".", "adapter.go") }
