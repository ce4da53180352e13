// Package config loads, defaults and validates the gateway's configuration.
//
// Loading is strict: a YAML file is decoded field by field against these
// structs, so an unknown or mistyped field is an error that names its path
// in the file (providers[2].base_url) and its line. ${VAR} references are
// expanded from the environment. Validation is a pure function that returns
// every problem at once. Zero-config mode is the same pipeline with no file:
// providers come from the environment alone.
package config

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the whole configuration. Every field's zero value means "use
// the default", applied by Defaults.
type Config struct {
	// Listen is the address of the API listener (default 127.0.0.1:8080).
	Listen string `yaml:"listen"`
	// DataDir holds the embedded store (default ./aigateway-data).
	DataDir string `yaml:"data_dir"`
	// AllowUnauthenticated permits serving without gateway keys on a
	// non-loopback address.
	AllowUnauthenticated bool `yaml:"allow_unauthenticated"`

	Server Server `yaml:"server"`
	Log    Log    `yaml:"log"`
	Admin  Admin  `yaml:"admin"`

	// ProvidersFromEnv enables every provider whose credentials are in the
	// environment, besides those listed (default true).
	ProvidersFromEnv *bool      `yaml:"providers_from_env"`
	Providers        []Provider `yaml:"providers"`
	// Models are aliases: a name clients send as "model", served by ordered
	// fallback targets.
	Models []Alias `yaml:"models"`
	Retry  Retry   `yaml:"retry"`
	// Routes are dynamic routes: names usable as "model" that choose a
	// model by conditions, percentage splits and limits.
	Routes []Route `yaml:"routes"`
	// Health tunes the per-deployment circuit breakers.
	Health Health `yaml:"health"`

	Storage Storage `yaml:"storage"`
	Redis   Redis   `yaml:"redis"`
	Cache   Cache   `yaml:"cache"`

	// Keys, Auth, Limits and Budgets control access and spend (keys.go,
	// auth.go, limits.go, budgets.go).
	Keys    []Key   `yaml:"keys"`
	Auth    Auth    `yaml:"auth"`
	Limits  Limits  `yaml:"limits"`
	Budgets Budgets `yaml:"budgets"`

	Logs    Logs    `yaml:"logs"`
	Pricing Pricing `yaml:"pricing"`
	Metrics Metrics `yaml:"metrics"`
	OTel    OTel    `yaml:"otel"`

	// Guardrails check and rewrite prompts and answers (see guardrails.go).
	Guardrails Guardrails `yaml:"guardrails"`
	// Prompts are prompt templates served as POST /v1/prompts/{name}.
	Prompts []PromptTemplate `yaml:"prompts"`
}

// Server tunes the HTTP listener and request handling.
type Server struct {
	// MaxBodyBytes bounds request bodies (default 10 MiB).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// ShutdownTimeout is how long SIGTERM waits for in-flight requests and
	// streams (default 30s).
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
	// ReadHeaderTimeout bounds reading request headers (default 10s).
	ReadHeaderTimeout Duration `yaml:"read_header_timeout"`
	// IdleTimeout closes idle keep-alive connections (default 120s).
	IdleTimeout Duration `yaml:"idle_timeout"`
	// RequestTimeout bounds each upstream attempt until its response
	// starts (default 10m); x-aig-request-timeout overrides it.
	RequestTimeout Duration `yaml:"request_timeout"`
	// ConnectTimeout bounds opening a connection to a provider (default
	// 10s; read at start, not on reload).
	ConnectTimeout Duration `yaml:"connect_timeout"`
	// TotalTimeout bounds a whole request: every attempt, every wait
	// between them and the streamed answer (default 0: no bound).
	TotalTimeout Duration `yaml:"total_timeout"`
	// MaxMetadataEntries bounds x-aig-metadata (default 16).
	MaxMetadataEntries int `yaml:"max_metadata_entries"`
}

// Log configures the gateway's own log.
type Log struct {
	// Level is debug, info, warn or error (default info).
	Level string `yaml:"level"`
	// Format is text or json (default text).
	Format string `yaml:"format"`
}

// Admin configures the admin API.
type Admin struct {
	// Token is the admin bearer token (default: $AIGATEWAY_ADMIN_TOKEN).
	// Without one the admin API is disabled.
	Token string `yaml:"token"`
}

// Provider is one upstream provider.
type Provider struct {
	// ID is the name used in "provider/model" and passthrough paths.
	ID string `yaml:"id"`
	// Type is the wire format (default: the known provider's, or openai).
	Type string `yaml:"type"`
	// BaseURL overrides the provider's default base URL.
	BaseURL string `yaml:"base_url"`
	// APIPath is appended to BaseURL for the unified API (Ollama: /v1).
	APIPath string `yaml:"api_path"`
	// APIKey is the provider credential; ${VAR} keeps it out of the file.
	APIKey string `yaml:"api_key"`
	// Headers are added to every upstream request.
	Headers map[string]string `yaml:"headers"`
	// Models are listed by GET /v1/models.
	Models []string `yaml:"models"`
	// StreamUsage asks OpenAI-format upstreams for usage in streams
	// (default true; turn off for servers that reject stream_options).
	StreamUsage *bool `yaml:"stream_usage"`

	// APIVersion: Azure's api-version, Anthropic's anthropic-version.
	APIVersion string `yaml:"api_version"`
	// Deployments maps model names to Azure deployment names.
	Deployments map[string]string `yaml:"deployments"`
	// AccountID is the Cloudflare account for workers-ai.
	AccountID string `yaml:"account_id"`
	// Region and AWS credentials for aws-bedrock.
	Region          string `yaml:"region"`
	AccessKeyID     string `yaml:"access_key_id"`
	SecretAccessKey string `yaml:"secret_access_key"`
	SessionToken    string `yaml:"session_token"`
}

// Duration is a time.Duration written as a Go duration string ("30s").
type Duration time.Duration

// UnmarshalYAML parses "1m30s"-style strings.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("must be a duration such as 30s or 2m")
	}
	v, err := time.ParseDuration(strings.TrimSpace(n.Value))
	if err != nil {
		return fmt.Errorf("must be a duration such as 30s or 2m (a number needs a unit)")
	}
	if v < 0 {
		return fmt.Errorf("must not be negative")
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }
