package usage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Inserter stores batches of records. Inserting a record whose id is
// already stored must be a no-op, so that replaying a spill file after a
// crash never duplicates a record.
type Inserter interface {
	InsertLogs(ctx context.Context, recs []*Record) error
}

// WriterOptions configure a Writer. Zero values take the defaults.
type WriterOptions struct {
	// QueueSize bounds the records waiting to be written (default 10000).
	QueueSize int
	// BatchSize is the most records per insert (default 500).
	BatchSize int
	// FlushInterval is the longest a record waits for its batch to fill
	// (default 1s).
	FlushInterval time.Duration
	// SpillPath is the file that takes records the queue or the store
	// cannot (JSON lines), replayed when the store accepts writes again and
	// at the next start. Empty disables spilling: such records are dropped
	// (and counted).
	SpillPath string
	// SpillMaxBytes bounds the spill file (default 1 GiB); past it records
	// are dropped and counted.
	SpillMaxBytes int64
	// ReplayInterval is how often a non-empty spill file is retried
	// (default 10s).
	ReplayInterval time.Duration
	// InsertTimeout bounds one batch insert (default 30s).
	InsertTimeout time.Duration
	Log           *slog.Logger
}

func (o *WriterOptions) defaults() {
	if o.QueueSize <= 0 {
		o.QueueSize = 10000
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 500
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = time.Second
	}
	if o.SpillMaxBytes <= 0 {
		o.SpillMaxBytes = 1 << 30
	}
	if o.ReplayInterval <= 0 {
		o.ReplayInterval = 10 * time.Second
	}
	if o.InsertTimeout <= 0 {
		o.InsertTimeout = 30 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
}

// Writer takes records off the request path: Enqueue never blocks and
// never does I/O while the queue has room; one goroutine writes batches.
// What cannot be queued or stored goes to the spill file; what cannot be
// spilled either is dropped and counted, never lost silently.
type Writer struct {
	ins   Inserter
	opts  WriterOptions
	queue chan *Record
	spill *spill

	// mu orders Enqueue against Close: once closed is set under the write
	// lock no send can be in flight, so the drain sees every queued record.
	mu      sync.RWMutex
	closed  bool
	closing chan struct{}
	done    chan struct{}
	flushes chan chan struct{}

	stats struct {
		enqueued, written, spilled, replayed, dropped, failedBatches atomic.Int64
	}
	lastWarn atomic.Int64 // unix nanos of the last store-failure warning
}

// WriterStats are the writer's counters since start.
type WriterStats struct {
	Queued        int   `json:"queued"`
	Enqueued      int64 `json:"enqueued"`
	Written       int64 `json:"written"`
	Spilled       int64 `json:"spilled"`
	Replayed      int64 `json:"replayed"`
	Dropped       int64 `json:"dropped"`
	FailedBatches int64 `json:"failed_batches"`
	SpillBytes    int64 `json:"spill_bytes"`
}

// NewWriter starts a writer in front of ins. Records left in the spill
// file by an earlier run are replayed first.
func NewWriter(ins Inserter, o WriterOptions) *Writer {
	o.defaults()
	w := &Writer{
		ins:     ins,
		opts:    o,
		queue:   make(chan *Record, o.QueueSize),
		closing: make(chan struct{}),
		done:    make(chan struct{}),
		flushes: make(chan chan struct{}),
	}
	if o.SpillPath != "" {
		w.spill = newSpill(o.SpillPath, o.SpillMaxBytes)
	}
	go w.run()
	return w
}

// Enqueue hands a record to the writer. It never blocks: when the queue is
// full the record is spilled to the file (a buffered append), and when that
// is impossible it is dropped and counted.
func (w *Writer) Enqueue(r *Record) {
	w.mu.RLock()
	if !w.closed {
		select {
		case w.queue <- r:
			w.mu.RUnlock()
			w.stats.enqueued.Add(1)
			return
		default:
		}
	}
	w.mu.RUnlock()
	w.spillRecords([]*Record{r})
}

// Stats returns the counters.
func (w *Writer) Stats() WriterStats {
	s := WriterStats{
		Queued:        len(w.queue),
		Enqueued:      w.stats.enqueued.Load(),
		Written:       w.stats.written.Load(),
		Spilled:       w.stats.spilled.Load(),
		Replayed:      w.stats.replayed.Load(),
		Dropped:       w.stats.dropped.Load(),
		FailedBatches: w.stats.failedBatches.Load(),
	}
	if w.spill != nil {
		s.SpillBytes = w.spill.size()
	}
	return s
}

// Flush writes every record enqueued before the call, and what the spill
// file holds if the store takes it (tests, and tools that want to read
// their own writes).
func (w *Writer) Flush(ctx context.Context) error {
	done := make(chan struct{})
	select {
	case w.flushes <- done:
	case <-w.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// QueueDepth is the number of records waiting.
func (w *Writer) QueueDepth() int { return len(w.queue) }

// Close stops accepting records into the queue, writes everything queued,
// then what the spill file holds (if the store takes it). Records still
// unwritten when ctx ends stay in, or go to, the spill file and are
// replayed at the next start. Records enqueued after Close go straight to
// the spill file. Close is idempotent.
func (w *Writer) Close(ctx context.Context) error {
	w.mu.Lock()
	already := w.closed
	w.closed = true
	w.mu.Unlock()
	if !already {
		close(w.closing)
	}
	select {
	case <-w.done:
	case <-ctx.Done():
		// The writer goroutine is stuck on a slow store: take what is left
		// in the queue to the spill file ourselves.
		w.spillRecords(w.takeQueued())
	}
	if w.spill != nil {
		return w.spill.flush()
	}
	return nil
}

func (w *Writer) takeQueued() []*Record {
	var out []*Record
	for {
		select {
		case r := <-w.queue:
			out = append(out, r)
		default:
			return out
		}
	}
}

func (w *Writer) run() {
	defer close(w.done)
	batch := make([]*Record, 0, w.opts.BatchSize)
	tick := time.NewTicker(w.opts.FlushInterval)
	defer tick.Stop()
	lastReplay := time.Time{} // replay leftovers at once
	for {
		select {
		case r := <-w.queue:
			batch = append(batch, r)
			if len(batch) >= w.opts.BatchSize {
				batch = w.flush(batch)
			}
		case now := <-tick.C:
			if len(batch) > 0 {
				batch = w.flush(batch)
			}
			if w.spill != nil {
				_ = w.spill.flush()
				if now.Sub(lastReplay) >= w.opts.ReplayInterval {
					lastReplay = now
					w.replay(w.opts.BatchSize * 20)
				}
			}
		case done := <-w.flushes:
			batch = w.drain(batch)
			w.replayAll()
			close(done)
		case <-w.closing:
			w.drain(batch)
			w.replayAll()
			return
		}
	}
}

// drain writes the batch and everything queued.
func (w *Writer) drain(batch []*Record) []*Record {
	for {
		select {
		case r := <-w.queue:
			batch = append(batch, r)
			if len(batch) >= w.opts.BatchSize {
				batch = w.flush(batch)
			}
			continue
		default:
		}
		break
	}
	if len(batch) > 0 {
		batch = w.flush(batch)
	}
	return batch
}

// flush inserts a batch; on failure the batch goes to the spill file. It
// returns the batch emptied for reuse.
func (w *Writer) flush(batch []*Record) []*Record {
	for _, r := range batch {
		r.Finalize()
	}
	ctx, cancel := context.WithTimeout(context.Background(), w.opts.InsertTimeout)
	err := w.ins.InsertLogs(ctx, batch)
	cancel()
	if err != nil {
		w.stats.failedBatches.Add(1)
		w.warn("writing request logs failed; spilling to file", err)
		w.spillRecords(batch)
	} else {
		w.stats.written.Add(int64(len(batch)))
	}
	clear(batch)
	return batch[:0]
}

// spillRecords appends records to the spill file, or counts them dropped.
func (w *Writer) spillRecords(recs []*Record) {
	if len(recs) == 0 {
		return
	}
	if w.spill == nil {
		w.stats.dropped.Add(int64(len(recs)))
		w.warn("request log records dropped: queue full and no spill file", nil)
		return
	}
	for _, r := range recs {
		r.Finalize()
	}
	n, err := w.spill.append(recs)
	w.stats.spilled.Add(int64(n))
	if lost := len(recs) - n; lost > 0 {
		w.stats.dropped.Add(int64(lost))
		w.warn("request log records dropped: spill file unavailable or full", err)
	}
}

// replayAll moves every spilled record into the store, if it takes them.
func (w *Writer) replayAll() {
	if w.spill != nil && w.spill.size() > 0 {
		w.replay(math.MaxInt)
	}
}

// replay moves up to max spilled records into the store.
func (w *Writer) replay(max int) {
	n, err := w.spill.replay(max, w.opts.BatchSize, func(recs []*Record) error {
		ctx, cancel := context.WithTimeout(context.Background(), w.opts.InsertTimeout)
		defer cancel()
		return w.ins.InsertLogs(ctx, recs)
	})
	w.stats.replayed.Add(int64(n))
	w.stats.dropped.Add(int64(w.spill.takeCorrupt()))
	if err != nil && !errors.Is(err, errNothingToReplay) {
		w.warn("replaying spilled request logs failed; will retry", err)
	} else if n > 0 {
		w.opts.Log.Info("replayed spilled request logs", "records", n)
	}
}

// warn logs at most one warning per 10 seconds, so a store outage does not
// flood the operator's log.
func (w *Writer) warn(msg string, err error) {
	now := time.Now().UnixNano()
	last := w.lastWarn.Load()
	if now-last < int64(10*time.Second) || !w.lastWarn.CompareAndSwap(last, now) {
		return
	}
	args := []any{"queued", len(w.queue), "dropped_total", w.stats.dropped.Load()}
	if err != nil {
		args = append(args, "error", err.Error())
	}
	w.opts.Log.Warn(msg, args...)
}

func (s WriterStats) String() string {
	return fmt.Sprintf("written=%d spilled=%d replayed=%d dropped=%d queued=%d", s.Written, s.Spilled, s.Replayed, s.Dropped, s.Queued)
}
