package store_test

import (
	"context"
	"testing"

	"github.com/aigateway/aigateway/internal/store"
	"github.com/aigateway/aigateway/internal/store/postgres"
	"github.com/aigateway/aigateway/internal/store/sqlite"
	"github.com/aigateway/aigateway/internal/store/storetest"
)

func TestPromptStoreContract(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		storetest.PromptStoreContract(t, func(t *testing.T) store.PromptStore {
			s, err := sqlite.Prompts(context.Background(), storetest.SQLite(t))
			if err != nil {
				t.Fatal(err)
			}
			return s
		})
	})
	t.Run("postgres", func(t *testing.T) {
		storetest.PromptStoreContract(t, func(t *testing.T) store.PromptStore {
			s, err := postgres.Prompts(context.Background(), storetest.Postgres(t))
			if err != nil {
				t.Fatal(err)
			}
			return s
		})
	})
}
