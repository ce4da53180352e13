package store

import (
	"context"
	"time"
)

// Key is a gateway key as stored: everything about it but the secret,
// which is kept only as its SHA-256 hash. Times have millisecond
// precision; a zero time means "not set" (never expires, never used, not
// revoked).
type Key struct {
	ID     string
	Name   string
	Tenant string
	// SecretHash is the lower-case hex SHA-256 of the secret; lookups use it.
	SecretHash string
	// Prefix is the start of the secret, shown in lists so a key can be
	// recognised without being retrievable.
	Prefix string

	// Models and Providers restrict what the key may call (globs over
	// "provider/model" and provider ids); empty allows everything.
	Models    []string
	Providers []string
	// AllowIPs and DenyIPs are CIDRs (or single addresses) the key may or
	// may not be used from; an empty allow list allows every address.
	AllowIPs []string
	DenyIPs  []string

	// RPM and TPM are requests and tokens per minute; 0 is unlimited.
	RPM int64
	TPM int64
	// BudgetUSD is the spend allowed per BudgetPeriod ("day" or "month");
	// 0 is unlimited.
	BudgetUSD    float64
	BudgetPeriod string

	ExpiresAt time.Time
	Metadata  map[string]string
	Enabled   bool

	CreatedAt  time.Time
	UpdatedAt  time.Time
	LastUsedAt time.Time
	RevokedAt  time.Time
}

// Revoked reports whether the key has been revoked.
func (k *Key) Revoked() bool { return !k.RevokedAt.IsZero() }

// Expired reports whether the key has expired at now.
func (k *Key) Expired(now time.Time) bool { return !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt) }

// KeyFilter selects keys to list. Zero values select everything but
// revoked keys, up to the default limit.
type KeyFilter struct {
	// Tenant and Name, when set, must match exactly.
	Tenant string
	Name   string
	// IncludeRevoked lists revoked keys too.
	IncludeRevoked bool
	// Limit bounds the result (default 100, at most 1000); Offset skips.
	Limit  int
	Offset int
}

// Bounds returns the effective limit and offset.
func (f KeyFilter) Bounds() (limit, offset int) {
	limit, offset = f.Limit, f.Offset
	if limit <= 0 {
		limit = 100
	}
	if limit > 1000 {
		limit = 1000
	}
	if offset < 0 {
		offset = 0
	}
	return limit, offset
}

// KeyChanges summarises the key table so caches can tell cheaply whether
// anything changed: Version grows with every create, update and revoke
// (not with last-used updates); Total counts every key ever created,
// revoked ones included.
type KeyChanges struct {
	Version int64
	Total   int64
}

// KeyStore persists gateway keys.
type KeyStore interface {
	// CreateKey stores a new key; ErrConflict when its id or secret hash
	// is taken.
	CreateKey(ctx context.Context, k *Key) error
	// Key returns the key with id, or ErrNotFound.
	Key(ctx context.Context, id string) (*Key, error)
	// KeyByHash returns the key whose secret hashes to hash, or ErrNotFound.
	KeyByHash(ctx context.Context, hash string) (*Key, error)
	// Keys lists keys ordered by creation time.
	Keys(ctx context.Context, f KeyFilter) ([]*Key, error)
	// UpdateKey replaces the mutable fields of the key with k.ID (name,
	// tenant, scope, limits, budget, expiry, metadata, enabled, updated
	// time); the secret, prefix and creation time never change.
	// ErrNotFound when there is no such key.
	UpdateKey(ctx context.Context, k *Key) error
	// RevokeKey marks the key revoked at at (the first revocation time is
	// kept) and returns it; ErrNotFound when there is no such key.
	RevokeKey(ctx context.Context, id string, at time.Time) (*Key, error)
	// TouchKeys records last-used times; a time never moves backwards and
	// unknown ids are ignored. It does not change KeyChanges.Version.
	TouchKeys(ctx context.Context, used map[string]time.Time) error
	// KeyChanges returns the change summary.
	KeyChanges(ctx context.Context) (KeyChanges, error)
}

// Millis truncates t to the precision stores keep, in UTC; the zero time
// stays zero.
func Millis(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Millisecond)
}
