package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/aigateway/aigateway/internal/store"
	"github.com/aigateway/aigateway/internal/usage"
)

// LogStoreOpener returns a fresh, empty log store for one test.
type LogStoreOpener func(t *testing.T) store.LogStore

// TestLogStore is the contract every store.LogStore passes.
func TestLogStore(t *testing.T, open LogStoreOpener) {
	t.Run("InsertAndFetchOne", func(t *testing.T) { testLogInsertAndFetch(t, open(t)) })
	t.Run("InsertIgnoresKnownIDs", func(t *testing.T) { testLogInsertIdempotent(t, open(t)) })
	t.Run("ListNewestFirstWithCursor", func(t *testing.T) { testLogPagination(t, open(t)) })
	t.Run("Filters", func(t *testing.T) { testLogFilters(t, open(t)) })
	t.Run("DeleteByFilter", func(t *testing.T) { testLogDelete(t, open(t)) })
	t.Run("Feedback", func(t *testing.T) { testLogFeedback(t, open(t)) })
	t.Run("RetentionByAge", func(t *testing.T) { testLogRetentionAge(t, open(t)) })
	t.Run("RetentionByCount", func(t *testing.T) { testLogRetentionCount(t, open(t)) })
	t.Run("AnalyticsEqualTheRecords", func(t *testing.T) { testLogAnalytics(t, open(t)) })
}

func ptr[T any](v T) *T { return &v }

// FullRecord is a record with every field set.
func FullRecord(id string, at time.Time) *usage.Record {
	return &usage.Record{
		ID: id, EventID: "evt-" + id, CreatedAt: at.UTC().Truncate(time.Microsecond),
		DurationMS: 1234, UpstreamMS: ptr(int64(1200)), TTFTMS: ptr(int64(150)),
		KeyID: "key_1", KeyName: "ci", Tenant: "acme", User: "alice",
		Metadata: map[string]any{"team": "search", "n": 5.0, "beta": true},
		Ingress:  "openai", Method: "POST", Path: "/v1/chat/completions", Kind: "chat", Stream: true,
		Provider: "openai", Model: "fast", ServedModel: "gpt-4o-mini", Route: "support/default/canary",
		Status: 200, Error: "", InputTokens: 120, OutputTokens: 45, CachedTokens: 100, Estimated: true,
		CostUSD: 0.0000477, CacheStatus: "MISS", Step: 1, Attempts: 2, ClientIP: "10.0.0.7",
		RequestBody: `{"model":"fast","messages":[{"role":"user","content":"héllo"}]}`, ResponseBody: `{"id":"x"}`,
		Truncated: true, Feedback: ptr(1), Score: ptr(87.5), Comment: "good",
	}
}

func insert(t *testing.T, s store.LogStore, recs ...*usage.Record) {
	t.Helper()
	for start := 0; start < len(recs); start += 250 {
		if err := s.InsertLogs(context.Background(), recs[start:min(start+250, len(recs))]); err != nil {
			t.Fatal(err)
		}
	}
}

func testLogInsertAndFetch(t *testing.T, s store.LogStore) {
	ctx := context.Background()
	want := FullRecord("log-1", time.Now())
	bare := &usage.Record{ID: "log-2", CreatedAt: want.CreatedAt.Add(time.Second), Status: 502, Error: "upstream down"}
	insert(t, s, want, bare)
	got, err := s.Log(ctx, "log-1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("fetched record differs:\n got %+v\nwant %+v", got, want)
	}
	got2, err := s.Log(ctx, "log-2")
	if err != nil {
		t.Fatal(err)
	}
	if got2.UpstreamMS != nil || got2.TTFTMS != nil || got2.Feedback != nil || got2.Score != nil || got2.Metadata != nil {
		t.Fatalf("absent values must stay absent: %+v", got2)
	}
	if _, err := s.Log(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing log: %v, want ErrNotFound", err)
	}
}

func testLogInsertIdempotent(t *testing.T, s store.LogStore) {
	ctx := context.Background()
	first := FullRecord("dup", time.Now())
	insert(t, s, first)
	again := FullRecord("dup", time.Now())
	again.Status = 500
	insert(t, s, again, FullRecord("other", time.Now()))
	got, err := s.Log(ctx, "dup")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != 200 {
		t.Fatal("a replayed id must not overwrite the stored record")
	}
	page, err := s.ListLogs(ctx, usage.Filter{}, usage.ListOptions{Limit: 10})
	if err != nil || len(page.Records) != 2 {
		t.Fatalf("%d records (%v), want 2", len(page.Records), err)
	}
}

// RandomRecords makes n records over a small domain of values, so that
// every filter selects some but not all. Timestamps repeat on purpose.
func RandomRecords(seed uint64, n int, base time.Time) []*usage.Record {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	pick := func(vals ...string) string { return vals[rng.IntN(len(vals))] }
	out := make([]*usage.Record, n)
	for i := range out {
		r := &usage.Record{
			ID:          fmt.Sprintf("%04d-%08x", i, rng.Uint32()),
			CreatedAt:   base.Add(time.Duration(rng.IntN(4*3600)) * time.Second).Truncate(time.Microsecond),
			DurationMS:  int64(rng.IntN(5000)),
			KeyID:       pick("k1", "k2", "k3", ""),
			Tenant:      pick("acme", "globex", ""),
			User:        pick("alice", "bob"),
			Provider:    pick("openai", "anthropic", ""),
			Model:       pick("fast", "openai/gpt-4o", "anthropic/claude-sonnet-4-5"),
			ServedModel: pick("gpt-4o", "claude-sonnet-4-5", ""),
			Status:      []int{200, 200, 200, 400, 429, 500, 502}[rng.IntN(7)],
			CacheStatus: pick("HIT", "MISS", "BYPASS", "SEMANTIC_HIT", ""),
			EventID:     pick("e1", "e2", ""),
			InputTokens: int64(rng.IntN(2000)), OutputTokens: int64(rng.IntN(800)), CachedTokens: int64(rng.IntN(50)),
			CostUSD:  float64(rng.IntN(100000)) / 1e7,
			Kind:     "chat",
			Ingress:  "openai",
			ClientIP: "127.0.0.1",
		}
		if rng.IntN(4) > 0 {
			r.TTFTMS = ptr(int64(rng.IntN(2000)))
		}
		if rng.IntN(10) == 0 {
			r.Error = "stream broke"
		}
		if rng.IntN(5) > 0 {
			r.Metadata = map[string]any{"team": pick("search", "ads"), "n": float64(rng.IntN(3))}
		}
		out[i] = r
	}
	return out
}

// newestFirst sorts records as listings return them.
func newestFirst(recs []*usage.Record) []*usage.Record {
	out := slices.Clone(recs)
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return out[i].ID > out[j].ID
	})
	return out
}

// listAll pages through a listing and returns the ids in order.
func listAll(t *testing.T, s store.LogStore, f usage.Filter, limit int) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatal("pagination does not end")
		}
		p, err := s.ListLogs(context.Background(), f, usage.ListOptions{Limit: limit, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Records) > limit {
			t.Fatalf("page of %d records, limit %d", len(p.Records), limit)
		}
		for _, r := range p.Records {
			if r.RequestBody != "" || r.ResponseBody != "" {
				t.Fatal("listings must not carry bodies unless asked")
			}
			ids = append(ids, r.ID)
		}
		if p.NextCursor == "" {
			return ids
		}
		if len(p.Records) != limit {
			t.Fatalf("short page (%d of %d) with a next cursor", len(p.Records), limit)
		}
		cursor = p.NextCursor
	}
}

func idsOf(recs []*usage.Record, f usage.Filter) []string {
	var ids []string
	for _, r := range newestFirst(recs) {
		if f.Match(r) {
			ids = append(ids, r.ID)
		}
	}
	return ids
}

func testLogPagination(t *testing.T, s store.LogStore) {
	base := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	recs := RandomRecords(1, 137, base)
	for i := 0; i < 20; i++ { // identical timestamps must page by id
		recs[i].CreatedAt = base
	}
	insert(t, s, recs...)
	want := idsOf(recs, usage.Filter{})
	for _, limit := range []int{1, 10, 136, 137, 500} {
		if got := listAll(t, s, usage.Filter{}, limit); !slices.Equal(got, want) {
			t.Fatalf("limit %d: pages give %d ids, want %d in newest-first order", limit, len(got), len(want))
		}
	}
	p, err := s.ListLogs(context.Background(), usage.Filter{}, usage.ListOptions{Limit: 1, Payloads: true})
	if err != nil || len(p.Records) != 1 {
		t.Fatal(err)
	}
	if _, err := s.ListLogs(context.Background(), usage.Filter{}, usage.ListOptions{Cursor: "garbage!"}); err == nil {
		t.Fatal("a bad cursor must be an error")
	}
}

// FilterCases are filters over RandomRecords' domain.
func FilterCases(base time.Time) map[string]usage.Filter {
	return map[string]usage.Filter{
		"since":            {Since: base.Add(time.Hour)},
		"until":            {Until: base.Add(2 * time.Hour)},
		"range":            {Since: base.Add(time.Hour), Until: base.Add(90 * time.Minute)},
		"key":              {KeyID: "k2"},
		"key empty domain": {KeyID: "nobody"},
		"tenant":           {Tenant: "acme"},
		"user":             {User: "bob"},
		"model requested":  {Model: "fast"},
		"model served":     {Model: "gpt-4o"},
		"provider":         {Provider: "anthropic"},
		"status exact":     {StatusMin: 429, StatusMax: 429},
		"status class":     {StatusMin: 500, StatusMax: 599},
		"errors":           {Errors: true},
		"success":          {Success: true},
		"cache status":     {CacheStatus: "HIT"},
		"event":            {EventID: "e2"},
		"metadata string":  {Metadata: map[string]string{"team": "ads"}},
		"metadata number":  {Metadata: map[string]string{"n": "2"}},
		"metadata both":    {Metadata: map[string]string{"team": "search", "n": "0"}},
		"combined":         {Tenant: "acme", Provider: "openai", Errors: true, Since: base.Add(30 * time.Minute)},
	}
}

func testLogFilters(t *testing.T, s store.LogStore) {
	base := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	recs := RandomRecords(2, 600, base)
	// One batch: large enough for the stores' full-chunk statements.
	if err := s.InsertLogs(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	for name, f := range FilterCases(base) {
		t.Run(name, func(t *testing.T) {
			want := idsOf(recs, f)
			if name != "key empty domain" && (len(want) == 0 || len(want) == len(recs)) {
				t.Fatalf("test data does not exercise this filter (%d of %d match)", len(want), len(recs))
			}
			if got := listAll(t, s, f, 37); !slices.Equal(got, want) {
				t.Fatalf("got %d ids, want %d (first got %v, first want %v)", len(got), len(want), head(got), head(want))
			}
		})
	}
}

func head(s []string) []string { return s[:min(3, len(s))] }

func testLogDelete(t *testing.T, s store.LogStore) {
	ctx := context.Background()
	base := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	recs := RandomRecords(3, 300, base)
	insert(t, s, recs...)
	f := usage.Filter{Tenant: "globex", Metadata: map[string]string{"team": "ads"}}
	want := idsOf(recs, f)
	n, err := s.DeleteLogs(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(want)) || n == 0 {
		t.Fatalf("deleted %d, want %d", n, len(want))
	}
	var rest []*usage.Record
	for _, r := range recs {
		if !f.Match(r) {
			rest = append(rest, r)
		}
	}
	if got := listAll(t, s, usage.Filter{}, 100); !slices.Equal(got, idsOf(rest, usage.Filter{})) {
		t.Fatal("the wrong records were deleted")
	}
	if got := listAll(t, s, usage.Filter{Metadata: map[string]string{"team": "ads"}}, 100); !slices.Equal(got,
		idsOf(rest, usage.Filter{Metadata: map[string]string{"team": "ads"}})) {
		t.Fatal("metadata of deleted records is still found")
	}
	// A record id deleted can be written again (its metadata rows went too).
	insert(t, s, recs[slices.IndexFunc(recs, func(r *usage.Record) bool { return f.Match(r) })])
}

func testLogFeedback(t *testing.T, s store.LogStore) {
	ctx := context.Background()
	insert(t, s, &usage.Record{ID: "fb", CreatedAt: time.Now().UTC().Truncate(time.Microsecond), Status: 200})
	if err := s.SetFeedback(ctx, "fb", usage.FeedbackUpdate{Feedback: ptr(-1)}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetFeedback(ctx, "fb", usage.FeedbackUpdate{Score: ptr(42.0), Comment: ptr("wrong answer")}); err != nil {
		t.Fatal(err)
	}
	r, err := s.Log(ctx, "fb")
	if err != nil {
		t.Fatal(err)
	}
	if r.Feedback == nil || *r.Feedback != -1 || r.Score == nil || *r.Score != 42 || r.Comment != "wrong answer" {
		t.Fatalf("feedback not stored: %v %v %q", r.Feedback, r.Score, r.Comment)
	}
	if err := s.SetFeedback(ctx, "missing", usage.FeedbackUpdate{Feedback: ptr(1)}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("feedback on a missing log: %v", err)
	}
}

func testLogRetentionAge(t *testing.T, s store.LogStore) {
	now := time.Now().UTC()
	var recs []*usage.Record
	for i := 0; i < 50; i++ {
		recs = append(recs, &usage.Record{ID: fmt.Sprintf("r%02d", i), CreatedAt: now.Add(-time.Duration(i) * time.Hour).Truncate(time.Microsecond)})
	}
	insert(t, s, recs...)
	n, err := s.PruneLogs(context.Background(), usage.Retention{MaxAge: 24*time.Hour + 30*time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if n != 25 {
		t.Fatalf("pruned %d, want 25 (older than 24.5h)", n)
	}
	if got := listAll(t, s, usage.Filter{}, 100); len(got) != 25 || got[len(got)-1] != "r24" {
		t.Fatalf("kept %v", got)
	}
}

func testLogRetentionCount(t *testing.T, s store.LogStore) {
	base := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	recs := RandomRecords(4, 120, base)
	insert(t, s, recs...)
	n, err := s.PruneLogs(context.Background(), usage.Retention{MaxCount: 100})
	if err != nil {
		t.Fatal(err)
	}
	if n != 20 {
		t.Fatalf("pruned %d, want 20", n)
	}
	want := idsOf(recs, usage.Filter{})[:100]
	if got := listAll(t, s, usage.Filter{}, 1000); !slices.Equal(got, want) {
		t.Fatal("retention by count must keep the newest records")
	}
	if n, err := s.PruneLogs(context.Background(), usage.Retention{MaxCount: 1000}); err != nil || n != 0 {
		t.Fatalf("nothing to prune: %d %v", n, err)
	}
}

// expectedAnalytics aggregates records the slow, obvious way.
func expectedAnalytics(recs []*usage.Record, q usage.AnalyticsQuery) map[string]usage.AnalyticsRow {
	type acc struct {
		row        usage.AnalyticsRow
		lat, ttfts []float64
	}
	m := map[string]*acc{}
	for _, r := range recs {
		if !q.Filter.Match(r) {
			continue
		}
		var bucket time.Time
		if q.Interval > 0 {
			bucket = time.UnixMicro(r.CreatedAt.UnixMicro() - r.CreatedAt.UnixMicro()%q.Interval.Microseconds()).UTC()
		}
		g := usage.GroupOf(r, q.GroupBy)
		k := bucket.String() + "|" + g
		a := m[k]
		if a == nil {
			a = &acc{row: usage.AnalyticsRow{Bucket: bucket, Group: g}}
			m[k] = a
		}
		a.row.Requests++
		if r.Status >= 400 || r.Error != "" {
			a.row.Errors++
		}
		if r.CacheStatus == "HIT" || r.CacheStatus == "SEMANTIC_HIT" {
			a.row.CacheHits++
		}
		a.row.InputTokens += r.InputTokens
		a.row.OutputTokens += r.OutputTokens
		a.row.CachedTokens += r.CachedTokens
		a.row.CostUSD += r.CostUSD
		a.lat = append(a.lat, float64(r.DurationMS))
		if r.TTFTMS != nil {
			a.ttfts = append(a.ttfts, float64(*r.TTFTMS))
		}
	}
	pct := func(v []float64, p float64) float64 {
		if len(v) == 0 {
			return 0
		}
		sort.Float64s(v)
		pos := p * float64(len(v)-1)
		lo := int(math.Floor(pos))
		hi := int(math.Ceil(pos))
		return v[lo] + (v[hi]-v[lo])*(pos-float64(lo))
	}
	out := map[string]usage.AnalyticsRow{}
	for k, a := range m {
		r := a.row
		r.CacheHitRate = float64(r.CacheHits) / float64(r.Requests)
		r.LatencyP50, r.LatencyP95, r.LatencyP99 = pct(a.lat, .5), pct(a.lat, .95), pct(a.lat, .99)
		r.TTFTP50, r.TTFTP95, r.TTFTP99 = pct(a.ttfts, .5), pct(a.ttfts, .95), pct(a.ttfts, .99)
		out[k] = r
	}
	return out
}

func approxEqual(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func testLogAnalytics(t *testing.T, s store.LogStore) {
	base := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	recs := RandomRecords(5, 800, base)
	insert(t, s, recs...)
	queries := map[string]usage.AnalyticsQuery{
		"total":              {},
		"hourly":             {Interval: time.Hour},
		"by model":           {GroupBy: usage.GroupModel},
		"by provider hourly": {GroupBy: usage.GroupProvider, Interval: time.Hour},
		"by key per 10m":     {GroupBy: usage.GroupKey, Interval: 10 * time.Minute},
		"by tenant filtered": {GroupBy: usage.GroupTenant, Filter: usage.Filter{Provider: "openai", Since: base.Add(time.Hour)}},
		"empty":              {Filter: usage.Filter{KeyID: "nobody"}},
	}
	for name, q := range queries {
		t.Run(name, func(t *testing.T) {
			rows, err := s.Analytics(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			want := expectedAnalytics(recs, q)
			if len(rows) != len(want) {
				t.Fatalf("%d rows, want %d", len(rows), len(want))
			}
			for i, got := range rows {
				if i > 0 {
					prev := rows[i-1]
					if got.Bucket.Before(prev.Bucket) || (got.Bucket.Equal(prev.Bucket) && got.Group <= prev.Group) {
						t.Fatal("rows must be ordered by bucket, then group")
					}
				}
				w, ok := want[got.Bucket.String()+"|"+got.Group]
				if !ok {
					t.Fatalf("unexpected row %+v", got)
				}
				if got.Requests != w.Requests || got.Errors != w.Errors || got.CacheHits != w.CacheHits ||
					got.InputTokens != w.InputTokens || got.OutputTokens != w.OutputTokens || got.CachedTokens != w.CachedTokens {
					t.Fatalf("counts differ:\n got %+v\nwant %+v", got, w)
				}
				for _, f := range [][2]float64{{got.CostUSD, w.CostUSD}, {got.CacheHitRate, w.CacheHitRate},
					{got.LatencyP50, w.LatencyP50}, {got.LatencyP95, w.LatencyP95}, {got.LatencyP99, w.LatencyP99},
					{got.TTFTP50, w.TTFTP50}, {got.TTFTP95, w.TTFTP95}, {got.TTFTP99, w.TTFTP99}} {
					if !approxEqual(f[0], f[1]) {
						t.Fatalf("aggregates differ:\n got %+v\nwant %+v", got, w)
					}
				}
			}
		})
	}
}
