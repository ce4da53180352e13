package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aigateway/aigateway/internal/store"
	"github.com/aigateway/aigateway/internal/usage"
)

// benchRecord is a realistic record: metadata, small bodies, every index
// column set.
func benchRecord(i int, at time.Time) *usage.Record {
	r := FullRecord(fmt.Sprintf("bench-%09d", i), at)
	r.KeyID = fmt.Sprintf("key_%d", i%50)
	r.Tenant = fmt.Sprintf("tenant_%d", i%7)
	r.Metadata = map[string]any{"team": fmt.Sprintf("t%d", i%13), "n": float64(i % 5)}
	r.RequestBody = `{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"What is the capital of France?"}]}`
	r.ResponseBody = `{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Paris."},"finish_reason":"stop"}]}`
	return r
}

// BenchmarkLogWrites measures the sustained write rate of a log store: the
// store directly in batches of the writer's default size, and the whole
// async writer in front of it (enqueue b.N records, flush, wait). Both
// report records/s.
func BenchmarkLogWrites(b *testing.B, open func(b *testing.B) store.LogStore) {
	b.Run("InsertLogs/batch=500", func(b *testing.B) {
		s := open(b)
		base := time.Now()
		recs := make([]*usage.Record, 0, 500)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			recs = append(recs, benchRecord(i, base.Add(time.Duration(i)*time.Microsecond)))
			if len(recs) == cap(recs) || i == b.N-1 {
				if err := s.InsertLogs(context.Background(), recs); err != nil {
					b.Fatal(err)
				}
				recs = recs[:0]
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
	b.Run("Writer", func(b *testing.B) {
		s := open(b)
		w := usage.NewWriter(s, usage.WriterOptions{QueueSize: b.N + 1, BatchSize: 500, FlushInterval: 10 * time.Millisecond})
		base := time.Now()
		recs := make([]*usage.Record, b.N)
		for i := range recs {
			recs[i] = benchRecord(i, base.Add(time.Duration(i)*time.Microsecond))
		}
		b.ResetTimer()
		for _, r := range recs {
			w.Enqueue(r)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		if err := w.Close(ctx); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if st := w.Stats(); st.Written != int64(b.N) {
			b.Fatalf("written %d of %d: %v", st.Written, b.N, st)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
}
