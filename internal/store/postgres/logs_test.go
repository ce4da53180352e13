package postgres_test

import (
	"context"
	"testing"

	"github.com/aigateway/aigateway/internal/store"
	"github.com/aigateway/aigateway/internal/store/postgres"
	"github.com/aigateway/aigateway/internal/store/storetest"
)

func TestLogStoreContract(t *testing.T) {
	storetest.TestLogStore(t, func(t *testing.T) store.LogStore {
		s, err := postgres.NewLogStore(context.Background(), storetest.Postgres(t))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
