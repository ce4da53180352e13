package config

import (
	"fmt"
	"math"
	"strings"
)

// Logs configures the request log: what is kept per request and how it
// is written (asynchronously, in batches, off the request path).
type Logs struct {
	// Enabled keeps a log record per request (default true).
	Enabled *bool `yaml:"enabled"`
	// Payloads keeps request and response bodies (default true); a request
	// can opt out with x-aig-collect-log-payload: false.
	Payloads *bool `yaml:"payloads"`
	// MaxPayloadBytes caps each kept body (default 65536).
	MaxPayloadBytes int `yaml:"max_payload_bytes"`
	// QueueSize bounds records waiting to be written (default 10000);
	// overflow spills to a file in the data dir, replayed later.
	QueueSize int `yaml:"queue_size"`
	// BatchSize is the most records per insert (default 500).
	BatchSize int `yaml:"batch_size"`
	// FlushInterval is the longest a record waits for a batch (default 1s).
	FlushInterval Duration `yaml:"flush_interval"`
	// SpillMaxBytes bounds the spill file (default 1 GiB); past it records
	// are dropped, and counted.
	SpillMaxBytes int64 `yaml:"spill_max_bytes"`
	// Retention prunes old records.
	Retention LogRetention `yaml:"retention"`
}

// LogRetention bounds how many records are kept; zero keeps everything.
type LogRetention struct {
	// MaxAge deletes records older than this (e.g. 720h).
	MaxAge Duration `yaml:"max_age"`
	// MaxCount keeps at most this many of the newest records.
	MaxCount int64 `yaml:"max_count"`
	// Interval is how often retention runs (default 10m).
	Interval Duration `yaml:"interval"`
}

// On reports whether request logging is enabled.
func (l Logs) On() bool { return l.Enabled == nil || *l.Enabled }

// PayloadsOn reports whether bodies are kept.
func (l Logs) PayloadsOn() bool { return l.Payloads == nil || *l.Payloads }

func (l *Logs) defaults() {
	if l.MaxPayloadBytes == 0 {
		l.MaxPayloadBytes = 64 << 10
	}
	if l.QueueSize == 0 {
		l.QueueSize = 10000
	}
	if l.BatchSize == 0 {
		l.BatchSize = 500
	}
	setDuration(&l.FlushInterval, "1s")
	if l.SpillMaxBytes == 0 {
		l.SpillMaxBytes = 1 << 30
	}
	setDuration(&l.Retention.Interval, "10m")
}

func (l *Logs) validate() Errors {
	var errs Errors
	add := func(path, format string, args ...any) {
		errs = append(errs, FieldError{Path: "logs." + path, Msg: fmt.Sprintf(format, args...)})
	}
	if l.MaxPayloadBytes < 0 || l.MaxPayloadBytes > 16<<20 {
		add("max_payload_bytes", "must be from 0 to 16777216")
	}
	if l.QueueSize < 1 || l.QueueSize > 10_000_000 {
		add("queue_size", "must be from 1 to 10000000")
	}
	if l.BatchSize < 1 || l.BatchSize > 10000 {
		add("batch_size", "must be from 1 to 10000")
	}
	if l.FlushInterval.D() <= 0 {
		add("flush_interval", "must be positive")
	}
	if l.SpillMaxBytes < 0 {
		add("spill_max_bytes", "must not be negative")
	}
	if l.Retention.MaxCount < 0 {
		add("retention.max_count", "must not be negative")
	}
	if l.Retention.Interval.D() < 1e9 {
		add("retention.interval", "must be at least 1s")
	}
	return errs
}

// Pricing extends and overrides the built-in pricing table.
type Pricing struct {
	// AllowCustomCost honours a request's x-aig-custom-cost header
	// (default true, as Cloudflare does). Turn it off when callers must
	// not set their own cost, e.g. when budgets are enforced.
	AllowCustomCost *bool `yaml:"allow_custom_cost"`
	// Models are prices in USD per million tokens.
	Models []ModelPrice `yaml:"models"`
}

// ModelPrice is one pricing entry.
type ModelPrice struct {
	// Model is "provider/model" (also "provider/*" for every model of a
	// provider) or a bare model name for any provider. A name also prices
	// its dated and suffixed variants. To override a built-in price, name
	// the provider.
	Model       string   `yaml:"model"`
	Input       *float64 `yaml:"input"`
	Output      *float64 `yaml:"output"`
	CachedInput *float64 `yaml:"cached_input"`
	CacheWrite  *float64 `yaml:"cache_write"`
}

// CustomCostAllowed reports whether x-aig-custom-cost is honoured.
func (p Pricing) CustomCostAllowed() bool { return p.AllowCustomCost == nil || *p.AllowCustomCost }

// SplitModel returns the entry's provider ("" for any) and model.
func (m ModelPrice) SplitModel() (provider, model string) {
	if p, rest, ok := strings.Cut(m.Model, "/"); ok && validID(p) {
		return p, rest
	}
	return "", m.Model
}

func (p *Pricing) validate() Errors {
	var errs Errors
	price := func(path string, v *float64, required bool) {
		switch {
		case v == nil && required:
			errs = append(errs, FieldError{Path: path, Msg: "is required (USD per million tokens)"})
		case v != nil && (*v < 0 || math.IsNaN(*v) || math.IsInf(*v, 0)):
			errs = append(errs, FieldError{Path: path, Msg: "must be a non-negative number (USD per million tokens)"})
		}
	}
	seen := map[string]bool{}
	for i, m := range p.Models {
		path := fmt.Sprintf("pricing.models[%d]", i)
		_, model := m.SplitModel()
		switch {
		case strings.TrimSpace(model) == "":
			errs = append(errs, FieldError{Path: path + ".model", Msg: "is required: provider/model, provider/* or a model name"})
		case seen[m.Model]:
			errs = append(errs, FieldError{Path: path + ".model", Msg: fmt.Sprintf("%q is priced twice", m.Model)})
		}
		seen[m.Model] = true
		price(path+".input", m.Input, true)
		price(path+".output", m.Output, true)
		price(path+".cached_input", m.CachedInput, false)
		price(path+".cache_write", m.CacheWrite, false)
	}
	return errs
}
