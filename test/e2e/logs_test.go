package e2e

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aigateway/aigateway/internal/provider/providertest"
	"github.com/aigateway/aigateway/internal/store/storetest"
	"github.com/aigateway/aigateway/internal/usage"
)

// queryAllLogs lists every record of a data dir or config's store with the
// CLI, page by page.
func queryAllLogs(t *testing.T, env map[string]string, source ...string) map[string]*usage.Record {
	t.Helper()
	out := map[string]*usage.Record{}
	cursor := ""
	for {
		args := append([]string{"logs", "query", "--json", "--limit", "1000"}, source...)
		if cursor != "" {
			args = append(args, "--cursor", cursor)
		}
		code, stdout, stderr := runCLI(t, env, args...)
		if code != 0 {
			t.Fatalf("logs query: exit %d: %s", code, stderr)
		}
		var page usage.Page
		if err := json.Unmarshal([]byte(stdout), &page); err != nil {
			t.Fatalf("logs query --json: %v: %.200s", err, stdout)
		}
		for _, r := range page.Records {
			out[r.ID] = r
		}
		if page.NextCursor == "" {
			return out
		}
		cursor = page.NextCursor
	}
}

// TestSIGTERMMidBurstKeepsEveryAnsweredRequest stops the gateway while a
// burst is in flight. The log writer is set never to flush on its own, so
// every record in the store got there through the shutdown flush.
func TestSIGTERMMidBurstKeepsEveryAnsweredRequest(t *testing.T) {
	storages := map[string]func(t *testing.T) string{
		"sqlite": func(*testing.T) string { return "" },
		"postgres": func(t *testing.T) string {
			return "storage: {driver: postgres, dsn: \"" + storetest.PostgresDSN(t) + "\"}\n"
		},
	}
	for name, storage := range storages {
		t.Run(name, func(t *testing.T) {
			fake := providertest.NewFake(providertest.Options{APIKey: "sk-upstream", Latency: 20 * time.Millisecond})
			up := httptest.NewServer(fake)
			t.Cleanup(up.Close)
			dataDir := t.TempDir()
			cfg := storage(t) + "logs: {flush_interval: 1h, batch_size: 10000, queue_size: 100000}\n"
			g := StartGateway(t, GatewayOptions{
				Env:    map[string]string{"OPENAI_API_KEY": "sk-upstream", "OPENAI_BASE_URL": up.URL + "/v1"},
				Config: cfg,
				Args:   []string{"--data-dir", dataDir},
			})

			var mu sync.Mutex
			answered := map[string]bool{}
			var sent atomic.Int64
			stop := make(chan struct{})
			var wg sync.WaitGroup
			client := &http.Client{Timeout: 30 * time.Second}
			for w := 0; w < 16; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						body := `{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"burst"}]`
						if i%3 == 0 {
							body += `,"stream":true`
						}
						sent.Add(1)
						resp, err := client.Post(g.URL+"/v1/chat/completions", "application/json", strings.NewReader(body+"}"))
						if err != nil {
							continue // refused once the listener closed
						}
						_, copyErr := io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode == 200 && copyErr == nil {
							mu.Lock()
							answered[resp.Header.Get("x-aig-log-id")] = true
							mu.Unlock()
						}
					}
				}(w)
			}
			// Let the burst run, then SIGTERM it in the middle.
			deadline := time.Now().Add(20 * time.Second)
			for {
				mu.Lock()
				n := len(answered)
				mu.Unlock()
				if n >= 300 || time.Now().After(deadline) {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			if err := g.Stop(t); err != nil {
				t.Fatalf("gateway exit: %v\n%s", err, g.Logs())
			}
			close(stop)
			wg.Wait()
			if !strings.Contains(g.Logs(), "request logs flushed") {
				t.Fatalf("no flush on SIGTERM:\n%s", g.Logs())
			}

			source := []string{"--data-dir", dataDir}
			if name == "postgres" {
				path := dataDir + "/cli.yaml"
				if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
					t.Fatal(err)
				}
				source = []string{"--config", path}
			}
			stored := queryAllLogs(t, nil, source...)
			mu.Lock()
			defer mu.Unlock()
			if len(answered) < 50 {
				t.Fatalf("only %d requests answered before the stop", len(answered))
			}
			missing := 0
			for id := range answered {
				if stored[id] == nil {
					missing++
				}
			}
			if missing > 0 {
				t.Fatalf("%d of %d answered requests have no log record (%d stored, %d sent)\n%s",
					missing, len(answered), len(stored), sent.Load(), g.Logs())
			}
			t.Logf("%d sent, %d answered, %d stored", sent.Load(), len(answered), len(stored))
		})
	}
}

func TestLogsCLIQueryAndTailARunningGateway(t *testing.T) {
	fake := providertest.NewFake(providertest.Options{APIKey: "sk-upstream"})
	up := httptest.NewServer(fake)
	t.Cleanup(up.Close)
	g := StartGateway(t, GatewayOptions{Env: map[string]string{
		"OPENAI_API_KEY": "sk-upstream", "OPENAI_BASE_URL": up.URL + "/v1", "AIGATEWAY_ADMIN_TOKEN": "adm",
	}, Config: "logs: {flush_interval: 50ms}\n"})
	send := func(model string) string {
		t.Helper()
		resp, err := http.Post(g.URL+"/v1/chat/completions", "application/json",
			strings.NewReader(`{"model":"`+model+`","messages":[{"role":"user","content":"cli"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.Header.Get("x-aig-log-id")
	}
	first := send("openai/gpt-4o-mini")
	failed := send("openai/error-500")
	remote := map[string]string{"AIGATEWAY_ADMIN_TOKEN": "adm"}

	var recs map[string]*usage.Record
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if recs = queryAllLogs(t, remote, "--url", g.URL); len(recs) == 2 {
			break
		}
	}
	if recs[first] == nil || recs[failed] == nil || recs[failed].Status != 500 {
		t.Fatalf("remote query: %v", recs)
	}
	code, table, stderr := runCLI(t, remote, "logs", "query", "--url", g.URL, "--status", "error")
	if code != 0 || !strings.Contains(table, "STATUS") || !strings.Contains(table, failed) || strings.Contains(table, first) {
		t.Fatalf("table query (exit %d, %s):\n%s", code, stderr, table)
	}
	if code, _, stderr := runCLI(t, remote, "logs", "query", "--url", g.URL, "--status", "teapot"); code != 2 || !strings.Contains(stderr, "status") {
		t.Fatalf("a bad filter must be a usage error: %d %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, nil, "logs", "query", "--url", g.URL); code != 1 || !strings.Contains(stderr, "admin-token") {
		t.Fatalf("remote without token: %d %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, map[string]string{"AIGATEWAY_ADMIN_TOKEN": "wrong"}, "logs", "query", "--url", g.URL); code != 1 || !strings.Contains(stderr, "401") {
		t.Fatalf("wrong token: %d %s", code, stderr)
	}

	// tail: the latest records first, then new ones as they are written
	tail := exec.Command(binary, "logs", "tail", "--url", g.URL, "--json", "--interval", "100ms")
	tail.Env = []string{"PATH=" + os.Getenv("PATH"), "AIGATEWAY_ADMIN_TOKEN=adm"}
	out, err := tail.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := tail.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tail.Process.Kill(); tail.Wait() })
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	want := map[string]bool{first: true, failed: true}
	var later string
	timeout := time.After(20 * time.Second)
	for len(want) > 0 {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("tail exited")
			}
			var r usage.Record
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatalf("tail line %q: %v", l, err)
			}
			if !want[r.ID] {
				t.Fatalf("unexpected or repeated record %s", r.ID)
			}
			delete(want, r.ID)
			if len(want) == 0 && later == "" {
				later = send("openai/gpt-4o-mini")
				want[later] = true
			}
		case <-timeout:
			t.Fatalf("tail did not show %v", want)
		}
	}
}

func TestLogsCLIReadsTheLocalStore(t *testing.T) {
	fake := providertest.NewFake(providertest.Options{APIKey: "sk-upstream"})
	up := httptest.NewServer(fake)
	t.Cleanup(up.Close)
	dataDir := t.TempDir()
	g := StartGateway(t, GatewayOptions{
		Env:  map[string]string{"OPENAI_API_KEY": "sk-upstream", "OPENAI_BASE_URL": up.URL + "/v1"},
		Args: []string{"--data-dir", dataDir},
	})
	resp, err := http.Post(g.URL+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"local"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	id := resp.Header.Get("x-aig-log-id")
	if err := g.Stop(t); err != nil {
		t.Fatal(err)
	}
	if recs := queryAllLogs(t, nil, "--data-dir", dataDir); recs[id] == nil || recs[id].ServedModel != "gpt-4o-mini" {
		t.Fatalf("local store: %v", recs)
	}
}
