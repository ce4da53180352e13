// Package e2e tests the real aigateway binary: it is built once, started as
// a process against in-process fake providers, and driven over HTTP with
// the official SDKs.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the path of the aigateway binary built by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "aigateway-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "aigateway")
	build := exec.Command("go", "build", "-race", "-o", binary, "../../cmd/aigateway")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building aigateway:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Gateway is a running aigateway process.
type Gateway struct {
	URL    string
	cmd    *exec.Cmd
	stderr *syncBuffer
	exited chan error
}

// syncBuffer collects the process's stderr.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// GatewayOptions say how to start the binary.
type GatewayOptions struct {
	// Env is the process environment (nothing is inherited but PATH/HOME).
	Env map[string]string
	// Config, when set, is written to a file and passed with --config.
	Config string
	// Args are extra arguments after "serve".
	Args []string
}

var listeningRE = regexp.MustCompile(`addr=(\S+)`)

// StartGateway runs "aigateway serve" on a free loopback port and waits
// until it answers /healthz. The process is stopped when the test ends.
func StartGateway(t *testing.T, o GatewayOptions) *Gateway {
	t.Helper()
	dir := t.TempDir()
	args := []string{"serve", "--listen", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data")}
	if o.Config != "" {
		path := filepath.Join(dir, "aigateway.yaml")
		if err := os.WriteFile(path, []byte(o.Config), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--config", path)
	}
	args = append(args, o.Args...)
	cmd := exec.Command(binary, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range o.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stderr := &syncBuffer{}
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	g := &Gateway{cmd: cmd, stderr: stderr, exited: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			stderr.Write([]byte(line + "\n"))
			if strings.Contains(line, "aigateway listening") {
				if m := listeningRE.FindStringSubmatch(line); m != nil {
					addr <- m[1]
				}
			}
		}
	}()
	go func() { g.exited <- cmd.Wait(); pw.Close() }()
	t.Cleanup(func() { g.Stop(t) })
	select {
	case a := <-addr:
		g.URL = "http://" + a
	case err := <-g.exited:
		t.Fatalf("gateway exited before listening (%v):\n%s", err, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("gateway did not start:\n%s", stderr.String())
	}
	waitHealthy(t, g)
	return g
}

func waitHealthy(t *testing.T, g *Gateway) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(g.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("gateway not healthy:\n%s", g.stderr.String())
}

// Stop sends SIGTERM and waits for the process to exit.
func (g *Gateway) Stop(t *testing.T) error {
	if g.cmd.ProcessState != nil {
		return nil
	}
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-g.exited:
		g.exited <- err
		return err
	case <-time.After(30 * time.Second):
		_ = g.cmd.Process.Kill()
		t.Errorf("gateway did not stop on SIGTERM:\n%s", g.stderr.String())
		return context.DeadlineExceeded
	}
}

// Logs returns what the process wrote to stderr so far.
func (g *Gateway) Logs() string { return g.stderr.String() }

// runCLI runs the binary with args and returns its exit code and output.
func runCLI(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("%v did not finish", args)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}
