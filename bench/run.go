package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// runScenario starts the fake and the targets the scenario wants, measures
// them and stops them.
func (h *harness) runScenario(sc scenario) scenarioReport {
	sr := scenarioReport{Name: sc.Name, What: sc.What, Conns: sc.Conns, Stream: sc.Stream}
	if sc.Needs != "" {
		sr.Skipped = "not available yet: needs " + sc.Needs
		return sr
	}
	fmt.Fprintf(os.Stderr, "bench: %s\n", sc.Name)
	if sc.LogRate > 0 {
		lr, foreign, err := h.measureLogPath(sc)
		if err != nil {
			sr.Error = err.Error()
			return sr
		}
		sr.Log, sr.ForeignCPU = lr, foreign
		return sr
	}
	var procs []*proc
	defer func() {
		for _, p := range procs {
			p.stop()
		}
		h.track(nil)
	}()
	fake, fakeAddr, err := h.startFake(sc.Fake)
	if err != nil {
		sr.Error = err.Error()
		return sr
	}
	procs = append(procs, fake)
	h.track(procs)
	fakeURL := "http://" + fakeAddr

	targets := []*target{{name: targetDirect, addr: fakeAddr}}
	want := func(name string) bool { return h.targets[name] && sc.wants(name) }
	conns := max(sc.Conns, h.set.Streams)
	starters := []struct {
		name  string
		start func() (*target, error)
	}{
		{targetFloor, func() (*target, error) { return h.startFloor(fakeURL) }},
		{targetNginx, func() (*target, error) { return h.startNginx(fakeAddr, sc.Stream, conns) }},
		{targetGateway, func() (*target, error) {
			return h.startGateway(sc.gatewayConfig(), fakeURL+"/v1", sc.GatewayCheck != nil)
		}},
	}
	for _, s := range starters {
		if !want(s.name) {
			continue
		}
		t, err := s.start()
		if err == errSkip {
			continue
		}
		if err != nil {
			sr.Error = fmt.Sprintf("starting %s: %v", s.name, err)
			return sr
		}
		procs = append(procs, t.procs...)
		h.track(procs)
		targets = append(targets, t)
	}
	reports := make(map[string]*targetReport, len(targets))
	for _, t := range targets {
		t.req = sc.request(t)
		r := &targetReport{Target: t.name}
		if len(t.pids) > 0 {
			if kb, err := memKB(t.pids, "VmRSS"); err == nil {
				r.IdleRSSMB = float64(kb) / 1024
			}
		}
		reports[t.name] = r
	}
	// one request each must succeed before anything is measured (slow
	// streams are checked by holding them open)
	for _, t := range targets {
		if sc.OpenStreams {
			break
		}
		if err := probe(t, sc.Stream); err != nil {
			sr.Error = fmt.Sprintf("%s: %v", t.name, err)
			return sr
		}
		if t.name == targetGateway && sc.GatewayExpect[0] != "" {
			if err := expectHeader(t, sc.GatewayExpect); err != nil {
				sr.Error = fmt.Sprintf("%s: %v", t.name, err)
				return sr
			}
		}
		if t.name == targetGateway && sc.GatewayCheck != nil {
			if err := sc.GatewayCheck(t); err != nil {
				sr.Error = fmt.Sprintf("%s: %v", t.name, err)
				return sr
			}
		}
	}
	ours := []int{os.Getpid(), fake.pid()}
	var foreign, total int64
	if sc.OpenStreams {
		foreign, total = h.measureStreams(targets, reports, sc, ours)
	} else {
		stop := h.profileGateway(targets, sc, len(targets))
		foreign, total = h.measureLoad(targets, reports, sc, ours)
		stop()
	}
	if total > 0 {
		sr.ForeignCPU = float64(max(foreign, 0)) / float64(total)
	}
	for _, t := range targets {
		r := reports[t.name]
		if err := t.alive(); err != nil {
			sr.Error = err.Error()
		}
		if len(t.pids) > 0 {
			if kb, err := memKB(t.pids, "VmHWM"); err == nil {
				r.PeakRSSMB = float64(kb) / 1024
			}
		}
		if t.name == targetGateway {
			if lc, err := scrapeLogCounters(t.addr); err != nil {
				r.FirstError = joinErr(r.FirstError, "metrics: "+err.Error())
			} else {
				r.RequestLog = lc
			}
		}
		if t.name == targetGateway && h.allocs && !sc.OpenStreams {
			a, err := measureAllocs(sc, fakeURL+"/v1", filepath.Join(h.tmp, "allocs-"+sc.Name), time.Second, 5000)
			if err != nil {
				r.FirstError = "allocs: " + err.Error()
			} else {
				r.AllocsPerReq, r.BytesPerReq = a.Allocs, a.Bytes
			}
		}
		sr.Targets = append(sr.Targets, *r)
	}
	return sr
}

// probe sends one request and checks the answer.
func probe(t *target, stream bool) error {
	c, err := dial(t.addr)
	if err != nil {
		return err
	}
	defer c.Close()
	resp, _, err := c.do(t.req, nil)
	if err != nil {
		return err
	}
	if resp.Status != 200 {
		return fmt.Errorf("probe request answered %d", resp.Status)
	}
	if stream && !resp.Done {
		return fmt.Errorf("probe stream did not end with [DONE]")
	}
	return nil
}

// expectHeader sends the target's request once more with net/http and
// checks one response header.
func expectHeader(t *target, want [2]string) error {
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(t.req)))
	if err != nil {
		return err
	}
	req.RequestURI, req.URL.Scheme, req.URL.Host = "", "http", t.addr
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if got := resp.Header.Get(want[0]); got != want[1] {
		return fmt.Errorf("%s is %q, want %q: the scenario does not measure what it says", want[0], got, want[1])
	}
	return nil
}

// accum sums a target's rounds.
type accum struct {
	res    loadResult
	rounds []float64
	ticks  int64
}

// measureLoad runs the closed-loop rounds, rotating the order of targets
// each round so none is always measured first or last. It returns the
// machine's CPU ticks spent by other processes, and all ticks, during the
// windows.
func (h *harness) measureLoad(targets []*target, reports map[string]*targetReport, sc scenario, ours []int) (foreign, total int64) {
	acc := make(map[string]*accum, len(targets))
	for _, t := range targets {
		acc[t.name] = &accum{}
	}
	for round := 0; round < h.set.Rounds; round++ {
		for i := range targets {
			t := targets[(i+round)%len(targets)]
			var c0, c1 int64
			var m0, m1 cpuSample
			counted := append(append([]int(nil), ours...), t.pids...)
			res := runLoad(loadSpec{
				Addr: t.addr, Req: t.req, Conns: sc.Conns, Stream: sc.Stream,
				Warmup:      time.Duration(h.set.WarmupS * float64(time.Second)),
				Duration:    time.Duration(h.set.DurationS * float64(time.Second)),
				MaxRequests: h.set.MaxRequests,
				Window: func(start bool) {
					c, _ := cpuTicks(t.pids)
					m := sampleCPU(counted)
					if start {
						c0, m0 = c, m
					} else {
						c1, m1 = c, m
					}
				},
			})
			a := acc[t.name]
			a.ticks += c1 - c0
			foreign += (m1.busy - m0.busy) - (m1.ours - m0.ours)
			total += m1.total - m0.total
			a.rounds = append(a.rounds, float64(res.Requests)/res.Window.Seconds())
			a.res.Requests += res.Requests
			a.res.Errors += res.Errors
			a.res.Window += res.Window
			a.res.Events += res.Events
			a.res.Latencies = append(a.res.Latencies, res.Latencies...)
			a.res.TTFT = append(a.res.TTFT, res.TTFT...)
			a.res.Gaps = append(a.res.Gaps, res.Gaps...)
			if a.res.FirstErr == "" {
				a.res.FirstErr = res.FirstErr
			}
		}
	}
	for _, t := range targets {
		a, r := acc[t.name], reports[t.name]
		r.Requests, r.Errors, r.FirstError = a.res.Requests, a.res.Errors, a.res.FirstErr
		if a.res.Window > 0 {
			r.RPS = float64(a.res.Requests) / a.res.Window.Seconds()
		}
		r.RPSRounds, r.Spread = a.rounds, spread(a.rounds)
		r.LatencyMS = percentiles(a.res.Latencies)
		if sc.Stream {
			r.TTFTMS = percentiles(a.res.TTFT)
			r.GapMS = percentiles(a.res.Gaps)
			if a.res.Requests > 0 {
				r.EventsPerReply = float64(a.res.Events) / float64(a.res.Requests)
			}
		}
		if len(t.pids) > 0 && a.res.Requests > 0 {
			sec := float64(a.ticks) / clockTicks
			r.CPUSecPer1k = sec / float64(a.res.Requests) * 1000
			r.CPUUsPerReq = sec / float64(a.res.Requests) * 1e6
		}
	}
	direct := reports[targetDirect]
	for _, t := range targets {
		r := reports[t.name]
		if t.name == targetDirect {
			continue
		}
		if direct.RPS > 0 {
			r.VsDirect = r.RPS / direct.RPS
		}
		r.AddedMS = minus(r.LatencyMS, direct.LatencyMS)
		r.AddedTTFTMS = minus(r.TTFTMS, direct.TTFTMS)
		r.AddedGapMS = minus(r.GapMS, direct.GapMS)
	}
	return foreign, total
}

// measureStreams holds the scenario's slow streams open against each
// target in turn and reads the proxy's memory while they are open.
func (h *harness) measureStreams(targets []*target, reports map[string]*targetReport, sc scenario, ours []int) (foreign, total int64) {
	for _, t := range targets {
		r := reports[t.name]
		var before int64
		if len(t.pids) > 0 {
			before, _ = memKB(t.pids, "VmRSS")
		}
		counted := append(append([]int(nil), ours...), t.pids...)
		m0 := sampleCPU(counted)
		res := runStreams(streamsSpec{
			Addr: t.addr, Req: t.req, N: h.set.Streams, Parallel: 64, Timeout: 60 * time.Second,
			Progress: 4 * sc.Fake.ChunkDelay,
			Opened: func() {
				if len(t.pids) == 0 {
					return
				}
				if t.name == targetGateway {
					h.fetchProfile(t, "heap?gc=1", sc.Name+"-gateway.heap.pprof")
				}
				// let the last streams settle before reading
				time.Sleep(500 * time.Millisecond)
				if kb, err := memKB(t.pids, "VmRSS"); err == nil {
					r.OpenRSSMB = float64(kb) / 1024
					if n := h.set.Streams; n > 0 {
						r.KBPerStream = float64(kb-before) / float64(n)
					}
				}
			},
		})
		m1 := sampleCPU(counted)
		foreign += (m1.busy - m0.busy) - (m1.ours - m0.ours)
		total += m1.total - m0.total
		r.StreamsOpen, r.StreamsFailed, r.StreamsStalled = res.Opened, res.Failed, res.Stalled
		r.OpenSeconds = res.OpenTime.Seconds()
		r.TTFTMS = percentiles(res.TTFT)
		r.Errors = int64(res.Failed + res.Stalled)
		r.FirstError = res.FirstErr
	}
	direct := reports[targetDirect]
	for _, t := range targets {
		if t.name != targetDirect {
			reports[t.name].AddedTTFTMS = minus(reports[t.name].TTFTMS, direct.TTFTMS)
		}
	}
	return foreign, total
}

// cpuSample is the machine's CPU time and the harness's own share of it.
type cpuSample struct {
	busy, total, ours int64
}

// sampleCPU reads /proc/stat and the CPU time of the given processes.
func sampleCPU(pids []int) cpuSample {
	var s cpuSample
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return s
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	// cpu user nice system idle iowait irq softirq steal guest guest_nice
	for i := 1; i < len(f) && i <= 8; i++ {
		v, _ := strconv.ParseInt(f[i], 10, 64)
		s.total += v
		if i != 4 && i != 5 {
			s.busy += v
		}
	}
	s.ours, _ = cpuTicks(pids)
	return s
}
