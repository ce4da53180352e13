package sqlite_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/aigateway/aigateway/internal/store"
	"github.com/aigateway/aigateway/internal/store/sqlite"
	"github.com/aigateway/aigateway/internal/store/storetest"
	"github.com/aigateway/aigateway/internal/usage"
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

// BenchmarkInsertLogsCPU inserts gateway-like records (prebuilt, so only
// the store's work is measured) in writer-sized batches and reports the
// process CPU time per record, which a machine shared with other work
// disturbs far less than wall time.
func BenchmarkInsertLogsCPU(b *testing.B) {
	for _, batch := range []int{100, 500, 2000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) { benchmarkInsertLogsCPU(b, batch) })
	}
}

func benchmarkInsertLogsCPU(b *testing.B, batch int) {
	s, err := sqlite.NewLogStore(context.Background(), storetest.SQLite(b))
	if err != nil {
		b.Fatal(err)
	}
	base := time.Now()
	recs := make([]*usage.Record, b.N)
	for i := range recs {
		r := storetest.FullRecord(fmt.Sprintf("log-%09d", i), base.Add(time.Duration(i)*time.Microsecond))
		r.EventID, r.Feedback, r.Score, r.Comment, r.Route = "", nil, nil, "", ""
		r.KeyID = fmt.Sprintf("key_%d", i%50)
		r.Tenant = fmt.Sprintf("tenant_%d", i%7)
		r.Metadata = map[string]any{"team": fmt.Sprintf("t%d", i%13), "n": float64(i % 5)}
		recs[i] = r
	}
	b.ReportAllocs()
	cpu0 := processCPU()
	b.ResetTimer()
	for start := 0; start < len(recs); start += batch {
		if err := s.InsertLogs(context.Background(), recs[start:min(start+batch, len(recs))]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/record")
}

// processCPU is the user and system CPU time the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
