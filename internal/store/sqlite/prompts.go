package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/aigateway/aigateway/internal/store"
	"github.com/aigateway/aigateway/internal/store/promptsql"
)

// promptMigrations create the prompt tables; append-only.
var promptMigrations = []string{
	`CREATE TABLE aig_prompt_names (
		name         TEXT PRIMARY KEY,
		last_version INTEGER NOT NULL
	);
	CREATE TABLE aig_prompts (
		name        TEXT NOT NULL,
		version     INTEGER NOT NULL,
		model       TEXT NOT NULL,
		description TEXT NOT NULL DEFAULT '',
		messages    TEXT NOT NULL,
		params      TEXT NOT NULL DEFAULT '{}',
		defaults    TEXT NOT NULL DEFAULT '{}',
		created_at  INTEGER NOT NULL,
		PRIMARY KEY (name, version)
	);`,
}

// PromptStore is the SQLite store.PromptStore.
type PromptStore struct{ db *DB }

// Prompts migrates the prompt tables and returns the prompt store.
func Prompts(ctx context.Context, db *DB) (*PromptStore, error) {
	if err := db.Migrate(ctx, "prompts", promptMigrations); err != nil {
		return nil, err
	}
	return &PromptStore{db: db}, nil
}

// CreatePrompt implements store.PromptStore.
func (s *PromptStore) CreatePrompt(ctx context.Context, p *store.Prompt) error {
	msgs, params, defaults, err := promptsql.EncodeFields(p)
	if err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("creating prompt: %w", err)
	}
	defer tx.Rollback()
	var version int
	err = tx.QueryRowContext(ctx, `INSERT INTO aig_prompt_names (name, last_version) VALUES (?, 1)
		ON CONFLICT (name) DO UPDATE SET last_version = last_version + 1 RETURNING last_version`, p.Name).Scan(&version)
	if err != nil {
		return fmt.Errorf("creating prompt: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO aig_prompts (`+promptsql.Columns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		p.Name, version, p.Model, p.Description, msgs, params, defaults, p.CreatedAt.UnixMilli()); err != nil {
		return fmt.Errorf("creating prompt: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("creating prompt: %w", err)
	}
	p.Version = version
	return nil
}

// Prompt implements store.PromptStore.
func (s *PromptStore) Prompt(ctx context.Context, name string, version int) (*store.Prompt, error) {
	var row *sql.Row
	if version > 0 {
		row = s.db.QueryRowContext(ctx, `SELECT `+promptsql.Columns+` FROM aig_prompts WHERE name = ? AND version = ?`, name, version)
	} else {
		row = s.db.QueryRowContext(ctx, `SELECT `+promptsql.Columns+` FROM aig_prompts WHERE name = ? ORDER BY version DESC LIMIT 1`, name)
	}
	p, err := promptsql.Scan(row.Scan, sql.ErrNoRows)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	return p, err
}

// Prompts implements store.PromptStore.
func (s *PromptStore) Prompts(ctx context.Context) ([]*store.Prompt, error) {
	return s.list(ctx, `SELECT `+promptsql.Columns+` FROM aig_prompts p
		WHERE version = (SELECT MAX(version) FROM aig_prompts WHERE name = p.name) ORDER BY name`)
}

// PromptVersions implements store.PromptStore.
func (s *PromptStore) PromptVersions(ctx context.Context, name string) ([]*store.Prompt, error) {
	out, err := s.list(ctx, `SELECT `+promptsql.Columns+` FROM aig_prompts WHERE name = ? ORDER BY version`, name)
	if err == nil && len(out) == 0 {
		return nil, store.ErrNotFound
	}
	return out, err
}

// DeletePrompt implements store.PromptStore.
func (s *PromptStore) DeletePrompt(ctx context.Context, name string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM aig_prompts WHERE name = ?`, name)
	if err != nil {
		return fmt.Errorf("deleting prompt: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

func (s *PromptStore) list(ctx context.Context, q string, args ...any) ([]*store.Prompt, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing prompts: %w", err)
	}
	defer rows.Close()
	var out []*store.Prompt
	for rows.Next() {
		p, err := promptsql.Scan(rows.Scan, sql.ErrNoRows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing prompts: %w", err)
	}
	return out, nil
}

var _ store.PromptStore = (*PromptStore)(nil)
