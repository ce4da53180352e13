package providertest

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
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
