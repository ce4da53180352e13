package usage

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Filter selects log records. Zero fields match everything; set fields
// must all match.
type Filter struct {
	// Since and Until bound CreatedAt: Since <= t < Until.
	Since, Until time.Time
	KeyID        string
	Tenant       string
	User         string
	// Model matches the requested model or the served model.
	Model       string
	Provider    string
	CacheStatus string
	EventID     string
	// StatusMin and StatusMax bound the status, inclusive (0: unbounded).
	StatusMin, StatusMax int
	// Errors selects failed requests (status >= 400 or an error); Success
	// the others. At most one is set.
	Errors, Success bool
	// Metadata entries must all be present with these values (numbers and
	// booleans as they print: 5, 0.5, true).
	Metadata map[string]string
}

// IsZero reports whether the filter selects every record.
func (f Filter) IsZero() bool {
	return f.Since.IsZero() && f.Until.IsZero() && f.KeyID == "" && f.Tenant == "" && f.User == "" &&
		f.Model == "" && f.Provider == "" && f.CacheStatus == "" && f.EventID == "" &&
		f.StatusMin == 0 && f.StatusMax == 0 && !f.Errors && !f.Success && len(f.Metadata) == 0
}

// Match reports whether r passes the filter; stores implement the same
// rules in SQL, and their contract tests compare against this.
func (f Filter) Match(r *Record) bool {
	switch {
	case !f.Since.IsZero() && r.CreatedAt.Before(f.Since),
		!f.Until.IsZero() && !r.CreatedAt.Before(f.Until),
		f.KeyID != "" && r.KeyID != f.KeyID,
		f.Tenant != "" && r.Tenant != f.Tenant,
		f.User != "" && r.User != f.User,
		f.Model != "" && r.Model != f.Model && r.ServedModel != f.Model,
		f.Provider != "" && r.Provider != f.Provider,
		f.CacheStatus != "" && r.CacheStatus != f.CacheStatus,
		f.EventID != "" && r.EventID != f.EventID,
		f.StatusMin != 0 && r.Status < f.StatusMin,
		f.StatusMax != 0 && r.Status > f.StatusMax,
		f.Errors && !r.IsError(),
		f.Success && r.IsError():
		return false
	}
	for k, v := range f.Metadata {
		mv, ok := r.Metadata[k]
		if !ok || MetadataText(mv) != v {
			return false
		}
	}
	return true
}

// MetadataText is how a metadata value is stored for filtering: strings as
// they are, numbers in their shortest form, booleans as true/false.
func MetadataText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	}
	return fmt.Sprint(v)
}

// Filter query parameters, shared by the admin API and the CLI.
const (
	ParamSince       = "since"
	ParamUntil       = "until"
	ParamKey         = "key"
	ParamTenant      = "tenant"
	ParamUser        = "user"
	ParamModel       = "model"
	ParamProvider    = "provider"
	ParamStatus      = "status"
	ParamCacheStatus = "cache_status"
	ParamEventID     = "event_id"
	// ParamMetadataPrefix starts a metadata filter: metadata.team=search.
	ParamMetadataPrefix = "metadata."
)

// maxFilterValue bounds every filter value.
const maxFilterValue = 1024

// ParseFilter reads a filter from query parameters. since/until take an
// RFC 3339 time, unix seconds, or a duration meaning that long before now
// (since=1h). status takes a code (429), a class (4xx) or error/success.
// Parameters named in other are allowed and ignored (the caller reads
// them); any other parameter is an error, so a typo never widens a query
// or a delete.
func ParseFilter(q url.Values, now time.Time, other ...string) (Filter, error) {
	var f Filter
	allowed := map[string]bool{}
	for _, o := range other {
		allowed[o] = true
	}
	for name, vals := range q {
		if allowed[name] {
			continue
		}
		if len(vals) != 1 {
			return f, fmt.Errorf("parameter %q must be given once", name)
		}
		v := vals[0]
		if len(v) > maxFilterValue {
			return f, fmt.Errorf("parameter %q is longer than %d characters", name, maxFilterValue)
		}
		if k, ok := strings.CutPrefix(name, ParamMetadataPrefix); ok {
			if k == "" || len(k) > 128 {
				return f, fmt.Errorf("metadata filter needs a key of 1 to 128 characters: metadata.KEY=VALUE")
			}
			if f.Metadata == nil {
				f.Metadata = map[string]string{}
			}
			f.Metadata[k] = v
			continue
		}
		var err error
		switch name {
		case ParamSince:
			f.Since, err = ParseTime(v, now)
		case ParamUntil:
			f.Until, err = ParseTime(v, now)
		case ParamKey:
			f.KeyID = v
		case ParamTenant:
			f.Tenant = v
		case ParamUser:
			f.User = v
		case ParamModel:
			f.Model = v
		case ParamProvider:
			f.Provider = v
		case ParamEventID:
			f.EventID = v
		case ParamCacheStatus:
			f.CacheStatus, err = parseCacheStatus(v)
		case ParamStatus:
			err = f.parseStatus(v)
		default:
			return f, fmt.Errorf("unknown parameter %q", name)
		}
		if err != nil {
			return f, fmt.Errorf("parameter %q: %w", name, err)
		}
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return f, fmt.Errorf("since must be before until")
	}
	return f, nil
}

// ParseTime reads an RFC 3339 time, unix seconds, or a duration before now.
func ParseTime(v string, now time.Time) (time.Time, error) {
	v = strings.TrimSpace(v)
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 || n > 1<<40 {
			return time.Time{}, fmt.Errorf("unix time out of range")
		}
		return time.Unix(n, 0).UTC(), nil
	}
	if d, err := time.ParseDuration(v); err == nil {
		if d < 0 || d > 100*365*24*time.Hour {
			return time.Time{}, fmt.Errorf("duration out of range")
		}
		return now.Add(-d).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("must be an RFC 3339 time, unix seconds, or a duration such as 1h")
}

func parseCacheStatus(v string) (string, error) {
	s := strings.ToUpper(strings.TrimSpace(v))
	switch s {
	case "HIT", "MISS", "SEMANTIC_HIT", "BYPASS":
		return s, nil
	}
	return "", fmt.Errorf("must be HIT, MISS, SEMANTIC_HIT or BYPASS")
}

func (f *Filter) parseStatus(v string) error {
	s := strings.ToLower(strings.TrimSpace(v))
	switch {
	case s == "error" || s == "errors":
		f.Errors = true
	case s == "success" || s == "ok":
		f.Success = true
	case len(s) == 3 && s[1:] == "xx" && s[0] >= '1' && s[0] <= '5':
		base := int(s[0]-'0') * 100
		f.StatusMin, f.StatusMax = base, base+99
	default:
		n, err := strconv.Atoi(s)
		if err != nil || n < 100 || n > 599 {
			return fmt.Errorf("must be a status code (429), a class (4xx), error or success")
		}
		f.StatusMin, f.StatusMax = n, n
	}
	return nil
}

// Values encodes the filter as query parameters that ParseFilter reads
// back to the same filter (times in RFC 3339).
func (f Filter) Values() url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	if !f.Since.IsZero() {
		q.Set(ParamSince, f.Since.UTC().Format(time.RFC3339Nano))
	}
	if !f.Until.IsZero() {
		q.Set(ParamUntil, f.Until.UTC().Format(time.RFC3339Nano))
	}
	set(ParamKey, f.KeyID)
	set(ParamTenant, f.Tenant)
	set(ParamUser, f.User)
	set(ParamModel, f.Model)
	set(ParamProvider, f.Provider)
	set(ParamCacheStatus, f.CacheStatus)
	set(ParamEventID, f.EventID)
	switch {
	case f.Errors:
		q.Set(ParamStatus, "error")
	case f.Success:
		q.Set(ParamStatus, "success")
	case f.StatusMin != 0 && f.StatusMax == f.StatusMin+99 && f.StatusMin%100 == 0:
		q.Set(ParamStatus, strconv.Itoa(f.StatusMin/100)+"xx")
	case f.StatusMin != 0:
		q.Set(ParamStatus, strconv.Itoa(f.StatusMin))
	}
	for k, v := range f.Metadata {
		q.Set(ParamMetadataPrefix+k, v)
	}
	return q
}

// ListOptions page through a listing, newest first.
type ListOptions struct {
	// Limit is the page size (default 50, at most MaxPageSize).
	Limit int
	// Cursor continues after the last record of a previous page.
	Cursor string
	// Payloads includes request and response bodies.
	Payloads bool
}

// MaxPageSize bounds one page of a listing.
const MaxPageSize = 1000

// Normalize applies the defaults and bounds.
func (o ListOptions) Normalize() ListOptions {
	if o.Limit <= 0 {
		o.Limit = 50
	}
	if o.Limit > MaxPageSize {
		o.Limit = MaxPageSize
	}
	return o
}

// Page is one page of records and the cursor of the next ("" at the end).
type Page struct {
	Records    []*Record `json:"data"`
	NextCursor string    `json:"next_cursor,omitempty"`
}

// Cursor is a position in the newest-first order: records strictly after
// it are (CreatedAt, ID) smaller.
type Cursor struct {
	CreatedUS int64
	ID        string
}

// EncodeCursor returns the opaque cursor after r.
func EncodeCursor(r *Record) string {
	raw := strconv.FormatInt(r.CreatedAt.UnixMicro(), 10) + "|" + r.ID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// DecodeCursor reads a cursor made by EncodeCursor.
func DecodeCursor(s string) (Cursor, error) {
	bad := fmt.Errorf("invalid cursor")
	if len(s) > 512 {
		return Cursor{}, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, bad
	}
	ts, id, ok := strings.Cut(string(raw), "|")
	if !ok || id == "" || len(id) > 256 {
		return Cursor{}, bad
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || n < 0 {
		return Cursor{}, bad
	}
	return Cursor{CreatedUS: n, ID: id}, nil
}

// Retention bounds how many records are kept; zero fields keep all.
type Retention struct {
	MaxAge   time.Duration
	MaxCount int64
}

// Group-by dimensions of analytics.
const (
	GroupNone     = ""
	GroupModel    = "model"
	GroupProvider = "provider"
	GroupKey      = "key"
	GroupTenant   = "tenant"
)

// AnalyticsQuery asks for aggregates of the records a filter selects, per
// time bucket (Interval, aligned to the unix epoch; 0 = one bucket) and
// per group.
type AnalyticsQuery struct {
	Filter   Filter
	Interval time.Duration
	GroupBy  string
}

// MinInterval is the smallest analytics bucket.
const MinInterval = time.Second

// ParseAnalytics reads an analytics query: the filter parameters plus
// interval (a duration, or minute/hour/day) and group_by.
func ParseAnalytics(q url.Values, now time.Time) (AnalyticsQuery, error) {
	var a AnalyticsQuery
	f, err := ParseFilter(q, now, "interval", "group_by")
	if err != nil {
		return a, err
	}
	a.Filter = f
	if len(q["interval"]) > 1 || len(q["group_by"]) > 1 {
		return a, fmt.Errorf("interval and group_by must be given once")
	}
	if v := q.Get("interval"); v != "" {
		switch v {
		case "minute":
			a.Interval = time.Minute
		case "hour":
			a.Interval = time.Hour
		case "day":
			a.Interval = 24 * time.Hour
		default:
			d, err := time.ParseDuration(v)
			if err != nil || d < MinInterval || d > 366*24*time.Hour || d%time.Second != 0 {
				return a, fmt.Errorf("parameter \"interval\": must be minute, hour, day or a whole number of seconds from 1s to 8784h")
			}
			a.Interval = d
		}
	}
	switch g := q.Get("group_by"); g {
	case GroupNone, GroupModel, GroupProvider, GroupKey, GroupTenant:
		a.GroupBy = g
	default:
		return a, fmt.Errorf("parameter \"group_by\": must be model, provider, key or tenant")
	}
	return a, nil
}

// GroupOf is the group a record falls in: model groups by provider/served
// model (the requested model when nothing served it).
func GroupOf(r *Record, by string) string {
	switch by {
	case GroupModel:
		if r.ServedModel != "" {
			return r.Provider + "/" + r.ServedModel
		}
		return r.Model
	case GroupProvider:
		return r.Provider
	case GroupKey:
		return r.KeyID
	case GroupTenant:
		return r.Tenant
	}
	return ""
}

// AnalyticsRow is the aggregate of one bucket and group. Latencies are in
// milliseconds; percentiles interpolate linearly between ranks (as
// PostgreSQL's percentile_cont does); TTFT covers records that have one.
type AnalyticsRow struct {
	Bucket       time.Time `json:"bucket"`
	Group        string    `json:"group,omitempty"`
	Requests     int64     `json:"requests"`
	Errors       int64     `json:"errors"`
	CacheHits    int64     `json:"cache_hits"`
	CacheHitRate float64   `json:"cache_hit_rate"`
	InputTokens  int64     `json:"input_tokens"`
	OutputTokens int64     `json:"output_tokens"`
	CachedTokens int64     `json:"cached_tokens"`
	CostUSD      float64   `json:"cost_usd"`
	LatencyP50   float64   `json:"latency_p50_ms"`
	LatencyP95   float64   `json:"latency_p95_ms"`
	LatencyP99   float64   `json:"latency_p99_ms"`
	TTFTP50      float64   `json:"ttft_p50_ms"`
	TTFTP95      float64   `json:"ttft_p95_ms"`
	TTFTP99      float64   `json:"ttft_p99_ms"`
}

// BucketStart is the start of the bucket t falls in.
func BucketStart(t time.Time, interval time.Duration) time.Time {
	if interval <= 0 {
		return time.Time{}
	}
	us := t.UnixMicro()
	iv := interval.Microseconds()
	return time.UnixMicro(us / iv * iv).UTC()
}

// Percentile is the p-quantile (0..1) of sorted values with linear
// interpolation between closest ranks; 0 for no values.
func Percentile(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	pos := p * float64(n-1)
	lo := int(pos)
	if lo >= n-1 {
		return sorted[n-1]
	}
	frac := pos - float64(lo)
	return sorted[lo] + (sorted[lo+1]-sorted[lo])*frac
}

// Aggregator computes analytics rows from records one at a time: the
// embedded store streams rows through it.
type Aggregator struct {
	q    AnalyticsQuery
	rows map[aggKey]*aggState
}

type aggKey struct {
	bucket int64
	group  string
}

type aggState struct {
	row     AnalyticsRow
	latency []float64
	ttft    []float64
}

// NewAggregator starts an aggregation for q.
func NewAggregator(q AnalyticsQuery) *Aggregator {
	return &Aggregator{q: q, rows: map[aggKey]*aggState{}}
}

// Add folds in one record's aggregated fields.
func (a *Aggregator) Add(created time.Time, group string, status int, hasError bool, cacheStatus string,
	in, out, cached int64, cost float64, durationMS int64, ttftMS *int64) {
	var b int64
	if a.q.Interval > 0 {
		b = BucketStart(created, a.q.Interval).UnixMicro()
	}
	k := aggKey{b, group}
	s := a.rows[k]
	if s == nil {
		s = &aggState{row: AnalyticsRow{Group: group}}
		if a.q.Interval > 0 {
			s.row.Bucket = time.UnixMicro(b).UTC()
		}
		a.rows[k] = s
	}
	r := &s.row
	r.Requests++
	if status >= 400 || hasError {
		r.Errors++
	}
	if IsCacheHit(cacheStatus) {
		r.CacheHits++
	}
	r.InputTokens += in
	r.OutputTokens += out
	r.CachedTokens += cached
	r.CostUSD += cost
	s.latency = append(s.latency, float64(durationMS))
	if ttftMS != nil {
		s.ttft = append(s.ttft, float64(*ttftMS))
	}
}

// AddRecord folds in a record.
func (a *Aggregator) AddRecord(r *Record) {
	a.Add(r.CreatedAt, GroupOf(r, a.q.GroupBy), r.Status, r.Error != "", r.CacheStatus,
		r.InputTokens, r.OutputTokens, r.CachedTokens, r.CostUSD, r.DurationMS, r.TTFTMS)
}

// Rows returns the aggregates ordered by bucket, then group.
func (a *Aggregator) Rows() []AnalyticsRow {
	out := make([]AnalyticsRow, 0, len(a.rows))
	for _, s := range a.rows {
		r := s.row
		sort.Float64s(s.latency)
		sort.Float64s(s.ttft)
		r.LatencyP50, r.LatencyP95, r.LatencyP99 = Percentile(s.latency, .5), Percentile(s.latency, .95), Percentile(s.latency, .99)
		r.TTFTP50, r.TTFTP95, r.TTFTP99 = Percentile(s.ttft, .5), Percentile(s.ttft, .95), Percentile(s.ttft, .99)
		FinishRow(&r)
		out = append(out, r)
	}
	SortRows(out)
	return out
}

// FinishRow fills the derived fields of a row.
func FinishRow(r *AnalyticsRow) {
	if r.Requests > 0 {
		r.CacheHitRate = float64(r.CacheHits) / float64(r.Requests)
	}
}

// SortRows orders rows by bucket, then group.
func SortRows(rows []AnalyticsRow) {
	sort.Slice(rows, func(i, j int) bool {
		if !rows[i].Bucket.Equal(rows[j].Bucket) {
			return rows[i].Bucket.Before(rows[j].Bucket)
		}
		return rows[i].Group < rows[j].Group
	})
}
