// Package budget is the spend stage: a key's budget (budget_usd per day or
// month) and tenants' budgets from the config, in USD, per calendar day or
// month in UTC. A call is refused (429, naming the budget and when it
// resets) once what was spent reaches the budget, or served by a
// configured cheaper model instead. What a call cost is read from
// Outcome.CostUSD, set by the usage stage inside this one, when the call's
// answer is complete (at the end of a stream). Spend lives in a
// store.SpendStore: memory, or Redis shared by every replica.
package budget

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/pipeline"
	"github.com/aigateway/aigateway/internal/store"
)

// Periods.
const (
	Day   = "day"
	Month = "month"
)

// Tenant is a tenant's budget.
type Tenant struct {
	USD    float64
	Period string
	// Fallback is the model to serve with once spent (overrides
	// Options.Fallback).
	Fallback string
}

// Options configure the stage. Zero values are documented per field.
type Options struct {
	Spend store.SpendStore
	// Tenants are budgets by tenant name.
	Tenants map[string]Tenant
	// Fallback, when set, is the model (provider/model or alias) a call
	// over budget is served with instead of being refused; only calls
	// that name a model (chat, embeddings) can fall back.
	Fallback string
	// FailOpen allows calls when spend cannot be read (counting the
	// fault); false (the default) answers 503, so a store outage never
	// lets spend run past a budget.
	FailOpen bool
	// Timeout bounds one store call (default 250ms).
	Timeout time.Duration
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Faults *atomic.Int64
	Log    *slog.Logger
}

// New returns the stage.
func New(o Options) pipeline.Middleware {
	if o.Timeout <= 0 {
		o.Timeout = 250 * time.Millisecond
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Faults == nil {
		o.Faults = new(atomic.Int64)
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	local := store.IsInProcess(o.Spend)
	return func(next pipeline.Handler) pipeline.Handler {
		return &stage{o: o, next: next, local: local}
	}
}

type stage struct {
	o    Options
	next pipeline.Handler
	// local: the spend store is in-process, read without a timeout and
	// charged inline
	local bool
}

// budget is one budget that applies to a call, in the current period.
type budget struct {
	counter  string // store key: who, period and its start
	kind     string // "gateway key" or "tenant", for messages
	name     string
	usd      float64
	period   string
	resets   time.Time
	fallback string
}

func (s *stage) Serve(ctx context.Context, c *pipeline.Call) (*pipeline.Result, error) {
	if c.Kind == pipeline.KindModels {
		return s.next.Serve(ctx, c)
	}
	now := s.o.Now().UTC()
	bs := s.budgets(c, now)
	if len(bs) == 0 {
		return s.next.Serve(ctx, c)
	}
	counters := make([]string, len(bs))
	for i, b := range bs {
		counters[i] = b.counter
	}
	spent, err := s.spent(ctx, counters)
	if err != nil {
		if ctx.Err() != nil {
			return nil, gwerr.As(ctx.Err())
		}
		if n := s.o.Faults.Add(1); n%100 == 1 {
			s.o.Log.Warn("budget store unavailable", "error", err, "fail_open", s.o.FailOpen, "faults", n)
		}
		if !s.o.FailOpen {
			e := gwerr.New(gwerr.KindGateway, http.StatusServiceUnavailable, "budgets cannot be checked right now; try again shortly")
			e.Code, e.Cause, e.RetryAfter = "budget_store_unavailable", err, time.Second
			return nil, e
		}
	} else {
		for i, b := range bs {
			if spent[i] < b.usd {
				continue
			}
			if b.fallback != "" && (c.Kind == pipeline.KindChat || c.Kind == pipeline.KindEmbed) && c.Model != b.fallback {
				c.Model, c.Targets = b.fallback, nil
				c.SetHeader("x-aig-budget-fallback", b.fallback)
				continue
			}
			e := gwerr.RateLimited("budget_exceeded", b.resets.Sub(now),
				"budget exhausted: %s %q has spent $%.2f of its $%.2f %s budget; it resets at %s",
				b.kind, b.name, spent[i], b.usd, periodAdj(b.period), b.resets.Format(time.RFC3339))
			return nil, e
		}
	}
	res, err := s.next.Serve(ctx, c)
	s.charge(c, bs, counters, res, err)
	return res, err
}

// spent bounds a remote store's read by the timeout; an in-process one
// answers at once.
func (s *stage) spent(ctx context.Context, counters []string) ([]float64, error) {
	if s.local {
		return s.o.Spend.Spent(ctx, counters)
	}
	tctx, cancel := context.WithTimeout(ctx, s.o.Timeout)
	defer cancel()
	return s.o.Spend.Spent(tctx, counters)
}

// budgets lists the budgets that apply to a call now.
func (s *stage) budgets(c *pipeline.Call, now time.Time) []budget {
	id := &c.Identity
	_, tenant := s.o.Tenants[id.Tenant]
	hasKey := id.KeyID != "" && id.Quota.BudgetUSD > 0
	if !hasKey && !tenant {
		return nil
	}
	bs := make([]budget, 0, 2)
	if hasKey {
		p := id.Quota.BudgetPeriod
		start, resets := Bounds(p, now)
		bs = append(bs, budget{
			counter: counterKey("key:", id.KeyID, p, start), kind: "gateway key", name: id.KeyName,
			usd: id.Quota.BudgetUSD, period: p, resets: resets, fallback: s.o.Fallback,
		})
	}
	if t, ok := s.o.Tenants[id.Tenant]; ok && id.Tenant != "" {
		start, resets := Bounds(t.Period, now)
		fb := t.Fallback
		if fb == "" {
			fb = s.o.Fallback
		}
		bs = append(bs, budget{
			counter: counterKey("tenant:", id.Tenant, t.Period, start), kind: "tenant", name: id.Tenant,
			usd: t.USD, period: t.Period, resets: resets, fallback: fb,
		})
	}
	return bs
}

// charge adds the call's cost to its budgets once the answer is complete,
// off the request path.
func (s *stage) charge(c *pipeline.Call, bs []budget, counters []string, res *pipeline.Result, err error) {
	add := func() {
		cost := c.Outcome.CostUSD
		if cost <= 0 {
			return
		}
		ttl := time.Duration(0)
		now := s.o.Now().UTC()
		for _, b := range bs {
			// kept a day past the period, so a late charge still lands
			ttl = max(ttl, b.resets.Sub(now)+24*time.Hour)
		}
		record := func(ctx context.Context) {
			if err := s.o.Spend.AddSpend(ctx, counters, cost, ttl); err != nil {
				n := s.o.Faults.Add(1)
				s.o.Log.Warn("recording spend", "error", err, "usd", cost, "faults", n)
			}
		}
		if s.local { // a few additions under a mutex: no goroutine needed
			record(context.Background())
			return
		}
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			record(ctx)
		}()
	}
	if err != nil || res == nil {
		add() // a failed call may still have cost something (a broken stream)
		return
	}
	pipeline.OnFinish(res, func(error) { add() })
}

// Bounds returns the start of the period containing now and the start of
// the next one (when the budget resets), in UTC.
func Bounds(period string, now time.Time) (start, next time.Time) {
	now = now.UTC()
	if period == Day {
		start = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
		return start, start.AddDate(0, 0, 1)
	}
	start = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	return start, start.AddDate(0, 1, 0)
}

// counterKey is the store key of who's budget in the period starting at
// start: "key:ID:m202611", "tenant:NAME:d20261127", built in one
// allocation.
func counterKey(kind, who, period string, start time.Time) string {
	var arr [96]byte
	b := append(append(append(arr[:0], kind...), who...), ':')
	if period == Day {
		b = start.AppendFormat(b, "d20060102")
	} else {
		b = start.AppendFormat(b, "m200601")
	}
	return string(b)
}

func periodAdj(p string) string {
	if p == Day {
		return "daily"
	}
	return "monthly"
}
