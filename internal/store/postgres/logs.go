package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/aigateway/aigateway/internal/store"
	"github.com/aigateway/aigateway/internal/store/logsql"
	"github.com/aigateway/aigateway/internal/usage"
)

// logMigrations create the log tables (the same shape as SQLite's, with
// PostgreSQL types; metadata is JSONB so it can also be queried directly).
var logMigrations = []string{
	`CREATE TABLE aig_logs (
		id TEXT PRIMARY KEY,
		created_us BIGINT NOT NULL,
		event_id TEXT NOT NULL DEFAULT '',
		duration_ms BIGINT NOT NULL DEFAULT 0,
		upstream_ms BIGINT,
		ttft_ms BIGINT,
		key_id TEXT NOT NULL DEFAULT '',
		key_name TEXT NOT NULL DEFAULT '',
		tenant TEXT NOT NULL DEFAULT '',
		user_id TEXT NOT NULL DEFAULT '',
		metadata JSONB,
		ingress TEXT NOT NULL DEFAULT '',
		method TEXT NOT NULL DEFAULT '',
		path TEXT NOT NULL DEFAULT '',
		kind TEXT NOT NULL DEFAULT '',
		stream BOOLEAN NOT NULL DEFAULT false,
		provider TEXT NOT NULL DEFAULT '',
		model TEXT NOT NULL DEFAULT '',
		served_model TEXT NOT NULL DEFAULT '',
		route TEXT NOT NULL DEFAULT '',
		status INTEGER NOT NULL DEFAULT 0,
		error TEXT NOT NULL DEFAULT '',
		input_tokens BIGINT NOT NULL DEFAULT 0,
		output_tokens BIGINT NOT NULL DEFAULT 0,
		cached_tokens BIGINT NOT NULL DEFAULT 0,
		estimated BOOLEAN NOT NULL DEFAULT false,
		cost_usd DOUBLE PRECISION NOT NULL DEFAULT 0,
		cache_status TEXT NOT NULL DEFAULT '',
		step INTEGER NOT NULL DEFAULT 0,
		attempts INTEGER NOT NULL DEFAULT 0,
		client_ip TEXT NOT NULL DEFAULT '',
		feedback SMALLINT,
		score DOUBLE PRECISION,
		comment TEXT,
		payload_truncated BOOLEAN NOT NULL DEFAULT false,
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

// LogStore is the shared store.LogStore.
type LogStore struct {
	db *DB
}

// NewLogStore migrates the log tables and returns the store.
func NewLogStore(ctx context.Context, db *DB) (*LogStore, error) {
	if err := db.Migrate(ctx, "logs", logMigrations); err != nil {
		return nil, err
	}
	return &LogStore{db: db}, nil
}

// columnTypes are the array types the batch insert unnests, in
// logsql.Columns order.
var columnTypes = []string{
	"text", "bigint", "text", "bigint", "bigint", "bigint",
	"text", "text", "text", "text", "text",
	"text", "text", "text", "text", "boolean",
	"text", "text", "text", "text", "integer", "text",
	"bigint", "bigint", "bigint", "boolean", "double precision",
	"text", "integer", "integer", "text",
	"smallint", "double precision", "text",
	"boolean", "text", "text",
}

// insertSQL inserts any number of rows in one statement: one array per
// column, unnested. It is as fast as COPY for gateway-sized batches and,
// unlike COPY, can skip ids already stored.
var insertSQL = func() string {
	var params, sel []string
	for i, c := range logsql.Columns {
		params = append(params, fmt.Sprintf("$%d::%s[]", i+1, columnTypes[i]))
		if c == "metadata" {
			sel = append(sel, "metadata::jsonb")
		} else {
			sel = append(sel, c)
		}
	}
	return "INSERT INTO " + logsql.Table + " (" + strings.Join(logsql.Columns, ", ") + ") SELECT " +
		strings.Join(sel, ", ") + " FROM unnest(" + strings.Join(params, ", ") + ") AS t(" +
		strings.Join(logsql.Columns, ", ") + ") ON CONFLICT (id) DO NOTHING"
}()

const insertMetadataSQL = "INSERT INTO " + logsql.MetadataTable + " (log_id, key, value) " +
	"SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING"

// InsertLogs implements store.LogStore.
func (s *LogStore) InsertLogs(ctx context.Context, recs []*usage.Record) error {
	if len(recs) == 0 {
		return nil
	}
	cols := make([][]any, len(logsql.Columns))
	for i := range cols {
		cols[i] = make([]any, len(recs))
	}
	var mdIDs, mdKeys, mdVals []string
	for j, r := range recs {
		for i, v := range logsql.Values(r) {
			cols[i][j] = v
		}
		for _, m := range logsql.MetadataRows(r) {
			mdIDs, mdKeys, mdVals = append(mdIDs, m[0]), append(mdKeys, m[1]), append(mdVals, m[2])
		}
	}
	args := make([]any, len(cols))
	for i, c := range cols {
		args[i] = c
	}
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, insertSQL, args...); err != nil {
			return err
		}
		if len(mdIDs) > 0 {
			if _, err := tx.Exec(ctx, insertMetadataSQL, mdIDs, mdKeys, mdVals); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("inserting logs: %w", err)
	}
	return nil
}

func newBuilder() *logsql.Builder { return &logsql.Builder{Placeholder: logsql.Dollar} }

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
	rows, err := s.db.Query(ctx, q, b.Args()...)
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
	row := s.db.QueryRow(ctx, "SELECT "+logsql.SelectList(true)+" FROM "+logsql.Table+" WHERE id = $1", id)
	r, err := logsql.Scan(row.Scan, true)
	if errors.Is(err, pgx.ErrNoRows) {
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
	tag, err := s.db.Exec(ctx, "DELETE FROM "+logsql.Table+" "+b.Where(), b.Args()...)
	if err != nil {
		return 0, fmt.Errorf("deleting logs: %w", err)
	}
	return tag.RowsAffected(), nil
}

// SetFeedback implements store.LogStore.
func (s *LogStore) SetFeedback(ctx context.Context, id string, fb usage.FeedbackUpdate) error {
	b := newBuilder()
	var set []string
	if fb.Feedback != nil {
		set = append(set, "feedback = "+b.Arg(int16(*fb.Feedback)))
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
	tag, err := s.db.Exec(ctx, "UPDATE "+logsql.Table+" SET "+strings.Join(set, ", ")+" WHERE id = "+b.Arg(id), b.Args()...)
	if err != nil {
		return fmt.Errorf("setting feedback on log %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// PruneLogs implements store.LogStore.
func (s *LogStore) PruneLogs(ctx context.Context, r usage.Retention) (int64, error) {
	var total int64
	if r.MaxAge > 0 {
		tag, err := s.db.Exec(ctx, "DELETE FROM "+logsql.Table+" WHERE created_us < $1", time.Now().Add(-r.MaxAge).UnixMicro())
		if err != nil {
			return total, fmt.Errorf("pruning logs by age: %w", err)
		}
		total += tag.RowsAffected()
	}
	if r.MaxCount > 0 {
		tag, err := s.db.Exec(ctx, "DELETE FROM "+logsql.Table+" WHERE "+logsql.MaxCountCutoff("$1"), r.MaxCount-1)
		if err != nil {
			return total, fmt.Errorf("pruning logs by count: %w", err)
		}
		total += tag.RowsAffected()
	}
	return total, nil
}

// Analytics implements store.LogStore, entirely in SQL: percentile_cont
// interpolates as usage.Percentile does and ignores missing TTFTs.
func (s *LogStore) Analytics(ctx context.Context, q usage.AnalyticsQuery) ([]usage.AnalyticsRow, error) {
	b := newBuilder()
	b.Filter(q.Filter)
	bucket := "0::bigint"
	if q.Interval > 0 {
		iv := b.Arg(q.Interval.Microseconds())
		bucket = "(created_us / " + iv + "::bigint) * " + iv + "::bigint"
	}
	pct := func(p, col string) string {
		return "percentile_cont(" + p + ") WITHIN GROUP (ORDER BY " + col + ")"
	}
	query := "SELECT " + bucket + " AS bucket, " + logsql.GroupExpr(q.GroupBy) + " AS grp, " +
		"COUNT(*), COUNT(*) FILTER (WHERE " + logsql.ErrorCond + "), COUNT(*) FILTER (WHERE " + logsql.CacheHitCond + "), " +
		"SUM(input_tokens)::bigint, SUM(output_tokens)::bigint, SUM(cached_tokens)::bigint, SUM(cost_usd), " +
		pct("0.5", "duration_ms") + ", " + pct("0.95", "duration_ms") + ", " + pct("0.99", "duration_ms") + ", " +
		pct("0.5", "ttft_ms") + ", " + pct("0.95", "ttft_ms") + ", " + pct("0.99", "ttft_ms") +
		" FROM " + logsql.Table + " " + b.Where() + " GROUP BY 1, 2"
	rows, err := s.db.Query(ctx, query, b.Args()...)
	if err != nil {
		return nil, fmt.Errorf("computing analytics: %w", err)
	}
	defer rows.Close()
	var out []usage.AnalyticsRow
	for rows.Next() {
		var r usage.AnalyticsRow
		var bucketUS int64
		var t50, t95, t99 *float64
		if err := rows.Scan(&bucketUS, &r.Group, &r.Requests, &r.Errors, &r.CacheHits,
			&r.InputTokens, &r.OutputTokens, &r.CachedTokens, &r.CostUSD,
			&r.LatencyP50, &r.LatencyP95, &r.LatencyP99, &t50, &t95, &t99); err != nil {
			return nil, fmt.Errorf("computing analytics: %w", err)
		}
		if q.Interval > 0 {
			r.Bucket = time.UnixMicro(bucketUS).UTC()
		}
		if t50 != nil {
			r.TTFTP50, r.TTFTP95, r.TTFTP99 = *t50, *t95, *t99
		}
		usage.FinishRow(&r)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("computing analytics: %w", err)
	}
	usage.SortRows(out)
	return out, nil
}

var _ store.LogStore = (*LogStore)(nil)
