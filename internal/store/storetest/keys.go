package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/aigateway/aigateway/internal/store"
)

// KeyStoreContract runs the store.KeyStore contract against fresh stores
// returned by open.
func KeyStoreContract(t *testing.T, open func(t *testing.T) store.KeyStore) {
	ctx := context.Background()
	base := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	newKey := func(n int) *store.Key {
		return &store.Key{
			ID: fmt.Sprintf("key_%04d", n), Name: fmt.Sprintf("key %d", n), Tenant: "acme",
			SecretHash: fmt.Sprintf("%064x", n), Prefix: fmt.Sprintf("aig_%04d", n), Enabled: true,
			CreatedAt: base.Add(time.Duration(n) * time.Second), UpdatedAt: base.Add(time.Duration(n) * time.Second),
		}
	}

	t.Run("create and read back every field", func(t *testing.T) {
		s := open(t)
		k := &store.Key{
			ID: "key_full", Name: "full", Tenant: "team-a", SecretHash: fmt.Sprintf("%064x", 99), Prefix: "aig_abcd1234",
			Models: []string{"openai/*", "anthropic/claude-*"}, Providers: []string{"openai"},
			AllowIPs: []string{"10.0.0.0/8"}, DenyIPs: []string{"10.1.2.3"},
			RPM: 60, TPM: 100000, BudgetUSD: 12.5, BudgetPeriod: "month",
			ExpiresAt: base.Add(30 * 24 * time.Hour), Metadata: map[string]string{"tier": "gold", "owner": "ci"},
			Enabled: false, CreatedAt: base, UpdatedAt: base.Add(time.Second),
		}
		if err := s.CreateKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		got, err := s.Key(ctx, k.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, k) {
			t.Errorf("read back\n got %+v\nwant %+v", got, k)
		}
		byHash, err := s.KeyByHash(ctx, k.SecretHash)
		if err != nil || byHash.ID != k.ID {
			t.Fatalf("by hash: %v %v", byHash, err)
		}
	})

	t.Run("empty collections and zero times read back empty", func(t *testing.T) {
		s := open(t)
		k := newKey(1)
		if err := s.CreateKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		got, err := s.Key(ctx, k.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Models)+len(got.Providers)+len(got.AllowIPs)+len(got.DenyIPs)+len(got.Metadata) != 0 {
			t.Errorf("collections not empty: %+v", got)
		}
		if !got.ExpiresAt.IsZero() || !got.LastUsedAt.IsZero() || !got.RevokedAt.IsZero() {
			t.Errorf("optional times set: %+v", got)
		}
	})

	t.Run("unknown id and hash are ErrNotFound", func(t *testing.T) {
		s := open(t)
		if _, err := s.Key(ctx, "key_missing"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Key: %v", err)
		}
		if _, err := s.KeyByHash(ctx, "00"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("KeyByHash: %v", err)
		}
		if err := s.UpdateKey(ctx, newKey(7)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UpdateKey: %v", err)
		}
		if _, err := s.RevokeKey(ctx, "key_missing", base); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RevokeKey: %v", err)
		}
	})

	t.Run("duplicate id or secret hash is ErrConflict", func(t *testing.T) {
		s := open(t)
		if err := s.CreateKey(ctx, newKey(1)); err != nil {
			t.Fatal(err)
		}
		dupID := newKey(2)
		dupID.ID = newKey(1).ID
		if err := s.CreateKey(ctx, dupID); !errors.Is(err, store.ErrConflict) {
			t.Errorf("same id: %v", err)
		}
		dupHash := newKey(3)
		dupHash.SecretHash = newKey(1).SecretHash
		if err := s.CreateKey(ctx, dupHash); !errors.Is(err, store.ErrConflict) {
			t.Errorf("same hash: %v", err)
		}
		c, err := s.KeyChanges(ctx)
		if err != nil || c.Total != 1 {
			t.Errorf("after conflicts: %+v %v", c, err)
		}
	})

	t.Run("list orders by creation, filters and pages", func(t *testing.T) {
		s := open(t)
		for _, n := range []int{3, 1, 2, 4} {
			k := newKey(n)
			if n == 4 {
				k.Tenant = "other"
			}
			if err := s.CreateKey(ctx, k); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.RevokeKey(ctx, newKey(2).ID, base.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		ids := func(f store.KeyFilter) []string {
			ks, err := s.Keys(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, k := range ks {
				out = append(out, k.ID)
			}
			return out
		}
		for _, tc := range []struct {
			name string
			f    store.KeyFilter
			want []string
		}{
			{"default hides revoked", store.KeyFilter{}, []string{"key_0001", "key_0003", "key_0004"}},
			{"include revoked", store.KeyFilter{IncludeRevoked: true}, []string{"key_0001", "key_0002", "key_0003", "key_0004"}},
			{"tenant", store.KeyFilter{Tenant: "other"}, []string{"key_0004"}},
			{"name", store.KeyFilter{Name: "key 3"}, []string{"key_0003"}},
			{"page", store.KeyFilter{IncludeRevoked: true, Limit: 2, Offset: 1}, []string{"key_0002", "key_0003"}},
			{"past the end", store.KeyFilter{Offset: 10}, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if got := ids(tc.f); !reflect.DeepEqual(got, tc.want) {
					t.Errorf("got %v, want %v", got, tc.want)
				}
			})
		}
	})

	t.Run("update replaces mutable fields only and bumps the version", func(t *testing.T) {
		s := open(t)
		k := newKey(1)
		if err := s.CreateKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		before, _ := s.KeyChanges(ctx)
		u := *k
		u.Name, u.Tenant, u.Models, u.RPM, u.TPM = "renamed", "t2", []string{"openai/gpt-4o*"}, 5, 500
		u.BudgetUSD, u.BudgetPeriod, u.Enabled = 3, "day", false
		u.ExpiresAt, u.Metadata, u.UpdatedAt = base.Add(time.Hour), map[string]string{"a": "b"}, base.Add(time.Minute)
		u.SecretHash, u.Prefix, u.CreatedAt = "ignored", "ignored", base.Add(time.Hour)
		if err := s.UpdateKey(ctx, &u); err != nil {
			t.Fatal(err)
		}
		got, err := s.Key(ctx, k.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := u
		want.SecretHash, want.Prefix, want.CreatedAt = k.SecretHash, k.Prefix, k.CreatedAt
		if !reflect.DeepEqual(got, &want) {
			t.Errorf("after update\n got %+v\nwant %+v", got, &want)
		}
		after, _ := s.KeyChanges(ctx)
		if after.Version <= before.Version {
			t.Errorf("version %d → %d, want it to grow", before.Version, after.Version)
		}
	})

	t.Run("revoke keeps the first time and bumps the version", func(t *testing.T) {
		s := open(t)
		k := newKey(1)
		if err := s.CreateKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		v0, _ := s.KeyChanges(ctx)
		first := base.Add(time.Hour)
		got, err := s.RevokeKey(ctx, k.ID, first)
		if err != nil || !got.RevokedAt.Equal(first) || !got.Revoked() {
			t.Fatalf("revoke: %+v %v", got, err)
		}
		v1, _ := s.KeyChanges(ctx)
		if v1.Version <= v0.Version {
			t.Errorf("version did not grow on revoke")
		}
		again, err := s.RevokeKey(ctx, k.ID, first.Add(time.Hour))
		if err != nil || !again.RevokedAt.Equal(first) {
			t.Errorf("second revoke moved the time: %v %v", again.RevokedAt, err)
		}
		byHash, err := s.KeyByHash(ctx, k.SecretHash)
		if err != nil || !byHash.Revoked() {
			t.Errorf("revoked key must still be found by hash (to say it is revoked): %v %v", byHash, err)
		}
	})

	t.Run("touch moves last-used forward only, without a version bump", func(t *testing.T) {
		s := open(t)
		k := newKey(1)
		if err := s.CreateKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		v0, _ := s.KeyChanges(ctx)
		later := base.Add(2 * time.Hour)
		if err := s.TouchKeys(ctx, map[string]time.Time{k.ID: later, "key_unknown": later}); err != nil {
			t.Fatal(err)
		}
		if err := s.TouchKeys(ctx, map[string]time.Time{k.ID: base.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		got, _ := s.Key(ctx, k.ID)
		if !got.LastUsedAt.Equal(later) {
			t.Errorf("last used = %v, want %v", got.LastUsedAt, later)
		}
		v1, _ := s.KeyChanges(ctx)
		if v1.Version != v0.Version {
			t.Errorf("touch changed the version %d → %d: caches would be flushed on every request", v0.Version, v1.Version)
		}
		if err := s.TouchKeys(ctx, nil); err != nil {
			t.Errorf("empty touch: %v", err)
		}
	})

	t.Run("changes count every key ever created", func(t *testing.T) {
		s := open(t)
		c0, err := s.KeyChanges(ctx)
		if err != nil || c0.Total != 0 {
			t.Fatalf("empty store: %+v %v", c0, err)
		}
		for n := 1; n <= 3; n++ {
			if err := s.CreateKey(ctx, newKey(n)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.RevokeKey(ctx, newKey(1).ID, base); err != nil {
			t.Fatal(err)
		}
		c, _ := s.KeyChanges(ctx)
		if c.Total != 3 || c.Version <= c0.Version {
			t.Errorf("changes %+v (was %+v)", c, c0)
		}
	})

	t.Run("concurrent creates are all stored", func(t *testing.T) {
		s := open(t)
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for n := 1; n <= 20; n++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- s.CreateKey(ctx, newKey(n))
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		c, _ := s.KeyChanges(ctx)
		if c.Total != 20 {
			t.Errorf("total %d, want 20", c.Total)
		}
	})
}
