package e2e

import (
	"bufio"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRefusesNonLoopbackWithoutKeys(t *testing.T) {
	code, _, stderr := runCLI(t, nil, "serve", "--listen", "0.0.0.0:0", "--data-dir", t.TempDir())
	if code == 0 || !strings.Contains(stderr, "refusing to listen") || !strings.Contains(stderr, "--allow-unauthenticated") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

func TestAllowUnauthenticatedOverridesRefusal(t *testing.T) {
	g := StartGateway(t, GatewayOptions{Args: []string{"--listen", "0.0.0.0:0", "--allow-unauthenticated"}})
	if !strings.Contains(g.URL, "[::]") && !strings.Contains(g.URL, "0.0.0.0") {
		t.Logf("listening on %s", g.URL)
	}
}

func TestConfigCheckReportsEveryErrorWithPath(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(`
listen: 127.0.0.1:8080
providers:
  - id: openai
  - id: local
    base_url: not a url
  - id: mistral
    bse_url: https://x
log:
  level: loud
`), 0o600)
	code, _, stderr := runCLI(t, nil, "config", "check", bad)
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr: %s", code, stderr)
	}
	for _, want := range []string{
		"providers[1].base_url: not a URL",
		"providers[2].bse_url: unknown field (did you mean \"base_url\"?)",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("providers:\n  - id: openai\n    api_key: ${KEY}\n"), 0o600)
	code, stdout, stderr := runCLI(t, map[string]string{"KEY": "sk-x"}, "config", "check", good)
	if code != 0 || !strings.Contains(stdout, "ok") {
		t.Fatalf("good config: exit %d\n%s%s", code, stdout, stderr)
	}
	code, _, stderr = runCLI(t, nil, "config", "check", good)
	if code != 1 || !strings.Contains(stderr, "providers[0].api_key: environment variable KEY is not set") {
		t.Fatalf("unset variable: exit %d\n%s", code, stderr)
	}
}

func TestVersion(t *testing.T) {
	code, stdout, _ := runCLI(t, nil, "version")
	if code != 0 || !strings.HasPrefix(stdout, "aigateway ") {
		t.Fatalf("version: %d %q", code, stdout)
	}
}

func TestGracefulShutdownLetsStreamsFinish(t *testing.T) {
	g, _ := startWithSlowStreams(t)
	resp, err := http.Post(g.URL+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"openai/gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"a b c d e f"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	if _, err := r.ReadString('\n'); err != nil { // the stream has started
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- g.Stop(t) }()
	var rest strings.Builder
	for {
		line, err := r.ReadString('\n')
		rest.WriteString(line)
		if err != nil {
			break
		}
	}
	if !strings.Contains(rest.String(), "data: [DONE]") {
		t.Errorf("stream cut by shutdown:\n%s", rest.String())
	}
	select {
	case err := <-stopped:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
	// new connections are refused once it has stopped
	if _, err := http.Get(g.URL + "/healthz"); err == nil {
		t.Error("still accepting after shutdown")
	}
}
