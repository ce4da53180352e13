package config

import (
	"fmt"
	"math"
	"strings"
)

// Budgets configures spend limits in USD. Keys carry their own budget
// (budget_usd, budget_period); tenants' budgets are set here. Spend is
// kept in Redis when redis.url is set (shared), in memory otherwise.
type Budgets struct {
	// OnStoreError is closed (default: answer 503, never overspend) or
	// open (allow and count the fault) when Redis cannot answer.
	OnStoreError string `yaml:"on_store_error"`
	// FallbackModel, when set, serves requests over budget with this
	// (cheaper) model or alias instead of refusing them.
	FallbackModel string         `yaml:"fallback_model"`
	Tenants       []TenantBudget `yaml:"tenants"`
}

// TenantBudget is the spend allowed to one tenant per period.
type TenantBudget struct {
	Tenant string  `yaml:"tenant"`
	USD    float64 `yaml:"usd"`
	// Period is day or month (default month), in UTC.
	Period string `yaml:"period"`
	// FallbackModel overrides budgets.fallback_model for this tenant.
	FallbackModel string `yaml:"fallback_model"`
}

func (b *Budgets) defaults() {
	if b.OnStoreError == "" {
		b.OnStoreError = FailClosed
	}
	for i := range b.Tenants {
		if b.Tenants[i].Period == "" {
			b.Tenants[i].Period = "month"
		}
	}
}

func (c *Config) validateBudgets(providers map[string]bool) Errors {
	b := &c.Budgets
	var errs Errors
	add := func(path, format string, args ...any) {
		errs = append(errs, FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	if b.OnStoreError != FailOpen && b.OnStoreError != FailClosed {
		add("budgets.on_store_error", "must be open or closed")
	}
	aliases := map[string]bool{}
	for _, a := range c.Models {
		aliases[a.Name] = true
	}
	checkModel := func(path, m string) {
		if m == "" {
			return
		}
		if pid, name, ok := strings.Cut(m, "/"); ok {
			if pid == "" || name == "" {
				add(path, "must be provider/model or an alias")
			} else if !providers[pid] {
				add(path, "provider %q is not configured", pid)
			}
			return
		}
		if !aliases[m] {
			add(path, "%q is neither provider/model nor a configured alias", m)
		}
	}
	checkModel("budgets.fallback_model", b.FallbackModel)
	seen := map[string]bool{}
	for i, t := range b.Tenants {
		path := fmt.Sprintf("budgets.tenants[%d]", i)
		switch {
		case t.Tenant == "":
			add(path+".tenant", "is required")
		case seen[t.Tenant]:
			add(path+".tenant", "%q has two budgets", t.Tenant)
		}
		seen[t.Tenant] = true
		if t.USD <= 0 || math.IsNaN(t.USD) || math.IsInf(t.USD, 0) {
			add(path+".usd", "must be a positive number")
		}
		if t.Period != "day" && t.Period != "month" {
			add(path+".period", "must be day or month")
		}
		checkModel(path+".fallback_model", t.FallbackModel)
	}
	return errs
}

// accessDefaults fills the defaults of keys, auth, limits and budgets.
func (c *Config) accessDefaults() {
	c.keysDefaults()
	c.Auth.defaults()
	c.Limits.defaults()
	c.Budgets.defaults()
}

// validateAccess checks keys, auth, limits and budgets.
func (c *Config) validateAccess() Errors {
	providers := map[string]bool{}
	for _, p := range c.Providers {
		providers[p.ID] = true
	}
	var errs Errors
	errs = append(errs, c.validateKeys()...)
	errs = append(errs, c.Auth.validate()...)
	errs = append(errs, c.Limits.validate()...)
	errs = append(errs, c.validateBudgets(providers)...)
	return errs
}
