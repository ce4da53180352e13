package sqlite_test

import (
	"context"
	"testing"

	"github.com/aigateway/aigateway/internal/store"
	"github.com/aigateway/aigateway/internal/store/sqlite"
	"github.com/aigateway/aigateway/internal/store/storetest"
)

func BenchmarkLogWrites(b *testing.B) {
	storetest.BenchmarkLogWrites(b, func(b *testing.B) store.LogStore {
		s, err := sqlite.NewLogStore(context.Background(), storetest.SQLite(b))
		if err != nil {
			b.Fatal(err)
		}
		return s
	})
}
