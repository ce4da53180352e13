package postgres_test

import (
	"context"
	"testing"

	"github.com/aigateway/aigateway/internal/store"
	"github.com/aigateway/aigateway/internal/store/postgres"
	"github.com/aigateway/aigateway/internal/store/storetest"
)

func BenchmarkLogWrites(b *testing.B) {
	storetest.BenchmarkLogWrites(b, func(b *testing.B) store.LogStore {
		s, err := postgres.NewLogStore(context.Background(), storetest.Postgres(b))
		if err != nil {
			b.Fatal(err)
		}
		return s
	})
}
