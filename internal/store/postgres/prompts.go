package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/aigateway/aigateway/internal/store"
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

const promptColumns = `name, version, model, description, messages, params, defaults, created_at`

// CreatePrompt implements store.PromptStore. The row lock on the name's
// counter serialises concurrent creators of the same name.
func (s *PromptStore) CreatePrompt(ctx context.Context, p *store.Prompt) error {
	msgs, err := json.Marshal(p.Messages)
	if err != nil {
		return fmt.Errorf("encoding prompt messages: %w", err)
	}
	params, err := json.Marshal(p.Params)
	if err != nil {
		return fmt.Errorf("encoding prompt params: %w", err)
	}
	defaults, err := json.Marshal(p.Defaults)
	if err != nil {
		return fmt.Errorf("encoding prompt defaults: %w", err)
	}
	var version int
	err = pgx.BeginFunc(ctx, s.db.Pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO aig_prompt_names (name, last_version) VALUES ($1, 1)
			ON CONFLICT (name) DO UPDATE SET last_version = aig_prompt_names.last_version + 1 RETURNING last_version`,
			p.Name).Scan(&version); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO aig_prompts (`+promptColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			p.Name, version, p.Model, p.Description, string(msgs), string(params), string(defaults), p.CreatedAt.UnixMilli())
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
		row = s.db.QueryRow(ctx, `SELECT `+promptColumns+` FROM aig_prompts WHERE name = $1 AND version = $2`, name, version)
	} else {
		row = s.db.QueryRow(ctx, `SELECT `+promptColumns+` FROM aig_prompts WHERE name = $1 ORDER BY version DESC LIMIT 1`, name)
	}
	p, err := scanPrompt(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	return p, err
}

// Prompts implements store.PromptStore.
func (s *PromptStore) Prompts(ctx context.Context) ([]*store.Prompt, error) {
	return s.list(ctx, `SELECT DISTINCT ON (name) `+promptColumns+` FROM aig_prompts ORDER BY name, version DESC`)
}

// PromptVersions implements store.PromptStore.
func (s *PromptStore) PromptVersions(ctx context.Context, name string) ([]*store.Prompt, error) {
	out, err := s.list(ctx, `SELECT `+promptColumns+` FROM aig_prompts WHERE name = $1 ORDER BY version`, name)
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
		p, err := scanPrompt(rows)
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

func scanPrompt(row pgx.Row) (*store.Prompt, error) {
	var p store.Prompt
	var msgs, params, defaults string
	var created int64
	if err := row.Scan(&p.Name, &p.Version, &p.Model, &p.Description, &msgs, &params, &defaults, &created); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, err
		}
		return nil, fmt.Errorf("reading prompt: %w", err)
	}
	if err := json.Unmarshal([]byte(msgs), &p.Messages); err != nil {
		return nil, fmt.Errorf("decoding prompt messages: %w", err)
	}
	if err := json.Unmarshal([]byte(params), &p.Params); err != nil {
		return nil, fmt.Errorf("decoding prompt params: %w", err)
	}
	if err := json.Unmarshal([]byte(defaults), &p.Defaults); err != nil {
		return nil, fmt.Errorf("decoding prompt defaults: %w", err)
	}
	if len(p.Params) == 0 {
		p.Params = nil
	}
	if len(p.Defaults) == 0 {
		p.Defaults = nil
	}
	p.CreatedAt = time.UnixMilli(created).UTC()
	return &p, nil
}

var _ store.PromptStore = (*PromptStore)(nil)
