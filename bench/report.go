package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// report is the JSON written for tracking over time.
type report struct {
	Started     time.Time        `json:"started"`
	Seconds     float64          `json:"seconds"`
	Commit      string           `json:"commit,omitempty"`
	Machine     machine          `json:"machine"`
	Settings    settings         `json:"settings"`
	LoadBefore  float64          `json:"loadavg_before"`
	LoadAfter   float64          `json:"loadavg_after"`
	NginxStatus string           `json:"nginx"`
	Scenarios   []scenarioReport `json:"scenarios"`
	// Goals are issue 10's performance targets judged from this run.
	Goals []goalResult `json:"targets"`
}

// settings are the knobs of a run.
type settings struct {
	Rounds      int     `json:"rounds"`
	DurationS   float64 `json:"round_seconds"`
	WarmupS     float64 `json:"warmup_seconds"`
	MaxRequests int64   `json:"max_requests"`
	Streams     int     `json:"open_streams"`
}

type scenarioReport struct {
	Name    string `json:"name"`
	What    string `json:"what"`
	Skipped string `json:"skipped,omitempty"`
	Error   string `json:"error,omitempty"`
	Conns   int    `json:"conns,omitempty"`
	Stream  bool   `json:"stream,omitempty"`
	// ForeignCPU is the share of the machine's CPU time used by processes
	// other than the harness, the fake and the target during measurement
	// windows: how noisy the machine was.
	ForeignCPU float64        `json:"foreign_cpu_share"`
	Targets    []targetReport `json:"targets,omitempty"`
	// Log is the result of a log-path scenario (log-10k).
	Log *logReport `json:"log,omitempty"`
}

// pct are percentiles in milliseconds.
type pct struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
}

type targetReport struct {
	Target     string `json:"target"`
	Requests   int64  `json:"requests,omitempty"`
	Errors     int64  `json:"errors"`
	FirstError string `json:"first_error,omitempty"`

	RPS       float64   `json:"rps,omitempty"`
	RPSRounds []float64 `json:"rps_rounds,omitempty"`
	// Spread is (max-min)/mean of the rounds' throughput.
	Spread   float64 `json:"rps_spread,omitempty"`
	VsDirect float64 `json:"rps_vs_direct,omitempty"`

	LatencyMS      *pct    `json:"latency_ms,omitempty"`
	AddedMS        *pct    `json:"added_latency_ms,omitempty"`
	TTFTMS         *pct    `json:"ttft_ms,omitempty"`
	AddedTTFTMS    *pct    `json:"added_ttft_ms,omitempty"`
	GapMS          *pct    `json:"inter_event_ms,omitempty"`
	AddedGapMS     *pct    `json:"added_inter_event_ms,omitempty"`
	EventsPerReply float64 `json:"events_per_reply,omitempty"`

	CPUSecPer1k float64 `json:"cpu_s_per_1k_requests,omitempty"`
	CPUUsPerReq float64 `json:"cpu_us_per_request,omitempty"`
	IdleRSSMB   float64 `json:"idle_rss_mb,omitempty"`
	PeakRSSMB   float64 `json:"peak_rss_mb,omitempty"`

	// In-process measurement of the gateway's handler (see allocs.go).
	AllocsPerReq float64 `json:"allocs_per_request,omitempty"`
	BytesPerReq  float64 `json:"alloc_bytes_per_request,omitempty"`

	// RequestLog is the gateway's request-log writer as its /metrics
	// said at the end of the scenario.
	RequestLog *logCounters `json:"request_log,omitempty"`

	// open-streams
	StreamsOpen    int     `json:"streams_open,omitempty"`
	StreamsFailed  int     `json:"streams_failed,omitempty"`
	StreamsStalled int     `json:"streams_stalled,omitempty"`
	OpenSeconds    float64 `json:"open_seconds,omitempty"`
	OpenRSSMB      float64 `json:"open_rss_mb,omitempty"`
	KBPerStream    float64 `json:"kb_per_stream,omitempty"`
}

// percentiles sorts d and returns p50/p90/p99/p999 in milliseconds.
func percentiles(d []time.Duration) *pct {
	if len(d) == 0 {
		return nil
	}
	slices.Sort(d)
	at := func(q float64) float64 {
		i := int(math.Ceil(q*float64(len(d)))) - 1
		i = max(0, min(i, len(d)-1))
		return float64(d[i]) / 1e6
	}
	return &pct{P50: at(0.50), P90: at(0.90), P99: at(0.99), P999: at(0.999)}
}

func minus(a, b *pct) *pct {
	if a == nil || b == nil {
		return nil
	}
	return &pct{P50: a.P50 - b.P50, P90: a.P90 - b.P90, P99: a.P99 - b.P99, P999: a.P999 - b.P999}
}

func spread(v []float64) float64 {
	if len(v) < 2 {
		return 0
	}
	lo, hi, sum := v[0], v[0], 0.0
	for _, x := range v {
		lo, hi, sum = min(lo, x), max(hi, x), sum+x
	}
	if sum == 0 {
		return 0
	}
	return (hi - lo) / (sum / float64(len(v)))
}

// writeJSON writes the report to path, creating its directory.
func writeJSON(path string, r *report) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// printScenario writes one scenario's table.
func printScenario(w io.Writer, s *scenarioReport, sc scenario) {
	fmt.Fprintf(w, "\n## %s — %s\n", s.Name, s.What)
	switch {
	case s.Skipped != "":
		fmt.Fprintf(w, "skipped: %s\n", s.Skipped)
		return
	case s.Error != "":
		fmt.Fprintf(w, "FAILED: %s\n", s.Error)
		if len(s.Targets) == 0 {
			return
		}
	}
	if s.Log != nil {
		printLog(w, s)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	var cols []string
	var row func(t *targetReport) []string
	switch {
	case sc.OpenStreams:
		cols = []string{"target", "open", "failed", "stalled", "open s", "ttft p50", "ttft p99", "idle MB", "open MB", "KB/stream", "peak MB"}
		row = func(t *targetReport) []string {
			return []string{t.Target, fmt.Sprint(t.StreamsOpen), fmt.Sprint(t.StreamsFailed), fmt.Sprint(t.StreamsStalled),
				f2(t.OpenSeconds), ms(t.TTFTMS, 50), ms(t.TTFTMS, 99), mb(t.IdleRSSMB), mb(t.OpenRSSMB), f1(t.KBPerStream), mb(t.PeakRSSMB)}
		}
	case sc.Stream:
		cols = []string{"target", "streams/s", "×direct", "±", "ttft p50", "p90", "p99", "p99.9", "+ttft p50", "+p99",
			"gap p50", "p99", "+gap p50", "+p99", "ev", "cpu s/1k", "idle MB", "peak MB", "allocs", "err"}
		row = func(t *targetReport) []string {
			return []string{t.Target, f0(t.RPS), ratio(t.VsDirect), pctStr(t.Spread),
				ms(t.TTFTMS, 50), ms(t.TTFTMS, 90), ms(t.TTFTMS, 99), ms(t.TTFTMS, 999),
				added(t.AddedTTFTMS, 50), added(t.AddedTTFTMS, 99),
				ms(t.GapMS, 50), ms(t.GapMS, 99), added(t.AddedGapMS, 50), added(t.AddedGapMS, 99),
				f1(t.EventsPerReply), f3(t.CPUSecPer1k), mb(t.IdleRSSMB), mb(t.PeakRSSMB), f0(t.AllocsPerReq), fmt.Sprint(t.Errors)}
		}
	default:
		cols = []string{"target", "req/s", "×direct", "±", "p50", "p90", "p99", "p99.9", "+p50", "+p90", "+p99",
			"cpu s/1k", "idle MB", "peak MB", "allocs", "err"}
		row = func(t *targetReport) []string {
			return []string{t.Target, f0(t.RPS), ratio(t.VsDirect), pctStr(t.Spread),
				ms(t.LatencyMS, 50), ms(t.LatencyMS, 90), ms(t.LatencyMS, 99), ms(t.LatencyMS, 999),
				added(t.AddedMS, 50), added(t.AddedMS, 90), added(t.AddedMS, 99),
				f3(t.CPUSecPer1k), mb(t.IdleRSSMB), mb(t.PeakRSSMB), f0(t.AllocsPerReq), fmt.Sprint(t.Errors)}
		}
	}
	fmt.Fprintln(tw, strings.Join(cols, "\t")+"\t")
	for i := range s.Targets {
		fmt.Fprintln(tw, strings.Join(row(&s.Targets[i]), "\t")+"\t")
	}
	tw.Flush()
	for _, t := range s.Targets {
		if t.FirstError != "" {
			fmt.Fprintf(w, "  %s first error: %s\n", t.Target, t.FirstError)
		}
		if l := t.RequestLog; l != nil {
			missing := ""
			if n := l.Requests - l.Accounted(); n > 0 {
				missing = fmt.Sprintf(", %d still unwritten", n)
			}
			fmt.Fprintf(w, "  %s request log (its /metrics at the end): %d requests, %d records written, %d spilled, %d dropped, %d failed batches%s\n",
				t.Target, l.Requests, l.Written, l.Spilled, l.Dropped, l.WriteErrors, missing)
		}
	}
	fmt.Fprintf(w, "  other processes used %.0f%% of the machine's CPU during this scenario\n", 100*s.ForeignCPU)
}

func ms(p *pct, q int) string {
	if p == nil {
		return "-"
	}
	var v float64
	switch q {
	case 50:
		v = p.P50
	case 90:
		v = p.P90
	case 99:
		v = p.P99
	case 999:
		v = p.P999
	}
	return fmt.Sprintf("%.3f", v)
}

func added(p *pct, q int) string {
	if p == nil {
		return "-"
	}
	s := ms(p, q)
	if !strings.HasPrefix(s, "-") {
		s = "+" + s
	}
	return s
}

func f0(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", v)
}

func f1(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", v)
}

func f2(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", v)
}

func f3(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.3f", v)
}

func mb(v float64) string { return f1(v) }

func ratio(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", v)
}

func pctStr(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", 100*v)
}

// printLog writes a log-path scenario's table: the paced phase, then the
// unpaced one.
func printLog(w io.Writer, s *scenarioReport) {
	l := s.Log
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\trate\toffered\tin window\tin store\tspilled\tdropped\tmax queue\tclose s\tcpu s\tcpu µs/rec\tcores\t")
	fmt.Fprintf(tw, "paced %d/s\t%.0f\t%d\t%d\t%d\t%d\t%d\t%d/%d\t%.2f\t%.2f\t%.1f\t%.2f\t\n",
		l.RateTarget, l.OfferedRate, l.Offered, l.WrittenInWindow, l.Rows, l.Spilled, l.Dropped,
		l.MaxQueueDepth, l.QueueSize, l.CloseSeconds, l.CPUSeconds, l.CPUUsPer, l.CPUCores)
	if l.MaxSeconds > 0 {
		fmt.Fprintf(tw, "unpaced\t%.0f\t%d\t-\t-\t%d\t%d\t-\t-\t-\t-\t-\t\n",
			l.MaxRate, l.MaxRecords, l.MaxSpilled, l.MaxDropped)
	}
	tw.Flush()
	fmt.Fprintf(w, "  %s\n", l.Verdict)
	if l.MaxRate > 0 {
		fmt.Fprintf(w, "  the writer sustains about %.0f records/s into SQLite here (%.1f× the target)\n", l.MaxRate, l.MaxRate/float64(l.RateTarget))
	}
	fmt.Fprintf(w, "  other processes used %.0f%% of the machine's CPU during this scenario\n", 100*s.ForeignCPU)
}
