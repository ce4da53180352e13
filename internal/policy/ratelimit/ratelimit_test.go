package ratelimit

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/pipeline"
	"github.com/aigateway/aigateway/internal/store"
	"github.com/aigateway/aigateway/internal/store/memory"
)

func call(id pipeline.Identity, model string) *pipeline.Call {
	return &pipeline.Call{Kind: pipeline.KindChat, Model: model, Identity: id, ClientIP: "10.0.0.1",
		Body: []byte(`{"model":"` + model + `","messages":[{"role":"user","content":"hello there"}]}`),
		Chat: &llm.ChatRequest{Model: model}}
}

var ok = pipeline.HandlerFunc(func(ctx context.Context, c *pipeline.Call) (*pipeline.Result, error) {
	return &pipeline.Result{Chat: &llm.ChatResponse{}}, nil
})

func asGW(t *testing.T, err error) *gwerr.Error {
	t.Helper()
	var ge *gwerr.Error
	if !errors.As(err, &ge) {
		t.Fatalf("not a gateway error: %v", err)
	}
	return ge
}

func TestKeyRPM(t *testing.T) {
	h := New(Options{Limiter: memory.NewLimiter(memory.LimiterOptions{})})(ok)
	id := pipeline.Identity{KeyID: "key_1", KeyName: "ci", Quota: pipeline.Quota{RPM: 3}}
	for i := 0; i < 3; i++ {
		c := call(id, "openai/gpt-4o")
		if _, err := h.Serve(context.Background(), c); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if got := c.RespHeader.Get("x-ratelimit-remaining-requests"); got != []string{"2", "1", "0"}[i] {
			t.Errorf("request %d: remaining %q", i, got)
		}
		if c.RespHeader.Get("x-ratelimit-limit-requests") != "3" || c.RespHeader.Get("x-ratelimit-reset-requests") == "" {
			t.Errorf("request %d headers: %v", i, c.RespHeader)
		}
	}
	_, err := h.Serve(context.Background(), call(id, "openai/gpt-4o"))
	ge := asGW(t, err)
	if ge.Status != http.StatusTooManyRequests || ge.RetryAfter <= 0 || !strings.Contains(ge.Message, `gateway key "ci" allows 3 requests per minute`) {
		t.Fatalf("rejection: %+v", ge)
	}
	if ge.Header.Get("x-ratelimit-remaining-requests") != "0" {
		t.Errorf("rejection headers: %v", ge.Header)
	}
	other := pipeline.Identity{KeyID: "key_2", Quota: pipeline.Quota{RPM: 3}}
	if _, err := h.Serve(context.Background(), call(other, "openai/gpt-4o")); err != nil {
		t.Errorf("another key shares the counter: %v", err)
	}
}

func TestRulesByDimension(t *testing.T) {
	h := New(Options{Limiter: memory.NewLimiter(memory.LimiterOptions{}), Rules: []Rule{
		{Name: "per-user-model", By: []string{DimUser, DimModel}, Requests: 1, Window: time.Minute},
		{Name: "free-tier", Tiers: []string{"free"}, Requests: 2, Window: time.Minute},
	}})(ok)
	serve := func(id pipeline.Identity, model string) error {
		_, err := h.Serve(context.Background(), call(id, model))
		return err
	}
	alice := pipeline.Identity{User: "alice"}
	if serve(alice, "openai/a") != nil || serve(alice, "openai/b") != nil {
		t.Fatal("first request per user and model refused")
	}
	if err := serve(alice, "openai/a"); err == nil || !strings.Contains(err.Error(), "user=alice, model=openai/a") {
		t.Fatalf("second alice/a: %v", err)
	}
	if serve(pipeline.Identity{User: "bob"}, "openai/a") != nil {
		t.Fatal("bob shares alice's counter")
	}
	for i := 0; i < 5; i++ {
		if err := serve(pipeline.Identity{}, "openai/a"); err != nil {
			t.Fatalf("a call without a user is not counted by a user rule: %v", err)
		}
	}
	free := pipeline.Identity{Tier: "free"}
	serve(free, "x/1")
	serve(free, "x/2")
	if serve(free, "x/3") == nil {
		t.Error("tier rule not applied")
	}
}

func TestExactUnderConcurrency(t *testing.T) {
	h := New(Options{Limiter: memory.NewLimiter(memory.LimiterOptions{}), Rules: []Rule{{Name: "all", Requests: 50, Window: time.Minute}}})(ok)
	var allowed, refused atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := h.Serve(context.Background(), call(pipeline.Identity{}, "m/x")); err == nil {
				allowed.Add(1)
			} else if asGW(t, err).Status == 429 {
				refused.Add(1)
			}
		}()
	}
	wg.Wait()
	if allowed.Load() != 50 || refused.Load() != 150 {
		t.Fatalf("allowed %d, refused %d; want 50 and 150", allowed.Load(), refused.Load())
	}
}

// used reads a counter without charging it.
func used(t *testing.T, l store.Limiter, key string) int64 {
	t.Helper()
	r, err := l.Take(context.Background(), []store.Window{{Key: key, Limit: 1 << 40, Period: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	return r.States[0].Used
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestTokensReconcile(t *testing.T) {
	l := memory.NewLimiter(memory.LimiterOptions{})
	id := pipeline.Identity{KeyID: "key_1", Quota: pipeline.Quota{TPM: 1000}}
	withUsage := func(total int) pipeline.Handler {
		return pipeline.HandlerFunc(func(ctx context.Context, c *pipeline.Call) (*pipeline.Result, error) {
			c.Outcome.Usage, c.Outcome.UsageKnown = llm.Usage{TotalTokens: total}, true
			return &pipeline.Result{Chat: &llm.ChatResponse{}}, nil
		})
	}
	t.Run("estimate replaced by real usage", func(t *testing.T) {
		c := call(id, "m/x")
		est := EstimateTokens(c)
		if _, err := New(Options{Limiter: l})(withUsage(300)).Serve(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		if got := c.RespHeader.Get("x-ratelimit-remaining-tokens"); got != "" && got != strconv.FormatInt(1000-est, 10) {
			t.Errorf("remaining tokens header %q, want %d", got, 1000-est)
		}
		eventually(t, "reconciliation", func() bool { return used(t, l, "k:key_1:tpm") == 300 })
	})
	t.Run("a failed call gives its estimate back", func(t *testing.T) {
		before := used(t, l, "k:key_1:tpm")
		fail := pipeline.HandlerFunc(func(ctx context.Context, c *pipeline.Call) (*pipeline.Result, error) {
			return nil, gwerr.Upstream(500, "", "", "boom")
		})
		New(Options{Limiter: l})(fail).Serve(context.Background(), call(id, "m/x"))
		eventually(t, "refund", func() bool { return used(t, l, "k:key_1:tpm") == before })
	})
	t.Run("a stream settles at its end", func(t *testing.T) {
		before := used(t, l, "k:key_1:tpm")
		streaming := pipeline.HandlerFunc(func(ctx context.Context, c *pipeline.Call) (*pipeline.Result, error) {
			return &pipeline.Result{Stream: &fakeStream{c: c, n: 3, usage: 40}}, nil
		})
		c := call(id, "m/x")
		res, err := New(Options{Limiter: l})(streaming).Serve(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		if used(t, l, "k:key_1:tpm") != before+EstimateTokens(c) {
			t.Fatal("estimate not charged before the stream")
		}
		for {
			if _, err := res.Stream.Recv(); err != nil {
				break
			}
		}
		eventually(t, "settling at stream end", func() bool { return used(t, l, "k:key_1:tpm") == before+40 })
	})
	t.Run("a request larger than the limit is charged the limit, not refused outright", func(t *testing.T) {
		big := pipeline.Identity{KeyID: "key_big", Quota: pipeline.Quota{TPM: 10}}
		if _, err := New(Options{Limiter: l})(ok).Serve(context.Background(), call(big, "m/x")); err != nil {
			t.Fatal(err)
		}
	})
}

type fakeStream struct {
	c     *pipeline.Call
	n     int
	usage int
}

func (s *fakeStream) Recv() (*llm.ChatChunk, error) {
	if s.n == 0 {
		s.c.Outcome.Usage, s.c.Outcome.UsageKnown = llm.Usage{TotalTokens: s.usage}, true
		return nil, io.EOF
	}
	s.n--
	return &llm.ChatChunk{}, nil
}

func (s *fakeStream) Close() error { return nil }

type brokenLimiter struct{}

func (brokenLimiter) Take(context.Context, []store.Window) (store.TakeResult, error) {
	return store.TakeResult{}, errors.New("dial tcp 127.0.0.1:1: connection refused")
}
func (brokenLimiter) Adjust(context.Context, store.Charge, int64) error { return errors.New("down") }
func (brokenLimiter) Acquire(context.Context, string, int64, time.Duration) (func(), bool, error) {
	return nil, false, errors.New("down")
}

func TestStoreFaults(t *testing.T) {
	id := pipeline.Identity{KeyID: "k", Quota: pipeline.Quota{RPM: 1}}
	var faults atomic.Int64
	open := New(Options{Limiter: brokenLimiter{}, FailOpen: true, Faults: &faults})(ok)
	for i := 0; i < 3; i++ {
		if _, err := open.Serve(context.Background(), call(id, "m/x")); err != nil {
			t.Fatalf("fail open refused: %v", err)
		}
	}
	if faults.Load() != 3 {
		t.Errorf("faults %d, want 3", faults.Load())
	}
	closed := New(Options{Limiter: brokenLimiter{}})(ok)
	_, err := closed.Serve(context.Background(), call(id, "m/x"))
	if ge := asGW(t, err); ge.Status != http.StatusServiceUnavailable {
		t.Fatalf("fail closed: %v", err)
	}
}

func TestConcurrency(t *testing.T) {
	l := memory.NewLimiter(memory.LimiterOptions{})
	release := make(chan struct{})
	slow := pipeline.AttempterFunc(func(ctx context.Context, c *pipeline.Call, tg *pipeline.Target) (*pipeline.Result, error) {
		<-release
		return &pipeline.Result{Chat: &llm.ChatResponse{}}, nil
	})
	streaming := pipeline.AttempterFunc(func(ctx context.Context, c *pipeline.Call, tg *pipeline.Target) (*pipeline.Result, error) {
		return &pipeline.Result{Stream: &fakeStream{c: c, n: 1}}, nil
	})
	mw := Concurrency(ConcurrencyOptions{Limiter: l, Rules: []ConcurrencyRule{{Models: []string{"openai/*"}, Max: 2}}})
	target := &pipeline.Target{ProviderID: "openai", Model: "gpt-4o"}
	errs := make(chan error, 3)
	for i := 0; i < 2; i++ {
		go func() {
			_, err := mw(slow).Attempt(context.Background(), &pipeline.Call{}, target)
			errs <- err
		}()
	}
	time.Sleep(50 * time.Millisecond)
	_, err := mw(slow).Attempt(context.Background(), &pipeline.Call{}, target)
	if ge := asGW(t, err); ge.Status != 429 || !ge.Retryable || !strings.Contains(ge.Message, "at most 2") {
		t.Fatalf("third attempt: %v", err)
	}
	if _, err := mw(streaming).Attempt(context.Background(), &pipeline.Call{}, &pipeline.Target{ProviderID: "anthropic", Model: "x"}); err != nil {
		t.Fatalf("a model no rule matches was capped: %v", err)
	}
	close(release)
	<-errs
	<-errs
	// a stream holds its slot until it ends
	res1, _ := mw(streaming).Attempt(context.Background(), &pipeline.Call{}, target)
	res2, _ := mw(streaming).Attempt(context.Background(), &pipeline.Call{}, target)
	if _, err := mw(streaming).Attempt(context.Background(), &pipeline.Call{}, target); err == nil {
		t.Fatal("open streams did not hold their slots")
	}
	for _, r := range []*pipeline.Result{res1, res2} {
		for {
			if _, err := r.Stream.Recv(); err != nil {
				break
			}
		}
	}
	if _, err := mw(streaming).Attempt(context.Background(), &pipeline.Call{}, target); err != nil {
		t.Fatalf("finished streams kept their slots: %v", err)
	}
}
