// Package keys owns gateway keys: the secret format (shown once, stored
// only as a SHA-256 hash), their lifecycle (create, list, update, revoke —
// the same operations for the CLI on the store, the admin API and the CLI
// over the admin API), and the Ring, the per-process cache the auth stage
// looks keys up in, which notices changes made by other processes within
// its poll interval.
package keys

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Prefix starts every generated secret, so the gateway (and secret
// scanners) can recognise its own keys.
const Prefix = "aig_"

// secretLen is the number of base62 characters after the prefix: 43
// characters carry 256 bits.
const secretLen = 43

// displayLen is how much of a secret lists show: the prefix and 8
// characters, enough to tell keys apart, far too little to guess them.
const displayLen = len(Prefix) + 8

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// NewSecret returns a fresh random secret.
func NewSecret() string {
	b := make([]byte, 0, len(Prefix)+secretLen)
	b = append(b, Prefix...)
	var buf [64]byte
	for len(b) < cap(b) {
		_, _ = rand.Read(buf[:])
		for _, c := range buf {
			// 248 = 4*62: rejecting the rest keeps every character equally likely
			if c < 248 && len(b) < cap(b) {
				b = append(b, base62[c%62])
			}
		}
	}
	return string(b)
}

// Hash returns the lower-case hex SHA-256 of a secret, the form stored and
// looked up.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// DisplayPrefix is the part of a secret shown in lists.
func DisplayPrefix(secret string) string {
	if len(secret) <= displayLen {
		return secret
	}
	return secret[:displayLen]
}

// LooksLikeKey reports whether s has the shape of a generated secret. It
// says nothing about whether the key exists; it lets the gateway skip a
// store lookup for credentials that are clearly not its own (a provider's
// sk-… key on passthrough).
func LooksLikeKey(s string) bool {
	rest, ok := strings.CutPrefix(s, Prefix)
	if !ok || len(rest) != secretLen {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if strings.IndexByte(base62, rest[i]) < 0 {
			return false
		}
	}
	return true
}

// NewID returns a new key id.
func NewID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "key_" + hex.EncodeToString(b)
}

// IsHash reports whether s is a hex SHA-256 (64 hex characters), the form
// config files may declare keys by.
func IsHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}
