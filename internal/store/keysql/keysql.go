// Package keysql is what the SQLite and PostgreSQL key stores share: the
// column list of aig_keys and how its JSON columns (lists and metadata)
// are written and read. Placeholders, time and boolean types differ
// between the two dialects and stay in each store.
package keysql

import (
	"encoding/json"
	"fmt"

	"github.com/aigateway/aigateway/internal/store"
)

// Columns are aig_keys' columns in insert and scan order.
const Columns = `id, name, tenant, secret_hash, prefix, models, providers, allow_ips, deny_ips,
	rpm, tpm, budget_usd, budget_period, expires_at, metadata, enabled,
	created_at, updated_at, last_used_at, revoked_at`

// JSONList is the text of a list column ("[]" when empty).
func JSONList(v []string) string {
	if len(v) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// JSONMap is the text of the metadata column ("{}" when empty).
func JSONMap(v map[string]string) string {
	if len(v) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// DecodeJSON fills k's lists and metadata from their columns; empty ones
// become nil, as they are on a key that was never stored.
func DecodeJSON(k *store.Key, models, providers, allow, deny, metadata []byte) error {
	for _, f := range []struct {
		src []byte
		dst *[]string
	}{{models, &k.Models}, {providers, &k.Providers}, {allow, &k.AllowIPs}, {deny, &k.DenyIPs}} {
		if err := json.Unmarshal(f.src, f.dst); err != nil {
			return fmt.Errorf("reading key %s: %w", k.ID, err)
		}
		if len(*f.dst) == 0 {
			*f.dst = nil
		}
	}
	if err := json.Unmarshal(metadata, &k.Metadata); err != nil {
		return fmt.Errorf("reading key %s: %w", k.ID, err)
	}
	if len(k.Metadata) == 0 {
		k.Metadata = nil
	}
	return nil
}
