package keys

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/store"
)

// Manager is the Service on a key store.
type Manager struct {
	Store store.KeyStore
	// Declared are the keys of the config file: listed and shown, never
	// changed here (the file is their source of truth).
	Declared []*store.Key
	// Now is the clock (default time.Now).
	Now func() time.Time
	// OnChange runs after every successful write, so the local cache
	// drops what it holds at once instead of at its next poll.
	OnChange func()
}

// keyFields are the fields a caller sets, validated together.
type keyFields = store.Key

func (m *Manager) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

func (m *Manager) changed() {
	if m.OnChange != nil {
		m.OnChange()
	}
}

// Create implements Service.
func (m *Manager) Create(ctx context.Context, p Params) (*Created, error) {
	now := store.Millis(m.now())
	secret := NewSecret()
	k := &store.Key{
		ID: NewID(), Name: strings.TrimSpace(p.Name), Tenant: p.Tenant, SecretHash: Hash(secret), Prefix: DisplayPrefix(secret),
		Models: p.Models, Providers: p.Providers, AllowIPs: p.AllowIPs, DenyIPs: p.DenyIPs,
		RPM: p.RPM, TPM: p.TPM, BudgetUSD: p.BudgetUSD, BudgetPeriod: p.BudgetPeriod,
		Metadata: p.Metadata, Enabled: p.Enabled == nil || *p.Enabled, CreatedAt: now, UpdatedAt: now,
	}
	if p.ExpiresAt != nil {
		k.ExpiresAt = store.Millis(*p.ExpiresAt)
		if !k.ExpiresAt.After(now) {
			return nil, gwerr.BadRequest("expires_at", "expires_at: %s is not in the future", k.ExpiresAt.Format(time.RFC3339))
		}
	}
	if err := validate(k); err != nil {
		return nil, err
	}
	if err := m.uniqueName(ctx, k.Name, ""); err != nil {
		return nil, err
	}
	if err := m.Store.CreateKey(ctx, k); err != nil {
		return nil, storeError("creating key", err)
	}
	m.changed()
	return &Created{View: ViewOf(k, SourceStore, now), Secret: secret}, nil
}

// List implements Service: declared keys first, then stored ones.
func (m *Manager) List(ctx context.Context, o ListOptions) ([]View, error) {
	now := m.now()
	out := []View{}
	if o.Offset == 0 {
		for _, k := range m.Declared {
			if (o.Tenant == "" || k.Tenant == o.Tenant) && (o.Name == "" || k.Name == o.Name) {
				out = append(out, ViewOf(k, SourceConfig, now))
			}
		}
	}
	ks, err := m.Store.Keys(ctx, store.KeyFilter{Tenant: o.Tenant, Name: o.Name, IncludeRevoked: o.IncludeRevoked, Limit: o.Limit, Offset: o.Offset})
	if err != nil {
		return nil, storeError("listing keys", err)
	}
	for _, k := range ks {
		out = append(out, ViewOf(k, SourceStore, now))
	}
	return out, nil
}

// Get implements Service.
func (m *Manager) Get(ctx context.Context, ref string) (*View, error) {
	if k := m.declared(ref); k != nil {
		v := ViewOf(k, SourceConfig, m.now())
		return &v, nil
	}
	k, err := m.resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	v := ViewOf(k, SourceStore, m.now())
	return &v, nil
}

// Update implements Service.
func (m *Manager) Update(ctx context.Context, ref string, p Patch) (*View, error) {
	if m.declared(ref) != nil {
		return nil, declaredError(ref)
	}
	k, err := m.resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	if k.Revoked() {
		return nil, gwerr.New(gwerr.KindCaller, http.StatusConflict, "key %s is revoked and cannot be changed; create a new key", k.ID)
	}
	apply(k, p)
	if p.ExpiresAt.Set {
		k.ExpiresAt = store.Millis(p.ExpiresAt.Time)
	}
	k.UpdatedAt = store.Millis(m.now())
	if err := validate(k); err != nil {
		return nil, err
	}
	if p.Name != nil {
		if err := m.uniqueName(ctx, k.Name, k.ID); err != nil {
			return nil, err
		}
	}
	if err := m.Store.UpdateKey(ctx, k); err != nil {
		return nil, storeError("updating key", err)
	}
	m.changed()
	v := ViewOf(k, SourceStore, m.now())
	return &v, nil
}

func apply(k *store.Key, p Patch) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	setList := func(dst *[]string, src *[]string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&k.Name, p.Name)
	set(&k.Tenant, p.Tenant)
	set(&k.BudgetPeriod, p.BudgetPeriod)
	setList(&k.Models, p.Models)
	setList(&k.Providers, p.Providers)
	setList(&k.AllowIPs, p.AllowIPs)
	setList(&k.DenyIPs, p.DenyIPs)
	if p.RPM != nil {
		k.RPM = *p.RPM
	}
	if p.TPM != nil {
		k.TPM = *p.TPM
	}
	if p.BudgetUSD != nil {
		k.BudgetUSD = *p.BudgetUSD
		if k.BudgetUSD == 0 && p.BudgetPeriod == nil {
			k.BudgetPeriod = ""
		}
	}
	if p.Metadata != nil {
		k.Metadata = *p.Metadata
	}
	if p.Enabled != nil {
		k.Enabled = *p.Enabled
	}
	k.Name = strings.TrimSpace(k.Name)
}

// Revoke implements Service.
func (m *Manager) Revoke(ctx context.Context, ref string) (*View, error) {
	if m.declared(ref) != nil {
		return nil, declaredError(ref)
	}
	k, err := m.resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	k, err = m.Store.RevokeKey(ctx, k.ID, m.now())
	if err != nil {
		return nil, storeError("revoking key", err)
	}
	m.changed()
	v := ViewOf(k, SourceStore, m.now())
	return &v, nil
}

// resolve finds a stored key by id, or by the name of one active key.
func (m *Manager) resolve(ctx context.Context, ref string) (*store.Key, error) {
	if ref == "" {
		return nil, gwerr.BadRequest("id", "a key id or name is required")
	}
	k, err := m.Store.Key(ctx, ref)
	if err == nil {
		return k, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, storeError("reading key", err)
	}
	ks, err := m.Store.Keys(ctx, store.KeyFilter{Name: ref, Limit: 2})
	if err != nil {
		return nil, storeError("reading key", err)
	}
	switch len(ks) {
	case 1:
		return ks[0], nil
	case 0:
		return nil, gwerr.NotFound("key_not_found", "no key with id or name %q", ref)
	}
	return nil, gwerr.New(gwerr.KindCaller, http.StatusConflict, "the name %q matches several keys; use the key id", ref)
}

func (m *Manager) declared(ref string) *store.Key {
	for _, k := range m.Declared {
		if k.ID == ref || k.Name == ref {
			return k
		}
	}
	return nil
}

// uniqueName refuses a name an active key (other than self) already has,
// so names work as references.
func (m *Manager) uniqueName(ctx context.Context, name, self string) error {
	for _, k := range m.Declared {
		if k.Name == name {
			return gwerr.New(gwerr.KindCaller, http.StatusConflict, "a key named %q is declared in the config file", name)
		}
	}
	ks, err := m.Store.Keys(ctx, store.KeyFilter{Name: name, Limit: 2})
	if err != nil {
		return storeError("checking key name", err)
	}
	for _, k := range ks {
		if k.ID != self {
			return gwerr.New(gwerr.KindCaller, http.StatusConflict, "a key named %q already exists (%s)", name, k.ID)
		}
	}
	return nil
}

func declaredError(ref string) error {
	return gwerr.New(gwerr.KindCaller, http.StatusConflict, "key %q is declared in the config file; change it there", ref)
}

func storeError(doing string, err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return gwerr.NotFound("key_not_found", "no such key")
	case errors.Is(err, store.ErrConflict):
		return gwerr.New(gwerr.KindCaller, http.StatusConflict, "the key conflicts with an existing one")
	}
	ge := gwerr.New(gwerr.KindGateway, http.StatusServiceUnavailable, "key store unavailable")
	ge.Cause = fmt.Errorf("%s: %w", doing, err)
	return ge
}

var _ Service = (*Manager)(nil)
