package store_test

import (
	"testing"

	"github.com/aigateway/aigateway/internal/store"
	"github.com/aigateway/aigateway/internal/store/memory"
	redisstore "github.com/aigateway/aigateway/internal/store/redis"
	"github.com/aigateway/aigateway/internal/store/storetest"
)

func TestLimiterContract(t *testing.T) {
	t.Parallel()
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		storetest.LimiterContract(t, func(t *testing.T) store.Limiter { return memory.NewLimiter(memory.LimiterOptions{}) })
	})
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		storetest.LimiterContract(t, func(t *testing.T) store.Limiter {
			c, prefix := storetest.Redis(t)
			return redisstore.NewLimiter(c, prefix)
		})
	})
}

func TestSpendContract(t *testing.T) {
	t.Parallel()
	t.Run("memory", func(t *testing.T) {
		storetest.SpendContract(t, func(t *testing.T) store.SpendStore { return memory.NewSpend(nil) })
	})
	t.Run("redis", func(t *testing.T) {
		storetest.SpendContract(t, func(t *testing.T) store.SpendStore {
			c, prefix := storetest.Redis(t)
			return redisstore.NewSpend(c, prefix)
		})
	})
}
