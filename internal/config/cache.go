package config

import (
	"fmt"
	"math"
	"strings"
)

// Cache backends.
const (
	CacheMemory = "memory"
	CacheRedis  = "redis"
)

// Cache configures response caching. Caching is off for a request unless a
// rule in Models matches the model it asks for, or it sends x-aig-cache-ttl.
type Cache struct {
	// Backend is memory (this process, bounded by MaxBytes) or redis
	// (shared by every replica). Default: redis when redis.url is set,
	// else memory.
	Backend string `yaml:"backend"`
	// DefaultTTL is the lifetime of an entry when neither its rule nor the
	// request sets one (default 5m).
	DefaultTTL Duration `yaml:"default_ttl"`
	// MaxTTL bounds every lifetime, x-aig-cache-ttl included (default 24h).
	MaxTTL Duration `yaml:"max_ttl"`
	// MaxBytes bounds the memory backend: keys, values and per-entry
	// overhead (default 256 MiB).
	MaxBytes int64 `yaml:"max_bytes"`
	// MaxEntryBytes: larger responses are served but not stored (default
	// 4 MiB).
	MaxEntryBytes int64 `yaml:"max_entry_bytes"`
	// Timeout bounds each backend operation on the request path; a slower
	// or failing backend makes the request uncached, never failed
	// (default 250ms).
	Timeout Duration `yaml:"timeout"`
	// RedisPrefix starts every Redis key the cache writes (default
	// "aig:cache:").
	RedisPrefix string `yaml:"redis_prefix"`
	// Models are the rules that enable caching, first match wins.
	Models []CacheRule `yaml:"models"`
	// Semantic tunes the semantic cache of rules with semantic: true.
	Semantic SemanticCache `yaml:"semantic"`
}

// CacheRule enables caching for the models it matches.
type CacheRule struct {
	// Match is compared with the model the client asked for: a
	// "provider/model", an alias, or a passthrough "provider/model". '*'
	// matches any run of characters ('/' included), '?' one character.
	Match string `yaml:"match"`
	// TTL overrides default_ttl for these models.
	TTL Duration `yaml:"ttl"`
	// Shared puts entries in one namespace for every tenant instead of one
	// per tenant. Only for answers that hold nothing tenant-specific.
	Shared bool `yaml:"shared"`
	// Semantic also answers chat requests whose prompt is similar enough
	// to a cached one (same model, parameters and namespace).
	Semantic bool `yaml:"semantic"`
}

// SemanticCache tunes similarity lookups.
type SemanticCache struct {
	// EmbeddingModel embeds prompts through the gateway's own providers
	// ("openai/text-embedding-3-small" or an alias). Empty: a local hashed
	// character n-gram embedding, i.e. lexical similarity, no model and no
	// network.
	EmbeddingModel string `yaml:"embedding_model"`
	// Threshold is the cosine similarity at or above which a cached answer
	// is used (default 0.95).
	Threshold float64 `yaml:"threshold"`
	// MaxTemperature: only requests whose temperature is at most this are
	// eligible; a request without temperature counts as 1, OpenAI's default
	// (default 0).
	MaxTemperature *float64 `yaml:"max_temperature"`
	// MaxEntries bounds the prompts remembered per namespace, model and
	// parameter set; a lookup scans at most this many (default 1000).
	MaxEntries int `yaml:"max_entries"`
	// MaxVectors bounds all prompts remembered by the memory backend
	// (default 20000).
	MaxVectors int `yaml:"max_vectors"`
}

func (c *Cache) defaults(redisURL string) {
	if c.Backend == "" {
		c.Backend = CacheMemory
		if redisURL != "" {
			c.Backend = CacheRedis
		}
	}
	setDuration(&c.DefaultTTL, "5m")
	setDuration(&c.MaxTTL, "24h")
	setDuration(&c.Timeout, "250ms")
	if c.MaxBytes == 0 {
		c.MaxBytes = 256 << 20
	}
	if c.MaxEntryBytes == 0 {
		c.MaxEntryBytes = 4 << 20
	}
	if c.RedisPrefix == "" {
		c.RedisPrefix = "aig:cache:"
	}
	s := &c.Semantic
	if s.Threshold == 0 {
		s.Threshold = 0.95
	}
	if s.MaxTemperature == nil {
		zero := 0.0
		s.MaxTemperature = &zero
	}
	if s.MaxEntries == 0 {
		s.MaxEntries = 1000
	}
	if s.MaxVectors == 0 {
		s.MaxVectors = 20000
	}
}

func (c *Cache) validate(cfg *Config) Errors {
	redisURL := cfg.Redis.URL
	var errs Errors
	add := func(path, format string, args ...any) {
		errs = append(errs, FieldError{Path: "cache." + path, Msg: fmt.Sprintf(format, args...)})
	}
	switch c.Backend {
	case CacheMemory:
	case CacheRedis:
		if redisURL == "" {
			add("backend", "redis needs redis.url")
		}
	default:
		add("backend", "must be memory or redis")
	}
	if c.MaxTTL < Duration(1e9) {
		add("max_ttl", "must be at least 1s")
	}
	if c.DefaultTTL < Duration(1e9) {
		add("default_ttl", "must be at least 1s")
	} else if c.DefaultTTL > c.MaxTTL {
		add("default_ttl", "must not exceed max_ttl (%v)", c.MaxTTL.D())
	}
	if c.MaxBytes < 1<<20 {
		add("max_bytes", "must be at least 1048576 (1 MiB)")
	}
	if c.MaxEntryBytes < 1024 || c.MaxEntryBytes > math.MaxUint32/2 {
		add("max_entry_bytes", "must be from 1024 to 2147483647")
	} else if c.MaxEntryBytes > c.MaxBytes/4 && c.MaxBytes >= 1<<20 {
		add("max_entry_bytes", "must be at most a quarter of max_bytes (%d)", c.MaxBytes/4)
	}
	if c.Timeout < Duration(1e6) || c.Timeout > Duration(60e9) {
		add("timeout", "must be from 1ms to 60s")
	}
	if strings.ContainsAny(c.RedisPrefix, "*?[]\\ ") {
		add("redis_prefix", "must not contain spaces or the glob characters * ? [ ] \\")
	}
	for i, r := range c.Models {
		p := fmt.Sprintf("models[%d]", i)
		switch {
		case strings.TrimSpace(r.Match) == "":
			add(p+".match", "is required (a model name or glob such as openai/* or *)")
		case len(r.Match) > 512:
			add(p+".match", "must be at most 512 characters")
		}
		if r.TTL != 0 && r.TTL < Duration(1e9) {
			add(p+".ttl", "must be at least 1s")
		} else if r.TTL > c.MaxTTL {
			add(p+".ttl", "must not exceed max_ttl (%v)", c.MaxTTL.D())
		}
	}
	s := &c.Semantic
	if s.Threshold <= 0 || s.Threshold > 1 || math.IsNaN(s.Threshold) {
		add("semantic.threshold", "must be above 0 and at most 1")
	}
	if t := *s.MaxTemperature; t < 0 || t > 2 || math.IsNaN(t) {
		add("semantic.max_temperature", "must be from 0 to 2")
	}
	if s.MaxEntries < 1 || s.MaxEntries > 100000 {
		add("semantic.max_entries", "must be from 1 to 100000")
	}
	if s.MaxVectors < 1 || s.MaxVectors > 10000000 {
		add("semantic.max_vectors", "must be from 1 to 10000000")
	}
	if m := s.EmbeddingModel; m != "" && !cfg.knownModel(m) {
		add("semantic.embedding_model", "%q is neither a model alias nor provider/model of a configured provider", m)
	}
	return errs
}

// knownModel reports whether m is an alias or names a configured provider.
func (c *Config) knownModel(m string) bool {
	for _, a := range c.Models {
		if a.Name == m {
			return true
		}
	}
	pid, model, ok := strings.Cut(m, "/")
	if !ok || model == "" {
		return false
	}
	for _, p := range c.Providers {
		if p.ID == pid {
			return true
		}
	}
	return false
}
