package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/sse"
)

var update = flag.Bool("update", false, "rewrite the golden files from the converters' output")

// golden runs convert over every testdata/dir/*.input.ext file and compares
// its output with the .golden file beside it (or writes it with -update).
func golden(t *testing.T, dir, inExt, outExt string, convert func(t *testing.T, in []byte) []byte) {
	t.Helper()
	inputs, err := filepath.Glob(filepath.Join("testdata", dir, "*.input."+inExt))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no inputs in testdata/%s (%v)", dir, err)
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".input."+inExt)
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			got := convert(t, src)
			path := filepath.Join("testdata", dir, name+".golden."+outExt)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s (go test -update rewrites it)\n--- got:\n%s\n--- want:\n%s", path, got, want)
			}
		})
	}
}

func indent(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		t.Fatal(err)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

// errorJSON is how a conversion error is written to a golden file.
func errorJSON(t *testing.T, err error) []byte {
	var ge *gwerr.Error
	if !errors.As(err, &ge) {
		t.Fatalf("error %v is not a gateway error", err)
	}
	return indent(t, map[string]any{"error": map[string]any{"status": ge.Status, "type": ge.Type, "param": ge.Param, "message": ge.Message}})
}

func TestGoldenFromChat(t *testing.T) {
	golden(t, "fromchat", "json", "json", func(t *testing.T, in []byte) []byte {
		var req llm.ChatRequest
		if err := json.Unmarshal(in, &req); err != nil {
			t.Fatal(err)
		}
		out, err := FromChat(&req)
		if err != nil {
			return errorJSON(t, err)
		}
		return indent(t, out)
	})
}

func TestGoldenToChat(t *testing.T) {
	golden(t, "tochat", "json", "json", func(t *testing.T, in []byte) []byte {
		r, err := DecodeRequest(in)
		if err != nil {
			return errorJSON(t, err)
		}
		return indent(t, ToChat(r))
	})
}

func TestGoldenResponse(t *testing.T) {
	golden(t, "response", "json", "json", func(t *testing.T, in []byte) []byte {
		var r Response
		if err := json.Unmarshal(in, &r); err != nil {
			t.Fatal(err)
		}
		return indent(t, ToChatResponse(&r, 1700000000))
	})
}

func TestGoldenEncodeResponse(t *testing.T) {
	golden(t, "encoderesp", "json", "json", func(t *testing.T, in []byte) []byte {
		var r llm.ChatResponse
		if err := json.Unmarshal(in, &r); err != nil {
			t.Fatal(err)
		}
		return indent(t, FromChatResponse(&r, "msg_fallback"))
	})
}

// decodeAll reads a whole native stream through Stream, returning the
// chunks and the error that ended it (nil at a clean end).
func decodeAll(r io.Reader) ([]*llm.ChatChunk, error) {
	s := NewStream(io.NopCloser(r), "anthropic", "sk-secret-key", 1700000000)
	var out []*llm.ChatChunk
	for {
		c, err := s.Recv()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, c)
	}
}

// streamResult is how a decoded stream is written to a golden file.
type streamResult struct {
	Chunks []*llm.ChatChunk `json:"chunks"`
	Error  json.RawMessage  `json:"error,omitempty"`
}

func decodeResult(t *testing.T, r io.Reader) []byte {
	chunks, err := decodeAll(r)
	res := streamResult{Chunks: chunks}
	if err != nil {
		res.Error = errorJSON(t, err)
	}
	return indent(t, res)
}

func TestGoldenStreamDecode(t *testing.T) {
	golden(t, "stream", "sse", "json", func(t *testing.T, in []byte) []byte {
		return decodeResult(t, bytes.NewReader(in))
	})
}

// splitReader returns its bytes in two reads, split at n.
type splitReader struct {
	b []byte
	n int
}

func (r *splitReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := r.n
	if n <= 0 || n > len(r.b) {
		n = len(r.b)
	}
	n = copy(p, r.b[:n])
	r.b = r.b[n:]
	r.n -= n
	return n, nil
}

// TestStreamDecodeAnySplit feeds every stream fixture split at every byte
// position, and one byte at a time: any split must decode the same.
func TestStreamDecodeAnySplit(t *testing.T) {
	inputs, _ := filepath.Glob("testdata/stream/*.input.sse")
	for _, in := range inputs {
		src, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.Base(in), func(t *testing.T) {
			want := decodeCompact(bytes.NewReader(src))
			for i := 1; i < len(src); i++ {
				if got := decodeCompact(&splitReader{b: src, n: i}); got != want {
					t.Fatalf("split at byte %d decodes differently:\n%s\nwant:\n%s", i, got, want)
				}
			}
			if got := decodeCompact(&oneByteReader{b: src}); got != want {
				t.Fatalf("one byte at a time decodes differently:\n%s", got)
			}
		})
	}
}

// decodeCompact is decodeResult without indentation, for the many
// decodes of the split test.
func decodeCompact(r io.Reader) string {
	chunks, err := decodeAll(r)
	b, _ := json.Marshal(chunks)
	if err != nil {
		return string(b) + " error: " + err.Error()
	}
	return string(b)
}

type oneByteReader struct{ b []byte }

func (r *oneByteReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	p[0] = r.b[0]
	r.b = r.b[1:]
	return 1, nil
}

func TestGoldenStreamEncode(t *testing.T) {
	golden(t, "encodestream", "json", "sse", func(t *testing.T, in []byte) []byte {
		var chunks []*llm.ChatChunk
		if err := json.Unmarshal(in, &chunks); err != nil {
			t.Fatal(err)
		}
		enc := StreamEncoder{ID: "msg_fallback", Model: "fallback-model"}
		var out []byte
		for _, c := range chunks {
			for _, ev := range enc.Chunk(c) {
				out = sse.AppendEvent(out, ev.Name, ev.Data)
			}
		}
		for _, ev := range enc.End() {
			out = sse.AppendEvent(out, ev.Name, ev.Data)
		}
		return out
	})
}
