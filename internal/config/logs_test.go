package config

import (
	"strings"
	"testing"
	"time"
)

func TestLogsPricingMetricsOTelSections(t *testing.T) {
	cfg, err := Parse([]byte(`
providers_from_env: false
logs:
  payloads: false
  max_payload_bytes: 1024
  queue_size: 50
  batch_size: 10
  flush_interval: 250ms
  retention: {max_age: 720h, max_count: 1000000}
pricing:
  allow_custom_cost: false
  models:
    - {model: openai/gpt-4o, input: 2, output: 8, cached_input: 1}
    - {model: my-finetune, input: 1, output: 1}
metrics: {token: scrape}
otel: {enabled: true, endpoint: "https://otel.example:4318", headers: {x-api-key: k}, sample_ratio: 0.5}
`), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Logs.On() || cfg.Logs.PayloadsOn() || cfg.Logs.MaxPayloadBytes != 1024 || cfg.Logs.QueueSize != 50 ||
		cfg.Logs.FlushInterval.D() != 250*time.Millisecond || cfg.Logs.Retention.MaxAge.D() != 720*time.Hour ||
		cfg.Logs.Retention.Interval.D() != 10*time.Minute {
		t.Errorf("logs: %+v", cfg.Logs)
	}
	if cfg.Pricing.CustomCostAllowed() || len(cfg.Pricing.Models) != 2 {
		t.Errorf("pricing: %+v", cfg.Pricing)
	}
	if p, m := cfg.Pricing.Models[0].SplitModel(); p != "openai" || m != "gpt-4o" {
		t.Errorf("split: %q %q", p, m)
	}
	if p, m := cfg.Pricing.Models[1].SplitModel(); p != "" || m != "my-finetune" {
		t.Errorf("split bare: %q %q", p, m)
	}
	if !cfg.Metrics.On() || cfg.Metrics.Token != "scrape" || !cfg.OTel.Enabled || *cfg.OTel.SampleRatio != 0.5 || cfg.OTel.ServiceName != "aigateway" {
		t.Errorf("metrics/otel: %+v %+v", cfg.Metrics, cfg.OTel)
	}
}

func TestLogsPricingDefaults(t *testing.T) {
	cfg, err := Parse(nil, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Logs.On() || !cfg.Logs.PayloadsOn() || cfg.Logs.BatchSize != 500 || cfg.Logs.QueueSize != 10000 ||
		!cfg.Pricing.CustomCostAllowed() || !cfg.Metrics.On() || cfg.OTel.Enabled {
		t.Errorf("defaults: %+v %+v %+v %+v", cfg.Logs, cfg.Pricing, cfg.Metrics, cfg.OTel)
	}
}

func TestLogsPricingOTelErrors(t *testing.T) {
	_, err := Parse([]byte(`
providers_from_env: false
logs: {batch_size: 0, queue_size: -1, retention: {max_count: -5}, colour: red}
pricing:
  models:
    - {model: openai/gpt-4o, input: -1}
    - {model: "", input: 1, output: 1}
otel: {endpoint: "localhost:4318", sample_ratio: 2}
`), func(string) string { return "" })
	if err == nil {
		t.Fatal("invalid sections accepted")
	}
	for _, want := range []string{
		"logs.colour: unknown field", "logs.queue_size", "logs.retention.max_count",
		"pricing.models[0].input: must be a non-negative", "pricing.models[0].output: is required",
		"pricing.models[1].model: is required", "otel.endpoint", "otel.sample_ratio",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}
