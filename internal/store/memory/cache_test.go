package memory_test

import (
	"testing"

	"github.com/aigateway/aigateway/internal/store/memory"
	"github.com/aigateway/aigateway/internal/store/storetest"
)

func TestCacheContract(t *testing.T) {
	storetest.RunCache(t, func(t *testing.T) storetest.CacheBackend {
		clock := storetest.NewFakeClock()
		c, err := memory.NewCache(memory.CacheOptions{MaxBytes: 4 << 20, Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return storetest.CacheBackend{Cache: c, Advance: clock.Advance}
	})
}

func TestVectorIndexContract(t *testing.T) {
	storetest.RunVectorIndex(t, func(t *testing.T) storetest.VectorBackend {
		clock := storetest.NewFakeClock()
		x, err := memory.NewVectorIndex(memory.VectorOptions{MaxPerScope: 8, MaxTotal: 100, Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		return storetest.VectorBackend{Index: x, MaxPerScope: 8, Advance: clock.Advance}
	})
}
