package usage

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func TestParseFilter(t *testing.T) {
	tests := []struct {
		query   string
		want    Filter
		wantErr string
	}{
		{query: "", want: Filter{}},
		{query: "since=1h&until=2025-06-01T11:30:00Z", want: Filter{
			Since: testNow.Add(-time.Hour), Until: time.Date(2025, 6, 1, 11, 30, 0, 0, time.UTC)}},
		{query: "since=1748779200", want: Filter{Since: time.Unix(1748779200, 0).UTC()}},
		{query: "key=k1&tenant=acme&user=u&model=gpt-4o&provider=openai&event_id=e1",
			want: Filter{KeyID: "k1", Tenant: "acme", User: "u", Model: "gpt-4o", Provider: "openai", EventID: "e1"}},
		{query: "status=429", want: Filter{StatusMin: 429, StatusMax: 429}},
		{query: "status=5xx", want: Filter{StatusMin: 500, StatusMax: 599}},
		{query: "status=error", want: Filter{Errors: true}},
		{query: "status=success", want: Filter{Success: true}},
		{query: "cache_status=hit", want: Filter{CacheStatus: "HIT"}},
		{query: "metadata.team=search&metadata.n=5", want: Filter{Metadata: map[string]string{"team": "search", "n": "5"}}},
		{query: "limit=5", want: Filter{}}, // allowed extra
		{query: "stauts=500", wantErr: `unknown parameter "stauts"`},
		{query: "status=600", wantErr: "status code"},
		{query: "status=abc", wantErr: "status code"},
		{query: "cache_status=maybe", wantErr: "HIT, MISS"},
		{query: "since=yesterday", wantErr: "RFC 3339"},
		{query: "since=-5h", wantErr: "out of range"},
		{query: "since=2h&until=3h", wantErr: "since must be before until"},
		{query: "key=a&key=b", wantErr: "once"},
		{query: "metadata.=x", wantErr: "metadata filter"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseFilter(q, testNow, "limit")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
			back, err := ParseFilter(got.Values(), testNow)
			if err != nil || !reflect.DeepEqual(back, got) {
				t.Fatalf("Values round trip: %+v (%v)", back, err)
			}
		})
	}
}

func TestParseAnalytics(t *testing.T) {
	q, _ := url.ParseQuery("interval=hour&group_by=model&provider=openai")
	a, err := ParseAnalytics(q, testNow)
	if err != nil || a.Interval != time.Hour || a.GroupBy != GroupModel || a.Filter.Provider != "openai" {
		t.Fatalf("%+v %v", a, err)
	}
	for _, bad := range []string{"interval=0s", "interval=1500ms", "group_by=colour", "interval=week"} {
		q, _ := url.ParseQuery(bad)
		if _, err := ParseAnalytics(q, testNow); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestFilterMatch(t *testing.T) {
	r := &Record{ID: "a", CreatedAt: testNow, KeyID: "k", Tenant: "t", Model: "fast", ServedModel: "gpt-4o-mini",
		Provider: "openai", Status: 200, CacheStatus: "MISS", Metadata: map[string]any{"n": 5.0, "ok": true, "s": "x"}}
	match := []Filter{
		{}, {Model: "fast"}, {Model: "gpt-4o-mini"}, {Since: testNow}, {Until: testNow.Add(time.Microsecond)},
		{Success: true}, {StatusMin: 200, StatusMax: 299}, {Metadata: map[string]string{"n": "5", "ok": "true", "s": "x"}},
	}
	for _, f := range match {
		if !f.Match(r) {
			t.Errorf("%+v should match", f)
		}
	}
	miss := []Filter{
		{Model: "gpt-4o"}, {Until: testNow}, {Since: testNow.Add(time.Microsecond)}, {Errors: true},
		{Metadata: map[string]string{"n": "5.0"}}, {Metadata: map[string]string{"missing": ""}}, {KeyID: "other"},
	}
	for _, f := range miss {
		if f.Match(r) {
			t.Errorf("%+v should not match", f)
		}
	}
}

func TestCursorRoundTrip(t *testing.T) {
	r := &Record{ID: "0190-abc", CreatedAt: time.UnixMicro(1748779200123456)}
	c, err := DecodeCursor(EncodeCursor(r))
	if err != nil || c.CreatedUS != 1748779200123456 || c.ID != "0190-abc" {
		t.Fatalf("%+v %v", c, err)
	}
	for _, bad := range []string{"", "!!", "bm9waXBl", "MTIz"} {
		if _, err := DecodeCursor(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestPercentileInterpolates(t *testing.T) {
	v := []float64{10, 20, 30, 40}
	for p, want := range map[float64]float64{0: 10, .5: 25, 1: 40, .95: 38.5} {
		if got := Percentile(v, p); got < want-1e-9 || got > want+1e-9 {
			t.Errorf("p%v = %v, want %v", p, got, want)
		}
	}
	if Percentile(nil, .5) != 0 || Percentile([]float64{7}, .99) != 7 {
		t.Error("edge cases")
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		"since=1h&status=4xx", "metadata.a=b&model=x", "until=2025-01-01T00:00:00Z", "status=error",
		"cache_status=semantic_hit", "since=99999999999999", "key=%00", "interval=hour&group_by=key",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		filter, err := ParseFilter(q, testNow, "interval", "group_by")
		if err != nil {
			return
		}
		back, err := ParseFilter(filter.Values(), testNow)
		if err != nil {
			t.Fatalf("re-parsing %v: %v", filter.Values(), err)
		}
		if !reflect.DeepEqual(back, filter) {
			t.Fatalf("round trip changed the filter:\n%+v\n%+v", filter, back)
		}
		_, _ = ParseAnalytics(q, testNow)
	})
}

func FuzzDecodeCursor(f *testing.F) {
	f.Add(EncodeCursor(&Record{ID: "x", CreatedAt: testNow}))
	f.Add("")
	f.Add("MTIzfA")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := DecodeCursor(s)
		if err != nil {
			return
		}
		again := EncodeCursor(&Record{ID: c.ID, CreatedAt: time.UnixMicro(c.CreatedUS)})
		if c2, err := DecodeCursor(again); err != nil || c2 != c {
			t.Fatalf("cursor %q does not round trip: %+v %+v %v", s, c, c2, err)
		}
	})
}
