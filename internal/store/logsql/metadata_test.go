package logsql

import (
	"encoding/json"
	"math"
	"testing"
)

// The fast metadata encoder must write what json.Marshal writes, or step
// aside.
func TestMetadataJSONMatchesEncodingJSON(t *testing.T) {
	for _, md := range []map[string]any{
		{"team": "search", "n": 5.0, "beta": true},
		{"a": 0.1, "b": math.Copysign(0, -1), "c": 1e20, "d": 1e21, "e": 1e-7, "f": 123456789.125, "g": nil},
		{"z": 1, "y": int64(-7), "x": false},
		{"html": "<b>&</b>", "quote": `say "hi"`, "uni": "héllo", "ctl": "a\nb"},
		{"nested": map[string]any{"k": []any{1.0, "x"}}},
		{"k\"ey": "v"},
		{"nan": math.NaN()},
		{"inf": math.Inf(1)},
	} {
		checkMetadataJSON(t, md)
	}
}

func FuzzMetadataJSON(f *testing.F) {
	f.Add("team", "search", 5.0, true)
	f.Add("a<b", "x\u2028", 1e21, false)
	f.Fuzz(func(t *testing.T, k, v string, n float64, b bool) {
		checkMetadataJSON(t, map[string]any{k: v, k + "n": n, k + "b": b})
	})
}

func checkMetadataJSON(t *testing.T, md map[string]any) {
	t.Helper()
	got := MetadataJSON(md)
	b, err := json.Marshal(md)
	if err != nil {
		if got != nil {
			t.Fatalf("%v: got %q, json.Marshal fails: %v", md, got, err)
		}
		return
	}
	if got != string(b) {
		t.Fatalf("%v: got %q, want %q", md, got, b)
	}
}
