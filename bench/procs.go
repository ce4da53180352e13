package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"regexp"
	"sync"
	"syscall"
	"time"
)

// proc is a child process of the harness (fake, floor, nginx, gateway).
type proc struct {
	name   string
	cmd    *exec.Cmd
	out    *tail
	exited chan struct{}
	err    error
}

// tail keeps the last bytes a process wrote, for error messages.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if n := len(t.buf); n > 16<<10 {
		t.buf = append(t.buf[:0], t.buf[n-16<<10:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// startProc starts cmd in its own process group (so stopping it also stops
// its children, e.g. nginx workers) and, when addrRE is set, waits until a
// line of its output matches and returns the first submatch.
func startProc(name string, cmd *exec.Cmd, addrRE *regexp.Regexp, timeout time.Duration) (*proc, string, error) {
	p := &proc{name: name, cmd: cmd, out: &tail{}, exited: make(chan struct{})}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("starting %s: %w", name, err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			p.out.Write([]byte(line + "\n"))
			if !sent && addrRE != nil {
				if m := addrRE.FindStringSubmatch(line); m != nil {
					addr <- m[1]
					sent = true
				}
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	go func() {
		p.err = cmd.Wait()
		pw.Close()
		close(p.exited)
	}()
	if addrRE == nil {
		return p, "", nil
	}
	select {
	case a := <-addr:
		return p, a, nil
	case <-p.exited:
		return nil, "", fmt.Errorf("%s exited before listening (%v):\n%s", name, p.err, p.out)
	case <-time.After(timeout):
		p.stop()
		return nil, "", fmt.Errorf("%s did not start within %v:\n%s", name, timeout, p.out)
	}
}

// pid is the process id of the child.
func (p *proc) pid() int { return p.cmd.Process.Pid }

// stop asks the process group to terminate and kills it after a grace
// period.
func (p *proc) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(3 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.exited
	}
}

// alive reports an error when the process has exited.
func (p *proc) alive() error {
	select {
	case <-p.exited:
		return fmt.Errorf("%s exited (%v):\n%s", p.name, p.err, p.out)
	default:
		return nil
	}
}

// waitTCP waits until addr accepts connections.
func waitTCP(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// freePort returns a loopback address that was free a moment ago (for
// nginx, which cannot report a port it picked itself).
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

var errSkip = errors.New("skipped")
