package app

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aigateway/aigateway/internal/config"
	"github.com/aigateway/aigateway/internal/provider/providertest"
)

// testGateway is a gateway in front of one fake OpenAI upstream.
type testGateway struct {
	fake     *providertest.Fake
	upstream *httptest.Server
	gw       *Gateway
	srv      *httptest.Server
}

// newTestGateway starts a fake upstream and a gateway configured by yaml,
// where "${FAKE_URL}" is the fake's base URL and the fake's key is "sk-fake".
func newTestGateway(t *testing.T, yaml string) *testGateway {
	t.Helper()
	fake := providertest.NewFake(providertest.Options{APIKey: "sk-fake"})
	up := httptest.NewServer(fake)
	t.Cleanup(up.Close)
	env := map[string]string{"FAKE_URL": up.URL + "/v1", "FAKE_ROOT": up.URL}
	if yaml == "" {
		yaml = `
providers_from_env: false
providers:
  - id: openai
    base_url: ${FAKE_URL}
    api_key: sk-fake
`
	}
	gw := startGateway(t, testConfig(t, yaml, env, ""))
	return &testGateway{fake: fake, upstream: up, gw: gw, srv: serve(t, gw)}
}

// testConfig parses yaml, with ${VAR} taken from env, for a gateway on
// dataDir (a fresh directory when "").
func testConfig(t testing.TB, yaml string, env map[string]string, dataDir string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml), func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	cfg.DataDir = dataDir
	return cfg
}

// startGateway builds a gateway from cfg (logging nowhere) and closes it
// when the test ends.
func startGateway(t testing.TB, cfg *config.Config) *Gateway {
	t.Helper()
	gw, err := New(cfg, Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("gateway: %v", err)
	}
	t.Cleanup(func() { gw.Close() })
	return gw
}

// serve serves gw on a loopback test server until the test ends (the
// server closes before the gateway).
func serve(t testing.TB, gw *Gateway) *httptest.Server {
	srv := httptest.NewServer(gw.Handler())
	t.Cleanup(srv.Close)
	return srv
}

func (g *testGateway) do(t *testing.T, method, path, body string, headers ...string) *http.Response {
	t.Helper()
	return send(t, method, g.srv.URL+path, body, headers...)
}

// send makes a request with body (sent as JSON when there is one) and
// headers given as name, value pairs; the response body is closed when
// the test ends.
func send(t testing.TB, method, url, body string, headers ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// sendRead is send with the response body read (and closed).
func sendRead(t testing.TB, method, url, body string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	resp := send(t, method, url, body, headers...)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func readBody(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// apiError is the OpenAI error envelope.
type apiError struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Code    *string `json:"code"`
		Param   *string `json:"param"`
	} `json:"error"`
}

func decodeError(t *testing.T, resp *http.Response) apiError {
	t.Helper()
	return decodeErrorBody(t, readBody(t, resp))
}

// decodeErrorBody decodes an OpenAI error body, failing the test when b is
// not one (or carries no message).
func decodeErrorBody(t *testing.T, b []byte) apiError {
	t.Helper()
	var e apiError
	if err := json.Unmarshal(b, &e); err != nil || e.Error.Message == "" {
		t.Fatalf("not an OpenAI error body: %s", b)
	}
	return e
}

// sseData returns the data payloads of an event stream, in order.
func sseData(t *testing.T, body []byte) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			out = append(out, d)
		}
	}
	return out
}

func chatBody(model, text string, extra ...string) string {
	b := `{"model":"` + model + `","messages":[{"role":"user","content":"` + text + `"}]`
	for _, e := range extra {
		b += "," + e
	}
	return b + "}"
}
