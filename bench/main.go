// Command bench is aigateway's benchmark harness. One command
//
//	go run ./bench
//
// builds the gateway, starts a fake OpenAI upstream, the gateway binary in
// front of it, a bare httputil.ReverseProxy (the floor) and nginx (a
// reference, when installed), and drives each with a closed-loop load
// generator over loopback keep-alive connections. For every scenario and
// target it reports throughput at a fixed concurrency, latency percentiles,
// the latency added over calling the fake directly in the same run, CPU
// time per request and memory of the proxy process, and the gateway's heap
// allocations per request. Targets are measured in interleaved rounds so
// that a change in machine load hits all of them alike.
//
// The table goes to stdout, the full results as JSON to bench/results/.
// Everything is local and bounded in time; the default run takes about
// two and a half minutes. See bench/README.md.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 && strings.HasPrefix(os.Args[1], rolePrefix) {
		os.Exit(runRole(strings.TrimPrefix(os.Args[1], rolePrefix), os.Args[2:]))
	}
	os.Exit(run(os.Args[1:]))
}

// harness holds what a run shares across scenarios.
type harness struct {
	self       string // this binary, re-executed for the fake and floor roles
	tmp        string
	gatewayBin string
	nginx      string
	cpus       int
	nofile     uint64
	set        settings
	allocs     bool
	profileDir string
	targets    map[string]bool
	// live are the targets and fake of the running scenario, stopped on
	// interrupt.
	live chan []*proc
}

func run(args []string) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var (
		only       = fs.String("scenarios", "", "comma-separated scenario names to run (default: all but the extra ones); -list shows them")
		targets    = fs.String("targets", strings.Join(allTargets, ","), "comma-separated targets")
		rounds     = fs.Int("rounds", 3, "interleaved rounds per scenario (each target once per round)")
		duration   = fs.Duration("duration", time.Second, "measurement window per target and round")
		warmup     = fs.Duration("warmup", 200*time.Millisecond, "unrecorded load before each window")
		maxReq     = fs.Int64("max-requests", 200000, "upper bound on requests per window")
		streams    = fs.Int("streams", 5000, "streams held open by open-streams (lowered to fit the open-file limit)")
		out        = fs.String("out", "", "JSON results file (default bench/results/<time>.json)")
		nginxFlag  = fs.String("nginx", "auto", "nginx binary, or off")
		gatewayBin = fs.String("gateway-bin", "", "use this aigateway binary instead of building ./cmd/aigateway")
		allocs     = fs.Bool("allocs", true, "measure the gateway's allocations per request in-process")
		profile    = fs.String("profile", "", "write the gateway's CPU profile per scenario (and heap profile with open streams) to this `directory`, from its admin API")
		list       = fs.Bool("list", false, "list the scenarios and exit")
	)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: go run ./bench [flags]\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	all := scenarios()
	if *list {
		for _, s := range all {
			line := fmt.Sprintf("%-18s %s", s.Name, s.What)
			if s.Needs != "" {
				line += " [not available yet: needs " + s.Needs + "]"
			}
			if s.Extra {
				line += " [only when named: -scenarios " + s.Name + "]"
			}
			fmt.Println(line)
		}
		return 0
	}
	chosen, err := pick(all, *only)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 2
	}
	h := &harness{
		cpus:       runtime.NumCPU(),
		allocs:     *allocs,
		profileDir: *profile,
		targets:    map[string]bool{},
		live:       make(chan []*proc, 1),
		set: settings{Rounds: max(1, *rounds), DurationS: duration.Seconds(), WarmupS: warmup.Seconds(),
			MaxRequests: *maxReq, Streams: *streams},
	}
	for _, t := range strings.Split(*targets, ",") {
		if t = strings.TrimSpace(t); t != "" {
			h.targets[t] = true
		}
	}
	h.targets[targetDirect] = true // every comparison is against direct
	h.live <- nil
	if h.self, err = os.Executable(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	h.nofile = raiseFileLimit()
	if need := uint64(2*h.set.Streams + 512); h.nofile < need {
		h.set.Streams = max(100, int(h.nofile-512)/2)
		fmt.Fprintf(os.Stderr, "bench: open-file limit %d; holding %d streams instead\n", h.nofile, h.set.Streams)
	}
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	if h.tmp, err = os.MkdirTemp("", "aigateway-bench"); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	defer os.RemoveAll(h.tmp)
	stopOnSignal(h)

	rep := &report{Started: time.Now(), Machine: describeMachine(), Settings: h.set, Commit: gitCommit(root)}
	h.nginx = findNginx(*nginxFlag)
	switch {
	case !h.targets[targetNginx]:
		rep.NginxStatus = "not selected"
	case h.nginx == "":
		rep.NginxStatus = "not installed: skipped (apt-get install nginx to add the reference)"
	default:
		rep.NginxStatus = h.nginx
	}
	h.gatewayBin = *gatewayBin
	if h.gatewayBin == "" {
		h.gatewayBin = filepath.Join(h.tmp, "aigateway")
		fmt.Fprintln(os.Stderr, "bench: building ./cmd/aigateway")
		if err := buildGateway(root, h.gatewayBin); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return 1
		}
	}
	rep.LoadBefore = loadAvg()
	fmt.Printf("# aigateway benchmark — %s, %d CPUs (%s), %s, load average %.2f\n",
		rep.Started.Format(time.RFC3339), rep.Machine.CPUs, rep.Machine.CPUModel, rep.Machine.Go, rep.LoadBefore)
	fmt.Printf("# %d rounds × %v per target (after %v warm-up), interleaved; nginx: %s\n",
		h.set.Rounds, *duration, *warmup, rep.NginxStatus)
	fmt.Printf("# latencies in ms; +X = added over direct in the same run; ± = spread of throughput across rounds;\n")
	fmt.Printf("# cpu s/1k = CPU seconds of the proxy process(es) per 1,000 requests; allocs = gateway heap allocations per request (in-process)\n")
	failed := false
	for _, sc := range chosen {
		sr := h.runScenario(sc)
		if sr.Error != "" {
			failed = true
		}
		printScenario(os.Stdout, &sr, sc)
		rep.Scenarios = append(rep.Scenarios, sr)
	}
	rep.Goals = judgeGoals(rep)
	printGoals(os.Stdout, rep.Goals)
	rep.LoadAfter = loadAvg()
	rep.Seconds = time.Since(rep.Started).Seconds()
	path := *out
	if path == "" {
		path = filepath.Join(root, "bench", "results", rep.Started.Format("20060102-150405")+".json")
	}
	if err := writeJSON(path, rep); err != nil {
		fmt.Fprintln(os.Stderr, "bench: writing results:", err)
		return 1
	}
	fmt.Printf("\n# done in %.0f s; load average %.2f before, %.2f after; results: %s\n", rep.Seconds, rep.LoadBefore, rep.LoadAfter, path)
	if failed {
		return 1
	}
	return 0
}

// pick selects scenarios by name.
func pick(all []scenario, only string) ([]scenario, error) {
	if only == "" {
		var out []scenario
		for _, s := range all {
			if !s.Extra {
				out = append(out, s)
			}
		}
		return out, nil
	}
	var out []scenario
	for _, name := range strings.Split(only, ",") {
		name = strings.TrimSpace(name)
		found := false
		for _, s := range all {
			if s.Name == name {
				out = append(out, s)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("no scenario %q (-list shows them)", name)
		}
	}
	return out, nil
}

// raiseFileLimit lifts the soft open-file limit to the hard one (children
// inherit it) and returns it.
func raiseFileLimit() uint64 {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 1024
	}
	if l.Cur < l.Max {
		l.Cur = l.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
			_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l)
		}
	}
	return l.Cur
}

// stopOnSignal stops the running children when the harness is interrupted.
func stopOnSignal(h *harness) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		procs := <-h.live
		for _, p := range procs {
			p.stop()
		}
		os.RemoveAll(h.tmp)
		os.Exit(130)
	}()
}

// track records the children of the running scenario.
func (h *harness) track(procs []*proc) {
	<-h.live
	h.live <- procs
}

func gitCommit(root string) string {
	cmd := exec.Command("git", "describe", "--always", "--dirty")
	cmd.Dir = root
	b, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
