package main

import (
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// loadSpec is one closed-loop measurement: Conns connections, each sending
// the next request as soon as the previous answer is complete, over HTTP
// keep-alive, for Warmup (not recorded) then Duration or MaxRequests,
// whichever comes first.
type loadSpec struct {
	Addr        string
	Req         []byte
	Conns       int
	Warmup      time.Duration
	Duration    time.Duration
	MaxRequests int64
	// Stream makes every answer an event stream: time to first event and
	// the gaps between events are recorded, and a stream must end with
	// [DONE] to count as a success.
	Stream bool
	// Window is called when the measurement window opens (start=true) and
	// closes, to sample process CPU at the same instants.
	Window func(start bool)
}

// loadResult is what one measurement observed inside its window.
type loadResult struct {
	Requests  int64
	Errors    int64
	Window    time.Duration
	Latencies []time.Duration // whole response
	TTFT      []time.Duration // streams: first event
	Gaps      []time.Duration // streams: between events (the last, [DONE], excluded)
	Events    int64
	Bytes     int64
	FirstErr  string
}

const (
	phaseWarmup int32 = iota
	phaseMeasure
	phaseStopped
)

// runLoad runs a closed-loop load and returns what completed inside the
// measurement window.
func runLoad(s loadSpec) loadResult {
	var (
		phase    atomic.Int32
		count    atomic.Int64
		full     = make(chan struct{})
		fullOnce sync.Once
		mu       sync.Mutex
		res      loadResult
		wg       sync.WaitGroup
	)
	worker := func() {
		defer wg.Done()
		var (
			c      *conn
			lat    []time.Duration
			ttft   []time.Duration
			gaps   []time.Duration
			events []time.Time
			errs   int64
			nev    int64
			nbytes int64
			first  string
		)
		if s.Stream {
			events = make([]time.Time, 0, 64)
		}
		for phase.Load() != phaseStopped {
			if c == nil {
				var err error
				if c, err = dial(s.Addr); err != nil {
					if phase.Load() == phaseMeasure {
						errs++
						if first == "" {
							first = err.Error()
						}
					}
					time.Sleep(10 * time.Millisecond)
					continue
				}
			}
			t0 := time.Now()
			resp, keep, err := c.do(s.Req, events[:0:cap(events)])
			t1 := time.Now()
			if !keep {
				c.Close()
				c = nil
			}
			if cap(resp.Events) > cap(events) {
				events = resp.Events
			}
			if phase.Load() != phaseMeasure {
				continue
			}
			switch {
			case err != nil:
				errs++
				if first == "" {
					first = err.Error()
				}
				continue
			case resp.Status != 200:
				errs++
				if first == "" {
					first = "status " + strconv.Itoa(resp.Status)
				}
				continue
			case s.Stream && !resp.Done:
				errs++
				if first == "" {
					first = "stream did not end with [DONE]"
				}
				continue
			}
			lat = append(lat, t1.Sub(t0))
			nbytes += int64(resp.Bytes)
			if s.Stream {
				ttft = append(ttft, resp.FirstEvent.Sub(t0))
				ev := resp.Events
				nev += int64(len(ev))
				for i := 1; i < len(ev)-1; i++ {
					gaps = append(gaps, ev[i].Sub(ev[i-1]))
				}
			}
			if n := count.Add(1); s.MaxRequests > 0 && n >= s.MaxRequests {
				fullOnce.Do(func() { close(full) })
			}
		}
		if c != nil {
			c.Close()
		}
		mu.Lock()
		res.Latencies = append(res.Latencies, lat...)
		res.TTFT = append(res.TTFT, ttft...)
		res.Gaps = append(res.Gaps, gaps...)
		res.Errors += errs
		res.Events += nev
		res.Bytes += nbytes
		if res.FirstErr == "" {
			res.FirstErr = first
		}
		mu.Unlock()
	}
	wg.Add(s.Conns)
	for i := 0; i < s.Conns; i++ {
		go worker()
	}
	time.Sleep(s.Warmup)
	if s.Window != nil {
		s.Window(true)
	}
	start := time.Now()
	phase.Store(phaseMeasure)
	t := time.NewTimer(s.Duration)
	select {
	case <-t.C:
	case <-full:
		t.Stop()
	}
	phase.Store(phaseStopped)
	res.Window = time.Since(start)
	if s.Window != nil {
		s.Window(false)
	}
	wg.Wait()
	res.Requests = int64(len(res.Latencies))
	return res
}

// streamsSpec opens N slow streams at once and holds them open.
type streamsSpec struct {
	Addr string
	Req  []byte
	N    int
	// Parallel bounds how many streams are being opened at a time.
	Parallel int
	// Timeout bounds opening all streams and waiting for their progress.
	Timeout time.Duration
	// Opened is called once every stream has received its first event
	// (or failed), while all of them are open.
	Opened func()
	// Progress is how long after Opened every open stream must receive
	// another event, or count as stalled.
	Progress time.Duration
}

// streamsResult is what holding N streams observed.
type streamsResult struct {
	Opened   int
	Failed   int
	Stalled  int // opened but received nothing after their first event
	OpenTime time.Duration
	TTFT     []time.Duration
	FirstErr string
}

// runStreams opens s.N streams, waits until each has its first event,
// calls s.Opened, checks that every stream keeps receiving events, and
// closes them all.
func runStreams(s streamsSpec) streamsResult {
	type stream struct {
		c      *conn
		events atomic.Int64
		ttft   time.Duration
		err    error
		done   chan struct{}
	}
	var (
		res     streamsResult
		sem     = make(chan struct{}, s.Parallel)
		streams = make([]*stream, s.N)
		opened  sync.WaitGroup
		mu      sync.Mutex
	)
	deadline := time.Now().Add(s.Timeout)
	start := time.Now()
	opened.Add(s.N)
	for i := range streams {
		st := &stream{done: make(chan struct{})}
		streams[i] = st
		sem <- struct{}{}
		go func() {
			defer close(st.done)
			var once sync.Once
			signal := func() { once.Do(func() { <-sem; opened.Done() }) }
			defer signal()
			c, err := dial(s.Addr)
			if err != nil {
				st.err = err
				return
			}
			_ = c.nc.SetDeadline(deadline.Add(10 * time.Second))
			mu.Lock()
			st.c = c
			mu.Unlock()
			t0 := time.Now()
			c.onEvent = func(n int) {
				st.events.Store(int64(n))
				if n == 1 {
					st.ttft = time.Since(t0)
					signal()
				}
			}
			resp, _, err := c.do(s.Req, nil)
			if err == nil && resp.Status != 200 {
				err = errors.New("status " + strconv.Itoa(resp.Status))
			}
			st.err = err
		}()
	}
	opened.Wait()
	res.OpenTime = time.Since(start)
	for _, st := range streams {
		if st.events.Load() > 0 {
			res.Opened++
			res.TTFT = append(res.TTFT, st.ttft)
		}
	}
	if s.Opened != nil {
		s.Opened()
	}
	// every open stream must keep making progress while all are open
	seen := make([]int64, len(streams))
	for i, st := range streams {
		seen[i] = st.events.Load()
	}
	time.Sleep(s.Progress)
	for i, st := range streams {
		if n := st.events.Load(); n > 0 && n == seen[i] {
			select {
			case <-st.done: // finished or failed: not stalled
			default:
				res.Stalled++
			}
		}
	}
	mu.Lock()
	for _, st := range streams {
		if st.c != nil {
			st.c.Close()
		}
	}
	mu.Unlock()
	for _, st := range streams {
		<-st.done
		if st.events.Load() == 0 {
			res.Failed++
			if res.FirstErr == "" && st.err != nil {
				res.FirstErr = st.err.Error()
			}
		}
	}
	return res
}
