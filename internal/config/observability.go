package config

import "net/url"

// Metrics configures GET /metrics (Prometheus text format).
type Metrics struct {
	// Enabled serves /metrics (default true).
	Enabled *bool `yaml:"enabled"`
	// Token, when set, is required as "Authorization: Bearer <token>".
	Token string `yaml:"token"`
}

// On reports whether /metrics is served.
func (m Metrics) On() bool { return m.Enabled == nil || *m.Enabled }

// OTel configures OpenTelemetry tracing: a span per request with GenAI
// semantic-convention attributes, exported over OTLP/HTTP. Off by default.
type OTel struct {
	Enabled bool `yaml:"enabled"`
	// Endpoint is the OTLP/HTTP collector base URL (default
	// http://localhost:4318; traces go to /v1/traces). http:// means no
	// TLS.
	Endpoint string `yaml:"endpoint"`
	// Headers are sent with every export (e.g. an API key: use ${VAR}).
	Headers map[string]string `yaml:"headers"`
	// ServiceName is the service.name resource attribute (default
	// aigateway).
	ServiceName string `yaml:"service_name"`
	// SampleRatio is the fraction of new traces recorded, 0 to 1 (default
	// 1); a sampled parent from the caller's traceparent is always followed.
	SampleRatio *float64 `yaml:"sample_ratio"`
}

func (o *OTel) defaults() {
	if o.Endpoint == "" {
		o.Endpoint = "http://localhost:4318"
	}
	if o.ServiceName == "" {
		o.ServiceName = "aigateway"
	}
	if o.SampleRatio == nil {
		one := 1.0
		o.SampleRatio = &one
	}
}

func (o *OTel) validate() Errors {
	var errs Errors
	if u, err := url.Parse(o.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, FieldError{Path: "otel.endpoint", Msg: "must be an http:// or https:// URL with a host"})
	}
	if r := *o.SampleRatio; !(r >= 0 && r <= 1) {
		errs = append(errs, FieldError{Path: "otel.sample_ratio", Msg: "must be from 0 to 1"})
	}
	return errs
}
