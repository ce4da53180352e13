package balance

import (
	"math"
	"testing"
	"time"
)

// clock is a fake clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock               { return &clock{t: time.Date(2025, 1, 1, 12, 0, 30, 0, time.UTC)} }
func first(t *Tracker, s Strategy, c []Candidate, r Request) string {
	return c[t.Order(s, c, r)[0]].Key
}

func TestWeightedChoiceWithinTolerance(t *testing.T) {
	tr := NewTracker(TrackerOptions{})
	cands := []Candidate{{Key: "east", Weight: 3}, {Key: "west", Weight: 1}, {Key: "standby", Weight: 0}}
	const n = 10000
	count := map[string]int{}
	secondStandby := 0
	for i := 0; i < n; i++ {
		o := tr.Order(Weighted, cands, Request{})
		count[cands[o[0]].Key]++
		if cands[o[2]].Key != "standby" {
			secondStandby++
		}
	}
	// binomial σ at p=0.75, n=10000 is 0.0043; 0.02 is over 4σ
	for key, want := range map[string]float64{"east": 0.75, "west": 0.25, "standby": 0} {
		got := float64(count[key]) / n
		if math.Abs(got-want) > 0.02 {
			t.Errorf("%s chosen %.4f of the time, want %.2f±0.02", key, got, want)
		}
	}
	if secondStandby != 0 {
		t.Errorf("a zero-weight deployment was not last %d times", secondStandby)
	}
}

func TestLeastLatencyMovesAwayFromSlowedDeployment(t *testing.T) {
	c := newClock()
	tr := NewTracker(TrackerOptions{Now: c.now})
	cands := []Candidate{{Key: "a"}, {Key: "b"}}
	lat := map[string]time.Duration{"a": 100 * time.Millisecond, "b": 100 * time.Millisecond}
	serve := func() string {
		k := first(tr, LeastLatency, cands, Request{})
		finish := tr.Start(k, false)
		c.add(100 * time.Millisecond)
		finish(lat[k], 0)
		return k
	}
	counts := map[string]int{}
	for i := 0; i < 20; i++ {
		counts[serve()]++
	}
	if counts["a"] == 0 || counts["b"] == 0 {
		t.Fatalf("with equal latency both should be measured and used: %v", counts)
	}
	lat["b"] = 2 * time.Second // b slows down
	for i := 0; i < 10; i++ {
		serve()
	}
	counts = map[string]int{}
	for i := 0; i < 100; i++ {
		counts[serve()]++
	}
	if counts["b"] != 0 {
		t.Fatalf("slowed deployment still got %d of 100 requests", counts["b"])
	}

	// after the average goes stale, b gets a probe; recovered, it is used again
	c.add(2 * time.Minute)
	lat["b"] = 50 * time.Millisecond
	counts = map[string]int{}
	for i := 0; i < 20; i++ {
		counts[serve()]++
	}
	if counts["b"] < 10 {
		t.Fatalf("recovered deployment got %d of 20 requests after its probe", counts["b"])
	}
}

func TestStreamedAndNonStreamedLatencyKeptApart(t *testing.T) {
	c := newClock()
	tr := NewTracker(TrackerOptions{Now: c.now})
	tr.Start("a", true)(100*time.Millisecond, 0)
	tr.Start("a", false)(3*time.Second, 0)
	if d, _ := tr.Latency(tr.Lookup("a"), true); d != 100*time.Millisecond {
		t.Errorf("streamed latency %v", d)
	}
	if d, _ := tr.Latency(tr.Lookup("a"), false); d != 3*time.Second {
		t.Errorf("non-streamed latency %v", d)
	}
	tr.Start("b", false)(time.Second, 0)
	if d, ok := tr.Latency(tr.Lookup("b"), true); !ok || d != time.Second {
		t.Errorf("streamed latency without streamed samples should fall back: %v %v", d, ok)
	}
}

func TestLeastBusyPrefersFewestInFlight(t *testing.T) {
	tr := NewTracker(TrackerOptions{})
	cands := []Candidate{{Key: "a"}, {Key: "b"}, {Key: "c"}}
	fa := tr.Start("a", false)
	fb1 := tr.Start("b", false)
	fb2 := tr.Start("b", false)
	for i := 0; i < 50; i++ {
		if k := first(tr, LeastBusy, cands, Request{}); k != "c" {
			t.Fatalf("picked %s, want idle c", k)
		}
	}
	f := tr.Start("c", false)
	tr.Start("c", false)
	// a:1 b:2 c:2
	if k := first(tr, LeastBusy, cands, Request{}); k != "a" {
		t.Fatalf("picked %s, want a", k)
	}
	fa(0, 0)
	fb1(0, 0)
	fb2(0, 0)
	f(0, 0)
	if n := tr.Lookup("b").InFlight(); n != 0 {
		t.Fatalf("b in flight %d after finishing", n)
	}
}

func TestCheapestOrdersByPriceUnknownLast(t *testing.T) {
	tr := NewTracker(TrackerOptions{})
	cands := []Candidate{
		{Key: "unknown"},
		{Key: "pricey", Price: Price{Input: 2.5, Output: 10, Known: true}},
		{Key: "cheap", Price: Price{Input: 0.15, Output: 0.6, Known: true}},
		{Key: "free", Price: Price{Known: true}},
	}
	o := tr.Order(Cheapest, cands, Request{})
	var got []string
	for _, i := range o {
		got = append(got, cands[i].Key)
	}
	want := []string{"free", "cheap", "pricey", "unknown"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order %v, want %v", got, want)
		}
	}
}

func TestCapacityOverSlidingMinute(t *testing.T) {
	c := newClock()
	tr := NewTracker(TrackerOptions{Now: c.now})
	for i := 0; i < 10; i++ {
		tr.Start("d", false)(0, 100)
	}
	if !tr.AtCapacity("d", 10, 0) {
		t.Fatal("10 requests in a minute not at rpm 10")
	}
	if tr.AtCapacity("d", 11, 0) {
		t.Fatal("at capacity below rpm")
	}
	if !tr.AtCapacity("d", 0, 1000) || tr.AtCapacity("d", 0, 1001) {
		t.Fatal("tpm capacity wrong")
	}
	c.add(45 * time.Second) // the requests were at :30; next bucket at :00 +15s
	r, _ := tr.Usage(tr.Lookup("d"))
	if r < 7 || r > 8 {
		t.Fatalf("sliding count %v, want 7.5 (three quarters of the old minute still in the window)", r)
	}
	if tr.AtCapacity("d", 10, 0) {
		t.Fatal("still at capacity after part of the window slid by")
	}
	c.add(2 * time.Minute)
	if r, _ := tr.Usage(tr.Lookup("d")); r != 0 {
		t.Fatalf("count %v after two idle minutes", r)
	}
	if tr.AtCapacity("never-seen", 1, 1) {
		t.Fatal("unseen deployment at capacity")
	}
}

func TestPenaltyMakesFailingDeploymentSlow(t *testing.T) {
	tr := NewTracker(TrackerOptions{})
	if p := tr.Penalty("new", false); p != time.Second {
		t.Fatalf("penalty of an unmeasured deployment %v, want 1s", p)
	}
	tr.Start("d", false)(800*time.Millisecond, 0)
	if p := tr.Penalty("d", false); p != 1600*time.Millisecond {
		t.Fatalf("penalty %v, want twice the average", p)
	}
}
