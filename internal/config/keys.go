package config

import (
	"encoding/hex"
	"fmt"
	"math"
	"net/netip"
	"strings"
	"time"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// Key is a gateway key declared in the config file, besides those created
// with "aigateway keys" (which live in the store).
type Key struct {
	// Name identifies the key in logs and lists; letters, digits, '.',
	// '_' and '-'.
	Name string `yaml:"name"`
	// Secret is the key itself, normally a ${VAR} reference so it never
	// sits in the file; SHA256 is its hex SHA-256 instead. Exactly one.
	Secret string `yaml:"secret"`
	SHA256 string `yaml:"sha256"`
	Tenant string `yaml:"tenant"`
	// Models and Providers restrict what the key may call (globs such as
	// openai/* or anthropic/claude-*); empty allows everything.
	Models    []string `yaml:"models"`
	Providers []string `yaml:"providers"`
	// AllowIPs and DenyIPs are addresses or CIDRs the key may (not) be
	// used from.
	AllowIPs []string `yaml:"allow_ips"`
	DenyIPs  []string `yaml:"deny_ips"`
	// RPM and TPM are requests and tokens per minute (0: unlimited).
	RPM int64 `yaml:"rpm"`
	TPM int64 `yaml:"tpm"`
	// BudgetUSD is the spend allowed per BudgetPeriod (day or month,
	// default month).
	BudgetUSD    float64 `yaml:"budget_usd"`
	BudgetPeriod string  `yaml:"budget_period"`
	// ExpiresAt is an RFC 3339 time after which the key is refused.
	ExpiresAt Time              `yaml:"expires_at"`
	Metadata  map[string]string `yaml:"metadata"`
	// Enabled defaults to true.
	Enabled *bool `yaml:"enabled"`
}

// Time is an RFC 3339 timestamp (2026-01-31T00:00:00Z) or a date
// (2026-01-31, midnight UTC).
type Time struct{ time.Time }

// UnmarshalYAML parses the timestamp.
func (t *Time) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("must be a time such as 2026-01-31T00:00:00Z")
	}
	v := strings.TrimSpace(n.Value)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
		if p, err := time.Parse(layout, v); err == nil {
			t.Time = p.UTC()
			return nil
		}
	}
	return fmt.Errorf("must be a time such as 2026-01-31T00:00:00Z or a date such as 2026-01-31")
}

// MarshalYAML writes RFC 3339.
func (t Time) MarshalYAML() (any, error) {
	if t.IsZero() {
		return "", nil
	}
	return t.Format(time.RFC3339), nil
}

// minSecretLen keeps guessable secrets out of config files.
const minSecretLen = 16

func (c *Config) validateKeys() Errors {
	var errs Errors
	add := func(path, format string, args ...any) {
		errs = append(errs, FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	names := map[string]bool{}
	hashes := map[string]bool{}
	for i := range c.Keys {
		k := &c.Keys[i]
		path := fmt.Sprintf("keys[%d]", i)
		switch {
		case k.Name == "":
			add(path+".name", "is required")
		case !validKeyName(k.Name):
			add(path+".name", "must be letters, digits, '.', '_' and '-' (at most 128)")
		case names[k.Name]:
			add(path+".name", "%q is declared twice", k.Name)
		}
		names[k.Name] = true
		switch {
		case k.Secret == "" && k.SHA256 == "":
			add(path+".secret", "one of secret (e.g. ${MY_KEY}) or sha256 is required")
		case k.Secret != "" && k.SHA256 != "":
			add(path+".sha256", "give either secret or sha256, not both")
		case k.Secret != "" && len(k.Secret) < minSecretLen:
			add(path+".secret", "must be at least %d characters", minSecretLen)
		case k.SHA256 != "" && !isHexHash(k.SHA256):
			add(path+".sha256", "must be 64 hex characters (sha256sum of the key)")
		}
		h := strings.ToLower(k.SHA256)
		if h != "" && hashes[h] {
			add(path+".sha256", "the same key is declared twice")
		}
		hashes[h] = true
		errs = append(errs, validateScope(path, k.Models, k.Providers, k.AllowIPs, k.DenyIPs)...)
		if k.RPM < 0 {
			add(path+".rpm", "must not be negative")
		}
		if k.TPM < 0 {
			add(path+".tpm", "must not be negative")
		}
		if k.BudgetUSD < 0 || math.IsNaN(k.BudgetUSD) || math.IsInf(k.BudgetUSD, 0) {
			add(path+".budget_usd", "must be a non-negative number")
		}
		if !validPeriod(k.BudgetPeriod) {
			add(path+".budget_period", "must be day or month")
		}
		for mk := range k.Metadata {
			if mk == "" || len(mk) > 64 {
				add(path+".metadata", "keys must be 1 to 64 characters")
			}
		}
	}
	return errs
}

func (c *Config) keysDefaults() {
	for i := range c.Keys {
		k := &c.Keys[i]
		k.SHA256 = strings.ToLower(k.SHA256)
		if k.BudgetUSD > 0 && k.BudgetPeriod == "" {
			k.BudgetPeriod = "month"
		}
	}
}

// validateScope checks model/provider globs and IP lists of a key or
// issuer at path.
func validateScope(path string, models, providers, allow, deny []string) Errors {
	var errs Errors
	for field, list := range map[string][]string{"models": models, "providers": providers} {
		for j, p := range list {
			if !validPattern(p) {
				errs = append(errs, FieldError{Path: fmt.Sprintf("%s.%s[%d]", path, field, j), Msg: "must be a non-empty pattern without spaces"})
			}
		}
	}
	errs = append(errs, validateCIDRs(path+".allow_ips", allow)...)
	errs = append(errs, validateCIDRs(path+".deny_ips", deny)...)
	return errs
}

func validateCIDRs(path string, list []string) Errors {
	var errs Errors
	for j, s := range list {
		if _, err := netip.ParsePrefix(s); err == nil {
			continue
		}
		if _, err := netip.ParseAddr(s); err == nil {
			continue
		}
		errs = append(errs, FieldError{Path: fmt.Sprintf("%s[%d]", path, j), Msg: "must be an IP address or CIDR range (10.0.0.0/8)"})
	}
	return errs
}

func validPattern(p string) bool {
	return p != "" && len(p) <= 200 && strings.IndexFunc(p, unicode.IsSpace) < 0
}

func validPeriod(p string) bool { return p == "" || p == "day" || p == "month" }

func validKeyName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, c := range s {
		if c != '-' && c != '_' && c != '.' && !unicode.IsLetter(c) && !unicode.IsDigit(c) {
			return false
		}
	}
	return true
}

func isHexHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}
