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

	mu         sync.Mutex
	stmts      map[int]string // rows per INSERT → statement text
	prepared   *sql.Stmt      // the full-chunk INSERT, parsed once
	preparedMD *sql.Stmt      // the full-chunk metadata INSERT
}

// NewLogStore migrates the log tables and returns the store.
func NewLogStore(ctx context.Context, db *DB) (*LogStore, error) {
	if err := db.Migrate(ctx, "logs", logMigrations); err != nil {
		return nil, err
	}
	return &LogStore{db: db, stmts: map[int]string{}}, nil
}

// rowsPerInsert keeps a multi-row INSERT well under SQLite's limit of
// 32766 parameters.
const rowsPerInsert = 200

func (s *LogStore) insertSQL(n int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q, ok := s.stmts[n]; ok {
		return q
	}
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", len(logsql.Columns)), ",") + ")"
	q := "INSERT INTO " + logsql.Table + " (" + strings.Join(logsql.Columns, ", ") + ") VALUES " +
		strings.TrimSuffix(strings.Repeat(row+",", n), ",") + " ON CONFLICT (id) DO NOTHING"
	s.stmts[n] = q
	return q
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
	for start := 0; start < len(recs); start += rowsPerInsert {
		chunk := recs[start:min(start+rowsPerInsert, len(recs))]
		args := make([]any, 0, len(chunk)*len(logsql.Columns))
		for _, r := range chunk {
			args = append(args, logsql.Values(r)...)
			md = append(md, logsql.MetadataRows(r)...)
		}
		if len(chunk) == rowsPerInsert {
			// Parsing a statement of thousands of parameters costs as much
			// as running it: full chunks reuse one prepared statement.
			stmt, err := s.fullChunkStmt(ctx)
			if err != nil {
				return err
			}
			_, err = tx.StmtContext(ctx, stmt).ExecContext(ctx, args...)
			if err != nil {
				return fmt.Errorf("inserting logs: %w", err)
			}
			continue
		}
		if _, err := tx.ExecContext(ctx, s.insertSQL(len(chunk)), args...); err != nil {
			return fmt.Errorf("inserting logs: %w", err)
		}
	}
	for start := 0; start < len(md); start += metadataPerInsert {
		chunk := md[start:min(start+metadataPerInsert, len(md))]
		args := make([]any, 0, 3*len(chunk))
		for _, m := range chunk {
			args = append(args, m[0], m[1], m[2])
		}
		var err error
		if len(chunk) == metadataPerInsert {
			var stmt *sql.Stmt
			if stmt, err = s.fullMetadataStmt(ctx); err == nil {
				_, err = tx.StmtContext(ctx, stmt).ExecContext(ctx, args...)
			}
		} else {
			_, err = tx.ExecContext(ctx, metadataSQL(len(chunk)), args...)
		}
		if err != nil {
			return fmt.Errorf("inserting log metadata: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("inserting logs: %w", err)
	}
	return nil
}

func (s *LogStore) fullChunkStmt(ctx context.Context) (*sql.Stmt, error) {
	q := s.insertSQL(rowsPerInsert)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.prepared == nil {
		stmt, err := s.db.PrepareContext(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("preparing log insert: %w", err)
		}
		s.prepared = stmt
	}
	return s.prepared, nil
}

// metadataPerInsert is the metadata rows per INSERT.
const metadataPerInsert = 500

func metadataSQL(n int) string {
	return "INSERT INTO " + logsql.MetadataTable + " (log_id, key, value) VALUES " +
		strings.TrimSuffix(strings.Repeat("(?,?,?),", n), ",") + " ON CONFLICT DO NOTHING"
}

func (s *LogStore) fullMetadataStmt(ctx context.Context) (*sql.Stmt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.preparedMD == nil {
		stmt, err := s.db.PrepareContext(ctx, metadataSQL(metadataPerInsert))
		if err != nil {
			return nil, fmt.Errorf("preparing log metadata insert: %w", err)
		}
		s.preparedMD = stmt
	}
	return s.preparedMD, nil
}

func newBuilder() *logsql.Builder { return &logsql.Builder{Placeholder: logsql.Question} }

// ListLogs implements store.LogStore.
func (s *LogStore) ListLogs(ctx context.Context, f usage.Filter, o usage.ListOptions) (usage.Page, error) {
	o = o.Normalize()
	b := newBuilder()
	b.Filter(f)
	if o.Cursor != "" {
		c, err := usage.DecodeCursor(o.Cursor)
		if err != nil {
			return usage.Page{}, err
		}
		b.After(c)
	}
	q := "SELECT " + logsql.SelectList(o.Payloads) + " FROM " + logsql.Table + " " + b.Where() +
		" ORDER BY created_us DESC, id DESC LIMIT " + b.Arg(o.Limit+1)
	rows, err := s.db.QueryContext(ctx, q, b.Args()...)
	if err != nil {
		return usage.Page{}, fmt.Errorf("listing logs: %w", err)
	}
	defer rows.Close()
	var recs []*usage.Record
	for rows.Next() {
		r, err := logsql.Scan(rows.Scan, o.Payloads)
		if err != nil {
			return usage.Page{}, fmt.Errorf("listing logs: %w", err)
		}
		recs = append(recs, r)
	}
	if err := rows.Err(); err != nil {
		return usage.Page{}, fmt.Errorf("listing logs: %w", err)
	}
	return logsql.Page(recs, o.Limit), nil
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
