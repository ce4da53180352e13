// Package promptsql is what the SQLite and PostgreSQL prompt stores
// share: the column list of aig_prompts, how its JSON columns are written,
// and how a row becomes a store.Prompt. Placeholders, transactions and
// the drivers' no-rows error stay in each store.
package promptsql

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aigateway/aigateway/internal/store"
)

// Columns are aig_prompts' columns in insert and scan order.
const Columns = `name, version, model, description, messages, params, defaults, created_at`

// EncodeFields encodes the JSON columns of a prompt.
func EncodeFields(p *store.Prompt) (msgs, params, defaults string, err error) {
	m, err := json.Marshal(p.Messages)
	if err != nil {
		return "", "", "", fmt.Errorf("encoding prompt messages: %w", err)
	}
	pa, err := json.Marshal(p.Params)
	if err != nil {
		return "", "", "", fmt.Errorf("encoding prompt params: %w", err)
	}
	d, err := json.Marshal(p.Defaults)
	if err != nil {
		return "", "", "", fmt.Errorf("encoding prompt defaults: %w", err)
	}
	return string(m), string(pa), string(d), nil
}

// Scan reads a row of Columns into a prompt. The driver's noRows error
// is returned as it is, for the store to report store.ErrNotFound.
func Scan(scan func(dest ...any) error, noRows error) (*store.Prompt, error) {
	var p store.Prompt
	var msgs, params, defaults string
	var created int64
	if err := scan(&p.Name, &p.Version, &p.Model, &p.Description, &msgs, &params, &defaults, &created); err != nil {
		if errors.Is(err, noRows) {
			return nil, err
		}
		return nil, fmt.Errorf("reading prompt: %w", err)
	}
	if err := decodeFields(&p, msgs, params, defaults); err != nil {
		return nil, err
	}
	p.CreatedAt = time.UnixMilli(created).UTC()
	return &p, nil
}

// decodeFields decodes the JSON columns of a prompt; empty collections
// read back nil.
func decodeFields(p *store.Prompt, msgs, params, defaults string) error {
	if err := json.Unmarshal([]byte(msgs), &p.Messages); err != nil {
		return fmt.Errorf("decoding prompt messages: %w", err)
	}
	if err := json.Unmarshal([]byte(params), &p.Params); err != nil {
		return fmt.Errorf("decoding prompt params: %w", err)
	}
	if err := json.Unmarshal([]byte(defaults), &p.Defaults); err != nil {
		return fmt.Errorf("decoding prompt defaults: %w", err)
	}
	if len(p.Params) == 0 {
		p.Params = nil
	}
	if len(p.Defaults) == 0 {
		p.Defaults = nil
	}
	return nil
}
