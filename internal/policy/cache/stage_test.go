package cache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aigateway/aigateway/internal/pipeline"
	"github.com/aigateway/aigateway/internal/store"
	"github.com/aigateway/aigateway/internal/store/memory"
	"github.com/aigateway/aigateway/internal/store/storetest"
)

func TestMissThenHit(t *testing.T) {
	e := newEnv(t, Policy{})
	first, st := e.serve(t, chatCall("hello"))
	if st != StatusMiss {
		t.Fatalf("first status %s, want MISS", st)
	}
	second, st := e.serve(t, chatCall("hello"))
	if st != StatusHit || second != first {
		t.Fatalf("second: %s %q, want HIT %q", st, second, first)
	}
	if n := e.up.calls.Load(); n != 1 {
		t.Fatalf("upstream calls = %d, want 1", n)
	}
	if _, st := e.serve(t, chatCall("other")); st != StatusMiss {
		t.Fatalf("another prompt: %s, want MISS", st)
	}
	c := chatCall("hello")
	e.serve(t, c)
	if c.Outcome.Provider != "fake" || c.Outcome.ServedModel != "fake-model" {
		t.Fatalf("a hit reports provider %q model %q, want those that served the entry", c.Outcome.Provider, c.Outcome.ServedModel)
	}
}

func TestBypass(t *testing.T) {
	tests := []struct {
		name string
		pol  Policy
		call *pipeline.Call
	}{
		{"no rule matches", Policy{Rules: []Rule{{Match: "anthropic/*"}}}, chatCall("x")},
		{"skip-cache header", Policy{}, chatCall("x", opts(pipeline.Options{SkipCache: true}))},
		{"ttl header of zero", Policy{}, chatCall("x", opts(pipeline.Options{CacheTTLSet: true}))},
		{"models list", Policy{}, &pipeline.Call{Kind: pipeline.KindModels}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.pol)
			for i := 0; i < 2; i++ {
				c := *tt.call
				c.RespHeader = nil
				res, err := e.h.Serve(context.Background(), &c)
				if err != nil {
					t.Fatal(err)
				}
				if res.Stream != nil {
					res.Stream.Close()
				}
				if c.Outcome.CacheStatus != StatusBypass || c.RespHeader.Get(HeaderStatus) != StatusBypass {
					t.Fatalf("status %q, header %q; want BYPASS", c.Outcome.CacheStatus, c.RespHeader.Get(HeaderStatus))
				}
			}
			if n := e.up.calls.Load(); n != 2 {
				t.Fatalf("upstream calls = %d, want 2 (nothing cached)", n)
			}
		})
	}
}

func TestTTLHeaderEnablesCachingAndIsBounded(t *testing.T) {
	e := newEnv(t, Policy{Rules: []Rule{}, MaxTTL: 10 * time.Minute})
	ttl := opts(pipeline.Options{CacheTTL: time.Hour, CacheTTLSet: true})
	if _, st := e.serve(t, chatCall("x", ttl)); st != StatusMiss {
		t.Fatalf("status %s, want MISS: x-aig-cache-ttl enables caching", st)
	}
	if _, st := e.serve(t, chatCall("x", ttl)); st != StatusHit {
		t.Fatalf("status %s, want HIT", st)
	}
	e.clock.Advance(11 * time.Minute) // the hour asked for is capped at max 10m
	if _, st := e.serve(t, chatCall("x", ttl)); st != StatusMiss {
		t.Fatalf("after max ttl: %s, want MISS", st)
	}
}

func TestEntriesExpire(t *testing.T) {
	e := newEnv(t, Policy{Rules: []Rule{{Match: "openai/*", TTL: 30 * time.Second}}})
	e.serve(t, chatCall("x"))
	e.clock.Advance(29 * time.Second)
	if _, st := e.serve(t, chatCall("x")); st != StatusHit {
		t.Fatalf("before the rule's ttl: %s, want HIT", st)
	}
	e.clock.Advance(2 * time.Second)
	if _, st := e.serve(t, chatCall("x")); st != StatusMiss {
		t.Fatalf("after the rule's ttl: %s, want MISS", st)
	}
}

func TestCustomKey(t *testing.T) {
	e := newEnv(t, Policy{})
	key := opts(pipeline.Options{CacheKey: "greeting"})
	first, _ := e.serve(t, chatCall("hello", key))
	got, st := e.serve(t, chatCall("a different prompt", key))
	if st != StatusHit || got != first {
		t.Fatalf("same x-aig-cache-key: %s %q, want HIT %q", st, got, first)
	}
	// a custom key holding another kind of answer is a miss, not a crash
	emb := &pipeline.Call{Kind: pipeline.KindEmbed, Model: "openai/e", Options: pipeline.Options{CacheKey: "greeting"}, Embed: embedReq("x")}
	if _, st := e.serve(t, emb); st != StatusMiss {
		t.Fatalf("embedding under a chat entry's key: %s, want MISS", st)
	}
}

func TestTenantIsolation(t *testing.T) {
	e := newEnv(t, Policy{Rules: []Rule{{Match: "openai/*"}, {Match: "shared/*", Shared: true}}})
	a, _ := e.serve(t, chatCall("secret plan", tenant("acme")))
	b, st := e.serve(t, chatCall("secret plan", tenant("globex")))
	if st != StatusMiss || b == a {
		t.Fatalf("tenant globex got %s %q; must never get acme's %q", st, b, a)
	}
	if _, st := e.serve(t, chatCall("secret plan")); st != StatusMiss {
		t.Fatalf("the default namespace got %s from a tenant's entry", st)
	}
	if got, st := e.serve(t, chatCall("secret plan", tenant("acme"))); st != StatusHit || got != a {
		t.Fatalf("acme again: %s %q", st, got)
	}
	// tenant names that are prefixes of each other or contain separators
	// stay apart
	e.serve(t, chatCall("q", tenant("a")))
	for _, other := range []string{"a/", "a/h:", "ab", "", "A"} {
		if _, st := e.serve(t, chatCall("q", tenant(other))); st != StatusMiss {
			t.Errorf("tenant %q got %s from tenant a", other, st)
		}
	}
	// a shared rule shares on purpose
	e.serve(t, chatCall("public", tenant("acme"), model("shared/m")))
	if _, st := e.serve(t, chatCall("public", tenant("globex"), model("shared/m"))); st != StatusHit {
		t.Fatalf("shared namespace: %s, want HIT", st)
	}
}

func TestStreamedMissIsReplayedAndServesBothForms(t *testing.T) {
	e := newEnv(t, Policy{})
	orig, st := e.serve(t, chatCall("tell me", streamed()))
	if st != StatusMiss {
		t.Fatalf("first: %s", st)
	}
	replay, st := e.serve(t, chatCall("tell me", streamed()))
	if st != StatusHit || replay != orig {
		t.Fatalf("streamed replay: %s %q, want HIT %q", st, replay, orig)
	}
	plain, st := e.serve(t, chatCall("tell me"))
	if st != StatusHit || plain != orig {
		t.Fatalf("non-streamed from a streamed entry: %s %q", st, plain)
	}
	// and the reverse
	e.serve(t, chatCall("other"))
	s, st := e.serve(t, chatCall("other", streamed()))
	if st != StatusHit || s == "" {
		t.Fatalf("streamed from a non-streamed entry: %s %q", st, s)
	}
	if n := e.up.calls.Load(); n != 2 {
		t.Fatalf("upstream calls = %d, want 2", n)
	}
}

func TestBrokenOrAbandonedStreamsAreNotStored(t *testing.T) {
	e := newEnv(t, Policy{})
	e.up.breakStream = true
	res, err := e.h.Serve(context.Background(), chatCall("x", streamed()))
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := res.Stream.Recv(); err != nil {
			break
		}
	}
	res.Stream.Close()
	e.up.breakStream = false
	// abandoned: the client reads one chunk and goes away
	res, err = e.h.Serve(context.Background(), chatCall("y", streamed()))
	if err != nil {
		t.Fatal(err)
	}
	res.Stream.Recv()
	res.Stream.Close()
	e.engine.Wait()
	for _, p := range []string{"x", "y"} {
		if _, st := e.serve(t, chatCall(p, streamed())); st != StatusMiss {
			t.Errorf("prompt %q after an incomplete stream: %s, want MISS", p, st)
		}
	}
}

func TestOnlySuccessIsStored(t *testing.T) {
	e := newEnv(t, Policy{})
	e.up.fail = errors.New("upstream 500")
	if _, err := e.h.Serve(context.Background(), chatCall("x")); err == nil {
		t.Fatal("want the upstream error")
	}
	e.up.fail = nil
	if _, st := e.serve(t, chatCall("x")); st != StatusMiss {
		t.Fatalf("after a failure: %s, want MISS", st)
	}
}

func TestConcurrentMissesAreCoalesced(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(fmt.Sprintf("stream=%v", stream), func(t *testing.T) {
			e := newEnv(t, Policy{})
			e.up.gate = make(chan struct{})
			const n = 50
			var wg sync.WaitGroup
			texts := make([]string, n)
			statuses := make([]string, n)
			for i := 0; i < n; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c := chatCall("same")
					c.Chat.Stream = stream && i%2 == 0 // both forms share one flight
					res, err := e.h.Serve(context.Background(), c)
					if err != nil {
						t.Error(err)
						return
					}
					texts[i], statuses[i] = resultText(t, res), c.Outcome.CacheStatus
				}()
			}
			// every follower must have joined the flight before the leader
			// answers; otherwise a late one is a plain HIT, not coalesced
			waitFor(t, func() bool {
				return e.up.calls.Load() == 1 && e.engine.flights.len() == 1 && e.engine.flights.waiting() == n-1
			})
			close(e.up.gate)
			wg.Wait()
			if c := e.up.calls.Load(); c != 1 {
				t.Fatalf("%d upstream calls for %d identical requests, want 1", c, n)
			}
			misses := 0
			for i := range texts {
				if texts[i] != texts[0] {
					t.Fatalf("request %d got %q, want %q", i, texts[i], texts[0])
				}
				if statuses[i] == StatusMiss {
					misses++
				}
			}
			if misses != 1 {
				t.Fatalf("%d MISS statuses, want 1 (the leader); the rest are HIT", misses)
			}
			if f := e.engine.Figures(context.Background()); f.Coalesced != n-1 || f.Hits != n-1 || f.Misses != 1 {
				t.Fatalf("figures %+v", f)
			}
		})
	}
}

func TestFailedLeaderReleasesFollowers(t *testing.T) {
	e := newEnv(t, Policy{})
	e.up.gate = make(chan struct{})
	e.up.fail = errors.New("leader's upstream failed")
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.h.Serve(context.Background(), chatCall("x"))
			errs <- err
		}()
	}
	waitFor(t, func() bool { return e.up.calls.Load() >= 1 })
	time.Sleep(30 * time.Millisecond)
	close(e.up.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err == nil {
			t.Fatal("a follower got an answer that never existed")
		}
	}
	if e.engine.flights.len() != 0 {
		t.Fatal("a failed flight stayed registered")
	}
}

func TestFollowerGivesUpWithItsOwnContext(t *testing.T) {
	e := newEnv(t, Policy{})
	e.up.gate = make(chan struct{})
	defer close(e.up.gate)
	go e.h.Serve(context.Background(), chatCall("x"))
	waitFor(t, func() bool { return e.up.calls.Load() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := e.h.Serve(ctx, chatCall("x")); err == nil {
		t.Fatal("a follower whose client left must return")
	}
}

func TestEmbeddingsAndNativeAreCached(t *testing.T) {
	e := newEnv(t, Policy{})
	emb := func() *pipeline.Call {
		return &pipeline.Call{Kind: pipeline.KindEmbed, Model: "openai/text-embedding-3-small", Embed: embedReq("hello")}
	}
	a, _ := e.serve(t, emb())
	if b, st := e.serve(t, emb()); st != StatusHit || b != a {
		t.Fatalf("embeddings: %s %q want %q", st, b, a)
	}
	nat := func(body string) *pipeline.Call {
		return nativeCall("POST", "/v1/chat/completions", body)
	}
	a, _ = e.serve(t, nat(`{"model":"gpt-4o","messages":[]}`))
	c := nat(`{"model":"gpt-4o","messages":[]}`)
	b, st := e.serve(t, c)
	if st != StatusHit || b != a {
		t.Fatalf("native: %s %q want %q", st, b, a)
	}
	if _, st := e.serve(t, nat(`{"model":"gpt-4o","messages":[1]}`)); st != StatusMiss {
		t.Fatalf("native with another body: %s", st)
	}
	if e.up.calls.Load() != 3 {
		t.Fatalf("upstream calls = %d, want 3", e.up.calls.Load())
	}
}

func TestNativeHitKeepsOnlyContentHeaders(t *testing.T) {
	e := newEnv(t, Policy{})
	e.serve(t, nativeCall("POST", "/v1/x", `{}`))
	c := nativeCall("POST", "/v1/x", `{}`)
	res, err := e.h.Serve(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Native.Body.Close()
	if res.Native.Status != 200 || res.Native.Header.Get("Content-Type") != "application/json" || res.Native.Header.Get("X-Request-Id") != "" {
		t.Fatalf("native hit: status %d headers %v", res.Native.Status, res.Native.Header)
	}
}

func TestNativeCallersWithTheirOwnCredentialAreKeyedApart(t *testing.T) {
	e := newEnv(t, Policy{})
	withKey := func(k string) *pipeline.Call {
		c := nativeCall("POST", "/v1/x", `{}`)
		c.Native.Header.Set("Authorization", "Bearer "+k)
		return c
	}
	e.serve(t, withKey("sk-valid"))
	if _, st := e.serve(t, withKey("sk-made-up")); st != StatusMiss {
		t.Fatalf("a caller with another provider key got %s", st)
	}
}

func TestUnavailableBackendServesUncached(t *testing.T) {
	clock := storetest.NewFakeClock()
	fc := &failingCache{}
	idx, _ := memory.NewVectorIndex(memory.VectorOptions{MaxPerScope: 10, MaxTotal: 10, Now: clock.Now})
	e := newEnvOn(t, Policy{}, fc, idx, clock)
	for i := 0; i < 3; i++ {
		if _, st := e.serve(t, chatCall("x")); st != StatusBypass {
			t.Fatalf("status %s, want BYPASS", st)
		}
	}
	f := e.engine.Figures(context.Background())
	if f.Faults != 1 || f.Unavailable != 2 || fc.calls.Load() != 1 {
		t.Fatalf("faults %d, unavailable %d, backend calls %d: want one failed call, then the backend rests", f.Faults, f.Unavailable, fc.calls.Load())
	}
	clock.Advance(2 * cooldown)
	e.serve(t, chatCall("x"))
	if fc.calls.Load() != 2 {
		t.Fatal("the backend was not tried again after the cooldown")
	}
	if f.SizeError == "" {
		t.Fatal("figures hide that the backend is down")
	}
}

func TestSemantic(t *testing.T) {
	pol := Policy{Rules: []Rule{{Match: "openai/*", Semantic: true}, {Match: "exact/*"}}}
	t.Run("a similar prompt hits", func(t *testing.T) {
		e := newEnv(t, pol)
		orig, _ := e.serve(t, chatCall("What is the capital of France?", temp(0)))
		got, st := e.serve(t, chatCall("what is the capital of France", temp(0)))
		if st != StatusSemanticHit || got != orig {
			t.Fatalf("%s %q, want SEMANTIC_HIT %q", st, got, orig)
		}
	})
	t.Run("a different prompt misses", func(t *testing.T) {
		e := newEnv(t, pol)
		e.serve(t, chatCall("What is the capital of France?", temp(0)))
		if _, st := e.serve(t, chatCall("How do I bake sourdough bread?", temp(0))); st != StatusMiss {
			t.Fatalf("%s, want MISS", st)
		}
	})
	not := []struct {
		name  string
		first *pipeline.Call
		then  *pipeline.Call
	}{
		{"default temperature is not eligible", chatCall("What is the capital of France?"), chatCall("what is the capital of France")},
		{"other parameters", chatCall("What is the capital of France?", temp(0)), chatCall("what is the capital of France", temp(0), func(c *pipeline.Call) { m := 5; c.Chat.MaxTokens = &m })},
		{"other model", chatCall("What is the capital of France?", temp(0)), chatCall("what is the capital of France", temp(0), model("openai/gpt-4o-mini"))},
		{"other tenant", chatCall("What is the capital of France?", temp(0), tenant("a")), chatCall("what is the capital of France", temp(0), tenant("b"))},
		{"rule without semantic", chatCall("What is the capital of France?", temp(0), model("exact/m")), chatCall("what is the capital of France", temp(0), model("exact/m"))},
	}
	for _, tt := range not {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, pol)
			e.serve(t, tt.first)
			if _, st := e.serve(t, tt.then); st != StatusMiss {
				t.Fatalf("%s, want MISS", st)
			}
		})
	}
	t.Run("purged entries are not found by similarity", func(t *testing.T) {
		e := newEnv(t, pol)
		e.serve(t, chatCall("What is the capital of France?", temp(0)))
		empty := ""
		if _, err := e.engine.Purge(context.Background(), Purge{Tenant: &empty}); err != nil {
			t.Fatal(err)
		}
		if _, st := e.serve(t, chatCall("what is the capital of France", temp(0))); st != StatusMiss {
			t.Fatalf("%s after purge", st)
		}
	})
}

func TestLocalEmbedderIsLexical(t *testing.T) {
	emb := LocalEmbedder{}
	sim := func(a, b string) float64 {
		va, _ := emb.Embed(context.Background(), a)
		vb, _ := emb.Embed(context.Background(), b)
		return store.Cosine(store.Quantize(va), store.Quantize(vb))
	}
	tests := []struct {
		a, b     string
		min, max float64
	}{
		{"What is the capital of France?", "What is the capital of France?", 0.999, 1.001},
		{"What is the capital of France?", "what is the capital of france", 0.95, 1},
		{"What is the capital of France?", "What's the capital of France?", 0.8, 0.99},
		{"What is the capital of France?", "Write a haiku about autumn leaves", -1, 0.3},
	}
	for _, tt := range tests {
		if s := sim(tt.a, tt.b); s < tt.min || s > tt.max {
			t.Errorf("sim(%q, %q) = %.3f, want in [%.2f, %.2f]", tt.a, tt.b, s, tt.min, tt.max)
		}
	}
}

func TestPurge(t *testing.T) {
	e := newEnv(t, Policy{})
	ctx := context.Background()
	key := func(k string) callOpt { return opts(pipeline.Options{CacheKey: k}) }
	e.serve(t, chatCall("1", tenant("acme"), key("doc-1")))
	e.serve(t, chatCall("2", tenant("acme"), key("doc-2")))
	e.serve(t, chatCall("3", tenant("acme"), key("faq-1")))
	e.serve(t, chatCall("4", tenant("acme")))
	e.serve(t, chatCall("5", tenant("globex")))
	acme := "acme"
	if _, err := e.engine.Purge(ctx, Purge{}); !errors.Is(err, ErrBadPurge) {
		t.Fatalf("a purge naming nothing: %v, want ErrBadPurge", err)
	}
	if n, err := e.engine.Purge(ctx, Purge{Tenant: &acme, Key: "faq-1"}); err != nil || n != 1 {
		t.Fatalf("by key: %d %v", n, err)
	}
	if n, err := e.engine.Purge(ctx, Purge{Tenant: &acme, Prefix: "doc-"}); err != nil || n != 2 {
		t.Fatalf("by prefix: %d %v", n, err)
	}
	if f := e.engine.Figures(ctx); f.Entries != 2 {
		t.Fatalf("entries after purges: %d, want 2", f.Entries)
	}
	if n, err := e.engine.Purge(ctx, Purge{Tenant: &acme}); err != nil || n != 1 {
		t.Fatalf("by tenant: %d %v", n, err)
	}
	if _, st := e.serve(t, chatCall("5", tenant("globex"))); st != StatusHit {
		t.Fatal("purging acme touched globex")
	}
	if n, err := e.engine.Purge(ctx, Purge{All: true}); err != nil || n != 1 {
		t.Fatalf("all: %d %v", n, err)
	}
}

func TestTargetsAreInTheKey(t *testing.T) {
	targets := "openai/gpt-4o"
	e := newEnv(t, Policy{Targets: func(string) string { return targets }})
	e.serve(t, chatCall("x", model("smart")))
	targets = "anthropic/claude"
	if _, st := e.serve(t, chatCall("x", model("smart"))); st != StatusMiss {
		t.Fatalf("an alias pointed elsewhere still hit: %s", st)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(time.Millisecond)
	}
}
