package dashboard

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// sourceInputs are the files and folders of web/ whose content decides
// the build; keep in step with web/build/source-hash.js.
var sourceInputs = []string{"index.html", "package-lock.json", "vite.config.js", "build", "src"}

// sourceDigest is web/build/source-hash.js's digest: SHA-256 over each
// input file, in byte order of its path relative to web/, as the path, a
// NUL byte, the content and a NUL byte.
func sourceDigest(t *testing.T, web string) string {
	t.Helper()
	var files []string
	for _, in := range sourceInputs {
		err := filepath.WalkDir(filepath.Join(web, in), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, err := filepath.Rel(web, path)
			files = append(files, filepath.ToSlash(rel))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(files)
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(web, f))
		if err != nil {
			t.Fatal(err)
		}
		h.Write([]byte(f))
		h.Write([]byte{0})
		h.Write(b)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestBuildMatchesSource fails when web/ changed but dist/ was not
// rebuilt: the build records the digest of its sources in SOURCE.sha256.
func TestBuildMatchesSource(t *testing.T) {
	built, err := fs.ReadFile(Assets(), "SOURCE.sha256")
	if err != nil {
		t.Fatalf("dist/SOURCE.sha256 missing: rebuild the dashboard (cd web && npm ci && npm run build): %v", err)
	}
	want := sourceDigest(t, filepath.Join("..", "..", "web"))
	if got := string(bytes.TrimSpace(built)); got != want {
		t.Fatalf("internal/dashboard/dist was built from other sources than web/ holds (built %s, sources %s): "+
			"rebuild it with: cd web && npm ci && npm run build", short(got), short(want))
	}
}

func short(s string) string { return strings.TrimSpace(s)[:min(12, len(strings.TrimSpace(s)))] }
