package sqlite_test

import (
	"context"
	"testing"

	"github.com/aigateway/aigateway/internal/store"
	"github.com/aigateway/aigateway/internal/store/sqlite"
	"github.com/aigateway/aigateway/internal/store/storetest"
)

func TestLogStoreContract(t *testing.T) {
	storetest.TestLogStore(t, func(t *testing.T) store.LogStore {
		s, err := sqlite.NewLogStore(context.Background(), storetest.SQLite(t))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
