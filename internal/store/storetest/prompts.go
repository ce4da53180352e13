package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aigateway/aigateway/internal/store"
)

// PromptStoreContract runs the store.PromptStore contract against fresh
// stores returned by open.
func PromptStoreContract(t *testing.T, open func(t *testing.T) store.PromptStore) {
	ctx := context.Background()
	base := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	newPrompt := func(name string, n int) *store.Prompt {
		return &store.Prompt{
			Name: name, Model: "openai/gpt-4o-mini", Description: fmt.Sprintf("v%d of %s", n, name),
			Messages:  []store.PromptMessage{{Role: "user", Content: fmt.Sprintf("Say {{x}} %d times", n)}},
			CreatedAt: base.Add(time.Duration(n) * time.Minute),
		}
	}

	t.Run("create assigns versions and reads back every field", func(t *testing.T) {
		s := open(t)
		p := &store.Prompt{
			Name: "summarize", Model: "anthropic/claude-sonnet-4-5", Description: "Summaries — ünïcode ok",
			Messages: []store.PromptMessage{
				{Role: "system", Content: "You summarise in {{language}}."},
				{Role: "user", Content: "Text:\n\n{{text}}\n\"quoted\" and \\ backslash"},
			},
			Params:    map[string]any{"temperature": 0.2, "max_tokens": float64(300), "response_format": map[string]any{"type": "json_object"}},
			Defaults:  map[string]string{"language": "English"},
			CreatedAt: base,
		}
		if err := s.CreatePrompt(ctx, p); err != nil {
			t.Fatal(err)
		}
		if p.Version != 1 {
			t.Fatalf("first version = %d", p.Version)
		}
		got, err := s.Prompt(ctx, "summarize", 1)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, p) {
			t.Errorf("read back\n got %+v\nwant %+v", got, p)
		}
		latest, err := s.Prompt(ctx, "summarize", 0)
		if err != nil || !reflect.DeepEqual(latest, p) {
			t.Errorf("latest %+v %v", latest, err)
		}
	})

	t.Run("versions grow per name and the latest wins", func(t *testing.T) {
		s := open(t)
		for n := 1; n <= 3; n++ {
			p := newPrompt("a", n)
			if err := s.CreatePrompt(ctx, p); err != nil || p.Version != n {
				t.Fatalf("create a v%d: version %d, %v", n, p.Version, err)
			}
		}
		b := newPrompt("b", 1)
		if err := s.CreatePrompt(ctx, b); err != nil || b.Version != 1 {
			t.Fatalf("b: %d %v", b.Version, err)
		}
		latest, err := s.Prompt(ctx, "a", 0)
		if err != nil || latest.Version != 3 || latest.Description != "v3 of a" {
			t.Fatalf("latest %+v %v", latest, err)
		}
		v2, err := s.Prompt(ctx, "a", 2)
		if err != nil || v2.Description != "v2 of a" {
			t.Fatalf("v2 %+v %v", v2, err)
		}
		vs, err := s.PromptVersions(ctx, "a")
		if err != nil || len(vs) != 3 || vs[0].Version != 1 || vs[2].Version != 3 {
			t.Fatalf("versions %v %v", vs, err)
		}
		all, err := s.Prompts(ctx)
		if err != nil || len(all) != 2 || all[0].Name != "a" || all[0].Version != 3 || all[1].Name != "b" {
			t.Fatalf("list %v %v", all, err)
		}
	})

	t.Run("missing prompts and versions are not found", func(t *testing.T) {
		s := open(t)
		if _, err := s.Prompt(ctx, "nope", 0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Prompt: %v", err)
		}
		if err := s.CreatePrompt(ctx, newPrompt("x", 1)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Prompt(ctx, "x", 2); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing version: %v", err)
		}
		if _, err := s.PromptVersions(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("PromptVersions: %v", err)
		}
		if err := s.DeletePrompt(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("DeletePrompt: %v", err)
		}
		if all, err := open(t).Prompts(ctx); err != nil || len(all) != 0 {
			t.Errorf("empty list %v %v", all, err)
		}
	})

	t.Run("delete removes every version and versions are never reused", func(t *testing.T) {
		s := open(t)
		for n := 1; n <= 2; n++ {
			if err := s.CreatePrompt(ctx, newPrompt("d", n)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.DeletePrompt(ctx, "d"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Prompt(ctx, "d", 0); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("after delete: %v", err)
		}
		p := newPrompt("d", 9)
		if err := s.CreatePrompt(ctx, p); err != nil || p.Version != 3 {
			t.Fatalf("recreated version %d (want 3), %v", p.Version, err)
		}
	})

	t.Run("concurrent creates get distinct versions", func(t *testing.T) {
		s := open(t)
		const n = 8
		var wg sync.WaitGroup
		versions := make([]int, n)
		errs := make([]error, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := newPrompt("c", i)
				errs[i] = s.CreatePrompt(ctx, p)
				versions[i] = p.Version
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		sort.Ints(versions)
		for i, v := range versions {
			if v != i+1 {
				t.Fatalf("versions %v, want 1..%d", versions, n)
			}
		}
	})
}
