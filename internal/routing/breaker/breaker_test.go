package breaker

import (
	"sync"
	"testing"
	"time"
)

// fast has a cooldown short enough to wait out in a test.
var fast = Settings{ConsecutiveFailures: 3, ErrorRate: 2, Cooldown: 30 * time.Millisecond}

func report(t *testing.T, set *Set, key string, s Settings, o Outcome) {
	t.Helper()
	done, err := set.Allow(key, s)
	if err != nil {
		t.Fatalf("Allow(%s) refused: %v", key, err)
	}
	done(o)
}

func TestBreakerOpensSkipsProbesAndCloses(t *testing.T) {
	var mu sync.Mutex
	var changes []State
	set := NewSet(Options{OnChange: func(_ string, _, to State) {
		mu.Lock()
		changes = append(changes, to)
		mu.Unlock()
	}})
	const key = "openai/gpt-4o"
	for i := 0; i < 2; i++ {
		report(t, set, key, fast, Failure)
	}
	if !set.Available(key) {
		t.Fatal("open after 2 of 3 consecutive failures")
	}
	report(t, set, key, fast, Success) // resets the run
	for i := 0; i < 3; i++ {
		report(t, set, key, fast, Failure)
	}
	if set.Available(key) || set.State(key) != Open {
		t.Fatalf("state %s after 3 consecutive failures, want open", set.State(key))
	}
	if _, err := set.Allow(key, fast); err != ErrOpen {
		t.Fatalf("Allow on open breaker: %v, want ErrOpen", err)
	}
	snap := set.Snapshot()
	if len(snap) != 1 || snap[0].State != Open || snap[0].RetryAt == nil {
		t.Fatalf("snapshot %+v", snap)
	}

	time.Sleep(2 * fast.Cooldown)
	if set.State(key) != HalfOpen || !set.Available(key) {
		t.Fatalf("state %s after cooldown, want half_open", set.State(key))
	}
	probe, err := set.Allow(key, fast)
	if err != nil {
		t.Fatalf("probe refused: %v", err)
	}
	if _, err := set.Allow(key, fast); err != ErrOpen {
		t.Fatalf("second concurrent probe allowed (err %v); only one slot", err)
	}
	probe(Failure)
	if set.State(key) != Open {
		t.Fatalf("failed probe left state %s, want open", set.State(key))
	}

	time.Sleep(2 * fast.Cooldown)
	report(t, set, key, fast, Success)
	if set.State(key) != Closed {
		t.Fatalf("successful probe left state %s, want closed", set.State(key))
	}
	mu.Lock()
	defer mu.Unlock()
	want := []State{Open, HalfOpen, Open, HalfOpen, Closed}
	if len(changes) != len(want) {
		t.Fatalf("state changes %v, want %v", changes, want)
	}
	for i := range want {
		if changes[i] != want[i] {
			t.Fatalf("state changes %v, want %v", changes, want)
		}
	}
}

func TestBreakerOpensOnErrorRate(t *testing.T) {
	s := Settings{ConsecutiveFailures: 100, ErrorRate: 0.5, MinRequests: 10, Window: time.Minute}
	set := NewSet(Options{})
	// alternate: never 2 failures in a row, but half of all requests fail
	for i := 0; i < 9; i++ {
		o := Success
		if i%2 == 1 {
			o = Failure
		}
		report(t, set, "d", s, o)
	}
	if set.State("d") != Closed {
		t.Fatal("opened before min_requests")
	}
	report(t, set, "d", s, Failure) // 5 of 10
	if set.State("d") != Open {
		t.Fatalf("state %s at 50%% errors over 10 requests, want open", set.State("d"))
	}
}

func TestIgnoredOutcomesDoNotCount(t *testing.T) {
	set := NewSet(Options{})
	for i := 0; i < 10; i++ {
		report(t, set, "d", fast, Ignored)
	}
	report(t, set, "d", fast, Failure)
	report(t, set, "d", fast, Ignored)
	report(t, set, "d", fast, Failure)
	if set.State("d") != Closed {
		t.Fatal("ignored outcomes opened the breaker")
	}
}

func TestDisabledAndFullSetAllowEverything(t *testing.T) {
	set := NewSet(Options{MaxEntries: 1})
	off := fast
	off.Disabled = true
	for i := 0; i < 10; i++ {
		report(t, set, "a", off, Failure)
	}
	report(t, set, "b", fast, Success) // takes the only slot
	for i := 0; i < 10; i++ {
		report(t, set, "c", fast, Failure) // untracked: set is full
	}
	if !set.Available("a") || !set.Available("c") {
		t.Fatal("disabled or untracked deployment refused")
	}
}

func TestSettingsChangeStartsAfresh(t *testing.T) {
	set := NewSet(Options{})
	for i := 0; i < 3; i++ {
		report(t, set, "d", fast, Failure)
	}
	if set.State("d") != Open {
		t.Fatal("not open")
	}
	changed := fast
	changed.ConsecutiveFailures = 10
	if _, err := set.Allow("d", changed); err != nil {
		t.Fatalf("breaker with new settings refused: %v", err)
	}
}

func TestDoneTwiceCountsOnce(t *testing.T) {
	set := NewSet(Options{})
	done, _ := set.Allow("d", fast)
	done(Failure)
	done(Failure)
	done(Failure)
	report(t, set, "d", fast, Failure)
	if set.State("d") != Closed {
		t.Fatal("one attempt reported three times opened the breaker")
	}
}
