package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Load reads the file at path (none when path is empty: zero-config mode),
// expands ${VAR} from getenv, fills providers from the environment,
// applies defaults and validates. The error, if any, is Errors listing every
// problem with its path and line.
func Load(path string, getenv func(string) string) (*Config, error) {
	var data []byte
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading config: %w", err)
		}
		data = b
	}
	return Parse(data, getenv)
}

// Parse is Load for a document already in memory.
func Parse(data []byte, getenv func(string) string) (*Config, error) {
	cfg := &Config{}
	d := &decoder{getenv: getenv, lines: map[string]int{}}
	if len(bytes.TrimSpace(data)) > 0 {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		var root yaml.Node
		if err := dec.Decode(&root); err != nil {
			return nil, Errors{{Msg: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}}
		}
		var extra yaml.Node
		if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
			return nil, Errors{{Msg: "the file must hold a single YAML document"}}
		}
		d.decode(&root, reflect.ValueOf(cfg).Elem(), "")
	}
	cfg.addEnvProviders(getenv)
	cfg.Defaults(getenv)
	errs := d.errs
	bad := map[string]bool{}
	for _, e := range errs {
		bad[e.Path] = true
	}
	for _, e := range cfg.Validate() {
		if bad[e.Path] {
			continue // already reported by the decoder
		}
		if e.Line == 0 {
			e.Line = lineOf(d.lines, e.Path)
		}
		errs = append(errs, e)
	}
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
		return nil, errs
	}
	return cfg, nil
}

// lineOf finds the line of path, or of its nearest ancestor written in the
// file (a defaulted field has no line of its own).
func lineOf(lines map[string]int, path string) int {
	for path != "" {
		if l, ok := lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

// addEnvProviders appends every known provider whose credentials are in the
// environment and that the file does not list itself.
func (c *Config) addEnvProviders(getenv func(string) string) {
	if c.ProvidersFromEnv != nil && !*c.ProvidersFromEnv {
		return
	}
	listed := map[string]bool{}
	for _, p := range c.Providers {
		listed[p.ID] = true
	}
	for _, k := range Catalog() {
		if listed[k.ID] || !envEnabled(k, getenv) {
			continue
		}
		c.Providers = append(c.Providers, Provider{ID: k.ID})
	}
}

func envEnabled(k KnownProvider, getenv func(string) string) bool {
	if len(k.KeyEnv) == 0 {
		return k.BaseEnv != "" && getenv(k.BaseEnv) != ""
	}
	for _, v := range k.KeyEnv {
		if getenv(v) == "" {
			return false
		}
	}
	return true
}

// Defaults fills every zero field with its default, and provider fields
// from the catalog and the environment.
func (c *Config) Defaults(getenv func(string) string) {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8080"
	}
	if c.DataDir == "" {
		c.DataDir = "./aigateway-data"
	}
	s := &c.Server
	if s.MaxBodyBytes == 0 {
		s.MaxBodyBytes = 10 << 20
	}
	setDuration(&s.ShutdownTimeout, "30s")
	setDuration(&s.ReadHeaderTimeout, "10s")
	setDuration(&s.IdleTimeout, "120s")
	setDuration(&s.RequestTimeout, "10m")
	if s.MaxMetadataEntries == 0 {
		s.MaxMetadataEntries = 16
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.Log.Format == "" {
		c.Log.Format = "text"
	}
	if c.Admin.Token == "" {
		c.Admin.Token = getenv("AIGATEWAY_ADMIN_TOKEN")
	}
	if c.Retry.MaxAttempts == 0 {
		c.Retry.MaxAttempts = 1
	}
	setDuration(&c.Retry.Delay, "200ms")
	if c.Retry.Backoff == "" {
		c.Retry.Backoff = "exponential"
	}
	setDuration(&c.Retry.MaxDelay, "30s")
	setDuration(&s.ConnectTimeout, "10s")
	c.routingDefaults()
	for i := range c.Providers {
		c.Providers[i].defaults(getenv)
	}
	c.Storage.defaults()
	c.Cache.defaults(c.Redis.URL)
	c.accessDefaults()
	c.Logs.defaults()
	c.OTel.defaults()
	c.Guardrails.defaults()
	c.defaultPrompts()
}

func setDuration(d *Duration, def string) {
	if *d == 0 {
		v := Duration(0)
		_ = v.UnmarshalYAML(&yaml.Node{Kind: yaml.ScalarNode, Value: def})
		*d = v
	}
}

// defaults fills a provider from the catalog entry of its id and from the
// environment variables that entry names.
func (p *Provider) defaults(getenv func(string) string) {
	k, known := Known(p.ID)
	if p.Type == "" {
		p.Type = TypeOpenAI
		if known {
			p.Type = k.Type
		}
	}
	if !known {
		return
	}
	if p.BaseURL == "" && k.BaseEnv != "" {
		p.BaseURL = getenv(k.BaseEnv)
	}
	if p.BaseURL == "" {
		p.BaseURL = k.BaseURL
	}
	if p.APIPath == "" {
		p.APIPath = k.APIPath
	}
	switch k.Type {
	case TypeWorkersAI:
		if p.AccountID == "" {
			p.AccountID = getenv("CLOUDFLARE_ACCOUNT_ID")
		}
		if p.APIKey == "" {
			p.APIKey = getenv("CLOUDFLARE_API_TOKEN")
		}
		p.BaseURL = strings.ReplaceAll(p.BaseURL, "{account}", p.AccountID)
	case TypeBedrock:
		if p.Region == "" {
			p.Region = getenv("AWS_REGION")
		}
		if p.AccessKeyID == "" {
			p.AccessKeyID = getenv("AWS_ACCESS_KEY_ID")
		}
		if p.SecretAccessKey == "" {
			p.SecretAccessKey = getenv("AWS_SECRET_ACCESS_KEY")
		}
		if p.SessionToken == "" {
			p.SessionToken = getenv("AWS_SESSION_TOKEN")
		}
		p.BaseURL = strings.ReplaceAll(p.BaseURL, "{region}", p.Region)
	case TypeAzure:
		if p.APIVersion == "" {
			p.APIVersion = getenv("AZURE_OPENAI_API_VERSION")
		}
		if p.APIKey == "" {
			p.APIKey = getenv("AZURE_OPENAI_API_KEY")
		}
	default:
		if p.APIKey == "" && len(k.KeyEnv) > 0 {
			p.APIKey = getenv(k.KeyEnv[0])
		}
	}
}

// StreamUsageOn reports whether to ask for usage in streams.
func (p *Provider) StreamUsageOn() bool { return p.StreamUsage == nil || *p.StreamUsage }
