package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

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
		models        TEXT NOT NULL DEFAULT '[]',
		providers     TEXT NOT NULL DEFAULT '[]',
		allow_ips     TEXT NOT NULL DEFAULT '[]',
		deny_ips      TEXT NOT NULL DEFAULT '[]',
		rpm           INTEGER NOT NULL DEFAULT 0,
		tpm           INTEGER NOT NULL DEFAULT 0,
		budget_usd    REAL NOT NULL DEFAULT 0,
		budget_period TEXT NOT NULL DEFAULT '',
		expires_at    INTEGER,
		metadata      TEXT NOT NULL DEFAULT '{}',
		enabled       INTEGER NOT NULL DEFAULT 1,
		created_at    INTEGER NOT NULL,
		updated_at    INTEGER NOT NULL,
		last_used_at  INTEGER,
		revoked_at    INTEGER
	);
	CREATE INDEX aig_keys_tenant ON aig_keys (tenant, created_at);
	CREATE TABLE aig_keys_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL);
	INSERT INTO aig_keys_version (id, version) VALUES (1, 0);`,
}

// KeyStore is the SQLite store.KeyStore.
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
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO aig_keys (`+keyColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			k.ID, k.Name, k.Tenant, k.SecretHash, k.Prefix, jsonList(k.Models), jsonList(k.Providers),
			jsonList(k.AllowIPs), jsonList(k.DenyIPs), k.RPM, k.TPM, k.BudgetUSD, k.BudgetPeriod,
			millis(k.ExpiresAt), jsonMap(k.Metadata), k.Enabled, millis(k.CreatedAt).Int64,
			millis(k.UpdatedAt).Int64, millis(k.LastUsedAt), millis(k.RevokedAt))
		if err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed") {
			return store.ErrConflict
		}
		return err
	})
}

// Key implements store.KeyStore.
func (s *KeyStore) Key(ctx context.Context, id string) (*store.Key, error) {
	return scanKey(s.db.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM aig_keys WHERE id = ?`, id))
}

// KeyByHash implements store.KeyStore.
func (s *KeyStore) KeyByHash(ctx context.Context, hash string) (*store.Key, error) {
	return scanKey(s.db.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM aig_keys WHERE secret_hash = ?`, hash))
}

// Keys implements store.KeyStore.
func (s *KeyStore) Keys(ctx context.Context, f store.KeyFilter) ([]*store.Key, error) {
	q := `SELECT ` + keyColumns + ` FROM aig_keys WHERE 1 = 1`
	var args []any
	if f.Tenant != "" {
		q += ` AND tenant = ?`
		args = append(args, f.Tenant)
	}
	if f.Name != "" {
		q += ` AND name = ?`
		args = append(args, f.Name)
	}
	if !f.IncludeRevoked {
		q += ` AND revoked_at IS NULL`
	}
	limit, offset := f.Bounds()
	q += ` ORDER BY created_at, id LIMIT ? OFFSET ?`
	args = append(args, limit, offset)
	rows, err := s.db.QueryContext(ctx, q, args...)
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
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE aig_keys SET name = ?, tenant = ?, models = ?, providers = ?,
			allow_ips = ?, deny_ips = ?, rpm = ?, tpm = ?, budget_usd = ?, budget_period = ?, expires_at = ?,
			metadata = ?, enabled = ?, updated_at = ? WHERE id = ?`,
			k.Name, k.Tenant, jsonList(k.Models), jsonList(k.Providers), jsonList(k.AllowIPs), jsonList(k.DenyIPs),
			k.RPM, k.TPM, k.BudgetUSD, k.BudgetPeriod, millis(k.ExpiresAt), jsonMap(k.Metadata), k.Enabled,
			millis(k.UpdatedAt).Int64, k.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
}

// RevokeKey implements store.KeyStore.
func (s *KeyStore) RevokeKey(ctx context.Context, id string, at time.Time) (*store.Key, error) {
	var out *store.Key
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE aig_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`,
			millis(at).Int64, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		out, err = scanKey(tx.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM aig_keys WHERE id = ?`, id))
		return err
	})
	return out, err
}

// TouchKeys implements store.KeyStore.
func (s *KeyStore) TouchKeys(ctx context.Context, used map[string]time.Time) error {
	if len(used) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("recording key use: %w", err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `UPDATE aig_keys SET last_used_at = ?
		WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`)
	if err != nil {
		return fmt.Errorf("recording key use: %w", err)
	}
	defer stmt.Close()
	for id, t := range used {
		ms := millis(t).Int64
		if _, err := stmt.ExecContext(ctx, ms, id, ms); err != nil {
			return fmt.Errorf("recording key use: %w", err)
		}
	}
	return tx.Commit()
}

// KeyChanges implements store.KeyStore.
func (s *KeyStore) KeyChanges(ctx context.Context) (store.KeyChanges, error) {
	var c store.KeyChanges
	err := s.db.QueryRowContext(ctx, `SELECT version, (SELECT COUNT(*) FROM aig_keys) FROM aig_keys_version WHERE id = 1`).
		Scan(&c.Version, &c.Total)
	if err != nil {
		return c, fmt.Errorf("reading key changes: %w", err)
	}
	return c, nil
}

// write runs fn and bumps the change version in one transaction.
func (s *KeyStore) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("writing key: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
			return err
		}
		return fmt.Errorf("writing key: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE aig_keys_version SET version = version + 1 WHERE id = 1`); err != nil {
		return fmt.Errorf("writing key: %w", err)
	}
	return tx.Commit()
}

type scanner interface{ Scan(dest ...any) error }

func scanKey(r scanner) (*store.Key, error) {
	var (
		k                                        store.Key
		models, providers, allow, deny, metadata string
		expires, lastUsed, revoked               sql.NullInt64
		created, updated                         int64
	)
	err := r.Scan(&k.ID, &k.Name, &k.Tenant, &k.SecretHash, &k.Prefix, &models, &providers, &allow, &deny,
		&k.RPM, &k.TPM, &k.BudgetUSD, &k.BudgetPeriod, &expires, &metadata, &k.Enabled,
		&created, &updated, &lastUsed, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading key: %w", err)
	}
	for _, f := range []struct {
		src string
		dst *[]string
	}{{models, &k.Models}, {providers, &k.Providers}, {allow, &k.AllowIPs}, {deny, &k.DenyIPs}} {
		if err := json.Unmarshal([]byte(f.src), f.dst); err != nil {
			return nil, fmt.Errorf("reading key %s: %w", k.ID, err)
		}
	}
	if err := json.Unmarshal([]byte(metadata), &k.Metadata); err != nil {
		return nil, fmt.Errorf("reading key %s: %w", k.ID, err)
	}
	k.Models, k.Providers, k.AllowIPs, k.DenyIPs = nilIfEmpty(k.Models), nilIfEmpty(k.Providers), nilIfEmpty(k.AllowIPs), nilIfEmpty(k.DenyIPs)
	if len(k.Metadata) == 0 {
		k.Metadata = nil
	}
	k.ExpiresAt, k.LastUsedAt, k.RevokedAt = fromMillis(expires), fromMillis(lastUsed), fromMillis(revoked)
	k.CreatedAt = time.UnixMilli(created).UTC()
	k.UpdatedAt = time.UnixMilli(updated).UTC()
	return &k, nil
}

func millis(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

func fromMillis(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.UnixMilli(n.Int64).UTC()
}

func nilIfEmpty(v []string) []string {
	if len(v) == 0 {
		return nil
	}
	return v
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
