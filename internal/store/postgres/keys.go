package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/aigateway/aigateway/internal/store"
)

// keyMigrations create the keys table; append-only.
var keyMigrations = []string{
	`CREATE TABLE aig_keys (
		id            TEXT PRIMARY KEY,
		name          TEXT NOT NULL,
		tenant        TEXT NOT NULL DEFAULT '',
		secret_hash   TEXT NOT NULL UNIQUE,
		prefix        TEXT NOT NULL,
		models        JSONB NOT NULL DEFAULT '[]',
		providers     JSONB NOT NULL DEFAULT '[]',
		allow_ips     JSONB NOT NULL DEFAULT '[]',
		deny_ips      JSONB NOT NULL DEFAULT '[]',
		rpm           BIGINT NOT NULL DEFAULT 0,
		tpm           BIGINT NOT NULL DEFAULT 0,
		budget_usd    DOUBLE PRECISION NOT NULL DEFAULT 0,
		budget_period TEXT NOT NULL DEFAULT '',
		expires_at    TIMESTAMPTZ,
		metadata      JSONB NOT NULL DEFAULT '{}',
		enabled       BOOLEAN NOT NULL DEFAULT TRUE,
		created_at    TIMESTAMPTZ NOT NULL,
		updated_at    TIMESTAMPTZ NOT NULL,
		last_used_at  TIMESTAMPTZ,
		revoked_at    TIMESTAMPTZ
	);
	CREATE INDEX aig_keys_tenant ON aig_keys (tenant, created_at);
	CREATE TABLE aig_keys_version (id INTEGER PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL);
	INSERT INTO aig_keys_version (id, version) VALUES (1, 0);`,
}

// KeyStore is the PostgreSQL store.KeyStore.
type KeyStore struct{ db *DB }

// Keys migrates the keys tables and returns the key store.
func Keys(ctx context.Context, db *DB) (*KeyStore, error) {
	if err := db.Migrate(ctx, "keys", keyMigrations); err != nil {
		return nil, err
	}
	return &KeyStore{db: db}, nil
}

const keyColumns = `id, name, tenant, secret_hash, prefix, models, providers, allow_ips, deny_ips,
	rpm, tpm, budget_usd, budget_period, expires_at, metadata, enabled,
	created_at, updated_at, last_used_at, revoked_at`

// CreateKey implements store.KeyStore.
func (s *KeyStore) CreateKey(ctx context.Context, k *store.Key) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO aig_keys (`+keyColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
			k.ID, k.Name, k.Tenant, k.SecretHash, k.Prefix, jsonList(k.Models), jsonList(k.Providers),
			jsonList(k.AllowIPs), jsonList(k.DenyIPs), k.RPM, k.TPM, k.BudgetUSD, k.BudgetPeriod,
			nullTime(k.ExpiresAt), jsonMap(k.Metadata), k.Enabled, store.Millis(k.CreatedAt),
			store.Millis(k.UpdatedAt), nullTime(k.LastUsedAt), nullTime(k.RevokedAt))
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" { // unique_violation
			return store.ErrConflict
		}
		return err
	})
}

// Key implements store.KeyStore.
func (s *KeyStore) Key(ctx context.Context, id string) (*store.Key, error) {
	return scanKey(s.db.QueryRow(ctx, `SELECT `+keyColumns+` FROM aig_keys WHERE id = $1`, id))
}

// KeyByHash implements store.KeyStore.
func (s *KeyStore) KeyByHash(ctx context.Context, hash string) (*store.Key, error) {
	return scanKey(s.db.QueryRow(ctx, `SELECT `+keyColumns+` FROM aig_keys WHERE secret_hash = $1`, hash))
}

// Keys implements store.KeyStore.
func (s *KeyStore) Keys(ctx context.Context, f store.KeyFilter) ([]*store.Key, error) {
	q := `SELECT ` + keyColumns + ` FROM aig_keys WHERE TRUE`
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.Tenant != "" {
		q += ` AND tenant = ` + arg(f.Tenant)
	}
	if f.Name != "" {
		q += ` AND name = ` + arg(f.Name)
	}
	if !f.IncludeRevoked {
		q += ` AND revoked_at IS NULL`
	}
	limit, offset := f.Bounds()
	q += ` ORDER BY created_at, id LIMIT ` + arg(limit) + ` OFFSET ` + arg(offset)
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing keys: %w", err)
	}
	defer rows.Close()
	var out []*store.Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// UpdateKey implements store.KeyStore.
func (s *KeyStore) UpdateKey(ctx context.Context, k *store.Key) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE aig_keys SET name = $1, tenant = $2, models = $3, providers = $4,
			allow_ips = $5, deny_ips = $6, rpm = $7, tpm = $8, budget_usd = $9, budget_period = $10,
			expires_at = $11, metadata = $12, enabled = $13, updated_at = $14 WHERE id = $15`,
			k.Name, k.Tenant, jsonList(k.Models), jsonList(k.Providers), jsonList(k.AllowIPs), jsonList(k.DenyIPs),
			k.RPM, k.TPM, k.BudgetUSD, k.BudgetPeriod, nullTime(k.ExpiresAt), jsonMap(k.Metadata), k.Enabled,
			store.Millis(k.UpdatedAt), k.ID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrNotFound
		}
		return nil
	})
}

// RevokeKey implements store.KeyStore.
func (s *KeyStore) RevokeKey(ctx context.Context, id string, at time.Time) (*store.Key, error) {
	var out *store.Key
	err := s.write(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = scanKey(tx.QueryRow(ctx, `UPDATE aig_keys SET revoked_at = COALESCE(revoked_at, $1)
			WHERE id = $2 RETURNING `+keyColumns, store.Millis(at), id))
		return err
	})
	return out, err
}

// TouchKeys implements store.KeyStore.
func (s *KeyStore) TouchKeys(ctx context.Context, used map[string]time.Time) error {
	if len(used) == 0 {
		return nil
	}
	ids := make([]string, 0, len(used))
	times := make([]time.Time, 0, len(used))
	for id, t := range used {
		ids = append(ids, id)
		times = append(times, store.Millis(t))
	}
	_, err := s.db.Exec(ctx, `UPDATE aig_keys k SET last_used_at = u.t
		FROM unnest($1::text[], $2::timestamptz[]) AS u(id, t)
		WHERE k.id = u.id AND (k.last_used_at IS NULL OR k.last_used_at < u.t)`, ids, times)
	if err != nil {
		return fmt.Errorf("recording key use: %w", err)
	}
	return nil
}

// KeyChanges implements store.KeyStore.
func (s *KeyStore) KeyChanges(ctx context.Context) (store.KeyChanges, error) {
	var c store.KeyChanges
	err := s.db.QueryRow(ctx, `SELECT version, (SELECT COUNT(*) FROM aig_keys) FROM aig_keys_version WHERE id = 1`).
		Scan(&c.Version, &c.Total)
	if err != nil {
		return c, fmt.Errorf("reading key changes: %w", err)
	}
	return c, nil
}

// write runs fn and bumps the change version in one transaction.
func (s *KeyStore) write(ctx context.Context, fn func(tx pgx.Tx) error) error {
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE aig_keys_version SET version = version + 1 WHERE id = 1`)
		return err
	})
	if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
		return err
	}
	return fmt.Errorf("writing key: %w", err)
}

func scanKey(r pgx.Row) (*store.Key, error) {
	var (
		k                                        store.Key
		models, providers, allow, deny, metadata []byte
		expires, lastUsed, revoked               *time.Time
	)
	err := r.Scan(&k.ID, &k.Name, &k.Tenant, &k.SecretHash, &k.Prefix, &models, &providers, &allow, &deny,
		&k.RPM, &k.TPM, &k.BudgetUSD, &k.BudgetPeriod, &expires, &metadata, &k.Enabled,
		&k.CreatedAt, &k.UpdatedAt, &lastUsed, &revoked)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading key: %w", err)
	}
	for _, f := range []struct {
		src []byte
		dst *[]string
	}{{models, &k.Models}, {providers, &k.Providers}, {allow, &k.AllowIPs}, {deny, &k.DenyIPs}} {
		if err := json.Unmarshal(f.src, f.dst); err != nil {
			return nil, fmt.Errorf("reading key %s: %w", k.ID, err)
		}
		if len(*f.dst) == 0 {
			*f.dst = nil
		}
	}
	if err := json.Unmarshal(metadata, &k.Metadata); err != nil {
		return nil, fmt.Errorf("reading key %s: %w", k.ID, err)
	}
	if len(k.Metadata) == 0 {
		k.Metadata = nil
	}
	k.CreatedAt, k.UpdatedAt = k.CreatedAt.UTC(), k.UpdatedAt.UTC()
	k.ExpiresAt, k.LastUsedAt, k.RevokedAt = deref(expires), deref(lastUsed), deref(revoked)
	return &k, nil
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = store.Millis(t)
	return &t
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

func jsonList(v []string) string {
	if len(v) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func jsonMap(v map[string]string) string {
	if len(v) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

var _ store.KeyStore = (*KeyStore)(nil)
