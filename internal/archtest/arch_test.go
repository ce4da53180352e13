// Package archtest holds tests that guard the architecture: rules from
// ARCHITECTURE.md that code review alone would let slip.
package archtest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/aigateway/aigateway"

// pkg is one Go package of the repository (test files excluded).
type pkg struct {
	dir     string // relative to the repository root
	hasDoc  bool
	imports map[string]bool
}

func loadPackages(t *testing.T) []pkg {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	var out []pkg
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules" || name == "web") {
			return filepath.SkipDir
		}
		entries, err := os.ReadDir(path)
		if err != nil {
			return err
		}
		p := pkg{imports: map[string]bool{}}
		found := false
		fset := token.NewFileSet()
		for _, e := range entries {
			n := e.Name()
			if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, filepath.Join(path, n), nil, parser.ImportsOnly|parser.ParseComments)
			if err != nil {
				return err
			}
			found = true
			if f.Doc != nil && strings.TrimSpace(f.Doc.Text()) != "" {
				p.hasDoc = true
			}
			for _, imp := range f.Imports {
				ip, _ := strconv.Unquote(imp.Path.Value)
				p.imports[ip] = true
			}
		}
		if found {
			rel, _ := filepath.Rel(root, path)
			p.dir = filepath.ToSlash(rel)
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 10 {
		t.Fatalf("found only %d packages; is the walk rooted right?", len(out))
	}
	return out
}

func TestEveryPackageHasADocComment(t *testing.T) {
	for _, p := range loadPackages(t) {
		if !p.hasDoc {
			t.Errorf("%s: no package doc comment saying what it owns", p.dir)
		}
	}
}

func TestCanonicalTypesDoNoIO(t *testing.T) {
	for _, p := range loadPackages(t) {
		if p.dir != "internal/llm" {
			continue
		}
		for _, banned := range []string{"net/http", "net", "os", "database/sql"} {
			if p.imports[banned] {
				t.Errorf("%s imports %s: canonical types are pure data", p.dir, banned)
			}
		}
	}
}

func TestHandlersImportNoStore(t *testing.T) {
	for _, p := range loadPackages(t) {
		if !strings.HasPrefix(p.dir, "internal/httpapi") {
			continue
		}
		for imp := range p.imports {
			if strings.HasPrefix(imp, module+"/internal/store") || imp == "database/sql" ||
				strings.HasPrefix(imp, "github.com/jackc/") || strings.HasPrefix(imp, "github.com/redis/") {
				t.Errorf("%s imports %s: handlers reach state only through service interfaces", p.dir, imp)
			}
		}
	}
}

func TestProvidersDoNotKnowEachOther(t *testing.T) {
	for _, p := range loadPackages(t) {
		if !strings.HasPrefix(p.dir, "internal/provider/") || p.dir == "internal/provider/providertest" {
			continue
		}
		for imp := range p.imports {
			if strings.HasPrefix(imp, module+"/internal/httpapi") || strings.HasPrefix(imp, module+"/internal/app") ||
				strings.HasPrefix(imp, module+"/internal/store") {
				t.Errorf("%s imports %s: adapters own a wire format, nothing else", p.dir, imp)
			}
		}
	}
}
