package observability

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/pipeline"
)

// Metrics are the gateway's Prometheus metrics. Each process has its own
// registry (never the global default), so tests and several gateways in
// one process do not share counters.
type Metrics struct {
	Registry *prometheus.Registry

	requests    *prometheus.CounterVec
	inFlight    prometheus.Gauge
	duration    *prometheus.HistogramVec
	ttft        *prometheus.HistogramVec
	tokens      *prometheus.CounterVec
	cost        *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
	attempts    *prometheus.CounterVec
	upErrors    *prometheus.CounterVec
	retries     *prometheus.CounterVec
	fallbacks   *prometheus.CounterVec

	models labelLimit
}

// maxModelLabels bounds the distinct model label values: model names come
// from clients, and an unbounded label would grow the registry forever.
// Later names are counted under "other".
const maxModelLabels = 500

// NewMetrics creates the metrics and registers them, with the Go runtime
// and process collectors, in a fresh registry.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aigateway_requests_total",
			Help: "Requests answered, by serving provider, served model, HTTP status and cache status.",
		}, []string{"provider", "model", "status", "cache_status"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "aigateway_requests_in_flight",
			Help: "Requests being served (streams until their last event).",
		}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "aigateway_request_duration_seconds",
			Help:    "Total request latency, to the end of the answer (the last event of a stream).",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2, 4, 8, 15, 30, 60, 120, 300},
		}, []string{"provider", "model"}),
		ttft: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "aigateway_time_to_first_token_seconds",
			Help:    "Time from request to the first streamed event from the provider (streams only).",
			Buckets: []float64{.025, .05, .1, .2, .35, .5, .75, 1, 1.5, 2, 3, 5, 10, 30},
		}, []string{"provider", "model"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aigateway_tokens_total",
			Help: "Tokens by type: input (all prompt tokens), cached_input (the part read from the provider's prompt cache), output.",
		}, []string{"provider", "model", "type"}),
		cost: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aigateway_cost_usd_total",
			Help: "Cost of answered requests in US dollars, by the pricing table or the request's custom cost.",
		}, []string{"provider", "model"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aigateway_rate_limited_total",
			Help: "Requests the gateway itself refused with 429 (rate limits, budgets), by error code.",
		}, []string{"code"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aigateway_upstream_attempts_total",
			Help: "Upstream attempts (including retries and fallbacks), by provider and outcome status.",
		}, []string{"provider", "status"}),
		upErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aigateway_upstream_errors_total",
			Help: "Failed upstream attempts, by provider and status (499 client gone, 502 unreachable, 504 timeout, or the provider's own).",
		}, []string{"provider", "status"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aigateway_upstream_retries_total",
			Help: "Upstream attempts beyond the first of a request, by the provider that answered last.",
		}, []string{"provider"}),
		fallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aigateway_fallbacks_total",
			Help: "Requests served by a fallback target (not the first), by the provider that served them.",
		}, []string{"provider"}),
		models: labelLimit{max: maxModelLabels},
	}
	reg.MustRegister(m.requests, m.inFlight, m.duration, m.ttft, m.tokens, m.cost, m.rateLimited,
		m.attempts, m.upErrors, m.retries, m.fallbacks,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// LogWriterStats is what the request-log writer reports.
type LogWriterStats struct {
	Queued                                   int
	Written, Spilled, Replayed, Dropped, Err int64
}

// ObserveLogWriter exports the request-log writer's queue depth and
// counters, read at scrape time.
func (m *Metrics) ObserveLogWriter(stats func() LogWriterStats) {
	counter := func(name, help string, v func(LogWriterStats) int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(v(stats())) })
	}
	m.Registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "aigateway_log_queue_depth", Help: "Request log records waiting to be written.",
		}, func() float64 { return float64(stats().Queued) }),
		counter("aigateway_log_records_written_total", "Request log records written to the store.",
			func(s LogWriterStats) int64 { return s.Written }),
		counter("aigateway_log_records_spilled_total", "Request log records that went to the spill file (queue full or store failing).",
			func(s LogWriterStats) int64 { return s.Spilled }),
		counter("aigateway_log_records_replayed_total", "Spilled request log records later written to the store.",
			func(s LogWriterStats) int64 { return s.Replayed }),
		counter("aigateway_log_records_dropped_total", "Request log records lost (no room in the queue nor in the spill file).",
			func(s LogWriterStats) int64 { return s.Dropped }),
		counter("aigateway_log_write_errors_total", "Failed batch writes to the log store.",
			func(s LogWriterStats) int64 { return s.Err }),
	)
}

// RateLimited counts a refusal by a gateway limit; stages that refuse
// without a 429 gwerr can call it directly.
func (m *Metrics) RateLimited(code string) {
	if code == "" {
		code = "rate_limited"
	}
	m.rateLimited.WithLabelValues(code).Inc()
}

// Handler serves the registry in the Prometheus text format; with a token
// it requires "Authorization: Bearer <token>".
func (m *Metrics) Handler(token string) http.Handler {
	h := promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
	if token == "" {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "a valid metrics token is required", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Stage counts every call when its answer is complete. It runs outside
// auth and limits, so refusals are counted too (with no provider).
func (m *Metrics) Stage() pipeline.Middleware {
	return func(next pipeline.Handler) pipeline.Handler {
		return pipeline.HandlerFunc(func(ctx context.Context, c *pipeline.Call) (*pipeline.Result, error) {
			if c.Kind == pipeline.KindModels {
				return next.Serve(ctx, c)
			}
			m.inFlight.Inc()
			res, err := next.Serve(ctx, c)
			return pipeline.Complete(c, res, err, pipeline.Completion{OnDone: m.record}), err
		})
	}
}

func (m *Metrics) record(c *pipeline.Call, _ error) {
	m.inFlight.Dec()
	o := &c.Outcome
	provider, model := o.Provider, ""
	if provider != "" {
		model = m.models.value(o.ServedModel)
	}
	m.requests.WithLabelValues(provider, model, strconv.Itoa(o.Status), o.CacheStatus).Inc()
	m.duration.WithLabelValues(provider, model).Observe(o.End.Sub(c.Start).Seconds())
	if c.Chat != nil && c.Chat.Stream && !o.FirstByte.IsZero() {
		m.ttft.WithLabelValues(provider, model).Observe(o.FirstByte.Sub(c.Start).Seconds())
	}
	if o.UsageKnown {
		u := &o.Usage
		m.tokens.WithLabelValues(provider, model, "input").Add(float64(u.PromptTokens))
		m.tokens.WithLabelValues(provider, model, "output").Add(float64(u.CompletionTokens))
		if cached := u.CachedTokens(); cached > 0 {
			m.tokens.WithLabelValues(provider, model, "cached_input").Add(float64(cached))
		}
	}
	if o.CostUSD > 0 {
		m.cost.WithLabelValues(provider, model).Add(o.CostUSD)
	}
	var ge *gwerr.Error
	if o.Status == http.StatusTooManyRequests && errors.As(o.Err, &ge) && ge.Kind == gwerr.KindPolicy {
		m.RateLimited(ge.Code)
	}
	if o.Attempts > 1 {
		m.retries.WithLabelValues(provider).Add(float64(o.Attempts - 1))
	}
	if o.Step > 0 && o.Status < 400 {
		m.fallbacks.WithLabelValues(provider).Inc()
	}
}

// AttemptStage counts every upstream attempt and its failures.
func (m *Metrics) AttemptStage() pipeline.AttemptMiddleware {
	return func(next pipeline.Attempter) pipeline.Attempter {
		return pipeline.AttempterFunc(func(ctx context.Context, c *pipeline.Call, t *pipeline.Target) (*pipeline.Result, error) {
			res, err := next.Attempt(ctx, c, t)
			provider := t.ProviderID
			if t.Provider != nil {
				provider = t.Provider.ID()
			}
			status := http.StatusOK
			if err != nil {
				status = pipeline.StatusOf(err)
			} else if res != nil && res.Native != nil {
				status = res.Native.Status
			}
			s := strconv.Itoa(status)
			m.attempts.WithLabelValues(provider, s).Inc()
			if err != nil {
				m.upErrors.WithLabelValues(provider, s).Inc()
			}
			return res, err
		})
	}
}

// labelLimit admits up to max distinct label values, then maps new ones
// to "other".
type labelLimit struct {
	max  int64
	seen sync.Map
	n    atomic.Int64
}

func (l *labelLimit) value(v string) string {
	if _, ok := l.seen.Load(v); ok {
		return v
	}
	if l.n.Load() >= l.max {
		return "other"
	}
	if _, loaded := l.seen.LoadOrStore(v, struct{}{}); !loaded {
		l.n.Add(1)
	}
	return v
}
