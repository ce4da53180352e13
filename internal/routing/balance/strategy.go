package balance

import (
	"math"
	"math/rand/v2"
	"sort"
	"time"
)

// Strategy orders the deployments of one model for a request.
type Strategy string

// Strategies.
const (
	// Ordered keeps the configured order: the first is preferred and the
	// rest are fallbacks.
	Ordered Strategy = "fallback"
	// Weighted picks at random in proportion to weight; the remaining
	// deployments follow in a weighted random order as fallbacks.
	Weighted Strategy = "weighted"
	// LeastLatency prefers the lowest moving-average latency; deployments
	// without a fresh measurement come first so they get measured.
	LeastLatency Strategy = "least-latency"
	// LeastBusy prefers the fewest requests in flight.
	LeastBusy Strategy = "least-busy"
	// Cheapest prefers the lowest price per token (input plus output);
	// deployments without a price come last.
	Cheapest Strategy = "cheapest"
)

// Strategies lists the valid strategy names.
var Strategies = []Strategy{Ordered, Weighted, LeastLatency, LeastBusy, Cheapest}

// Valid reports whether s names a strategy ("" is Ordered).
func (s Strategy) Valid() bool {
	if s == "" {
		return true
	}
	for _, v := range Strategies {
		if s == v {
			return true
		}
	}
	return false
}

// Price is a deployment's price in USD per million tokens.
type Price struct {
	Input, Output float64
	// Known is false when no price is configured or found.
	Known bool
}

// Candidate is one deployment the strategy may choose.
type Candidate struct {
	// Key identifies the deployment in the tracker.
	Key string
	// Weight is its share under Weighted (0 = only as a last resort).
	Weight float64
	Price  Price
}

// Request is what a strategy may consider about the request.
type Request struct {
	// Stream selects the streamed latency average (time to first event).
	Stream bool
	// Rand returns a number in [0,1) (default math/rand/v2).
	Rand func() float64
}

// Order returns the candidates' indexes in the order to try them.
func (t *Tracker) Order(s Strategy, cands []Candidate, r Request) []int {
	order := make([]int, len(cands))
	for i := range order {
		order[i] = i
	}
	if len(cands) < 2 {
		return order
	}
	rnd := r.Rand
	if rnd == nil {
		rnd = rand.Float64
	}
	switch s {
	case Weighted:
		// Efraimidis–Spirakis: sorting by -ln(u)/w is a weighted sample
		// without replacement, so the first is picked with probability
		// w/Σw and the rest form a weighted fallback order.
		keys := make([]float64, len(cands))
		for i, c := range cands {
			if c.Weight <= 0 {
				keys[i] = math.Inf(1)
				continue
			}
			keys[i] = -math.Log(1-rnd()) / c.Weight
		}
		sort.SliceStable(order, func(a, b int) bool { return keys[order[a]] < keys[order[b]] })
	case LeastLatency:
		lat := make([]float64, len(cands))
		for i, c := range cands {
			d, ok := t.Latency(t.Lookup(c.Key), r.Stream)
			if !ok {
				lat[i] = -1 + rnd()*1e-3 // unmeasured first, in random order
				continue
			}
			lat[i] = d.Seconds()
		}
		shuffle(order, rnd)
		sort.SliceStable(order, func(a, b int) bool { return lat[order[a]] < lat[order[b]] })
	case LeastBusy:
		busy := make([]int64, len(cands))
		for i, c := range cands {
			busy[i] = t.Lookup(c.Key).InFlight()
		}
		shuffle(order, rnd) // ties share the load
		sort.SliceStable(order, func(a, b int) bool { return busy[order[a]] < busy[order[b]] })
	case Cheapest:
		cost := make([]float64, len(cands))
		for i, c := range cands {
			cost[i] = math.Inf(1)
			if c.Price.Known {
				cost[i] = c.Price.Input + c.Price.Output
			}
		}
		sort.SliceStable(order, func(a, b int) bool { return cost[order[a]] < cost[order[b]] })
	}
	return order
}

func shuffle(order []int, rnd func() float64) {
	for i := len(order) - 1; i > 0; i-- {
		j := int(rnd() * float64(i+1))
		order[i], order[j] = order[j], order[i]
	}
}

// Since is a helper for callers measuring latency with the tracker's clock.
func (t *Tracker) Since(start time.Time) time.Duration { return t.opts.Now().Sub(start) }

// Now returns the tracker's clock.
func (t *Tracker) Now() time.Time { return t.opts.Now() }
