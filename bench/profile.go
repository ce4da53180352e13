package main

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// adminToken unlocks the gateway's admin API when -profile is set.
const adminToken = "bench-admin-token"

// profileGateway starts a CPU profile of the gateway covering the
// scenario's measurement (the profile only samples while the gateway works,
// so the other targets' turns add nothing) and returns a function that
// waits for it to be written.
func (h *harness) profileGateway(targets []*target, sc scenario, n int) (wait func()) {
	var gw *target
	for _, t := range targets {
		if t.name == targetGateway {
			gw = t
		}
	}
	if h.profileDir == "" || gw == nil {
		return func() {}
	}
	secs := int(math.Ceil(float64(h.set.Rounds*n)*(h.set.DurationS+h.set.WarmupS))) + 1
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.fetchProfile(gw, fmt.Sprintf("profile?seconds=%d", secs), sc.Name+"-gateway.cpu.pprof")
	}()
	return func() { <-done }
}

// fetchProfile saves one profile from the gateway's admin API; a failure
// is reported and does not stop the run.
func (h *harness) fetchProfile(t *target, query, name string) {
	if h.profileDir == "" {
		return
	}
	if err := os.MkdirAll(h.profileDir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "bench: profile:", err)
		return
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+t.addr+"/admin/v1/debug/pprof/"+query, nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	client := &http.Client{Timeout: 10 * time.Minute}
	resp, err := client.Do(req)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: profile:", err)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		fmt.Fprintf(os.Stderr, "bench: profile %s: %d %s\n", query, resp.StatusCode, b)
		return
	}
	path := filepath.Join(h.profileDir, name)
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: profile:", err)
		return
	}
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil {
		fmt.Fprintln(os.Stderr, "bench: profile:", err)
		return
	}
	fmt.Fprintf(os.Stderr, "bench: wrote %s (go tool pprof %s)\n", path, path)
}
