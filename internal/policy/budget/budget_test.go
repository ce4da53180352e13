package budget

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/pipeline"
	"github.com/aigateway/aigateway/internal/store"
	"github.com/aigateway/aigateway/internal/store/memory"
)

var now = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

// costs is the stand-in for the usage stage: every call costs usd and
// remembers which model served it.
func costs(usd float64, served *[]string) pipeline.Handler {
	return pipeline.HandlerFunc(func(ctx context.Context, c *pipeline.Call) (*pipeline.Result, error) {
		c.Outcome.CostUSD = usd
		*served = append(*served, c.Model)
		return &pipeline.Result{Chat: &llm.ChatResponse{}}, nil
	})
}

func spentNow(t *testing.T, s store.SpendStore, counter string) float64 {
	t.Helper()
	v, err := s.Spent(context.Background(), []string{counter})
	if err != nil {
		t.Fatal(err)
	}
	return v[0]
}

func waitSpent(t *testing.T, s store.SpendStore, counter string, want float64) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if spentNow(t, s, counter) == want {
			return
		}
	}
	t.Fatalf("spent on %s = %v, want %v", counter, spentNow(t, s, counter), want)
}

func chat(id pipeline.Identity) *pipeline.Call {
	return &pipeline.Call{Kind: pipeline.KindChat, Model: "openai/gpt-4o", Identity: id}
}

func TestKeyBudget(t *testing.T) {
	spend := memory.NewSpend(nil)
	var served []string
	h := New(Options{Spend: spend, Now: func() time.Time { return now }})(costs(0.4, &served))
	id := pipeline.Identity{KeyID: "key_1", KeyName: "ci", Quota: pipeline.Quota{BudgetUSD: 1, BudgetPeriod: Month}}
	for i := 0; i < 3; i++ {
		if _, err := h.Serve(context.Background(), chat(id)); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		waitSpent(t, spend, "key:key_1:m202503", []float64{0.4, 0.8, 1.2}[i])
	}
	_, err := h.Serve(context.Background(), chat(id))
	var ge *gwerr.Error
	if !errors.As(err, &ge) || ge.Status != http.StatusTooManyRequests || ge.Code != "budget_exceeded" {
		t.Fatalf("over budget: %v", err)
	}
	for _, want := range []string{`gateway key "ci"`, "$1.20 of its $1.00 monthly budget", "resets at 2025-04-01T00:00:00Z"} {
		if !strings.Contains(ge.Message, want) {
			t.Errorf("message %q lacks %q", ge.Message, want)
		}
	}
	if want := time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC).Sub(now); ge.RetryAfter != want {
		t.Errorf("retry after %v, want %v", ge.RetryAfter, want)
	}
	other := pipeline.Identity{KeyID: "key_2", Quota: pipeline.Quota{BudgetUSD: 1, BudgetPeriod: Month}}
	if _, err := h.Serve(context.Background(), chat(other)); err != nil {
		t.Errorf("another key's budget affected: %v", err)
	}
}

func TestTenantBudgetAndFallback(t *testing.T) {
	spend := memory.NewSpend(nil)
	var served []string
	o := Options{Spend: spend, Now: func() time.Time { return now },
		Tenants: map[string]Tenant{"acme": {USD: 0.5, Period: Day, Fallback: "openai/gpt-4o-mini"}, "solo": {USD: 0.5, Period: Day}}}
	h := New(o)(costs(0.5, &served))
	acme := pipeline.Identity{Tenant: "acme"}
	if _, err := h.Serve(context.Background(), chat(acme)); err != nil {
		t.Fatal(err)
	}
	waitSpent(t, spend, "tenant:acme:d20250314", 0.5)
	c := chat(acme)
	if _, err := h.Serve(context.Background(), c); err != nil {
		t.Fatalf("fallback: %v", err)
	}
	if served[len(served)-1] != "openai/gpt-4o-mini" || c.RespHeader.Get("x-aig-budget-fallback") != "openai/gpt-4o-mini" {
		t.Errorf("served %v, header %v", served, c.RespHeader)
	}
	solo := pipeline.Identity{Tenant: "solo"}
	h.Serve(context.Background(), chat(solo))
	waitSpent(t, spend, "tenant:solo:d20250314", 0.5)
	_, err := h.Serve(context.Background(), chat(solo))
	if err == nil || !strings.Contains(err.Error(), `tenant "solo"`) || !strings.Contains(err.Error(), "daily budget") ||
		!strings.Contains(err.Error(), "2025-03-15T00:00:00Z") {
		t.Fatalf("tenant over budget: %v", err)
	}
	// the next day starts afresh
	tomorrow := New(Options{Spend: spend, Tenants: o.Tenants, Now: func() time.Time { return now.Add(24 * time.Hour) }})(costs(0.1, &served))
	if _, err := tomorrow.Serve(context.Background(), chat(solo)); err != nil {
		t.Errorf("new day: %v", err)
	}
}

type stream struct {
	c *pipeline.Call
	n int
}

func (s *stream) Recv() (*llm.ChatChunk, error) {
	if s.n == 0 {
		s.c.Outcome.CostUSD = 0.25 // the usage stage prices the stream at its end
		return nil, io.EOF
	}
	s.n--
	return &llm.ChatChunk{}, nil
}
func (s *stream) Close() error { return nil }

func TestStreamIsChargedAtItsEnd(t *testing.T) {
	spend := memory.NewSpend(nil)
	h := New(Options{Spend: spend, Now: func() time.Time { return now }})(pipeline.HandlerFunc(
		func(ctx context.Context, c *pipeline.Call) (*pipeline.Result, error) {
			return &pipeline.Result{Stream: &stream{c: c, n: 2}}, nil
		}))
	id := pipeline.Identity{KeyID: "key_s", Quota: pipeline.Quota{BudgetUSD: 5, BudgetPeriod: Day}}
	res, err := h.Serve(context.Background(), chat(id))
	if err != nil {
		t.Fatal(err)
	}
	if spentNow(t, spend, "key:key_s:d20250314") != 0 {
		t.Fatal("charged before the stream ended")
	}
	for {
		if _, err := res.Stream.Recv(); err != nil {
			break
		}
	}
	waitSpent(t, spend, "key:key_s:d20250314", 0.25)
}

type brokenSpend struct{}

func (brokenSpend) Spent(context.Context, []string) ([]float64, error) {
	return nil, errors.New("dial tcp: connection refused")
}
func (brokenSpend) AddSpend(context.Context, []string, float64, time.Duration) error {
	return errors.New("down")
}

func TestStoreFaults(t *testing.T) {
	var served []string
	id := pipeline.Identity{KeyID: "k", Quota: pipeline.Quota{BudgetUSD: 1, BudgetPeriod: Month}}
	_, err := New(Options{Spend: brokenSpend{}})(costs(0, &served)).Serve(context.Background(), chat(id))
	var ge *gwerr.Error
	if !errors.As(err, &ge) || ge.Status != http.StatusServiceUnavailable || ge.Code != "budget_store_unavailable" {
		t.Fatalf("default must fail closed: %v", err)
	}
	if _, err := New(Options{Spend: brokenSpend{}, FailOpen: true})(costs(0, &served)).Serve(context.Background(), chat(id)); err != nil {
		t.Fatalf("fail open: %v", err)
	}
	if _, err := New(Options{Spend: brokenSpend{}})(costs(0, &served)).Serve(context.Background(), chat(pipeline.Identity{})); err != nil {
		t.Fatalf("a call without budgets must not touch the store: %v", err)
	}
}

func TestBounds(t *testing.T) {
	for _, tc := range []struct {
		period      string
		now         time.Time
		start, next string
	}{
		{Month, time.Date(2025, 12, 31, 23, 59, 0, 0, time.UTC), "2025-12-01", "2026-01-01"},
		{Day, time.Date(2025, 2, 28, 23, 0, 0, 0, time.UTC), "2025-02-28", "2025-03-01"},
		{Month, time.Date(2025, 1, 31, 23, 0, 0, 0, time.FixedZone("x", -3600*5)), "2025-02-01", "2025-03-01"},
	} {
		s, n := Bounds(tc.period, tc.now)
		if s.Format("2006-01-02") != tc.start || n.Format("2006-01-02") != tc.next {
			t.Errorf("Bounds(%s, %v) = %v, %v", tc.period, tc.now, s, n)
		}
	}
}
