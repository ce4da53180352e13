package e2e

import (
	"context"
	"flag"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aigateway/aigateway/internal/provider/providertest"
)

var updateScreenshots = flag.Bool("update-screenshots", false, "write the README's dashboard screenshots to docs/")

// dashboardFeatures are the admin API features the browser scenario must
// find; a step whose feature is listed fails instead of skipping when the
// gateway lacks it.
const dashboardFeatures = "providers,health,config,cache,keys,logs,analytics"

// TestDashboardInBrowser runs web/e2e (playwright-core driving Debian's
// headless Chromium) against the real binary with a fake OpenAI upstream:
// sign in, charts that count the traffic sent, logs filtered to one
// request and opened, feedback, a key created, used with curl and
// revoked. Failure screenshots land in web/test-results/.
//
// Needs /usr/bin/chromium (apt-get install chromium), node, and
// web/node_modules (cd web && npm ci); without them the test skips, or
// fails when CI=true.
func TestDashboardInBrowser(t *testing.T) {
	web, err := filepath.Abs("../../web")
	if err != nil {
		t.Fatal(err)
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	var missing []string
	if _, err := os.Stat(chromium); err != nil {
		missing = append(missing, chromium+" (apt-get install -y chromium)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing = append(missing, "node")
	}
	if _, err := os.Stat(filepath.Join(web, "node_modules", "playwright-core")); err != nil {
		missing = append(missing, "web/node_modules (cd web && npm ci)")
	}
	if len(missing) > 0 {
		msg := "browser test needs " + strings.Join(missing, ", ")
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}

	const adminToken = "dashboard-admin-token"
	fake := providertest.NewFake(providertest.Options{APIKey: "sk-upstream"})
	up := httptest.NewServer(fake)
	t.Cleanup(up.Close)
	g := StartGateway(t, GatewayOptions{
		Env: map[string]string{
			"OPENAI_API_KEY":        "sk-upstream",
			"OPENAI_BASE_URL":       up.URL + "/v1",
			"AIGATEWAY_ADMIN_TOKEN": adminToken,
		},
		// An alias and a route for the read-only routing views.
		Config: "models:\n  - name: fast\n    targets:\n      - model: openai/gpt-4o-mini\n" +
			"routes:\n  - name: assistant\n    model: fast\n",
	})

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", "e2e/")
	cmd.Dir = web
	cmd.Env = append(os.Environ(),
		"GATEWAY_URL="+g.URL,
		"ADMIN_TOKEN="+adminToken,
		"CHROMIUM="+chromium,
		"RESULTS_DIR="+filepath.Join(web, "test-results"),
		"DASHBOARD_REQUIRE="+dashboardFeatures,
		"NO_COLOR=1",
	)
	if *updateScreenshots {
		cmd.Env = append(cmd.Env, "SCREENSHOT_DIR="+filepath.Join(web, "..", "docs"))
	}
	out, err := cmd.CombinedOutput()
	t.Logf("node --test e2e/:\n%s", out)
	if err != nil {
		t.Fatalf("browser scenario failed (%v); screenshots in %s\ngateway log:\n%s", err, filepath.Join(web, "test-results"), g.Logs())
	}
	if s := string(out); !strings.Contains(s, "fail 0") {
		t.Fatalf("browser scenario: no passing summary in the output")
	}
}
