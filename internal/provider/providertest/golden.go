package providertest

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/provider/upstream"
)

// Golden compares got (JSON, compared after indenting) with the golden file
// at path; with update set it rewrites the file instead. Each adapter's
// tests define their own -update flag and pass it here.
func Golden(t testing.TB, path string, got []byte, update bool) {
	t.Helper()
	var buf bytes.Buffer
	if json.Valid(got) {
		if err := json.Indent(&buf, got, "", "  "); err != nil {
			t.Fatal(err)
		}
		buf.WriteByte('\n')
		got = buf.Bytes()
	}
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(bytes.TrimSpace(want), bytes.TrimSpace(got)) {
		t.Errorf("%s differs from the golden file (run with -update after checking the change):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// SplitReader yields b in two reads, b[:i] and then b[i:], so a decoder can
// be tested with an event or frame boundary falling at every byte.
func SplitReader(b []byte, i int) io.Reader {
	return io.MultiReader(&oneRead{b: b[:i]}, &oneRead{b: b[i:]})
}

// oneRead returns its bytes in one Read, however large the buffer is.
type oneRead struct{ b []byte }

func (r *oneRead) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

// Fixtures lists the files in dir matching pattern, failing the test when
// there are none (a golden test that checks nothing must not pass).
func Fixtures(t testing.TB, dir, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil {
		t.Fatal(err)
	}
	if len(m) == 0 {
		t.Fatalf("no fixtures %s in %s", pattern, dir)
	}
	return m
}

// GoldenEach runs a subtest for every input fixture in dir matching
// pattern (the .golden.json files beside them are skipped), named after the
// file less suffix: it reads the fixture, converts it and compares the
// result, as JSON, with the golden file whose name replaces suffix with
// .golden.json. An empty suffix stands for each file's own extension, for
// fixtures of mixed types.
func GoldenEach(t *testing.T, dir, pattern, suffix string, update bool, convert func(t *testing.T, name string, in []byte) any) {
	t.Helper()
	for _, in := range Fixtures(t, dir, pattern) {
		if strings.HasSuffix(in, ".golden.json") {
			continue
		}
		ext := suffix
		if ext == "" {
			ext = filepath.Ext(in)
		}
		name := strings.TrimSuffix(filepath.Base(in), ext)
		t.Run(name, func(t *testing.T) {
			got := convert(t, name, ReadFixture(t, in))
			Golden(t, strings.TrimSuffix(in, ext)+".golden.json", MustJSON(t, got), update)
		})
	}
}

// ReadFixture returns the content of a fixture file.
func ReadFixture(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// MustJSON encodes v, failing the test when it cannot.
func MustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FixtureStatus is the HTTP status an error fixture comes with: its name
// starts with it ("429", "502_html").
func FixtureStatus(t testing.TB, name string) int {
	t.Helper()
	status, err := strconv.Atoi(strings.SplitN(strings.SplitN(name, "_", 2)[0], ".", 2)[0])
	if err != nil {
		t.Fatalf("fixture name must start with a status: %v", err)
	}
	return status
}

// SameAtEverySplit checks that where the network splits data does not
// change what it decodes to: decode(split) reads data as two reads split at
// that byte (len(data): in one piece), and its result, as JSON, must be the
// same for every split.
func SameAtEverySplit(t testing.TB, data []byte, decode func(split int) any) {
	t.Helper()
	want := MustJSON(t, decode(len(data)))
	for i := 0; i < len(data); i++ {
		if got := MustJSON(t, decode(i)); !bytes.Equal(got, want) {
			t.Fatalf("split at byte %d decodes differently:\n%s\nwant\n%s", i, got, want)
		}
	}
}

// FuzzSeeds adds every file matching pattern to f's seed corpus.
func FuzzSeeds(f *testing.F, pattern string) {
	f.Helper()
	m, err := filepath.Glob(pattern)
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range m {
		f.Add(ReadFixture(f, p))
	}
}

// StreamResult is what a decoded stream fixture becomes in its golden file:
// the chunks, and the error that ended the stream early.
type StreamResult struct {
	Chunks []*llm.ChatChunk `json:"chunks"`
	Error  string           `json:"error,omitempty"`
}

// DecodeStream drains dec into a StreamResult; it also returns the error
// itself.
func DecodeStream(dec upstream.ChunkDecoder) (StreamResult, error) {
	chunks, err := upstream.Collect(dec)
	res := StreamResult{Chunks: chunks}
	if err != nil {
		res.Error = err.Error()
	}
	return res, err
}
