package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/aigateway/aigateway/internal/config"
	"github.com/aigateway/aigateway/internal/httpapi/httpx"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/pipeline"
	"github.com/aigateway/aigateway/internal/provider/providertest"
	"github.com/aigateway/aigateway/internal/store/sqlite"
	"github.com/aigateway/aigateway/internal/usage"
)

// The gateway cannot serve 10,000 requests/s on a small machine, so whether
// its request log keeps up with that rate is measured on the log path
// alone, in the harness's process, with the real code: the request-log
// stage (usage.RequestLog) builds each record from a finished chat call as
// the gateway does, and hands it to the real usage.Writer in front of the
// real SQLite log store, configured as the gateway configures them (the
// config defaults: queue, batch, flush interval, spill file).

// logReport is the result of a log-path scenario.
type logReport struct {
	// Paced phase: records offered at RateTarget for Seconds.
	RateTarget  int     `json:"rate_target"`
	Seconds     float64 `json:"seconds"`
	Offered     int64   `json:"offered"`
	OfferedRate float64 `json:"offered_rate"`
	// WrittenInWindow were in the store when the window ended; Rows is
	// what the store holds after Close (every record, if none was lost).
	WrittenInWindow int64   `json:"written_in_window"`
	Rows            int64   `json:"rows"`
	Spilled         int64   `json:"spilled"`
	Dropped         int64   `json:"dropped"`
	FailedBatches   int64   `json:"failed_batches"`
	MaxQueueDepth   int     `json:"max_queue_depth"`
	QueueSize       int     `json:"queue_size"`
	CloseSeconds    float64 `json:"close_seconds"`
	// CPUSeconds is the harness process's CPU time over the window (it
	// does nothing else meanwhile): building records, enqueueing,
	// encoding bodies and inserting. CPUCores is that per second of window.
	CPUSeconds float64 `json:"cpu_seconds"`
	CPUUsPer   float64 `json:"cpu_us_per_record"`
	CPUCores   float64 `json:"cpu_cores"`

	// Unpaced phase: records offered as fast as the queue takes them
	// without spilling, for MaxSeconds; MaxRate is records stored per
	// second, Close included.
	MaxSeconds float64 `json:"max_seconds,omitempty"`
	MaxRecords int64   `json:"max_records,omitempty"`
	MaxRate    float64 `json:"max_rate,omitempty"`
	MaxSpilled int64   `json:"max_spilled,omitempty"`
	MaxDropped int64   `json:"max_dropped,omitempty"`

	Met     bool   `json:"met"`
	Verdict string `json:"verdict"`
}

// logPath is a writer and its store, set up as the gateway sets them up.
type logPath struct {
	db    *sqlite.DB
	w     *usage.Writer
	stage pipeline.Handler
	cfg   config.Logs
	call  func() *pipeline.Call
}

// openLogPath opens a fresh SQLite store in dir and the writer in front of
// it, with the logs section of cfgYAML (the gateway's defaults when it has
// none).
func openLogPath(ctx context.Context, dir, cfgYAML string) (*logPath, error) {
	cfg, err := config.Parse([]byte(cfgYAML), func(string) string { return "http://127.0.0.1:1/v1" })
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	call, answer, err := benchCall()
	if err != nil {
		return nil, err
	}
	db, err := sqlite.Open(ctx, dir)
	if err != nil {
		return nil, err
	}
	store, err := sqlite.NewLogStore(ctx, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	l := cfg.Logs
	w := usage.NewWriter(store, usage.WriterOptions{
		QueueSize: l.QueueSize, BatchSize: l.BatchSize, FlushInterval: l.FlushInterval.D(),
		SpillPath: filepath.Join(dir, "logs-spill.jsonl"), SpillMaxBytes: l.SpillMaxBytes,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	mw := usage.RequestLog(usage.LogOptions{Sink: w, Payloads: l.PayloadsOn(), MaxPayloadBytes: l.MaxPayloadBytes})
	stage := mw(pipeline.HandlerFunc(func(ctx context.Context, c *pipeline.Call) (*pipeline.Result, error) {
		return &pipeline.Result{Chat: answer}, nil
	}))
	return &logPath{db: db, w: w, stage: stage, cfg: l, call: call}, nil
}

// offer runs one finished chat call through the request-log stage: the
// record is built and enqueued as the gateway does at the end of a request.
func (p *logPath) offer(ctx context.Context) {
	_, _ = p.stage.Serve(ctx, p.call())
}

// close writes everything out and closes the store.
func (p *logPath) close(ctx context.Context) error {
	err := p.w.Close(ctx)
	if cerr := p.db.Close(); err == nil {
		err = cerr
	}
	return err
}

func (p *logPath) rows(ctx context.Context) (int64, error) {
	var n int64
	err := p.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM aig_logs`).Scan(&n)
	return n, err
}

// benchIngress names the OpenAI ingress on the records.
type benchIngress struct{}

func (benchIngress) Name() string                  { return "openai" }
func (benchIngress) Decode(c *pipeline.Call) error { return nil }

// benchCall returns a builder of finished calls shaped like the gateway's
// for the bench's chat request through the policy path (a gateway key, its
// tenant, one upstream attempt, usage and cost), and the answer they got.
func benchCall() (func() *pipeline.Call, *llm.ChatResponse, error) {
	body := providertest.ChatBody("openai/gpt-4o-mini", 0, false)
	var chat llm.ChatRequest
	if err := json.Unmarshal(body, &chat); err != nil {
		return nil, nil, fmt.Errorf("bench request: %w", err)
	}
	reply := replyText(20)
	answerJSON, _ := json.Marshal(map[string]any{
		"id": "chatcmpl-bench", "object": "chat.completion", "created": 1700000000, "model": "gpt-4o-mini",
		"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": reply}}},
		"usage": map[string]any{"prompt_tokens": 20, "completion_tokens": 20, "total_tokens": 40},
	})
	var answer llm.ChatResponse
	if err := json.Unmarshal(answerJSON, &answer); err != nil {
		return nil, nil, fmt.Errorf("bench answer: %w", err)
	}
	httpReq, err := http.NewRequest(http.MethodPost, "http://127.0.0.1/v1/chat/completions", nil)
	if err != nil {
		return nil, nil, err
	}
	return func() *pipeline.Call {
		now := time.Now()
		c := &pipeline.Call{
			ID: httpx.NewID(), Start: now.Add(-300 * time.Microsecond), HTTP: httpReq,
			Ingress: benchIngress{}, Kind: pipeline.KindChat, ClientIP: "127.0.0.1",
			Identity: pipeline.Identity{KeyID: "key_bench", KeyName: "bench", Tenant: "bench"},
			Body:     body, Model: chat.Model, Chat: &chat,
		}
		o := &c.Outcome
		o.Provider, o.ServedModel, o.Attempts, o.Status = "openai", "gpt-4o-mini", 1, http.StatusOK
		o.Usage, o.UsageKnown = *answer.Usage, true
		o.CostUSD = 0.000015
		o.UpstreamStart, o.FirstByte, o.End = now.Add(-200*time.Microsecond), now.Add(-100*time.Microsecond), now
		return c
	}, &answer, nil
}

// measureLogPath offers records at the scenario's rate for the window,
// closes the writer and counts what reached the store; then measures the
// highest rate the writer sustains with a fresh store.
func (h *harness) measureLogPath(sc scenario) (*logReport, float64, error) {
	ctx := context.Background()
	window := time.Duration(max(2, float64(h.set.Rounds)*h.set.DurationS) * float64(time.Second))
	rep := &logReport{RateTarget: sc.LogRate}

	dir, err := os.MkdirTemp(h.tmp, "logpath")
	if err != nil {
		return nil, 0, err
	}
	p, err := openLogPath(ctx, dir, sc.gatewayConfig())
	if err != nil {
		return nil, 0, err
	}
	rep.QueueSize = p.cfg.QueueSize
	// warm up: first inserts compile statements, the first IDs seed
	for i := 0; i < p.cfg.BatchSize; i++ {
		p.offer(ctx)
	}
	if err := p.w.Flush(ctx); err != nil {
		p.close(ctx)
		return nil, 0, err
	}
	warm := p.w.Stats()

	ours := []int{os.Getpid()}
	m0 := sampleCPU(ours)
	cpu0 := processCPU()
	total := int64(window.Seconds() * float64(sc.LogRate))
	start := time.Now()
	var offered int64
	for offered < total {
		// offer what is due by now: paced at the sleep's granularity
		// (half a millisecond or a little more: about five records at a
		// time at 10,000/s)
		due := min(total, int64(time.Since(start).Seconds()*float64(sc.LogRate)))
		for ; offered < due; offered++ {
			p.offer(ctx)
		}
		rep.MaxQueueDepth = max(rep.MaxQueueDepth, p.w.QueueDepth())
		if offered < total {
			time.Sleep(500 * time.Microsecond)
		}
	}
	rep.Seconds = time.Since(start).Seconds()
	cpu1 := processCPU()
	m1 := sampleCPU(ours)
	inWindow := p.w.Stats()
	closeStart := time.Now()
	closeCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	err = p.w.Close(closeCtx)
	cancel()
	rep.CloseSeconds = time.Since(closeStart).Seconds()
	if err != nil {
		p.db.Close()
		return nil, 0, fmt.Errorf("closing the writer: %w", err)
	}
	final := p.w.Stats()
	rows, err := p.rows(ctx)
	p.db.Close()
	if err != nil {
		return nil, 0, fmt.Errorf("counting rows: %w", err)
	}
	rep.Offered = offered
	rep.OfferedRate = float64(offered) / rep.Seconds
	rep.WrittenInWindow = inWindow.Written - warm.Written
	rep.Rows = rows - warm.Written
	rep.Spilled, rep.Dropped, rep.FailedBatches = final.Spilled, final.Dropped, final.FailedBatches
	rep.CPUSeconds = (cpu1 - cpu0).Seconds()
	if offered > 0 {
		rep.CPUUsPer = rep.CPUSeconds / float64(offered) * 1e6
	}
	rep.CPUCores = rep.CPUSeconds / rep.Seconds
	var foreign float64
	if total := m1.total - m0.total; total > 0 {
		foreign = float64(max((m1.busy-m0.busy)-(m1.ours-m0.ours), 0)) / float64(total)
	}

	if err := h.measureLogMax(ctx, sc, rep); err != nil {
		return nil, 0, err
	}
	rep.judge()
	return rep, foreign, nil
}

// measureLogMax offers records as fast as the queue takes them without
// spilling (waiting while it is nearly full), for a second, and reports
// records stored per second, Close included.
func (h *harness) measureLogMax(ctx context.Context, sc scenario, rep *logReport) error {
	dir, err := os.MkdirTemp(h.tmp, "logmax")
	if err != nil {
		return err
	}
	p, err := openLogPath(ctx, dir, sc.gatewayConfig())
	if err != nil {
		return err
	}
	high := max(1, p.cfg.QueueSize-p.cfg.BatchSize)
	start := time.Now()
	var n int64
	for time.Since(start) < time.Second {
		for i := 0; i < 100; i++ {
			if p.w.QueueDepth() >= high {
				time.Sleep(100 * time.Microsecond)
				break
			}
			p.offer(ctx)
			n++
		}
	}
	closeCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	err = p.w.Close(closeCtx)
	cancel()
	elapsed := time.Since(start)
	st := p.w.Stats()
	p.db.Close()
	if err != nil {
		return fmt.Errorf("closing the writer: %w", err)
	}
	rep.MaxSeconds, rep.MaxRecords = elapsed.Seconds(), n
	rep.MaxRate = float64(st.Written) / elapsed.Seconds()
	rep.MaxSpilled, rep.MaxDropped = st.Spilled, st.Dropped
	return nil
}

// judge decides whether the log kept up: the rate was offered, nothing was
// dropped, nothing overflowed the queue into the spill file, and every
// record is in the store.
func (r *logReport) judge() {
	switch {
	case r.OfferedRate < 0.99*float64(r.RateTarget):
		r.Verdict = fmt.Sprintf("not measured: the harness offered only %.0f records/s (machine too busy)", r.OfferedRate)
	case r.Dropped > 0:
		r.Verdict = fmt.Sprintf("not met: %d records dropped", r.Dropped)
	case r.Spilled > 0:
		r.Verdict = fmt.Sprintf("not met: %d records overflowed the queue to the spill file", r.Spilled)
	case r.Rows != r.Offered:
		r.Verdict = fmt.Sprintf("not met: %d records offered, %d in the store", r.Offered, r.Rows)
	default:
		r.Met = true
		r.Verdict = fmt.Sprintf("met: %d records at %.0f/s, every one in SQLite, none dropped or spilled, queue at most %d of %d",
			r.Offered, r.OfferedRate, r.MaxQueueDepth, r.QueueSize)
	}
}

// processCPU is this process's user+system CPU time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
