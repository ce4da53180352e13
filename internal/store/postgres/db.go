// Package postgres is the shared store for scale-out: every replica uses
// the same PostgreSQL database through a pgx connection pool.
package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DB is a pool of connections to PostgreSQL.
type DB struct {
	*pgxpool.Pool
}

// Open connects to dsn and checks the connection.
func Open(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parsing postgres dsn: invalid dsn") // the dsn may hold a password: never echo it
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connecting to postgres: %w", err)
	}
	return &DB{Pool: pool}, nil
}

// migrationLock is the advisory lock id that serialises migrations across
// replicas starting at the same time.
const migrationLock = 0x616967 // "aig"

// Migrate applies the migrations of one component that have not run yet,
// in order, holding an advisory lock so concurrent replicas migrate once.
// A migration's version is its index + 1; migrations are append-only.
func (db *DB) Migrate(ctx context.Context, component string, migrations []string) error {
	conn, err := db.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrating %s: %w", component, err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return fmt.Errorf("migrating %s: taking lock: %w", component, err)
	}
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, migrationLock)
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS aig_schema_migrations (
		component TEXT NOT NULL, version INTEGER NOT NULL, PRIMARY KEY (component, version))`); err != nil {
		return fmt.Errorf("creating migrations table: %w", err)
	}
	for i, m := range migrations {
		version := i + 1
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			var n int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM aig_schema_migrations WHERE component = $1 AND version = $2`, component, version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.Exec(ctx, m); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO aig_schema_migrations (component, version) VALUES ($1, $2)`, component, version)
			return err
		})
		if err != nil {
			return fmt.Errorf("migrating %s to version %d: %w", component, version, err)
		}
	}
	return nil
}
