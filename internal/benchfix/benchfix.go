// Package benchfix holds what the benchmark harness (bench/) and the
// in-process Go benchmarks share, so that both measure the same path.
package benchfix

import "net/http"

// GatewayKey is the gateway key of the policy scenarios.
const GatewayKey = "aig_bench_key_0123456789abcdef"

// PolicyConfig is the config (to append after the providers) that turns on
// every policy stage: a gateway key with rpm, tpm and a budget, two limit
// rules and a tenant budget, far above what a run can reach, so they are
// checked and charged on every request but never refuse one.
const PolicyConfig = `keys:
  - name: bench
    secret: ` + GatewayKey + `
    tenant: bench
    models: ["openai/*"]
    rpm: 1000000000
    tpm: 1000000000000
    budget_usd: 1000000
    budget_period: month
limits:
  rules:
    - name: tenant-requests
      by: [tenant]
      requests: 1000000000
      window: 1m
    - name: user-tokens
      by: [key, model]
      tokens: 1000000000000
      window: 1h
budgets:
  tenants:
    - {tenant: bench, usd: 1000000, period: month}
`

// DiscardWriter is a ResponseWriter that keeps only the status, so a
// benchmark counts the gateway's allocations and not a recorder's.
type DiscardWriter struct {
	h      http.Header
	status int
}

// NewDiscardWriter returns an empty DiscardWriter.
func NewDiscardWriter() *DiscardWriter { return &DiscardWriter{h: make(http.Header)} }

// Reset forgets the headers and status, for the next request.
func (w *DiscardWriter) Reset() {
	clear(w.h)
	w.status = 0
}

// Status is the status written, 200 once a body was written without one,
// or 0.
func (w *DiscardWriter) Status() int { return w.status }

func (w *DiscardWriter) Header() http.Header { return w.h }

func (w *DiscardWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *DiscardWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return len(p), nil
}

// Flush makes DiscardWriter an http.Flusher, as streaming needs.
func (w *DiscardWriter) Flush() {}
