package redis_test

import (
	"testing"
	"time"

	"github.com/aigateway/aigateway/internal/store/redis"
	"github.com/aigateway/aigateway/internal/store/storetest"
)

func TestCacheContract(t *testing.T) {
	storetest.RunCache(t, func(t *testing.T) storetest.CacheBackend {
		rdb, prefix := storetest.Redis(t)
		c, err := redis.NewCache(redis.CacheOptions{Client: rdb, Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		return storetest.CacheBackend{Cache: c, Advance: time.Sleep}
	})
}

func TestVectorIndexContract(t *testing.T) {
	storetest.RunVectorIndex(t, func(t *testing.T) storetest.VectorBackend {
		rdb, prefix := storetest.Redis(t)
		x, err := redis.NewVectorIndex(redis.VectorOptions{Client: rdb, Prefix: prefix, MaxPerScope: 8, ScopeTTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		return storetest.VectorBackend{Index: x, MaxPerScope: 8, Advance: time.Sleep}
	})
}
