// Package logsql is the SQL the SQLite and PostgreSQL log stores share:
// the column list, the WHERE clause of a usage.Filter, the keyset cursor,
// and how a row becomes a usage.Record. Only placeholders and a few types
// differ between the two dialects.
package logsql

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aigateway/aigateway/internal/usage"
)

// Table and MetadataTable are the log tables.
const (
	Table         = "aig_logs"
	MetadataTable = "aig_log_metadata"
)

// Columns in insert and scan order; the last three of the body group are
// only read when bodies are asked for.
var Columns = []string{
	"id", "created_us", "event_id", "duration_ms", "upstream_ms", "ttft_ms",
	"key_id", "key_name", "tenant", "user_id", "metadata",
	"ingress", "method", "path", "kind", "stream",
	"provider", "model", "served_model", "route", "status", "error",
	"input_tokens", "output_tokens", "cached_tokens", "estimated", "cost_usd",
	"cache_status", "step", "attempts", "client_ip",
	"feedback", "score", "comment",
	"payload_truncated", "request_body", "response_body",
}

// numBodyColumns are the trailing columns a listing without bodies skips.
const numBodyColumns = 2

// SelectList is the column list of a query, with or without bodies.
func SelectList(bodies bool) string {
	cols := Columns
	if !bodies {
		cols = cols[:len(cols)-numBodyColumns]
	}
	return strings.Join(cols, ", ")
}

// Values returns r's column values in Columns order. Metadata is JSON text
// (nil when empty); booleans are bool.
func Values(r *usage.Record) []any {
	return AppendValues(make([]any, 0, len(Columns)), r)
}

// AppendValues appends r's column values in Columns order to dst: Values
// without a slice per record. Integers are int64 and optional numbers their
// value or nil: database/sql converts an int or a pointer by reflection.
func AppendValues(dst []any, r *usage.Record) []any {
	return append(dst,
		r.ID, r.CreatedAt.UnixMicro(), r.EventID, r.DurationMS, optional(r.UpstreamMS), optional(r.TTFTMS),
		r.KeyID, r.KeyName, r.Tenant, r.User, MetadataJSON(r.Metadata),
		r.Ingress, r.Method, r.Path, r.Kind, r.Stream,
		r.Provider, r.Model, r.ServedModel, r.Route, int64(r.Status), r.Error,
		r.InputTokens, r.OutputTokens, r.CachedTokens, r.Estimated, r.CostUSD,
		r.CacheStatus, int64(r.Step), int64(r.Attempts), r.ClientIP,
		optionalInt(r.Feedback), optional(r.Score), nullString(r.Comment),
		r.Truncated, r.RequestBody, r.ResponseBody,
	)
}

func optionalInt(p *int) any {
	if p == nil {
		return nil
	}
	return int64(*p)
}

func optional[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// MetadataJSON encodes metadata, nil when there is none.
func MetadataJSON(md map[string]any) any {
	if len(md) == 0 {
		return nil
	}
	if b, ok := appendMetadataJSON(nil, md); ok {
		return string(b)
	}
	b, err := json.Marshal(md)
	if err != nil {
		return nil
	}
	return string(b)
}

// appendMetadataJSON encodes the common metadata (string, number and bool
// values that need no escaping) exactly as json.Marshal does, without its
// reflection; ok is false for anything else.
func appendMetadataJSON(b []byte, md map[string]any) (_ []byte, ok bool) {
	var keys [16]string
	ks := keys[:0]
	for k := range md {
		if !plainJSONString(k) {
			return b, false
		}
		ks = append(ks, k)
	}
	slices.Sort(ks)
	b = append(b, '{')
	for i, k := range ks {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, '"', ':')
		switch v := md[k].(type) {
		case string:
			if !plainJSONString(v) {
				return b, false
			}
			b = append(b, '"')
			b = append(b, v...)
			b = append(b, '"')
		case bool:
			b = strconv.AppendBool(b, v)
		case float64:
			// json.Marshal's format for the floats it writes without an
			// exponent; the rest take the slow path.
			if math.IsNaN(v) || math.IsInf(v, 0) || (v != 0 && (math.Abs(v) < 1e-6 || math.Abs(v) >= 1e21)) {
				return b, false
			}
			b = strconv.AppendFloat(b, v, 'f', -1, 64)
		case int:
			b = strconv.AppendInt(b, int64(v), 10)
		case int64:
			b = strconv.AppendInt(b, v, 10)
		case nil:
			b = append(b, "null"...)
		default:
			return b, false
		}
	}
	return append(b, '}'), true
}

// plainJSONString reports whether json.Marshal writes s between quotes
// as it is: printable ASCII other than the characters it escapes.
func plainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Scan reads a row selected with SelectList(bodies) into a record.
func Scan(scan func(dest ...any) error, bodies bool) (*usage.Record, error) {
	r := &usage.Record{}
	var createdUS int64
	var metadata []byte
	var comment *string
	dest := []any{
		&r.ID, &createdUS, &r.EventID, &r.DurationMS, &r.UpstreamMS, &r.TTFTMS,
		&r.KeyID, &r.KeyName, &r.Tenant, &r.User, &metadata,
		&r.Ingress, &r.Method, &r.Path, &r.Kind, &r.Stream,
		&r.Provider, &r.Model, &r.ServedModel, &r.Route, &r.Status, &r.Error,
		&r.InputTokens, &r.OutputTokens, &r.CachedTokens, &r.Estimated, &r.CostUSD,
		&r.CacheStatus, &r.Step, &r.Attempts, &r.ClientIP,
		&r.Feedback, &r.Score, &comment,
		&r.Truncated,
	}
	if bodies {
		dest = append(dest, &r.RequestBody, &r.ResponseBody)
	}
	if err := scan(dest...); err != nil {
		return nil, err
	}
	r.CreatedAt = time.UnixMicro(createdUS).UTC()
	if comment != nil {
		r.Comment = *comment
	}
	if len(metadata) > 0 {
		if err := json.Unmarshal(metadata, &r.Metadata); err != nil {
			return nil, fmt.Errorf("decoding metadata of log %s: %w", r.ID, err)
		}
	}
	return r, nil
}

// MetadataRows are the (log id, key, value) rows that make metadata
// filterable by index.
func MetadataRows(r *usage.Record) [][3]string {
	if len(r.Metadata) == 0 {
		return nil
	}
	out := make([][3]string, 0, len(r.Metadata))
	for k, v := range r.Metadata {
		out = append(out, [3]string{r.ID, k, usage.MetadataText(v)})
	}
	return out
}

// Builder accumulates a WHERE clause and its arguments.
type Builder struct {
	// Placeholder renders the n-th (1-based) argument: "?" or "$n".
	Placeholder func(n int) string
	conds       []string
	args        []any
}

// Arg adds an argument and returns its placeholder.
func (b *Builder) Arg(v any) string {
	b.args = append(b.args, v)
	return b.Placeholder(len(b.args))
}

// Cond adds a condition.
func (b *Builder) Cond(c string) { b.conds = append(b.conds, c) }

// Args returns the arguments so far.
func (b *Builder) Args() []any { return b.args }

// Where returns "WHERE …" or "".
func (b *Builder) Where() string {
	if len(b.conds) == 0 {
		return ""
	}
	return "WHERE " + strings.Join(b.conds, " AND ")
}

// ErrorCond is the SQL of usage.Record.IsError.
const ErrorCond = "(status >= 400 OR error <> '')"

// CacheHitCond is the SQL of usage.IsCacheHit.
const CacheHitCond = "cache_status IN ('HIT', 'SEMANTIC_HIT')"

// Filter adds f's conditions (the rules of usage.Filter.Match).
func (b *Builder) Filter(f usage.Filter) {
	if !f.Since.IsZero() {
		b.Cond("created_us >= " + b.Arg(f.Since.UnixMicro()))
	}
	if !f.Until.IsZero() {
		b.Cond("created_us < " + b.Arg(f.Until.UnixMicro()))
	}
	eq := func(col, v string) {
		if v != "" {
			b.Cond(col + " = " + b.Arg(v))
		}
	}
	eq("key_id", f.KeyID)
	eq("tenant", f.Tenant)
	eq("user_id", f.User)
	eq("provider", f.Provider)
	eq("cache_status", f.CacheStatus)
	eq("event_id", f.EventID)
	if f.Model != "" {
		b.Cond("(model = " + b.Arg(f.Model) + " OR served_model = " + b.Arg(f.Model) + ")")
	}
	if f.StatusMin != 0 {
		b.Cond("status >= " + b.Arg(f.StatusMin))
	}
	if f.StatusMax != 0 {
		b.Cond("status <= " + b.Arg(f.StatusMax))
	}
	if f.Errors {
		b.Cond(ErrorCond)
	}
	if f.Success {
		b.Cond("NOT " + ErrorCond)
	}
	for k, v := range f.Metadata {
		b.Cond("id IN (SELECT log_id FROM " + MetadataTable + " WHERE key = " + b.Arg(k) + " AND value = " + b.Arg(v) + ")")
	}
}

// After adds the keyset condition of a cursor (newest-first order).
func (b *Builder) After(c usage.Cursor) {
	ts := b.Arg(c.CreatedUS)
	ts2 := b.Arg(c.CreatedUS)
	b.Cond("(created_us < " + ts + " OR (created_us = " + ts2 + " AND id < " + b.Arg(c.ID) + "))")
}

// GroupExpr is the SQL of usage.GroupOf.
func GroupExpr(by string) string {
	switch by {
	case usage.GroupModel:
		return "CASE WHEN served_model <> '' THEN provider || '/' || served_model ELSE model END"
	case usage.GroupProvider:
		return "provider"
	case usage.GroupKey:
		return "key_id"
	case usage.GroupTenant:
		return "tenant"
	}
	return "''"
}

// MaxCountCutoff is the condition that selects records beyond the newest
// n (for retention by count); arg is the placeholder of n-1.
func MaxCountCutoff(offsetArg string) string {
	return "(created_us, id) < (SELECT created_us, id FROM " + Table +
		" ORDER BY created_us DESC, id DESC LIMIT 1 OFFSET " + offsetArg + ")"
}

// Question is SQLite's placeholder.
func Question(int) string { return "?" }

// Dollar is PostgreSQL's placeholder.
func Dollar(n int) string { return "$" + strconv.Itoa(n) }

// ListQuery adds to b the conditions of one page of a listing: the
// records f selects, newest first, after o's cursor (o normalized); it
// returns the query, which fetches one record more than the page so that
// Page can tell whether another page follows. b.Args are its arguments.
func ListQuery(b *Builder, f usage.Filter, o usage.ListOptions) (string, error) {
	b.Filter(f)
	if o.Cursor != "" {
		c, err := usage.DecodeCursor(o.Cursor)
		if err != nil {
			return "", err
		}
		b.After(c)
	}
	return "SELECT " + SelectList(o.Payloads) + " FROM " + Table + " " + b.Where() +
		" ORDER BY created_us DESC, id DESC LIMIT " + b.Arg(o.Limit+1), nil
}

// Rows is a result set as both drivers give it (*sql.Rows, pgx.Rows).
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// ScanPage reads the rows of a ListQuery for o into its page.
func ScanPage(rows Rows, o usage.ListOptions) (usage.Page, error) {
	var recs []*usage.Record
	for rows.Next() {
		r, err := Scan(rows.Scan, o.Payloads)
		if err != nil {
			return usage.Page{}, err
		}
		recs = append(recs, r)
	}
	if err := rows.Err(); err != nil {
		return usage.Page{}, err
	}
	return Page(recs, o.Limit), nil
}

// Page finishes a listing: it trims the extra row fetched to learn whether
// there is a next page and makes the cursor.
func Page(recs []*usage.Record, limit int) usage.Page {
	p := usage.Page{Records: recs}
	if p.Records == nil {
		p.Records = []*usage.Record{}
	}
	if len(recs) > limit {
		p.Records = recs[:limit]
		p.NextCursor = usage.EncodeCursor(p.Records[limit-1])
	}
	return p
}
