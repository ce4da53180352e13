package store_test

import (
	"context"
	"testing"

	"github.com/aigateway/aigateway/internal/store"
	"github.com/aigateway/aigateway/internal/store/memory"
	"github.com/aigateway/aigateway/internal/store/postgres"
	"github.com/aigateway/aigateway/internal/store/sqlite"
	"github.com/aigateway/aigateway/internal/store/storetest"
)

func TestKeyStoreContract(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		storetest.KeyStoreContract(t, func(t *testing.T) store.KeyStore { return memory.NewKeyStore() })
	})
	t.Run("sqlite", func(t *testing.T) {
		storetest.KeyStoreContract(t, func(t *testing.T) store.KeyStore {
			s, err := sqlite.Keys(context.Background(), storetest.SQLite(t))
			if err != nil {
				t.Fatal(err)
			}
			return s
		})
	})
	t.Run("postgres", func(t *testing.T) {
		storetest.KeyStoreContract(t, func(t *testing.T) store.KeyStore {
			s, err := postgres.Keys(context.Background(), storetest.Postgres(t))
			if err != nil {
				t.Fatal(err)
			}
			return s
		})
	})
}
