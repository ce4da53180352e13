package providertest

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// recorder is what every native-format fake shares: the requests it saw,
// queued behaviours and counters.
type recorder struct {
	mu       sync.Mutex
	requests []Recorded
	queue    []Behaviour

	// Cancelled counts requests whose client went away before the answer
	// was complete.
	Cancelled atomic.Int64
	// Served counts requests answered.
	Served atomic.Int64
}

// Enqueue makes the next requests (one per behaviour) answer differently.
func (f *recorder) Enqueue(b ...Behaviour) {
	f.mu.Lock()
	f.queue = append(f.queue, b...)
	f.mu.Unlock()
}

// Requests returns what the fake received so far.
func (f *recorder) Requests() []Recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Recorded(nil), f.requests...)
}

// Last returns the last request received.
func (f *recorder) Last() Recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		return Recorded{}
	}
	return f.requests[len(f.requests)-1]
}

// record reads and stores a request and returns its body and the queued
// behaviour for it, if any.
func (f *recorder) record(r *http.Request) ([]byte, Behaviour) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, Recorded{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
	var b Behaviour
	if len(f.queue) > 0 {
		b, f.queue = f.queue[0], f.queue[1:]
	}
	return body, b
}

// fault applies the model-name-driven faults every fake shares:
//
//	error-NNN   writeErr with that status (429 comes with Retry-After: 0)
//	hang        never answers (until the request is cancelled)
//	slow-N      waits N ms, then answers normally
//
// It reports whether the request has been dealt with.
func (f *recorder) fault(w http.ResponseWriter, r *http.Request, model string, writeErr func(w http.ResponseWriter, status int, msg string)) bool {
	switch {
	case strings.HasPrefix(model, "error-"):
		status, _ := strconv.Atoi(strings.TrimPrefix(model, "error-"))
		if status < 400 || status > 599 {
			status = 500
		}
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "0")
		}
		writeErr(w, status, fmt.Sprintf("fake provider error %d", status))
		return true
	case model == "hang":
		<-r.Context().Done()
		f.Cancelled.Add(1)
		return true
	case strings.HasPrefix(model, "slow-"):
		ms, _ := strconv.Atoi(strings.TrimPrefix(model, "slow-"))
		if !sleepCtx(r, time.Duration(ms)*time.Millisecond) {
			f.Cancelled.Add(1)
			return true
		}
	}
	return false
}

// cut closes the connection under a response mid-way, as a crashed
// upstream would.
func cut(w http.ResponseWriter) {
	if fl, ok := w.(http.Flusher); ok {
		fl.Flush()
	}
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
		}
	}
}

// words counts whitespace-separated words: the fakes' token count.
func words(s string) int { return len(strings.Fields(s)) }

// FakeWeather is what the fakes' "tools" models answer once they have
// been given the result of their get_weather call.
func FakeWeather(result string) string { return "The weather: " + result }
