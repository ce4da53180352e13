// Package store holds the gateway's persistent and shared state behind
// small per-aggregate interfaces (keys, logs, …). Each interface has an
// embedded implementation (SQLite in the data dir, or memory) and a shared
// one for scale-out (PostgreSQL, Redis) in the sub-packages, and one
// contract suite in storetest that every implementation passes.
package store

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
)

// ErrNotFound is returned when a record does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a write collides with an existing record.
var ErrConflict = errors.New("conflict")

// RandomID returns 16 random hex characters, for ids that only need to be
// unique.
func RandomID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
