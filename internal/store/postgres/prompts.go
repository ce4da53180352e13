package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

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
		created_at  BIGINT NOT NULL,
		PRIMARY KEY (name, version)
	);`,
}

// PromptStore is the PostgreSQL store.PromptStore.
type PromptStore struct{ db *DB }

// Prompts migrates the prompt tables and returns the prompt store.
func Prompts(ctx context.Context, db *DB) (*PromptStore, error) {
	if err := db.Migrate(ctx, "prompts", promptMigrations); err != nil {
		return nil, err
	}
	return &PromptStore{db: db}, nil
}

// CreatePrompt implements store.PromptStore. The row lock on the name's
// counter serialises concurrent creators of the same name.
func (s *PromptStore) CreatePrompt(ctx context.Context, p *store.Prompt) error {
	msgs, params, defaults, err := promptsql.EncodeFields(p)
	if err != nil {
		return err
	}
	var version int
	err = pgx.BeginFunc(ctx, s.db.Pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO aig_prompt_names (name, last_version) VALUES ($1, 1)
			ON CONFLICT (name) DO UPDATE SET last_version = aig_prompt_names.last_version + 1 RETURNING last_version`,
			p.Name).Scan(&version); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO aig_prompts (`+promptsql.Columns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			p.Name, version, p.Model, p.Description, msgs, params, defaults, p.CreatedAt.UnixMilli())
		return err
	})
	if err != nil {
		return fmt.Errorf("creating prompt: %w", err)
	}
	p.Version = version
	return nil
}

// Prompt implements store.PromptStore.
func (s *PromptStore) Prompt(ctx context.Context, name string, version int) (*store.Prompt, error) {
	var row pgx.Row
	if version > 0 {
		row = s.db.QueryRow(ctx, `SELECT `+promptsql.Columns+` FROM aig_prompts WHERE name = $1 AND version = $2`, name, version)
	} else {
		row = s.db.QueryRow(ctx, `SELECT `+promptsql.Columns+` FROM aig_prompts WHERE name = $1 ORDER BY version DESC LIMIT 1`, name)
	}
	p, err := promptsql.Scan(row.Scan, pgx.ErrNoRows)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	return p, err
}

// Prompts implements store.PromptStore.
func (s *PromptStore) Prompts(ctx context.Context) ([]*store.Prompt, error) {
	return s.list(ctx, `SELECT DISTINCT ON (name) `+promptsql.Columns+` FROM aig_prompts ORDER BY name, version DESC`)
}

// PromptVersions implements store.PromptStore.
func (s *PromptStore) PromptVersions(ctx context.Context, name string) ([]*store.Prompt, error) {
	out, err := s.list(ctx, `SELECT `+promptsql.Columns+` FROM aig_prompts WHERE name = $1 ORDER BY version`, name)
	if err == nil && len(out) == 0 {
		return nil, store.ErrNotFound
	}
	return out, err
}

// DeletePrompt implements store.PromptStore.
func (s *PromptStore) DeletePrompt(ctx context.Context, name string) error {
	tag, err := s.db.Exec(ctx, `DELETE FROM aig_prompts WHERE name = $1`, name)
	if err != nil {
		return fmt.Errorf("deleting prompt: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

func (s *PromptStore) list(ctx context.Context, q string, args ...any) ([]*store.Prompt, error) {
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing prompts: %w", err)
	}
	defer rows.Close()
	var out []*store.Prompt
	for rows.Next() {
		p, err := promptsql.Scan(rows.Scan, pgx.ErrNoRows)
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
