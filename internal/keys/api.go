package keys

import (
	"context"
	"encoding/json"
	"time"

	"github.com/aigateway/aigateway/internal/store"
)

// Service is the key lifecycle. The Manager implements it on a store; the
// Client implements it over a running gateway's admin API. References
// (ref) are a key id or the name of exactly one active key. Errors are
// *gwerr.Error with the status the admin API answers with.
type Service interface {
	Create(ctx context.Context, p Params) (*Created, error)
	List(ctx context.Context, o ListOptions) ([]View, error)
	Get(ctx context.Context, ref string) (*View, error)
	Update(ctx context.Context, ref string, p Patch) (*View, error)
	Revoke(ctx context.Context, ref string) (*View, error)
}

// Params describe a new key. Zero values mean: no tenant, every model and
// provider, from any address, no limits, no budget, never expires,
// enabled.
type Params struct {
	Name      string   `json:"name"`
	Tenant    string   `json:"tenant,omitempty"`
	Models    []string `json:"models,omitempty"`
	Providers []string `json:"providers,omitempty"`
	AllowIPs  []string `json:"allow_ips,omitempty"`
	DenyIPs   []string `json:"deny_ips,omitempty"`
	RPM       int64    `json:"rpm,omitempty"`
	TPM       int64    `json:"tpm,omitempty"`
	BudgetUSD float64  `json:"budget_usd,omitempty"`
	// BudgetPeriod is day or month (default month when a budget is set).
	BudgetPeriod string            `json:"budget_period,omitempty"`
	ExpiresAt    *time.Time        `json:"expires_at,omitempty"`
	Metadata     map[string]string `json:"metadata,omitempty"`
	// Enabled defaults to true.
	Enabled *bool `json:"enabled,omitempty"`
}

// Patch changes some fields of a key; nil (absent) fields stay as they
// are. Lists and metadata are replaced as a whole.
type Patch struct {
	Name         *string            `json:"name,omitempty"`
	Tenant       *string            `json:"tenant,omitempty"`
	Models       *[]string          `json:"models,omitempty"`
	Providers    *[]string          `json:"providers,omitempty"`
	AllowIPs     *[]string          `json:"allow_ips,omitempty"`
	DenyIPs      *[]string          `json:"deny_ips,omitempty"`
	RPM          *int64             `json:"rpm,omitempty"`
	TPM          *int64             `json:"tpm,omitempty"`
	BudgetUSD    *float64           `json:"budget_usd,omitempty"`
	BudgetPeriod *string            `json:"budget_period,omitempty"`
	ExpiresAt    OptionalTime       `json:"expires_at,omitzero"`
	Metadata     *map[string]string `json:"metadata,omitempty"`
	Enabled      *bool              `json:"enabled,omitempty"`
}

// OptionalTime is a time that can be absent (unchanged), null (cleared)
// or set.
type OptionalTime struct {
	Set  bool
	Time time.Time
}

// UnmarshalJSON implements json.Unmarshaler; it only runs for a present
// field, so Set tells absent from null.
func (o *OptionalTime) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Time = time.Time{}
		return nil
	}
	return json.Unmarshal(b, &o.Time)
}

// MarshalJSON implements json.Marshaler: a cleared time is null.
func (o OptionalTime) MarshalJSON() ([]byte, error) {
	if o.Time.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(o.Time)
}

// IsZero reports an absent value (for omitzero).
func (o OptionalTime) IsZero() bool { return !o.Set }

// ListOptions filter a listing.
type ListOptions struct {
	Tenant         string
	Name           string
	IncludeRevoked bool
	Limit, Offset  int
}

// Key statuses.
const (
	StatusActive   = "active"
	StatusDisabled = "disabled"
	StatusExpired  = "expired"
	StatusRevoked  = "revoked"
)

// Key sources.
const (
	SourceStore  = "store"
	SourceConfig = "config"
)

// View is a key as shown to operators: everything but the secret.
type View struct {
	ID           string            `json:"id"`
	Name         string            `json:"name"`
	Tenant       string            `json:"tenant,omitempty"`
	Prefix       string            `json:"prefix"`
	Models       []string          `json:"models,omitempty"`
	Providers    []string          `json:"providers,omitempty"`
	AllowIPs     []string          `json:"allow_ips,omitempty"`
	DenyIPs      []string          `json:"deny_ips,omitempty"`
	RPM          int64             `json:"rpm,omitempty"`
	TPM          int64             `json:"tpm,omitempty"`
	BudgetUSD    float64           `json:"budget_usd,omitempty"`
	BudgetPeriod string            `json:"budget_period,omitempty"`
	ExpiresAt    *time.Time        `json:"expires_at,omitempty"`
	Metadata     map[string]string `json:"metadata,omitempty"`
	Enabled      bool              `json:"enabled"`
	// Status is active, disabled, expired or revoked.
	Status string `json:"status"`
	// Source is store (managed by the CLI and admin API) or config
	// (declared in the config file, read-only here).
	Source     string     `json:"source"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// Created is a new key with its secret, the only time the secret is shown.
type Created struct {
	View
	Secret string `json:"secret"`
}

// ViewOf renders a stored key at now.
func ViewOf(k *store.Key, source string, now time.Time) View {
	v := View{
		ID: k.ID, Name: k.Name, Tenant: k.Tenant, Prefix: k.Prefix, Models: k.Models, Providers: k.Providers,
		AllowIPs: k.AllowIPs, DenyIPs: k.DenyIPs, RPM: k.RPM, TPM: k.TPM, BudgetUSD: k.BudgetUSD,
		BudgetPeriod: k.BudgetPeriod, ExpiresAt: timePtr(k.ExpiresAt), Metadata: k.Metadata, Enabled: k.Enabled,
		Status: StatusOf(k, now), Source: source, CreatedAt: k.CreatedAt, UpdatedAt: k.UpdatedAt,
		LastUsedAt: timePtr(k.LastUsedAt), RevokedAt: timePtr(k.RevokedAt),
	}
	return v
}

// StatusOf says whether k can be used at now, and if not why.
func StatusOf(k *store.Key, now time.Time) string {
	switch {
	case k.Revoked():
		return StatusRevoked
	case k.Expired(now):
		return StatusExpired
	case !k.Enabled:
		return StatusDisabled
	}
	return StatusActive
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
