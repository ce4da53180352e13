package routing

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aigateway/aigateway/internal/config"
	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/pipeline"
	"github.com/aigateway/aigateway/internal/provider"
	"github.com/aigateway/aigateway/internal/provider/openai"
	"github.com/aigateway/aigateway/internal/provider/providertest"
	"github.com/aigateway/aigateway/internal/routing/balance"
	"github.com/aigateway/aigateway/internal/routing/breaker"
)

// env is a set of fake upstreams, one per provider id, behind a registry.
type env struct {
	fakes map[string]*providertest.Fake
	reg   *provider.Registry
	state *State
}

func newEnv(t *testing.T, ids ...string) *env {
	t.Helper()
	e := &env{fakes: map[string]*providertest.Fake{}, state: NewState(StateOptions{})}
	var specs []provider.Spec
	for _, id := range ids {
		f := providertest.NewFake(providertest.Options{})
		srv := httptest.NewServer(f)
		t.Cleanup(srv.Close)
		e.fakes[id] = f
		specs = append(specs, provider.Spec{ID: id, Type: "openai", BaseURL: srv.URL + "/v1", APIKey: "sk-" + id,
			StreamUsage: true, Client: srv.Client()})
	}
	reg, err := provider.NewRegistry(map[string]provider.Factory{"openai": openai.New}, specs)
	if err != nil {
		t.Fatal(err)
	}
	e.reg = reg
	return e
}

// target is an alias target for provider id and model.
func (e *env) target(id, model string) AliasTarget {
	p, _ := e.reg.Lookup(id)
	return AliasTarget{Target: pipeline.Target{Provider: p, ProviderID: id, Model: model}, Weight: 1}
}

func (e *env) router(o Options) *Router {
	o.Registry = e.reg
	if o.State == nil {
		o.State = e.state
	}
	if o.Attempter == nil {
		o.Attempter = pipeline.ChainAttempt(pipeline.Invoke(),
			BreakerStage(o.State, breaker.Settings{Disabled: true}),
			LoadStage(o.State))
	}
	return New(o)
}

func chat(model string, stream bool) *pipeline.Call {
	return &pipeline.Call{Kind: pipeline.KindChat, Model: model, Chat: &llm.ChatRequest{
		Model: model, Stream: stream,
		Messages: []llm.Message{{Role: "user", Content: llm.TextContent("hi")}},
	}}
}

// served runs a non-streamed call and returns the provider that served.
func served(t *testing.T, r *Router, c *pipeline.Call) string {
	t.Helper()
	res, err := r.Serve(context.Background(), c)
	if err != nil {
		t.Fatalf("call failed: %v", err)
	}
	if res.Chat == nil {
		t.Fatalf("no chat answer")
	}
	return c.Outcome.Provider
}

// fakeClock records the waits between attempts instead of sleeping.
type fakeClock struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (f *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	f.waits = append(f.waits, d)
	f.mu.Unlock()
	return ctx.Err()
}

func upstreamError(status int, code, msg string) providertest.Behaviour {
	return func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		providertest.WriteOpenAIError(w, status, "invalid_request_error", code, msg)
		return true
	}
}

func TestFallbackOrder(t *testing.T) {
	e := newEnv(t, "a", "b", "c")
	var moves []string
	r := e.router(Options{
		Aliases: map[string]Alias{"smart": {Name: "smart", Targets: []AliasTarget{
			e.target("a", "error-500"), e.target("b", "error-429"), e.target("c", "gpt-4o"),
		}}},
		Sleep: (&fakeClock{}).sleep,
		Hooks: Hooks{Fallback: func(_ *pipeline.Call, from, to string, _ error) { moves = append(moves, from+">"+to) }},
	})
	c := chat("smart", false)
	if got := served(t, r, c); got != "c" {
		t.Fatalf("served by %s, want c", got)
	}
	if c.Outcome.Step != 2 || c.Outcome.Attempts != 3 || c.Outcome.ServedModel != "gpt-4o" {
		t.Errorf("outcome %+v, want step 2 after 3 attempts", c.Outcome)
	}
	for _, id := range []string{"a", "b", "c"} {
		if n := len(e.fakes[id].Requests()); n != 1 {
			t.Errorf("%s got %d requests, want 1", id, n)
		}
	}
	want := "[a/error-500>b/error-429 b/error-429>c/gpt-4o]"
	if fmt.Sprint(moves) != want {
		t.Errorf("fallbacks %v, want %s", moves, want)
	}
}

func TestFallbackClassesAreConfigurable(t *testing.T) {
	contextLength := upstreamError(400, "context_length_exceeded", "This model's maximum context length is 8192 tokens.")
	contentPolicy := upstreamError(400, "content_policy_violation", "Your request was rejected by our content policy.")
	anthropicLength := upstreamError(400, "", "prompt is too long: 210000 tokens > 200000 maximum")
	filtered := func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null},"finish_reason":"content_filter"}]}`)
		return true
	}
	cases := []struct {
		name      string
		first     providertest.Behaviour
		on        Classes
		wantFell  bool
		wantState int
	}{
		{"context length not by default", contextLength, 0, false, 400},
		{"context length when configured", contextLength, DefaultFallbackOn | ContextLength, true, 0},
		{"anthropic wording", anthropicLength, ContextLength, true, 0},
		{"content policy not by default", contentPolicy, 0, false, 400},
		{"content policy when configured", contentPolicy, ContentPolicy, true, 0},
		{"filtered answer when configured", filtered, ContentPolicy, true, 0},
		{"filtered answer passes through by default", filtered, 0, false, 200},
		{"bad request falls back on any", upstreamError(400, "", "bad thing"), AnyFailure, true, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, "a", "b")
			e.fakes["a"].Enqueue(tc.first)
			r := e.router(Options{Aliases: map[string]Alias{"m": {Name: "m", FallbackOn: tc.on,
				Targets: []AliasTarget{e.target("a", "gpt"), e.target("b", "gpt")}}}})
			c := chat("m", false)
			res, err := r.Serve(context.Background(), c)
			fell := len(e.fakes["b"].Requests()) == 1
			if fell != tc.wantFell {
				t.Fatalf("fell back = %v, want %v (err %v)", fell, tc.wantFell, err)
			}
			switch {
			case tc.wantState == 200:
				if err != nil || res.Chat.Choices[0].FinishReason != "content_filter" {
					t.Fatalf("want the filtered answer, got %v", err)
				}
			case tc.wantState != 0:
				var ge *gwerr.Error
				if !errors.As(err, &ge) || ge.Status != tc.wantState {
					t.Fatalf("err %v, want status %d", err, tc.wantState)
				}
			case err != nil || c.Outcome.Provider != "b":
				t.Fatalf("err %v, provider %s; want b", err, c.Outcome.Provider)
			}
		})
	}
}

func TestRetryCountsAndSchedule(t *testing.T) {
	ms := time.Millisecond
	cases := []struct {
		backoff string
		check   func(n int, d time.Duration) bool
		want    string
	}{
		{pipeline.BackoffConstant, func(n int, d time.Duration) bool { return d == 100*ms }, "100ms each"},
		{pipeline.BackoffLinear, func(n int, d time.Duration) bool { return d == time.Duration(n)*100*ms }, "100ms × n"},
		{pipeline.BackoffExponential, func(n int, d time.Duration) bool {
			full := 100 * ms << (n - 1)
			return d >= full/2 && d <= full // jittered within the upper half
		}, "jittered 100ms × 2^(n-1)"},
	}
	for _, tc := range cases {
		t.Run(tc.backoff, func(t *testing.T) {
			e := newEnv(t, "a")
			clock := &fakeClock{}
			var retries []int
			r := e.router(Options{Sleep: clock.sleep,
				Retry: RetryPolicy{MaxAttempts: 4, Delay: 100 * ms, Backoff: tc.backoff},
				Hooks: Hooks{Retry: func(_ *pipeline.Call, _ string, n int, _ error) { retries = append(retries, n) }}})
			c := chat("a/error-503", false)
			_, err := r.Serve(context.Background(), c)
			var ge *gwerr.Error
			if !errors.As(err, &ge) || ge.Status != 503 {
				t.Fatalf("err %v, want the provider's 503", err)
			}
			if c.Outcome.Attempts != 4 || len(e.fakes["a"].Requests()) != 4 {
				t.Fatalf("%d attempts, %d upstream requests; want 4", c.Outcome.Attempts, len(e.fakes["a"].Requests()))
			}
			if len(clock.waits) != 3 || fmt.Sprint(retries) != "[1 2 3]" {
				t.Fatalf("waits %v, retries %v", clock.waits, retries)
			}
			for i, d := range clock.waits {
				if !tc.check(i+1, d) {
					t.Errorf("wait %d = %v, want %s", i+1, d, tc.want)
				}
			}
		})
	}

	t.Run("headers override config", func(t *testing.T) {
		e := newEnv(t, "a")
		clock := &fakeClock{}
		r := e.router(Options{Sleep: clock.sleep, Retry: RetryPolicy{MaxAttempts: 5, Delay: time.Second}})
		c := chat("a/error-500", false)
		c.Options.MaxAttempts, c.Options.RetryDelay, c.Options.RetryDelaySet, c.Options.Backoff = 2, 7*ms, true, pipeline.BackoffConstant
		r.Serve(context.Background(), c)
		if c.Outcome.Attempts != 2 || fmt.Sprint(clock.waits) != "[7ms]" {
			t.Fatalf("attempts %d waits %v, want 2 and [7ms]", c.Outcome.Attempts, clock.waits)
		}
	})

	t.Run("retry-after honoured", func(t *testing.T) {
		e := newEnv(t, "a")
		e.fakes["a"].Enqueue(func(w http.ResponseWriter, r *http.Request, body []byte) bool {
			w.Header().Set("Retry-After", "3")
			providertest.WriteOpenAIError(w, 429, "rate_limit_error", "rate_limit_exceeded", "slow down")
			return true
		})
		clock := &fakeClock{}
		r := e.router(Options{Sleep: clock.sleep, Retry: RetryPolicy{MaxAttempts: 2, Delay: 10 * ms, Backoff: "constant"}})
		if got := served(t, r, chat("a/gpt", false)); got != "a" {
			t.Fatal(got)
		}
		if fmt.Sprint(clock.waits) != "[3s]" {
			t.Fatalf("waits %v, want [3s] from Retry-After", clock.waits)
		}
	})

	t.Run("retry-after beyond the timeout is not waited for", func(t *testing.T) {
		e := newEnv(t, "a")
		e.fakes["a"].Enqueue(func(w http.ResponseWriter, r *http.Request, body []byte) bool {
			w.Header().Set("Retry-After", "120")
			providertest.WriteOpenAIError(w, 429, "rate_limit_error", "rate_limit_exceeded", "slow down")
			return true
		})
		clock := &fakeClock{}
		r := e.router(Options{Sleep: clock.sleep, AttemptTimeout: 30 * time.Second, Retry: RetryPolicy{MaxAttempts: 3}})
		c := chat("a/gpt", false)
		_, err := r.Serve(context.Background(), c)
		var ge *gwerr.Error
		if !errors.As(err, &ge) || ge.Status != 429 || c.Outcome.Attempts != 1 || len(clock.waits) != 0 {
			t.Fatalf("err %v attempts %d waits %v; want the 429 after one attempt", err, c.Outcome.Attempts, clock.waits)
		}
	})

	t.Run("caller errors are not retried", func(t *testing.T) {
		e := newEnv(t, "a")
		r := e.router(Options{Sleep: (&fakeClock{}).sleep, Retry: RetryPolicy{MaxAttempts: 3}})
		c := chat("a/error-400", false)
		r.Serve(context.Background(), c)
		if c.Outcome.Attempts != 1 {
			t.Fatalf("%d attempts on a 400", c.Outcome.Attempts)
		}
	})
}

func TestTimeouts(t *testing.T) {
	t.Run("time to first byte per attempt, then fallback", func(t *testing.T) {
		e := newEnv(t, "a", "b")
		r := e.router(Options{Sleep: (&fakeClock{}).sleep, Retry: RetryPolicy{MaxAttempts: 2},
			Aliases: map[string]Alias{"m": {Name: "m", Targets: []AliasTarget{e.target("a", "hang"), e.target("b", "gpt")}}}})
		c := chat("m", false)
		c.Options.RequestTimeout = 50 * time.Millisecond
		if got := served(t, r, c); got != "b" {
			t.Fatal(got)
		}
		if c.Outcome.Attempts != 3 {
			t.Errorf("%d attempts, want 2 timed out on a and 1 on b", c.Outcome.Attempts)
		}
	})
	t.Run("timeout error", func(t *testing.T) {
		e := newEnv(t, "a")
		r := e.router(Options{AttemptTimeout: 30 * time.Millisecond})
		_, err := r.Serve(context.Background(), chat("a/hang", false))
		var ge *gwerr.Error
		if !errors.As(err, &ge) || ge.Status != 504 || ge.Code != "upstream_timeout" {
			t.Fatalf("err %v, want 504 upstream_timeout", err)
		}
	})
	t.Run("total", func(t *testing.T) {
		e := newEnv(t, "a")
		r := e.router(Options{TotalTimeout: 80 * time.Millisecond, Retry: RetryPolicy{MaxAttempts: 5, Delay: time.Millisecond}})
		start := time.Now()
		_, err := r.Serve(context.Background(), chat("a/slow-50", false))
		if err == nil {
			// slow-50 answers within 80ms: that is fine; make it fail
			_, err = r.Serve(context.Background(), chat("a/hang", false))
		}
		var ge *gwerr.Error
		if !errors.As(err, &ge) || ge.Status != 504 || ge.Code != "total_timeout" {
			t.Fatalf("err %v, want 504 total_timeout", err)
		}
		if el := time.Since(start); el > 2*time.Second {
			t.Fatalf("total timeout took %v", el)
		}
	})
}

func TestBreakerOpensSkipsProbesAndCloses(t *testing.T) {
	e := newEnv(t, "a", "b")
	settings := breaker.Settings{ConsecutiveFailures: 2, ErrorRate: 1, MinRequests: 1000, Cooldown: 60 * time.Millisecond}
	var skips []string
	r := e.router(Options{
		Attempter: pipeline.ChainAttempt(pipeline.Invoke(), BreakerStage(e.state, settings), LoadStage(e.state)),
		Aliases:   map[string]Alias{"m": {Name: "m", Targets: []AliasTarget{e.target("a", "gpt"), e.target("b", "gpt")}}},
		Hooks:     Hooks{Skip: func(_ *pipeline.Call, d, reason string) { skips = append(skips, d+":"+reason) }},
	})
	fail500 := func(w http.ResponseWriter, r *http.Request, b []byte) bool {
		providertest.WriteOpenAIError(w, 500, "api_error", "", "boom")
		return true
	}
	e.fakes["a"].Enqueue(fail500, fail500, fail500)
	for i := 0; i < 2; i++ {
		if got := served(t, r, chat("m", false)); got != "b" {
			t.Fatalf("request %d served by %s, want fallback b", i, got)
		}
	}
	if st := e.state.Breakers.State("a/gpt"); st != breaker.Open {
		t.Fatalf("a is %s after 2 consecutive failures, want open", st)
	}
	c := chat("m", false)
	if got := served(t, r, c); got != "b" || c.Outcome.Step != 1 || c.Outcome.Attempts != 1 {
		t.Fatalf("served by %s step %d attempts %d; want b at step 1 without trying a", got, c.Outcome.Step, c.Outcome.Attempts)
	}
	if n := len(e.fakes["a"].Requests()); n != 2 {
		t.Fatalf("open deployment a got %d requests, want 2 (none while open)", n)
	}
	if fmt.Sprint(skips) != "[a/gpt:breaker_open]" {
		t.Errorf("skips %v", skips)
	}
	var h DeploymentHealth
	for _, x := range r.Health() {
		if x.Deployment == "a/gpt" {
			h = x
		}
	}
	if h.State != breaker.Open || h.RetryAt == nil || h.Provider != "a" {
		t.Errorf("health of a: %+v", h)
	}

	time.Sleep(2 * settings.Cooldown)
	// half-open: the probe fails (third queued error) and reopens
	if got := served(t, r, chat("m", false)); got != "b" {
		t.Fatalf("after failed probe served by %s", got)
	}
	if st := e.state.Breakers.State("a/gpt"); st != breaker.Open {
		t.Fatalf("a is %s after a failed probe, want open", st)
	}
	time.Sleep(2 * settings.Cooldown)
	// the next probe succeeds and closes it
	if got := served(t, r, chat("m", false)); got != "a" {
		t.Fatalf("probe served by %s, want a", got)
	}
	if st := e.state.Breakers.State("a/gpt"); st != breaker.Closed {
		t.Fatalf("a is %s after a good probe, want closed", st)
	}
	if got := served(t, r, chat("m", false)); got != "a" {
		t.Fatalf("closed a not used again: %s", got)
	}
}

func TestAllDeploymentsUnavailable(t *testing.T) {
	e := newEnv(t, "a")
	settings := breaker.Settings{ConsecutiveFailures: 1, Cooldown: time.Minute}
	r := e.router(Options{Attempter: pipeline.ChainAttempt(pipeline.Invoke(), BreakerStage(e.state, settings))})
	r.Serve(context.Background(), chat("a/error-502", false))
	_, err := r.Serve(context.Background(), chat("a/error-502", false))
	var ge *gwerr.Error
	if !errors.As(err, &ge) || ge.Status != 503 || ge.Code != "no_healthy_deployment" || ge.RetryAfter <= 0 {
		t.Fatalf("err %v, want 503 no_healthy_deployment", err)
	}
	if n := len(e.fakes["a"].Requests()); n != 1 {
		t.Fatalf("%d upstream requests, want 1", n)
	}
}

func TestWeightedAliasSpreadsTraffic(t *testing.T) {
	e := newEnv(t, "east", "west")
	east, west := e.target("east", "gpt"), e.target("west", "gpt")
	east.Weight, west.Weight = 3, 1
	r := e.router(Options{Aliases: map[string]Alias{"m": {Name: "m", Strategy: balance.Weighted, Targets: []AliasTarget{east, west}}}})
	count := map[string]int{}
	const n = 400
	for i := 0; i < n; i++ {
		count[served(t, r, chat("m", false))]++
	}
	// σ ≈ 8.7 at p=0.75, n=400; ±45 is over 5σ
	if d := count["east"] - 300; d < -45 || d > 45 {
		t.Fatalf("east served %d of %d, want about 300", count["east"], n)
	}
}

func TestLeastLatencyMovesTrafficAway(t *testing.T) {
	e := newEnv(t, "fast", "slow")
	r := e.router(Options{Aliases: map[string]Alias{"m": {Name: "m", Strategy: balance.LeastLatency,
		Targets: []AliasTarget{e.target("slow", "slow-60"), e.target("fast", "gpt")}}}})
	for i := 0; i < 4; i++ { // both get measured
		served(t, r, chat("m", false))
	}
	count := map[string]int{}
	for i := 0; i < 30; i++ {
		count[served(t, r, chat("m", false))]++
	}
	if count["slow"] != 0 {
		t.Fatalf("slow deployment still got %d of 30: %v", count["slow"], count)
	}
}

func TestCapacitySkipsFullDeployment(t *testing.T) {
	e := newEnv(t, "a", "b")
	a, b := e.target("a", "gpt"), e.target("b", "gpt")
	a.RPM, b.RPM = 2, 1
	r := e.router(Options{Aliases: map[string]Alias{"m": {Name: "m", Targets: []AliasTarget{a, b}}}})
	got := []string{}
	for i := 0; i < 3; i++ {
		got = append(got, served(t, r, chat("m", false)))
	}
	if fmt.Sprint(got) != "[a a b]" {
		t.Fatalf("served by %v, want [a a b]", got)
	}
	_, err := r.Serve(context.Background(), chat("m", false))
	var ge *gwerr.Error
	if !errors.As(err, &ge) || ge.Status != 429 || ge.Code != "capacity_exceeded" {
		t.Fatalf("err %v, want 429 capacity_exceeded", err)
	}
}

func TestStreams(t *testing.T) {
	t.Run("failure before the first event falls back", func(t *testing.T) {
		e := newEnv(t, "a", "b")
		r := e.router(Options{Aliases: map[string]Alias{"m": {Name: "m", Targets: []AliasTarget{e.target("a", "error-500"), e.target("b", "gpt")}}}})
		c := chat("m", true)
		res, err := r.Serve(context.Background(), c)
		if err != nil || res.Stream == nil || c.Outcome.Provider != "b" {
			t.Fatalf("err %v provider %s", err, c.Outcome.Provider)
		}
		res.Stream.Close()
	})
	t.Run("no retry or fallback after the first event; the break surfaces", func(t *testing.T) {
		e := newEnv(t, "a", "b")
		settings := breaker.Settings{ConsecutiveFailures: 1, Cooldown: time.Minute}
		r := e.router(Options{
			Attempter: pipeline.ChainAttempt(pipeline.Invoke(), BreakerStage(e.state, settings), LoadStage(e.state)),
			Retry:     RetryPolicy{MaxAttempts: 3},
			Aliases:   map[string]Alias{"m": {Name: "m", Targets: []AliasTarget{e.target("a", "break"), e.target("b", "gpt")}}},
		})
		c := chat("m", true)
		res, err := r.Serve(context.Background(), c)
		if err != nil || res.Stream == nil {
			t.Fatalf("stream did not start: %v", err)
		}
		var streamErr error
		events := 0
		for {
			_, err := res.Stream.Recv()
			if err != nil {
				streamErr = err
				break
			}
			events++
		}
		res.Stream.Close()
		if streamErr == nil || errors.Is(streamErr, context.Canceled) || events == 0 {
			t.Fatalf("after %d events the stream ended with %v, want an upstream error", events, streamErr)
		}
		if len(e.fakes["a"].Requests()) != 1 || len(e.fakes["b"].Requests()) != 0 || c.Outcome.Attempts != 1 {
			t.Fatalf("retried or fell back after the stream started: a %d, b %d requests",
				len(e.fakes["a"].Requests()), len(e.fakes["b"].Requests()))
		}
		if st := e.state.Breakers.State("a/break"); st != breaker.Open {
			t.Fatalf("a stream breaking midway is a failure of the deployment; breaker %s", st)
		}
		if n := e.state.Load.Lookup("a/break").InFlight(); n != 0 {
			t.Fatalf("%d still in flight after the stream ended", n)
		}
	})
}

func TestClassify(t *testing.T) {
	cases := []struct {
		err  error
		want Classes
	}{
		{gwerr.Upstream(429, "", "", "slow"), RateLimit},
		{gwerr.Upstream(500, "", "", "x"), ServerError},
		{gwerr.Upstream(529, "", "", "overloaded"), ServerError},
		{gwerr.FromTransport("p", context.DeadlineExceeded), Timeout},
		{gwerr.FromTransport("p", errors.New("connection refused")), Connection},
		{gwerr.Upstream(400, "", "content_filter", "x"), ContentPolicy},
		{gwerr.Upstream(400, "", "", "The response was filtered due to the prompt triggering Azure OpenAI's content management policy."), ContentPolicy},
		{gwerr.Upstream(400, "", "context_length_exceeded", "x"), ContextLength},
		{gwerr.Upstream(400, "", "", "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576)."), ContextLength},
		{gwerr.Upstream(401, "", "", "bad key"), Auth},
		{gwerr.Upstream(404, "", "model_not_found", "no"), NotFound},
		{gwerr.Upstream(422, "", "", "no"), BadRequest},
		{gwerr.BadRequest("model", "your fault"), 0},
		{gwerr.As(context.Canceled), 0},
		{errors.New("plain"), 0},
	}
	for _, tc := range cases {
		if got := classify(tc.err); got != tc.want {
			t.Errorf("classify(%v) = %b, want %b", tc.err, got, tc.want)
		}
	}
}

func TestConfigNamesAgree(t *testing.T) {
	for _, n := range config.FallbackClasses {
		if _, err := ParseClasses([]string{n}); err != nil {
			t.Errorf("config failure class %q unknown to routing", n)
		}
	}
	if len(classNames) != len(config.FallbackClasses) {
		t.Errorf("routing knows %d failure classes, config %d", len(classNames), len(config.FallbackClasses))
	}
	if c, _ := ParseClasses(config.DefaultFallbackOn); c != DefaultFallbackOn {
		t.Errorf("default fallback_on differs: config %v", config.DefaultFallbackOn)
	}
	for _, s := range config.Strategies {
		if !balance.Strategy(s).Valid() {
			t.Errorf("config strategy %q unknown to balance", s)
		}
	}
	if len(balance.Strategies) != len(config.Strategies) {
		t.Errorf("balance has %d strategies, config %d", len(balance.Strategies), len(config.Strategies))
	}
}
