package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// The performance targets of issue 10, judged from one run's report. Each
// is a ratio or a bound measured in the same run; a target whose scenario
// did not run (or failed) is "not measured", never met by default.

// goalResult is one target's verdict.
type goalResult struct {
	Goal     string `json:"goal"`
	Scenario string `json:"scenario"`
	Measured string `json:"measured"`
	// Verdict is met, not met or not measured.
	Verdict string `json:"verdict"`
}

const (
	goalMet         = "met"
	goalNotMet      = "not met"
	goalNotMeasured = "not measured"
)

// judgeGoals evaluates every target against the report's scenarios.
func judgeGoals(r *report) []goalResult {
	byName := map[string]*scenarioReport{}
	for i := range r.Scenarios {
		s := &r.Scenarios[i]
		if s.Skipped == "" && s.Error == "" {
			byName[s.Name] = s
		}
	}
	target := func(scenario, name string) *targetReport {
		s := byName[scenario]
		if s == nil {
			return nil
		}
		for i := range s.Targets {
			if s.Targets[i].Target == name {
				return &s.Targets[i]
			}
		}
		return nil
	}
	var out []goalResult
	add := func(goal, scenario string, measured bool, met bool, format string, args ...any) {
		g := goalResult{Goal: goal, Scenario: scenario, Verdict: verdict(measured, met)}
		if measured {
			g.Measured = fmt.Sprintf(format, args...)
		}
		out = append(out, g)
	}

	// full policy path, 50 connections: ≥ 0.5× nginx (about 2.5× the floor)
	{
		gw, ng, fl := target("full-policy-c50", targetGateway), target("full-policy-c50", targetNginx), target("full-policy-c50", targetFloor)
		ok := gw != nil && ng != nil && gw.RPS > 0 && ng.RPS > 0
		var x, xf float64
		if ok {
			x = gw.RPS / ng.RPS
			if fl != nil && fl.RPS > 0 {
				xf = gw.RPS / fl.RPS
			}
		}
		add("full policy path, 50 conns: throughput ≥ 0.5× nginx", "full-policy-c50", ok, x >= 0.5,
			"%.2f× nginx (%.2f× floor)", x, xf)
	}
	// added latency at one connection, with every feature on and without
	for _, sc := range []string{"full-policy-c1", "chat-c1"} {
		gw := target(sc, targetGateway)
		ok := gw != nil && gw.AddedMS != nil
		var p50, p99 float64
		if ok {
			p50, p99 = gw.AddedMS.P50, gw.AddedMS.P99
		}
		add("added latency, 1 conn: p50 ≤ 0.15 ms, p99 ≤ 1 ms", sc, ok, p50 <= 0.15 && p99 <= 1,
			"+%.3f ms p50, +%.3f ms p99", p50, p99)
	}
	// streaming: added time to first token, and events never coalesced
	{
		gw, d := target("stream-c1", targetGateway), target("stream-c1", targetDirect)
		ok := gw != nil && gw.AddedTTFTMS != nil
		var p50 float64
		if ok {
			p50 = gw.AddedTTFTMS.P50
		}
		add("streaming: added time to first token p50 ≤ 0.3 ms", "stream-c1", ok, p50 <= 0.3, "+%.3f ms", p50)
		ok = gw != nil && d != nil && d.EventsPerReply > 0
		var ev, dev float64
		if ok {
			ev, dev = gw.EventsPerReply, d.EventsPerReply
		}
		add("streaming: events forwarded as they arrive, never coalesced", "stream-c1", ok, ev >= dev,
			"%.1f events per reply (direct %.1f)", ev, dev)
	}
	// CPU per request on the full policy path
	{
		gw := target("full-policy-c50", targetGateway)
		ok := gw != nil && gw.CPUUsPerReq > 0
		var us float64
		if ok {
			us = gw.CPUUsPerReq
		}
		add("gateway CPU per non-streamed request ≤ 80 µs, full policy path", "full-policy-c50", ok, us <= 80, "%.0f µs", us)
	}
	// cache hit vs miss through the gateway
	{
		hit, miss := target("cache-hit-c50", targetGateway), target("chat-c50", targetGateway)
		ok := hit != nil && miss != nil && hit.RPS > 0 && miss.RPS > 0
		var x float64
		if ok {
			x = hit.RPS / miss.RPS
		}
		add("cache hit throughput ≥ 1.5× a miss", "cache-hit-c50 / chat-c50", ok, x >= 1.5, "%.2f×", x)
	}
	// memory: idle RSS, the highest over the scenarios' configurations
	{
		var worst float64
		var where string
		for _, s := range r.Scenarios {
			if gw := target(s.Name, targetGateway); gw != nil && gw.IdleRSSMB > worst {
				worst, where = gw.IdleRSSMB, s.Name
			}
		}
		add("gateway idle RSS ≤ 30 MB (highest over the scenarios)", where, worst > 0, worst <= 30, "%.1f MB", worst)
	}
	{
		goal := "5,000 open streams ≤ 300 MB RSS"
		gw := target("open-streams", targetGateway)
		if gw == nil || gw.OpenRSSMB == 0 {
			add(goal, "open-streams", false, false, "")
		} else {
			full := gw.StreamsOpen >= 5000
			g := goalResult{Goal: goal, Scenario: "open-streams", Verdict: verdict(full, gw.OpenRSSMB <= 300),
				Measured: fmt.Sprintf("%.0f MB with %d open", gw.OpenRSSMB, gw.StreamsOpen)}
			if !full {
				g.Measured += " (fewer than 5,000: raise the open-file limit)"
			}
			out = append(out, g)
		}
	}
	// logging keeps up with 10,000 requests/s on SQLite without drops
	{
		s := byName["log-10k"]
		ok := s != nil && s.Log != nil && !strings.HasPrefix(s.Log.Verdict, "not measured")
		met, measured := false, ""
		if s != nil && s.Log != nil {
			met, measured = s.Log.Met, s.Log.Verdict
		}
		out = append(out, goalResult{Goal: "logging keeps up with 10,000 requests/s on SQLite without drops",
			Scenario: "log-10k", Measured: measured, Verdict: verdict(ok, met)})
	}
	// and the gateway itself dropped no record in any scenario
	{
		var dropped, spilled int64
		var seen []string
		for _, s := range r.Scenarios {
			if gw := target(s.Name, targetGateway); gw != nil && gw.RequestLog != nil {
				dropped += gw.RequestLog.Dropped
				spilled += gw.RequestLog.Spilled
				seen = append(seen, s.Name)
			}
		}
		add("the gateway's request log dropped nothing under load", fmt.Sprintf("%d gateway scenarios", len(seen)), len(seen) > 0,
			dropped == 0, "%d dropped, %d spilled (from its /metrics)", dropped, spilled)
	}
	return out
}

func verdict(measured, met bool) string {
	switch {
	case !measured:
		return goalNotMeasured
	case met:
		return goalMet
	}
	return goalNotMet
}

// printGoals writes the targets' verdicts.
func printGoals(w io.Writer, goals []goalResult) {
	fmt.Fprintf(w, "\n## targets of issue 10 (this run)\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "verdict\ttarget\tscenario\tmeasured")
	for _, g := range goals {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", g.Verdict, g.Goal, g.Scenario, g.Measured)
	}
	tw.Flush()
}
