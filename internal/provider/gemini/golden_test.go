package gemini

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/provider/providertest"
	"github.com/aigateway/aigateway/internal/provider/upstream"
)

var update = flag.Bool("update", false, "rewrite golden files")

var testMeta = upstream.Meta{ID: "chatcmpl-test", Created: 1700000000, Model: "gemini-test"}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRequestGolden translates canonical requests (requests/*.in.json) to
// GenerateContentRequests and compares them with the golden native form.
func TestRequestGolden(t *testing.T) {
	for _, in := range providertest.Fixtures(t, "testdata/requests", "*.in.json") {
		name := strings.TrimSuffix(filepath.Base(in), ".in.json")
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			var req llm.ChatRequest
			if err := json.Unmarshal(b, &req); err != nil {
				t.Fatal(err)
			}
			native, err := toGenerate(&req)
			if err != nil {
				t.Fatalf("toGenerate: %v", err)
			}
			providertest.Golden(t, strings.TrimSuffix(in, ".in.json")+".golden.json", mustJSON(t, native), *update)
		})
	}
}

// TestResponseGolden translates native answers (responses/*.json) to
// chat.completion objects.
func TestResponseGolden(t *testing.T) {
	for _, in := range providertest.Fixtures(t, "testdata/responses", "*.json") {
		if strings.HasSuffix(in, ".golden.json") {
			continue
		}
		name := strings.TrimSuffix(filepath.Base(in), ".json")
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			r, err := decodeResponse(b)
			if err != nil {
				t.Fatal(err)
			}
			providertest.Golden(t, strings.TrimSuffix(in, ".json")+".golden.json", mustJSON(t, fromGenerate(r, testMeta)), *update)
		})
	}
}

// streamResult is what a decoded stream fixture becomes in its golden file.
type streamResult struct {
	Chunks []*llm.ChatChunk `json:"chunks"`
	Error  string           `json:"error,omitempty"`
}

func decodeStream(data []byte, split int) streamResult {
	dec := newStreamDecoder(providertest.SplitReader(data, split), "google-ai-studio", testMeta)
	chunks, err := upstream.Collect(dec)
	res := streamResult{Chunks: chunks}
	if err != nil {
		res.Error = err.Error()
	}
	return res
}

// TestStreamGolden decodes native SSE streams (streams/*.sse).
func TestStreamGolden(t *testing.T) {
	for _, in := range providertest.Fixtures(t, "testdata/streams", "*.sse") {
		name := strings.TrimSuffix(filepath.Base(in), ".sse")
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			providertest.Golden(t, strings.TrimSuffix(in, ".sse")+".golden.json", mustJSON(t, decodeStream(b, len(b))), *update)
		})
	}
}

// TestStreamSplitAtEveryByte checks that where the network splits a stream
// does not change what it decodes to.
func TestStreamSplitAtEveryByte(t *testing.T) {
	for _, in := range providertest.Fixtures(t, "testdata/streams", "*.sse") {
		t.Run(filepath.Base(in), func(t *testing.T) {
			b, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			want := mustJSON(t, decodeStream(b, len(b)))
			for i := 0; i < len(b); i++ {
				if got := mustJSON(t, decodeStream(b, i)); string(got) != string(want) {
					t.Fatalf("split at byte %d decodes differently:\n%s\nwant\n%s", i, got, want)
				}
			}
		})
	}
}

// TestErrorGolden translates error bodies; the file name starts with the
// HTTP status they come with.
func TestErrorGolden(t *testing.T) {
	for _, in := range providertest.Fixtures(t, "testdata/errors", "*") {
		if strings.HasSuffix(in, ".golden.json") {
			continue
		}
		base := filepath.Base(in)
		t.Run(base, func(t *testing.T) {
			status, err := strconv.Atoi(strings.SplitN(strings.SplitN(base, "_", 2)[0], ".", 2)[0])
			if err != nil {
				t.Fatalf("fixture name must start with a status: %v", err)
			}
			b, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			e := parseError(status, b)
			got := map[string]any{"status": e.Status, "type": e.Type, "code": e.Code, "message": e.Message, "retryable": e.Retryable, "retry_after": e.RetryAfter.String()}
			providertest.Golden(t, strings.TrimSuffix(in, filepath.Ext(in))+".golden.json", mustJSON(t, got), *update)
		})
	}
}

func TestConvertersArePure(t *testing.T) { providertest.PureConverters(t, ".", "adapter.go") }
