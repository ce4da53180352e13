package bedrock

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"github.com/aigateway/aigateway/internal/provider/providertest"
	"github.com/aigateway/aigateway/internal/provider/upstream"
)

var update = flag.Bool("update", false, "rewrite golden files")

var testMeta = upstream.Meta{ID: "chatcmpl-test", Created: 1700000000, Model: "anthropic.claude-test"}

// TestRequestGolden translates canonical requests (requests/*.in.json) to
// Converse requests.
func TestRequestGolden(t *testing.T) {
	providertest.GoldenEach(t, "testdata/requests", "*.in.json", ".in.json", *update, func(t *testing.T, _ string, in []byte) any {
		c, err := toConverse(providertest.DecodeChatRequest(t, in))
		if err != nil {
			t.Fatalf("toConverse: %v", err)
		}
		return map[string]any{"request": c.req, "json_mode": c.jsonMode}
	})
}

// TestResponseGolden translates Converse responses; fixtures named
// json_mode* answer a JSON-mode request.
func TestResponseGolden(t *testing.T) {
	providertest.GoldenEach(t, "testdata/responses", "*.json", ".json", *update, func(t *testing.T, name string, in []byte) any {
		r, err := decodeResponse(in)
		if err != nil {
			t.Fatal(err)
		}
		return fromConverse(r, testMeta, strings.HasPrefix(name, "json_mode"))
	})
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
	return encodeStream(t, providertest.ReadFixture(t, path))
}

// encodeStream builds the binary stream a streamFixture describes and
// returns it with the fixture's JSON mode.
func encodeStream(t testing.TB, b []byte) ([]byte, bool) {
	t.Helper()
	var fx streamFixture
	var err error
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

// streamResult is a decoded stream with the status of the error that
// ended it.
type streamResult struct {
	providertest.StreamResult
	Status int `json:"status,omitempty"`
}

func decodeStream(data []byte, split int, jsonMode bool) streamResult {
	res, err := providertest.DecodeStream(newStreamDecoder(providertest.SplitReader(data, split), "aws-bedrock", testMeta, jsonMode))
	out := streamResult{StreamResult: res}
	if ge := asGW(err); ge != nil {
		out.Status = ge.Status
	}
	return out
}

// TestStreamGolden decodes binary event streams built from streams/*.json.
func TestStreamGolden(t *testing.T) {
	providertest.GoldenEach(t, "testdata/streams", "*.json", ".json", *update, func(t *testing.T, _ string, in []byte) any {
		data, jsonMode := encodeStream(t, in)
		return decodeStream(data, len(data), jsonMode)
	})
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
			providertest.SameAtEverySplit(t, data, func(split int) any { return decodeStream(data, split, jsonMode) })
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
	providertest.GoldenEach(t, "testdata/errors", "*", "", *update, func(t *testing.T, name string, in []byte) any {
		status := providertest.FixtureStatus(t, name)
		h := http.Header{}
		if typ, ok := errorTypes[status]; ok && !strings.Contains(name, "_") {
			h.Set("x-amzn-errortype", typ)
		}
		e := parseError(status, h.Get("x-amzn-errortype"), in)
		return map[string]any{"status": e.Status, "type": e.Type, "code": e.Code, "message": e.Message, "retryable": e.Retryable}
	})
}

func TestConvertersArePure(t *testing.T) { providertest.PureConverters(t, ".", "adapter.go") }
