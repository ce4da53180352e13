package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/aigateway/aigateway/internal/config"
	"github.com/aigateway/aigateway/internal/observability"
	"github.com/aigateway/aigateway/internal/pipeline"
	"github.com/aigateway/aigateway/internal/store"
	"github.com/aigateway/aigateway/internal/store/postgres"
	"github.com/aigateway/aigateway/internal/store/sqlite"
	"github.com/aigateway/aigateway/internal/usage"
)

// SpillFileName is the request-log overflow file in the data dir.
const SpillFileName = "logs-spill.jsonl"

// Observability is the process-wide request accounting: the log store and
// its async writer, Prometheus metrics and OpenTelemetry tracing. Like the
// stores it is built once per process; changing the logs, metrics or otel
// sections needs a restart (pricing reloads with the runtime).
type Observability struct {
	// Logs is the log store (always open: the admin API and CLI read it
	// even when logging is off).
	Logs store.LogStore
	// Writer is nil when logging is off.
	Writer    *usage.Writer
	Metrics   *observability.Metrics
	Tracing   *observability.Tracing
	Estimator *usage.Estimator

	cfg       *config.Config
	log       *slog.Logger
	stopPrune chan struct{}
	pruned    sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// OpenLogStore opens the log store of the configured storage backend.
func OpenLogStore(ctx context.Context, s *Stores) (store.LogStore, error) {
	switch {
	case s.Postgres != nil:
		return postgres.NewLogStore(ctx, s.Postgres)
	case s.SQLite != nil:
		return sqlite.NewLogStore(ctx, s.SQLite)
	}
	return nil, errors.New("no storage backend is open")
}

// NewObservability builds the process-wide accounting for cfg.
func NewObservability(ctx context.Context, cfg *config.Config, stores *Stores, log *slog.Logger, version string) (*Observability, error) {
	logs, err := OpenLogStore(ctx, stores)
	if err != nil {
		return nil, fmt.Errorf("opening log store: %w", err)
	}
	o := &Observability{Logs: logs, Metrics: observability.NewMetrics(), Tracing: &observability.Tracing{},
		Estimator: usage.NewEstimator(), cfg: cfg, log: log, stopPrune: make(chan struct{})}
	if cfg.OTel.Enabled {
		o.Tracing, err = observability.NewTracing(ctx, observability.TracingOptions{
			Endpoint: cfg.OTel.Endpoint, Headers: cfg.OTel.Headers, ServiceName: cfg.OTel.ServiceName,
			Version: version, SampleRatio: *cfg.OTel.SampleRatio,
		})
		if err != nil {
			return nil, err
		}
	}
	if cfg.Logs.On() {
		l := cfg.Logs
		o.Writer = usage.NewWriter(logs, usage.WriterOptions{
			QueueSize: l.QueueSize, BatchSize: l.BatchSize, FlushInterval: l.FlushInterval.D(),
			SpillPath: filepath.Join(cfg.DataDir, SpillFileName), SpillMaxBytes: l.SpillMaxBytes, Log: log,
		})
		o.Metrics.ObserveLogWriter(func() observability.LogWriterStats {
			s := o.Writer.Stats()
			return observability.LogWriterStats{Queued: s.Queued, Written: s.Written, Spilled: s.Spilled,
				Replayed: s.Replayed, Dropped: s.Dropped, Err: s.FailedBatches}
		})
	}
	if r := cfg.Logs.Retention; r.MaxAge > 0 || r.MaxCount > 0 {
		o.pruned.Add(1)
		go o.pruneLoop(usage.Retention{MaxAge: r.MaxAge.D(), MaxCount: r.MaxCount}, r.Interval.D())
	}
	return o, nil
}

// noObservability is the accounting of a runtime built without a process
// (Build called directly): metrics and cost, no log writer, no tracing.
func noObservability(cfg *config.Config) *Observability {
	return &Observability{Metrics: observability.NewMetrics(), Tracing: &observability.Tracing{},
		Estimator: usage.NewEstimator(), cfg: cfg, stopPrune: make(chan struct{})}
}

// pruneLoop applies retention now and then at every interval.
func (o *Observability) pruneLoop(r usage.Retention, every time.Duration) {
	defer o.pruned.Done()
	t := time.NewTimer(time.Second)
	defer t.Stop()
	for {
		select {
		case <-o.stopPrune:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		n, err := o.Logs.PruneLogs(ctx, r)
		cancel()
		switch {
		case err != nil:
			o.log.Warn("applying log retention failed", "error", err)
		case n > 0:
			o.log.Info("log retention applied", "deleted", n)
		}
		t.Reset(every)
	}
}

// Close flushes the log queue to the store (what does not fit in ctx goes
// to the spill file), exports buffered spans and stops retention. It is
// idempotent.
func (o *Observability) Close(ctx context.Context) error {
	o.closeOnce.Do(func() {
		close(o.stopPrune)
		var errs []error
		if o.Writer != nil {
			errs = append(errs, o.Writer.Close(ctx))
			o.log.Info("request logs flushed", "stats", o.Writer.Stats().String())
		}
		errs = append(errs, o.Tracing.Shutdown(ctx))
		o.pruned.Wait()
		o.closeErr = errors.Join(errs...)
	})
	return o.closeErr
}

// instrumentClient returns client with traced transport (the same client
// when tracing is off).
func (o *Observability) instrumentClient(client *http.Client) *http.Client {
	if !o.Tracing.Enabled() {
		return client
	}
	c := *client
	t := c.Transport
	if t == nil {
		t = http.DefaultTransport
	}
	c.Transport = o.Tracing.Transport(t)
	return &c
}

// registerRoutes adds the process-wide endpoints (GET /metrics).
func (o *Observability) registerRoutes(mux *http.ServeMux) {
	if o.cfg.Metrics.On() {
		mux.Handle("GET /metrics", o.Metrics.Handler(o.cfg.Metrics.Token))
	}
}

// The stages the pipeline list in pipeline.go names; each is nil (skipped)
// when its feature is off.

func (rt *Runtime) requestLogStage() pipeline.Middleware {
	if rt.obs.Writer == nil {
		return nil
	}
	return usage.RequestLog(usage.LogOptions{
		Sink: rt.obs.Writer, Payloads: rt.cfg.Logs.PayloadsOn(), MaxPayloadBytes: rt.cfg.Logs.MaxPayloadBytes,
	})
}

func (rt *Runtime) metricsStage() pipeline.Middleware {
	if !rt.obs.cfg.Metrics.On() {
		return nil
	}
	return rt.obs.Metrics.Stage()
}

func (rt *Runtime) attemptMetricsStage() pipeline.AttemptMiddleware {
	if !rt.obs.cfg.Metrics.On() {
		return nil
	}
	return rt.obs.Metrics.AttemptStage()
}

func (rt *Runtime) traceStage() pipeline.Middleware { return rt.obs.Tracing.Stage() }

func (rt *Runtime) meterStage() pipeline.Middleware {
	return usage.Meter(usage.MeterOptions{Pricer: rt.pricer, Estimator: rt.obs.Estimator})
}

// newPricer builds the pricing of a config snapshot.
func newPricer(cfg *config.Config) (*usage.Pricer, error) {
	var overrides []usage.PriceEntry
	for _, m := range cfg.Pricing.Models {
		p, model := m.SplitModel()
		overrides = append(overrides, usage.PriceEntry{Provider: p, Model: model,
			Price: usage.NewPrice(*m.Input, *m.Output, m.CachedInput, m.CacheWrite)})
	}
	t, err := usage.NewTable(overrides)
	if err != nil {
		return nil, err
	}
	return &usage.Pricer{Table: t, AllowCustomCost: cfg.Pricing.CustomCostAllowed()}, nil
}

// OpenLogReader opens the log store of cfg's storage for reading outside a
// running gateway (the CLI's local mode). close releases it.
func OpenLogReader(ctx context.Context, cfg *config.Config) (logs store.LogStore, close func() error, err error) {
	stores, err := OpenStores(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	logs, err = OpenLogStore(ctx, stores)
	if err != nil {
		stores.Close()
		return nil, nil, fmt.Errorf("opening log store: %w", err)
	}
	return logs, stores.Close, nil
}
