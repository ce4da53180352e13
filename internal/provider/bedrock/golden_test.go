package bedrock

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/provider/providertest"
	"github.com/aigateway/aigateway/internal/provider/upstream"
)

var update = flag.Bool("update", false, "rewrite golden files")

var testMeta = upstream.Meta{ID: "chatcmpl-test", Created: 1700000000, Model: "anthropic.claude-test"}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRequestGolden translates canonical requests (requests/*.in.json) to
// Converse requests.
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
			c, err := toConverse(&req)
			if err != nil {
				t.Fatalf("toConverse: %v", err)
			}
			got := map[string]any{"request": c.req, "json_mode": c.jsonMode}
			providertest.Golden(t, strings.TrimSuffix(in, ".in.json")+".golden.json", mustJSON(t, got), *update)
		})
	}
}

// TestResponseGolden translates Converse responses; fixtures named
// json_mode* answer a JSON-mode request.
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
			out := fromConverse(r, testMeta, strings.HasPrefix(name, "json_mode"))
			providertest.Golden(t, strings.TrimSuffix(in, ".json")+".golden.json", mustJSON(t, out), *update)
		})
	}
}

// streamFixture describes a ConverseStream answer as JSON: the messages
// (events or exceptions) to encode in the binary framing, how many bytes
// to cut off the end, and whether the request was in JSON mode.
type streamFixture struct {
	Messages []struct {
		Event     string          `json:"event"`
		Exception string          `json:"exception"`
		Payload   json.RawMessage `json:"payload"`
	} `json:"messages"`
	Cut      int  `json:"cut"`
	JSONMode bool `json:"json_mode"`
}

func loadStream(t testing.TB, path string) ([]byte, bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var fx streamFixture
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte("[")) {
		err = json.Unmarshal(b, &fx.Messages)
	} else {
		err = json.Unmarshal(b, &fx)
	}
	if err != nil {
		t.Fatal(err)
	}
	var msgs []eventstream.Message
	for _, m := range fx.Messages {
		if m.Exception != "" {
			var p struct {
				Message string `json:"message"`
			}
			_ = json.Unmarshal(m.Payload, &p)
			msgs = append(msgs, providertest.BedrockException(m.Exception, p.Message))
			continue
		}
		msgs = append(msgs, providertest.BedrockEvent(m.Event, m.Payload))
	}
	var buf bytes.Buffer
	if err := providertest.EncodeBedrockStream(&buf, msgs...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()[:buf.Len()-fx.Cut], fx.JSONMode
}

type streamResult struct {
	Chunks []*llm.ChatChunk `json:"chunks"`
	Error  string           `json:"error,omitempty"`
	Status int              `json:"status,omitempty"`
}

func decodeStream(data []byte, split int, jsonMode bool) streamResult {
	dec := newStreamDecoder(providertest.SplitReader(data, split), "aws-bedrock", testMeta, jsonMode)
	chunks, err := upstream.Collect(dec)
	res := streamResult{Chunks: chunks}
	if err != nil {
		res.Error = err.Error()
		if ge := asGW(err); ge != nil {
			res.Status = ge.Status
		}
	}
	return res
}

// TestStreamGolden decodes binary event streams built from streams/*.json.
func TestStreamGolden(t *testing.T) {
	for _, in := range providertest.Fixtures(t, "testdata/streams", "*.json") {
		if strings.HasSuffix(in, ".golden.json") {
			continue
		}
		name := strings.TrimSuffix(filepath.Base(in), ".json")
		t.Run(name, func(t *testing.T) {
			data, jsonMode := loadStream(t, in)
			providertest.Golden(t, strings.TrimSuffix(in, ".json")+".golden.json", mustJSON(t, decodeStream(data, len(data), jsonMode)), *update)
		})
	}
}

// TestStreamSplitAtEveryByte checks that where the network splits the
// binary framing does not change what it decodes to.
func TestStreamSplitAtEveryByte(t *testing.T) {
	for _, in := range providertest.Fixtures(t, "testdata/streams", "*.json") {
		if strings.HasSuffix(in, ".golden.json") {
			continue
		}
		t.Run(filepath.Base(in), func(t *testing.T) {
			data, jsonMode := loadStream(t, in)
			want := mustJSON(t, decodeStream(data, len(data), jsonMode))
			for i := 0; i < len(data); i++ {
				if got := mustJSON(t, decodeStream(data, i, jsonMode)); !bytes.Equal(got, want) {
					t.Fatalf("split at byte %d decodes differently:\n%s\nwant\n%s", i, got, want)
				}
			}
		})
	}
}

// errorTypes are the x-amzn-errortype headers the error fixtures come with.
var errorTypes = map[int]string{
	400: "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/",
	429: "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/",
}

// TestErrorGolden translates error bodies; the file name starts with the
// HTTP status.
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
			h := http.Header{}
			if typ, ok := errorTypes[status]; ok && !strings.Contains(base, "_") {
				h.Set("x-amzn-errortype", typ)
			}
			e := parseError(status, h.Get("x-amzn-errortype"), b)
			got := map[string]any{"status": e.Status, "type": e.Type, "code": e.Code, "message": e.Message, "retryable": e.Retryable}
			providertest.Golden(t, strings.TrimSuffix(in, filepath.Ext(in))+".golden.json", mustJSON(t, got), *update)
		})
	}
}

func TestConvertersArePure(t *testing.T) { providertest.PureConverters(t, ".", "adapter.go") }
