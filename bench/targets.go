package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Target names, in the order they are reported.
const (
	targetDirect  = "direct"
	targetFloor   = "floor"
	targetNginx   = "nginx"
	targetGateway = "gateway"
)

var allTargets = []string{targetDirect, targetFloor, targetNginx, targetGateway}

// target is one thing the load generator sends requests to.
type target struct {
	name  string
	addr  string
	req   []byte // the whole HTTP request
	procs []*proc
	// pids are the processes whose CPU and memory are the target's cost
	// (none for direct: the fake is the baseline, not a proxy).
	pids []int
}

func (t *target) alive() error {
	for _, p := range t.procs {
		if err := p.alive(); err != nil {
			return err
		}
	}
	return nil
}

var listeningRE = regexp.MustCompile(`^listening (\S+)`)

// startFake starts the fake upstream with the scenario's pacing.
func (h *harness) startFake(o fakeOptions) (*proc, string, error) {
	cmd := exec.Command(h.self, rolePrefix+"fake",
		"-latency", o.Latency.String(), "-chunk-delay", o.ChunkDelay.String(),
		"-reply-words", strconv.Itoa(o.replyWords()))
	return startProc("fake", cmd, listeningRE, 10*time.Second)
}

// startFloor starts the bare httputil.ReverseProxy in front of the fake.
func (h *harness) startFloor(fakeURL string) (*target, error) {
	cmd := exec.Command(h.self, rolePrefix+"floor", "-upstream", fakeURL)
	p, addr, err := startProc("floor", cmd, listeningRE, 10*time.Second)
	if err != nil {
		return nil, err
	}
	return &target{name: targetFloor, addr: addr, procs: []*proc{p}, pids: []int{p.pid()}}, nil
}

// nginxConf is a reference reverse-proxy configuration: upstream
// keep-alive, no access log, request bodies held in memory; response
// buffering off for streams (as an LLM proxy must), on otherwise.
const nginxConf = `daemon off;
master_process on;
worker_processes {{workers}};
{{user}}
pid {{dir}}/nginx.pid;
error_log {{dir}}/error.log warn;
worker_rlimit_nofile {{nofile}};
events {
    worker_connections {{connections}};
}
http {
    access_log off;
    client_body_temp_path {{dir}}/client_body;
    proxy_temp_path {{dir}}/proxy;
    fastcgi_temp_path {{dir}}/fastcgi;
    uwsgi_temp_path {{dir}}/uwsgi;
    scgi_temp_path {{dir}}/scgi;
    client_max_body_size 16m;
    client_body_buffer_size 1m;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
    upstream fake {
        server {{upstream}};
        keepalive 1024;
        keepalive_requests 1000000;
    }
    server {
        listen {{listen}} backlog=4096;
        location / {
            proxy_pass http://fake;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering {{buffering}};
            proxy_read_timeout 300s;
        }
    }
}
`

// startNginx starts nginx in front of the fake, or returns errSkip when it
// is not installed.
func (h *harness) startNginx(fakeAddr string, stream bool, conns int) (*target, error) {
	if h.nginx == "" {
		return nil, errSkip
	}
	dir, err := os.MkdirTemp(h.tmp, "nginx")
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	listen, err := freePort()
	if err != nil {
		return nil, err
	}
	user := ""
	if os.Geteuid() == 0 {
		// workers would drop to "nobody" and lose access to the temp dir
		user = "user root;"
	}
	buffering := "on"
	if stream {
		buffering = "off"
	}
	nofile := h.nofile
	conf := strings.NewReplacer(
		"{{workers}}", strconv.Itoa(h.cpus),
		"{{user}}", user,
		"{{dir}}", dir,
		"{{nofile}}", strconv.FormatUint(nofile, 10),
		"{{connections}}", strconv.Itoa(max(1024, 2*conns+256)),
		"{{upstream}}", fakeAddr,
		"{{listen}}", listen,
		"{{buffering}}", buffering,
	).Replace(nginxConf)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(h.nginx, "-e", filepath.Join(dir, "error.log"), "-p", dir, "-c", path)
	p, _, err := startProc("nginx", cmd, nil, 0)
	if err != nil {
		return nil, err
	}
	if err := waitTCP(listen, 10*time.Second); err != nil {
		p.stop()
		log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
		return nil, fmt.Errorf("nginx did not start: %v\n%s%s", err, p.out, log)
	}
	// the master and its workers
	var pids []int
	deadline := time.Now().Add(5 * time.Second)
	for {
		pids = append([]int{p.pid()}, childPIDs(p.pid())...)
		if len(pids) > h.cpus || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return &target{name: targetNginx, addr: listen, procs: []*proc{p}, pids: pids}, nil
}

// gatewayListeningRE finds the address in the gateway's startup log line.
var gatewayListeningRE = regexp.MustCompile(`aigateway listening.*addr=(\S+)`)

// startGateway runs the real aigateway binary with the scenario's config,
// the way users run it.
func (h *harness) startGateway(configYAML, fakeURL string, admin bool) (*target, error) {
	dir, err := os.MkdirTemp(h.tmp, "gateway")
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "aigateway.yaml")
	if err := os.WriteFile(path, []byte(configYAML), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(h.gatewayBin, "serve", "--listen", "127.0.0.1:0",
		"--config", path, "--data-dir", filepath.Join(dir, "data"))
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "BENCH_FAKE_URL=" + fakeURL}
	if h.profileDir != "" || admin {
		// profiles and checks use the admin API, which needs a token
		cmd.Env = append(cmd.Env, "AIGATEWAY_ADMIN_TOKEN="+adminToken)
	}
	p, addr, err := startProc("gateway", cmd, gatewayListeningRE, 30*time.Second)
	if err != nil {
		return nil, err
	}
	if err := waitTCP(addr, 10*time.Second); err != nil {
		p.stop()
		return nil, fmt.Errorf("gateway not reachable: %w\n%s", err, p.out)
	}
	return &target{name: targetGateway, addr: addr, procs: []*proc{p}, pids: []int{p.pid()}}, nil
}

// buildGateway builds ./cmd/aigateway from the module at root.
func buildGateway(root, out string) error {
	cmd := exec.Command("go", "build", "-o", out, "./cmd/aigateway")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("building the gateway: %w", err)
	}
	return nil
}

// moduleRoot finds the directory holding go.mod, from the working
// directory up.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory; run from the repository")
		}
		dir = parent
	}
}

// findNginx returns the nginx binary: the flag's value, or the one on PATH
// or in /usr/sbin; "" when absent or disabled.
func findNginx(flagValue string) string {
	switch flagValue {
	case "off", "none":
		return ""
	case "", "auto":
		if p, err := exec.LookPath("nginx"); err == nil {
			return p
		}
		for _, p := range []string{"/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"} {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
		return ""
	}
	return flagValue
}
