package memory

import (
	"context"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/aigateway/aigateway/internal/store"
)

// KeyStore is an in-memory store.KeyStore.
type KeyStore struct {
	mu      sync.Mutex
	byID    map[string]*store.Key
	byHash  map[string]string
	version int64
}

// NewKeyStore returns an empty key store.
func NewKeyStore() *KeyStore {
	return &KeyStore{byID: map[string]*store.Key{}, byHash: map[string]string{}}
}

// CreateKey implements store.KeyStore.
func (s *KeyStore) CreateKey(_ context.Context, k *store.Key) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[k.ID]; ok {
		return store.ErrConflict
	}
	if _, ok := s.byHash[k.SecretHash]; ok {
		return store.ErrConflict
	}
	c := clone(k)
	s.byID[k.ID], s.byHash[k.SecretHash] = c, k.ID
	s.version++
	return nil
}

// Key implements store.KeyStore.
func (s *KeyStore) Key(_ context.Context, id string) (*store.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.byID[id]
	if !ok {
		return nil, store.ErrNotFound
	}
	return clone(k), nil
}

// KeyByHash implements store.KeyStore.
func (s *KeyStore) KeyByHash(ctx context.Context, hash string) (*store.Key, error) {
	s.mu.Lock()
	id, ok := s.byHash[hash]
	s.mu.Unlock()
	if !ok {
		return nil, store.ErrNotFound
	}
	return s.Key(ctx, id)
}

// Keys implements store.KeyStore.
func (s *KeyStore) Keys(_ context.Context, f store.KeyFilter) ([]*store.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []*store.Key
	for _, k := range s.byID {
		if (f.Tenant != "" && k.Tenant != f.Tenant) || (f.Name != "" && k.Name != f.Name) ||
			(!f.IncludeRevoked && k.Revoked()) {
			continue
		}
		all = append(all, k)
	}
	sort.Slice(all, func(i, j int) bool {
		if !all[i].CreatedAt.Equal(all[j].CreatedAt) {
			return all[i].CreatedAt.Before(all[j].CreatedAt)
		}
		return all[i].ID < all[j].ID
	})
	limit, offset := f.Bounds()
	if offset >= len(all) {
		return nil, nil
	}
	all = all[offset:min(len(all), offset+limit)]
	out := make([]*store.Key, len(all))
	for i, k := range all {
		out[i] = clone(k)
	}
	return out, nil
}

// UpdateKey implements store.KeyStore.
func (s *KeyStore) UpdateKey(_ context.Context, k *store.Key) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.byID[k.ID]
	if !ok {
		return store.ErrNotFound
	}
	c := clone(k)
	c.SecretHash, c.Prefix, c.CreatedAt = old.SecretHash, old.Prefix, old.CreatedAt
	c.LastUsedAt, c.RevokedAt = old.LastUsedAt, old.RevokedAt
	s.byID[k.ID] = c
	s.version++
	return nil
}

// RevokeKey implements store.KeyStore.
func (s *KeyStore) RevokeKey(_ context.Context, id string, at time.Time) (*store.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.byID[id]
	if !ok {
		return nil, store.ErrNotFound
	}
	if k.RevokedAt.IsZero() {
		k.RevokedAt = store.Millis(at)
	}
	s.version++
	return clone(k), nil
}

// TouchKeys implements store.KeyStore.
func (s *KeyStore) TouchKeys(_ context.Context, used map[string]time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, t := range used {
		if k, ok := s.byID[id]; ok && k.LastUsedAt.Before(store.Millis(t)) {
			k.LastUsedAt = store.Millis(t)
		}
	}
	return nil
}

// KeyChanges implements store.KeyStore.
func (s *KeyStore) KeyChanges(context.Context) (store.KeyChanges, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return store.KeyChanges{Version: s.version, Total: int64(len(s.byID))}, nil
}

// clone copies k deeply, normalising times and empty collections the way
// the SQL stores return them.
func clone(k *store.Key) *store.Key {
	c := *k
	c.Models, c.Providers = cloneList(k.Models), cloneList(k.Providers)
	c.AllowIPs, c.DenyIPs = cloneList(k.AllowIPs), cloneList(k.DenyIPs)
	c.Metadata = nil
	if len(k.Metadata) > 0 {
		c.Metadata = maps.Clone(k.Metadata)
	}
	c.ExpiresAt, c.CreatedAt, c.UpdatedAt = store.Millis(k.ExpiresAt), store.Millis(k.CreatedAt), store.Millis(k.UpdatedAt)
	c.LastUsedAt, c.RevokedAt = store.Millis(k.LastUsedAt), store.Millis(k.RevokedAt)
	return &c
}

func cloneList(v []string) []string {
	if len(v) == 0 {
		return nil
	}
	return slices.Clone(v)
}

var _ store.KeyStore = (*KeyStore)(nil)
