package keys

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/store"
	"github.com/aigateway/aigateway/internal/store/memory"
)

func TestSecretFormat(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		s := NewSecret()
		if !LooksLikeKey(s) || len(s) != 47 || seen[s] {
			t.Fatalf("bad or repeated secret %q", s)
		}
		seen[s] = true
	}
	s := NewSecret()
	if DisplayPrefix(s) != s[:12] || !strings.HasPrefix(DisplayPrefix(s), "aig_") {
		t.Errorf("prefix %q", DisplayPrefix(s))
	}
	if h := Hash("abc"); h != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" || !IsHash(h) {
		t.Errorf("hash %s", h)
	}
	for _, bad := range []string{"sk-abc", "aig_short", "aig_" + strings.Repeat("-", 43), s + "x"} {
		if LooksLikeKey(bad) {
			t.Errorf("LooksLikeKey(%q)", bad)
		}
	}
}

// FuzzLooksLikeKey: recognising a key never panics, and everything
// recognised has the exact generated shape.
func FuzzLooksLikeKey(f *testing.F) {
	f.Add(NewSecret())
	f.Add("aig_")
	f.Add("sk-proj-123")
	f.Fuzz(func(t *testing.T, s string) {
		if LooksLikeKey(s) && (len(s) != 47 || !strings.HasPrefix(s, Prefix)) {
			t.Fatalf("accepted %q", s)
		}
	})
}

func status(t *testing.T, err error) int {
	t.Helper()
	var ge *gwerr.Error
	if !errors.As(err, &ge) {
		t.Fatalf("not a gateway error: %v", err)
	}
	return ge.Status
}

func TestManager(t *testing.T) {
	ctx := context.Background()
	clock := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	changes := 0
	declared := &store.Key{ID: "cfg_ops", Name: "ops", SecretHash: Hash("ops-secret-1234567"), Prefix: "ops-secr", Enabled: true}
	m := &Manager{Store: memory.NewKeyStore(), Now: func() time.Time { return clock }, OnChange: func() { changes++ },
		Declared: []*store.Key{declared}}

	in := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	k, err := m.Create(ctx, Params{Name: "ci", Tenant: "acme", Models: []string{"openai/*"}, RPM: 5, BudgetUSD: 3, ExpiresAt: &in,
		Metadata: map[string]string{"tier": "gold"}})
	if err != nil {
		t.Fatal(err)
	}
	if !LooksLikeKey(k.Secret) || k.Prefix != DisplayPrefix(k.Secret) || k.Status != StatusActive || k.BudgetPeriod != PeriodMonth || !k.Enabled {
		t.Fatalf("created %+v", k)
	}
	if changes != 1 {
		t.Errorf("OnChange ran %d times", changes)
	}
	stored, _ := m.Store.Key(ctx, k.ID)
	if stored.SecretHash != Hash(k.Secret) || strings.Contains(stored.SecretHash, k.Secret) {
		t.Fatal("secret not stored as its hash")
	}

	t.Run("validation", func(t *testing.T) {
		past := clock.Add(-time.Hour)
		for name, p := range map[string]Params{
			"no name":      {},
			"bad model":    {Name: "x", Models: []string{"has space"}},
			"bad ip":       {Name: "x", AllowIPs: []string{"10.0.0.0/40"}},
			"negative rpm": {Name: "x", RPM: -1},
			"bad period":   {Name: "x", BudgetUSD: 1, BudgetPeriod: "week"},
			"past expiry":  {Name: "x", ExpiresAt: &past},
			"dup name":     {Name: "ci"},
			"config name":  {Name: "ops"},
		} {
			if _, err := m.Create(ctx, p); err == nil || status(t, err) >= 500 {
				t.Errorf("%s: %v", name, err)
			}
		}
	})

	t.Run("get and update by name or id", func(t *testing.T) {
		v, err := m.Get(ctx, "ci")
		if err != nil || v.ID != k.ID {
			t.Fatalf("%v %v", v, err)
		}
		rpm, models := int64(9), []string{"anthropic/*"}
		v, err = m.Update(ctx, k.ID, Patch{RPM: &rpm, Models: &models, ExpiresAt: OptionalTime{Set: true}})
		if err != nil {
			t.Fatal(err)
		}
		if v.RPM != 9 || v.Models[0] != "anthropic/*" || v.ExpiresAt != nil || v.Tenant != "acme" || v.Metadata["tier"] != "gold" {
			t.Errorf("after patch %+v", v)
		}
		if _, err := m.Update(ctx, "ci", Patch{}); err != nil {
			t.Errorf("empty patch: %v", err)
		}
		bad := int64(-3)
		if _, err := m.Update(ctx, "ci", Patch{TPM: &bad}); err == nil || status(t, err) != 400 {
			t.Errorf("invalid patch: %v", err)
		}
		if _, err := m.Get(ctx, "nope"); status(t, err) != 404 {
			t.Errorf("missing: %v", err)
		}
	})

	t.Run("declared keys are listed and read-only", func(t *testing.T) {
		list, err := m.List(ctx, ListOptions{})
		if err != nil || len(list) != 2 || list[0].Source != SourceConfig || list[1].Source != SourceStore {
			t.Fatalf("%+v %v", list, err)
		}
		if _, err := m.Revoke(ctx, "ops"); status(t, err) != 409 {
			t.Errorf("revoking a declared key: %v", err)
		}
		if _, err := m.Update(ctx, "cfg_ops", Patch{}); status(t, err) != 409 {
			t.Errorf("updating a declared key: %v", err)
		}
	})

	t.Run("revoke", func(t *testing.T) {
		v, err := m.Revoke(ctx, "ci")
		if err != nil || v.Status != StatusRevoked || v.RevokedAt == nil {
			t.Fatalf("%+v %v", v, err)
		}
		if _, err := m.Update(ctx, k.ID, Patch{}); status(t, err) != 409 {
			t.Errorf("updating a revoked key: %v", err)
		}
		if list, _ := m.List(ctx, ListOptions{}); len(list) != 1 {
			t.Errorf("revoked key listed by default: %+v", list)
		}
		if list, _ := m.List(ctx, ListOptions{IncludeRevoked: true}); len(list) != 2 {
			t.Errorf("revoked key not listed with IncludeRevoked")
		}
		// the name is free again
		if _, err := m.Create(ctx, Params{Name: "ci"}); err != nil {
			t.Errorf("reusing a revoked key's name: %v", err)
		}
	})
}

// countingStore counts lookups that reach the store.
type countingStore struct {
	store.KeyStore
	byHash atomic.Int64
}

func (s *countingStore) KeyByHash(ctx context.Context, h string) (*store.Key, error) {
	s.byHash.Add(1)
	return s.KeyStore.KeyByHash(ctx, h)
}

func TestRing(t *testing.T) {
	ctx := context.Background()
	base := memory.NewKeyStore()
	cs := &countingStore{KeyStore: base}
	m := &Manager{Store: base}
	created, err := m.Create(ctx, Params{Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	// two processes: each its own ring on the shared store
	r1, err := NewRing(ctx, RingOptions{Store: cs, Poll: 10 * time.Millisecond, Flush: 20 * time.Millisecond, MaxMisses: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer r1.Close()
	r2, _ := NewRing(ctx, RingOptions{Store: base, Poll: 10 * time.Millisecond})
	defer r2.Close()
	if !r1.HasKeys() {
		t.Fatal("HasKeys false with a key in the store")
	}

	t.Run("warm lookups do not reach the store", func(t *testing.T) {
		before := cs.byHash.Load()
		for i := 0; i < 100; i++ {
			k, err := r1.Lookup(ctx, created.Secret)
			if err != nil || k == nil || k.ID != created.ID {
				t.Fatalf("%v %v", k, err)
			}
		}
		if n := cs.byHash.Load() - before; n != 1 {
			t.Errorf("%d store lookups for 100 requests", n)
		}
		for i := 0; i < 10; i++ {
			if k, _ := r1.Lookup(ctx, "aig_unknown"); k != nil {
				t.Fatal("unknown secret found")
			}
		}
		if n := cs.byHash.Load() - before; n != 2 {
			t.Errorf("unknown secret looked up %d times, want it cached", n-1)
		}
	})

	t.Run("a revocation elsewhere is seen within a poll", func(t *testing.T) {
		r2.Lookup(ctx, created.Secret)
		if _, err := (&Manager{Store: base}).Revoke(ctx, created.ID); err != nil { // a third process
			t.Fatal(err)
		}
		deadline := time.Now().Add(time.Second)
		for _, r := range []*Ring{r1, r2} {
			for {
				k, _ := r.Lookup(ctx, created.Secret)
				if k != nil && k.Revoked() {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("revocation not seen within 1s")
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
		if !r1.HasKeys() {
			t.Error("revoking every key must not turn authentication off")
		}
	})

	t.Run("last-used times are written in batches", func(t *testing.T) {
		k2, _ := m.Create(ctx, Params{Name: "b"})
		r1.Touch(k2.ID)
		deadline := time.Now().Add(time.Second)
		for {
			got, _ := base.Key(ctx, k2.ID)
			if !got.LastUsedAt.IsZero() {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("last-used time never written")
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}
