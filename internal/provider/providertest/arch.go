package providertest

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// PureConverters fails the test when a non-test Go file in dir other than
// the named I/O files imports net/http: an adapter's converters are pure
// functions between wire formats, and only its adapter file does HTTP.
func PureConverters(t *testing.T, dir string, ioFiles ...string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{}
	for _, f := range ioFiles {
		allowed[f] = true
	}
	checked := 0
	for _, f := range files {
		base := filepath.Base(f)
		if strings.HasSuffix(base, "_test.go") || allowed[base] {
			continue
		}
		checked++
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == "net/http" {
				t.Errorf("%s imports net/http; converters must stay free of I/O (move the HTTP part to %v)", base, ioFiles)
			}
		}
	}
	if checked == 0 {
		t.Fatalf("no converter files found in %s", dir)
	}
}
