package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigCheckReportsRouteErrorsWithPathAndLine(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "routes.yaml")
	os.WriteFile(bad, []byte(`providers:
  - id: openai
    api_key: sk-x
routes:
  - name: assistant
    split:
      branches:
        - {name: control, percent: 80, model: openai/gpt-4o-mini}
        - name: candidate
          percent: 10
          model: nowhere/model
  - name: tiered
    switch:
      - if: [{field: tier, matches: "("}]
        model: openai/gpt-4o
`), 0o600)
	code, _, stderr := runCLI(t, nil, "config", "check", bad)
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr: %s", code, stderr)
	}
	for _, want := range []string{
		":8: routes[0].split.branches: percents add up to 90, must be 100",
		":11: routes[0].split.branches[1].model: provider \"nowhere\" is not configured",
		":14: routes[1].switch[0].if[0].matches: not a valid regular expression",
		":12: routes[1].default: is required with switch",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

func TestCookbookExamplesPassConfigCheck(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "examples", "routing", "*.yaml"))
	if len(files) == 0 {
		t.Fatal("no examples found")
	}
	env := map[string]string{}
	for _, v := range []string{"OPENAI", "AZURE_OPENAI", "AZURE_EASTUS", "AZURE_WESTEUROPE", "GROQ", "DEEPSEEK"} {
		env[v+"_API_KEY"] = "sk-x"
		env[v+"_ENDPOINT"] = "https://example.invalid"
	}
	for _, f := range files {
		code, stdout, stderr := runCLI(t, env, "config", "check", f)
		if code != 0 || !strings.Contains(stdout, ": ok") {
			t.Errorf("%s: exit %d\n%s%s", f, code, stdout, stderr)
		}
	}
}
