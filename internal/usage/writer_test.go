package usage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// memInserter stores records by id, like a store with a primary key.
type memInserter struct {
	mu      sync.Mutex
	recs    map[string]*Record
	batches int
	fail    atomic.Bool
	gate    chan struct{} // when set, inserts wait for it to close
}

func newMemInserter() *memInserter { return &memInserter{recs: map[string]*Record{}} }

func (m *memInserter) InsertLogs(ctx context.Context, recs []*Record) error {
	if m.gate != nil {
		select {
		case <-m.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if m.fail.Load() {
		return errors.New("store down")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.batches++
	for _, r := range recs {
		if _, ok := m.recs[r.ID]; !ok {
			cp := *r
			m.recs[r.ID] = &cp
		}
	}
	return nil
}

func (m *memInserter) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.recs)
}

func rec(i int) *Record {
	return &Record{ID: fmt.Sprintf("r%06d", i), CreatedAt: testNow.Add(time.Duration(i) * time.Millisecond), Status: 200}
}

func closeWriter(t *testing.T, w *Writer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestWriterBurstIsWrittenInBatches(t *testing.T) {
	ins := newMemInserter()
	w := NewWriter(ins, WriterOptions{QueueSize: 10000, BatchSize: 500, FlushInterval: 10 * time.Millisecond})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := g; i < 10000; i += 8 {
				w.Enqueue(rec(i))
			}
		}(g)
	}
	wg.Wait()
	closeWriter(t, w)
	if n := ins.count(); n != 10000 {
		t.Fatalf("stored %d records, want 10000 (stats %v)", n, w.Stats())
	}
	if s := w.Stats(); s.Written != 10000 || s.Dropped != 0 || s.Spilled != 0 {
		t.Fatalf("stats %+v", s)
	}
	if ins.batches > 10000/500+16 {
		t.Errorf("%d batches for 10000 records: not batching", ins.batches)
	}
}

func TestWriterSpillsOverflowAndWritesItBeforeClosing(t *testing.T) {
	spillPath := filepath.Join(t.TempDir(), "logs-spill.jsonl")
	ins := newMemInserter()
	ins.gate = make(chan struct{})
	w := NewWriter(ins, WriterOptions{QueueSize: 10, BatchSize: 5, FlushInterval: time.Hour, ReplayInterval: time.Hour, SpillPath: spillPath})
	for i := 0; i < 1000; i++ {
		w.Enqueue(rec(i))
	}
	s := w.Stats()
	if s.Spilled < 900 || s.Dropped != 0 {
		t.Fatalf("overflow not spilled: %+v", s)
	}
	close(ins.gate)
	closeWriter(t, w)
	if s := w.Stats(); ins.count() != 1000 || s.Replayed != s.Spilled {
		t.Fatalf("stored %d of 1000; stats %+v", ins.count(), s)
	}
	assertNoSpillLeft(t, spillPath)
}

func TestWriterReplaysLeftoversAtNextStart(t *testing.T) {
	spillPath := filepath.Join(t.TempDir(), "logs-spill.jsonl")
	ins := newMemInserter()
	ins.fail.Store(true) // the store is down until the process exits
	w := NewWriter(ins, WriterOptions{BatchSize: 10, FlushInterval: time.Hour, SpillPath: spillPath})
	for i := 0; i < 100; i++ {
		w.Enqueue(rec(i))
	}
	closeWriter(t, w)
	if s := w.Stats(); ins.count() != 0 || s.Spilled != 100 || s.Dropped != 0 {
		t.Fatalf("stats %+v", s)
	}
	ins.fail.Store(false)
	w2 := NewWriter(ins, WriterOptions{FlushInterval: 5 * time.Millisecond, ReplayInterval: time.Millisecond, SpillPath: spillPath})
	waitFor(t, func() bool { return ins.count() == 100 })
	closeWriter(t, w2)
	if s := w2.Stats(); s.Replayed != 100 {
		t.Fatalf("replayed %d", s.Replayed)
	}
	assertNoSpillLeft(t, spillPath)
}

func assertNoSpillLeft(t *testing.T, spillPath string) {
	t.Helper()
	files, _ := filepath.Glob(spillPath + "*")
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil && fi.Size() > 0 {
			t.Fatalf("spill data left after replay: %s (%d bytes)", f, fi.Size())
		}
	}
}

func TestWriterSpillsFailedBatchesAndReplaysWhenTheStoreIsBack(t *testing.T) {
	spillPath := filepath.Join(t.TempDir(), "spill.jsonl")
	ins := newMemInserter()
	ins.fail.Store(true)
	w := NewWriter(ins, WriterOptions{BatchSize: 10, FlushInterval: 5 * time.Millisecond, ReplayInterval: 10 * time.Millisecond, SpillPath: spillPath})
	for i := 0; i < 95; i++ {
		w.Enqueue(rec(i))
	}
	waitFor(t, func() bool { return w.Stats().Spilled == 95 })
	if ins.count() != 0 {
		t.Fatal("store was down")
	}
	ins.fail.Store(false)
	waitFor(t, func() bool { return ins.count() == 95 })
	closeWriter(t, w)
	if s := w.Stats(); s.Dropped != 0 || s.FailedBatches == 0 || s.Replayed != 95 {
		t.Fatalf("stats %+v", s)
	}
}

func TestWriterCountsEveryDrop(t *testing.T) {
	ins := newMemInserter()
	ins.gate = make(chan struct{})
	w := NewWriter(ins, WriterOptions{QueueSize: 4, BatchSize: 2, FlushInterval: time.Hour})
	for i := 0; i < 100; i++ {
		w.Enqueue(rec(i))
	}
	close(ins.gate)
	closeWriter(t, w)
	s := w.Stats()
	if s.Dropped == 0 || s.Written+s.Dropped != 100 || int64(ins.count()) != s.Written {
		t.Fatalf("written %d + dropped %d != 100 (stored %d)", s.Written, s.Dropped, ins.count())
	}
}

func TestWriterSpillFileIsBounded(t *testing.T) {
	spillPath := filepath.Join(t.TempDir(), "spill.jsonl")
	ins := newMemInserter()
	ins.fail.Store(true)
	w := NewWriter(ins, WriterOptions{QueueSize: 1, BatchSize: 1, FlushInterval: time.Hour, ReplayInterval: time.Hour,
		SpillPath: spillPath, SpillMaxBytes: 2000})
	for i := 0; i < 200; i++ {
		w.Enqueue(rec(i))
	}
	closeWriter(t, w)
	s := w.Stats()
	if s.Dropped == 0 || s.SpillBytes > 2000 {
		t.Fatalf("spill not bounded: %+v", s)
	}
	if s.Spilled+s.Dropped+s.Written != 200 {
		t.Fatalf("records unaccounted for: %+v", s)
	}
}

func TestWriterReplaySkipsATornLineAndCountsIt(t *testing.T) {
	spillPath := filepath.Join(t.TempDir(), "spill.jsonl")
	good := `{"id":"a","created_at":"2025-06-01T12:00:00Z","status":200}` + "\n" +
		`{"id":"b","created_at":"2025-06-01T12:00:01Z","status":200}` + "\n"
	if err := os.WriteFile(spillPath, []byte(good+`{"id":"c","crea`), 0o600); err != nil {
		t.Fatal(err)
	}
	ins := newMemInserter()
	w := NewWriter(ins, WriterOptions{FlushInterval: 5 * time.Millisecond, ReplayInterval: time.Millisecond, SpillPath: spillPath})
	waitFor(t, func() bool { return ins.count() == 2 && w.Stats().Dropped == 1 })
	closeWriter(t, w)
}

func TestWriterEnqueueAfterCloseSpills(t *testing.T) {
	spillPath := filepath.Join(t.TempDir(), "spill.jsonl")
	ins := newMemInserter()
	w := NewWriter(ins, WriterOptions{SpillPath: spillPath})
	closeWriter(t, w)
	w.Enqueue(rec(1))
	closeWriter(t, w) // idempotent; flushes the spill
	if s := w.Stats(); s.Spilled != 1 || s.Dropped != 0 {
		t.Fatalf("late record: %+v", s)
	}
	w2 := NewWriter(ins, WriterOptions{FlushInterval: 5 * time.Millisecond, ReplayInterval: time.Millisecond, SpillPath: spillPath})
	waitFor(t, func() bool { return ins.count() == 1 })
	closeWriter(t, w2)
}

func TestWriterCloseGivesUpOnAStuckStoreAndSpills(t *testing.T) {
	spillPath := filepath.Join(t.TempDir(), "spill.jsonl")
	ins := newMemInserter()
	ins.gate = make(chan struct{}) // never opens
	w := NewWriter(ins, WriterOptions{QueueSize: 100, BatchSize: 10, FlushInterval: time.Millisecond, SpillPath: spillPath, InsertTimeout: time.Hour})
	for i := 0; i < 50; i++ {
		w.Enqueue(rec(i))
	}
	time.Sleep(20 * time.Millisecond) // the writer takes a batch and blocks
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_ = w.Close(ctx)
	if s := w.Stats(); s.Spilled < 30 {
		t.Fatalf("queued records not spilled on a stuck close: %+v", s)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in time")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func BenchmarkWriterEnqueue(b *testing.B) {
	ins := newMemInserter()
	w := NewWriter(ins, WriterOptions{QueueSize: 1 << 20, BatchSize: 1000, FlushInterval: 10 * time.Millisecond})
	r := rec(1)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w.Enqueue(r)
		}
	})
	b.StopTimer()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_ = w.Close(ctx)
}
