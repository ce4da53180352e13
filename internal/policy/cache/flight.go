package cache

import "sync"

// flights coalesces concurrent misses of one key: the first caller (the
// leader) goes upstream, the others (followers) wait for its complete
// answer and are served from it as a hit.
//
// Followers of a streamed answer wait for the whole stream rather than
// replaying it as it arrives. The leader's call, its context and its
// stream stay owned by the leader alone, so a leader whose client goes
// away simply fails its flight; a live tail would need the upstream
// stream detached from the leader's request and shared, and a follower
// that had started replaying could not recover from the leader's failure.
// The cost is a follower's time to first byte: the leader's whole answer
// time instead of its first token.
//
// A failed leader releases its followers, which then go upstream each on
// their own (uncoalesced): the failure may be the leader's own (its
// client left, its x-aig-request-timeout), and queueing them behind
// another leader would multiply their wait.
type flights struct {
	mu sync.Mutex
	m  map[string]*flight
}

// flight is one key's upstream call in progress.
type flight struct {
	done chan struct{}
	once sync.Once
	// entry and status are set before done is closed; entry is nil when
	// the leader failed.
	entry  []byte
	status string
	// followers counts the callers waiting on this flight (under the
	// group's lock); the figures and tests read it.
	followers int
}

// join returns the key's flight, starting one (leader true) if none is
// in progress.
func (g *flights) join(key string) (f *flight, leader bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if f, ok := g.m[key]; ok {
		f.followers++
		return f, false
	}
	if g.m == nil {
		g.m = map[string]*flight{}
	}
	f = &flight{done: make(chan struct{})}
	g.m[key] = f
	return f, true
}

// finish publishes the answer to the followers (entry nil: the leader
// failed). Only the first call counts.
func (f *flight) finish(entry []byte, status string) {
	f.once.Do(func() {
		f.entry, f.status = entry, status
		close(f.done)
	})
}

// remove ends the flight; callers arriving later look in the cache. A
// successful flight is removed only once its entry is stored, so nobody
// falls between the two.
func (g *flights) remove(key string, f *flight) {
	g.mu.Lock()
	if g.m[key] == f {
		delete(g.m, key)
	}
	g.mu.Unlock()
}

// fail releases the followers without an answer and ends the flight.
func (g *flights) fail(key string, f *flight) {
	f.finish(nil, "")
	g.remove(key, f)
}

// waiting returns how many followers wait on flights in progress.
func (g *flights) waiting() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, f := range g.m {
		n += f.followers
	}
	return n
}

// len returns the number of flights in progress.
func (g *flights) len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.m)
}
