package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aigateway/aigateway/internal/store"
	"github.com/aigateway/aigateway/internal/store/logsql"
	"github.com/aigateway/aigateway/internal/usage"
)

// logMigrations create the log tables. Timestamps are unix microseconds, so
// buckets and cursors are integer arithmetic in both dialects.
var logMigrations = []string{
	`CREATE TABLE aig_logs (
		id TEXT PRIMARY KEY,
		created_us INTEGER NOT NULL,
		event_id TEXT NOT NULL DEFAULT '',
		duration_ms INTEGER NOT NULL DEFAULT 0,
		upstream_ms INTEGER,
		ttft_ms INTEGER,
		key_id TEXT NOT NULL DEFAULT '',
		key_name TEXT NOT NULL DEFAULT '',
		tenant TEXT NOT NULL DEFAULT '',
		user_id TEXT NOT NULL DEFAULT '',
		metadata TEXT,
		ingress TEXT NOT NULL DEFAULT '',
		method TEXT NOT NULL DEFAULT '',
		path TEXT NOT NULL DEFAULT '',
		kind TEXT NOT NULL DEFAULT '',
		stream INTEGER NOT NULL DEFAULT 0,
		provider TEXT NOT NULL DEFAULT '',
		model TEXT NOT NULL DEFAULT '',
		served_model TEXT NOT NULL DEFAULT '',
		route TEXT NOT NULL DEFAULT '',
		status INTEGER NOT NULL DEFAULT 0,
		error TEXT NOT NULL DEFAULT '',
		input_tokens INTEGER NOT NULL DEFAULT 0,
		output_tokens INTEGER NOT NULL DEFAULT 0,
		cached_tokens INTEGER NOT NULL DEFAULT 0,
		estimated INTEGER NOT NULL DEFAULT 0,
		cost_usd REAL NOT NULL DEFAULT 0,
		cache_status TEXT NOT NULL DEFAULT '',
		step INTEGER NOT NULL DEFAULT 0,
		attempts INTEGER NOT NULL DEFAULT 0,
		client_ip TEXT NOT NULL DEFAULT '',
		feedback INTEGER,
		score REAL,
		comment TEXT,
		payload_truncated INTEGER NOT NULL DEFAULT 0,
		request_body TEXT NOT NULL DEFAULT '',
		response_body TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX aig_logs_created ON aig_logs (created_us, id);
	CREATE INDEX aig_logs_key ON aig_logs (key_id, created_us);
	CREATE INDEX aig_logs_tenant ON aig_logs (tenant, created_us);
	CREATE INDEX aig_logs_model ON aig_logs (model, created_us);
	CREATE INDEX aig_logs_served_model ON aig_logs (served_model, created_us);
	CREATE INDEX aig_logs_provider ON aig_logs (provider, created_us);
	CREATE INDEX aig_logs_event ON aig_logs (event_id) WHERE event_id <> '';
	CREATE TABLE aig_log_metadata (
		log_id TEXT NOT NULL REFERENCES aig_logs (id) ON DELETE CASCADE,
		key TEXT NOT NULL,
		value TEXT NOT NULL,
		PRIMARY KEY (log_id, key)
	);
	CREATE INDEX aig_log_metadata_kv ON aig_log_metadata (key, value);`,
}

// LogStore is the embedded store.LogStore.
type LogStore struct {
	db *DB

	mu    sync.Mutex
	stmts map[stmtKey]*sql.Stmt // prepared multi-row INSERTs
}

// stmtKey names a prepared INSERT: which table, how many rows.
type stmtKey struct {
	metadata bool
	rows     int
}

// NewLogStore migrates the log tables and returns the store.
func NewLogStore(ctx context.Context, db *DB) (*LogStore, error) {
	if err := db.Migrate(ctx, "logs", logMigrations); err != nil {
		return nil, err
	}
	return &LogStore{db: db, stmts: map[stmtKey]*sql.Stmt{}}, nil
}

// chunkRows are the row counts of the prepared multi-row INSERTs. A batch
// is cut greedily into them, so no batch size makes SQLite parse a
// statement again (parsing one of thousands of parameters costs as much as
// running it), and the largest stays well under SQLite's limit of 32766
// parameters.
var chunkRows = [...]int{256, 64, 16, 4, 1}

// nextChunk is the rows of the next INSERT for n rows left.
func nextChunk(n int) int {
	for _, c := range chunkRows {
		if n >= c {
			return c
		}
	}
	return n
}

// insertSQL is the INSERT of n log rows. OR IGNORE skips a row whose id is
// stored (spill replay), as ON CONFLICT (id) DO NOTHING would: id is the
// only unique key and no NOT NULL column is given a NULL. Unlike an upsert
// it cannot abort, so SQLite keeps no statement journal for it.
func insertSQL(n int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", len(logsql.Columns)), ",") + ")"
	return "INSERT OR IGNORE INTO " + logsql.Table + " (" + strings.Join(logsql.Columns, ", ") + ") VALUES " +
		strings.TrimSuffix(strings.Repeat(row+",", n), ",")
}

func metadataSQL(n int) string {
	return "INSERT INTO " + logsql.MetadataTable + " (log_id, key, value) VALUES " +
		strings.TrimSuffix(strings.Repeat("(?,?,?),", n), ",") + " ON CONFLICT DO NOTHING"
}

// stmt returns the prepared INSERT of k, preparing it on first use.
func (s *LogStore) stmt(ctx context.Context, k stmtKey) (*sql.Stmt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.stmts[k]; ok {
		return st, nil
	}
	q := insertSQL(k.rows)
	if k.metadata {
		q = metadataSQL(k.rows)
	}
	st, err := s.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("preparing log insert: %w", err)
	}
	s.stmts[k] = st
	return st, nil
}

// InsertLogs implements store.LogStore: one transaction, multi-row inserts.
func (s *LogStore) InsertLogs(ctx context.Context, recs []*usage.Record) error {
	if len(recs) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("inserting logs: %w", err)
	}
	defer tx.Rollback()
	var md [][3]string
	args := make([]any, 0, min(len(recs), chunkRows[0])*len(logsql.Columns))
	for len(recs) > 0 {
		n := nextChunk(len(recs))
		args = args[:0]
		for _, r := range recs[:n] {
			args = logsql.AppendValues(args, r)
			md = append(md, logsql.MetadataRows(r)...)
		}
		recs = recs[n:]
		if err := s.exec(ctx, tx, stmtKey{rows: n}, args); err != nil {
			return fmt.Errorf("inserting logs: %w", err)
		}
	}
	for len(md) > 0 {
		n := nextChunk(len(md))
		args = args[:0]
		for _, m := range md[:n] {
			args = append(args, m[0], m[1], m[2])
		}
		md = md[n:]
		if err := s.exec(ctx, tx, stmtKey{metadata: true, rows: n}, args); err != nil {
			return fmt.Errorf("inserting log metadata: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("inserting logs: %w", err)
	}
	return nil
}

func (s *LogStore) exec(ctx context.Context, tx *sql.Tx, k stmtKey, args []any) error {
	st, err := s.stmt(ctx, k)
	if err != nil {
		return err
	}
	_, err = tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	return err
}

func newBuilder() *logsql.Builder { return &logsql.Builder{Placeholder: logsql.Question} }

// ListLogs implements store.LogStore.
func (s *LogStore) ListLogs(ctx context.Context, f usage.Filter, o usage.ListOptions) (usage.Page, error) {
	o = o.Normalize()
	b := newBuilder()
	q, err := logsql.ListQuery(b, f, o)
	if err != nil {
		return usage.Page{}, err
	}
	rows, err := s.db.QueryContext(ctx, q, b.Args()...)
	if err != nil {
		return usage.Page{}, fmt.Errorf("listing logs: %w", err)
	}
	defer rows.Close()
	page, err := logsql.ScanPage(rows, o)
	if err != nil {
		return usage.Page{}, fmt.Errorf("listing logs: %w", err)
	}
	return page, nil
}

// Log implements store.LogStore.
func (s *LogStore) Log(ctx context.Context, id string) (*usage.Record, error) {
	row := s.db.QueryRowContext(ctx, "SELECT "+logsql.SelectList(true)+" FROM "+logsql.Table+" WHERE id = ?", id)
	r, err := logsql.Scan(row.Scan, true)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading log %s: %w", id, err)
	}
	return r, nil
}

// DeleteLogs implements store.LogStore.
func (s *LogStore) DeleteLogs(ctx context.Context, f usage.Filter) (int64, error) {
	b := newBuilder()
	b.Filter(f)
	res, err := s.db.ExecContext(ctx, "DELETE FROM "+logsql.Table+" "+b.Where(), b.Args()...)
	if err != nil {
		return 0, fmt.Errorf("deleting logs: %w", err)
	}
	return res.RowsAffected()
}

// SetFeedback implements store.LogStore.
func (s *LogStore) SetFeedback(ctx context.Context, id string, fb usage.FeedbackUpdate) error {
	b := newBuilder()
	var set []string
	if fb.Feedback != nil {
		set = append(set, "feedback = "+b.Arg(*fb.Feedback))
	}
	if fb.Score != nil {
		set = append(set, "score = "+b.Arg(*fb.Score))
	}
	if fb.Comment != nil {
		set = append(set, "comment = "+b.Arg(*fb.Comment))
	}
	if len(set) == 0 {
		set = append(set, "id = id")
	}
	res, err := s.db.ExecContext(ctx, "UPDATE "+logsql.Table+" SET "+strings.Join(set, ", ")+" WHERE id = "+b.Arg(id), b.Args()...)
	if err != nil {
		return fmt.Errorf("setting feedback on log %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// PruneLogs implements store.LogStore.
func (s *LogStore) PruneLogs(ctx context.Context, r usage.Retention) (int64, error) {
	var total int64
	if r.MaxAge > 0 {
		cut := time.Now().Add(-r.MaxAge).UnixMicro()
		res, err := s.db.ExecContext(ctx, "DELETE FROM "+logsql.Table+" WHERE created_us < ?", cut)
		if err != nil {
			return total, fmt.Errorf("pruning logs by age: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
	}
	if r.MaxCount > 0 {
		res, err := s.db.ExecContext(ctx, "DELETE FROM "+logsql.Table+" WHERE "+logsql.MaxCountCutoff("?"), r.MaxCount-1)
		if err != nil {
			return total, fmt.Errorf("pruning logs by count: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}

// Analytics implements store.LogStore. SQLite has no percentile function,
// so the matching rows' aggregated columns stream through a
// usage.Aggregator (a local file: this reads about a million rows a
// second).
func (s *LogStore) Analytics(ctx context.Context, q usage.AnalyticsQuery) ([]usage.AnalyticsRow, error) {
	b := newBuilder()
	b.Filter(q.Filter)
	query := "SELECT created_us, " + logsql.GroupExpr(q.GroupBy) + ", status, error <> '', cache_status, " +
		"input_tokens, output_tokens, cached_tokens, cost_usd, duration_ms, ttft_ms FROM " + logsql.Table + " " + b.Where()
	rows, err := s.db.QueryContext(ctx, query, b.Args()...)
	if err != nil {
		return nil, fmt.Errorf("computing analytics: %w", err)
	}
	defer rows.Close()
	agg := usage.NewAggregator(q)
	var (
		createdUS, in, out, cached, dur int64
		group, cacheStatus              string
		status                          int
		hasErr                          bool
		cost                            float64
		ttft                            *int64
	)
	for rows.Next() {
		ttft = nil
		if err := rows.Scan(&createdUS, &group, &status, &hasErr, &cacheStatus, &in, &out, &cached, &cost, &dur, &ttft); err != nil {
			return nil, fmt.Errorf("computing analytics: %w", err)
		}
		agg.Add(time.UnixMicro(createdUS), group, status, hasErr, cacheStatus, in, out, cached, cost, dur, ttft)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("computing analytics: %w", err)
	}
	return agg.Rows(), nil
}

var _ store.LogStore = (*LogStore)(nil)
