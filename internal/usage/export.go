package usage

import (
	"encoding/json"
	"strconv"
	"time"
)

// CSVHeader is the header row of a CSV export; bodies come last when kept.
func CSVHeader(bodies bool) []string {
	h := []string{
		"id", "created_at", "duration_ms", "upstream_ms", "ttft_ms", "status", "error",
		"provider", "model", "served_model", "route", "key_id", "key_name", "tenant", "user",
		"input_tokens", "output_tokens", "cached_tokens", "tokens_estimated", "cost_usd",
		"cache_status", "step", "attempts", "stream", "kind", "ingress", "method", "path",
		"client_ip", "event_id", "metadata", "feedback", "score", "comment",
	}
	if bodies {
		h = append(h, "request_body", "response_body")
	}
	return h
}

// CSVRow is r as a CSV row in CSVHeader's order; absent values are empty.
func (r *Record) CSVRow(bodies bool) []string {
	optInt := func(p *int64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatInt(*p, 10)
	}
	md := metadataJSON(r.Metadata)
	fb, score := "", ""
	if r.Feedback != nil {
		fb = strconv.Itoa(*r.Feedback)
	}
	if r.Score != nil {
		score = strconv.FormatFloat(*r.Score, 'f', -1, 64)
	}
	row := []string{
		r.ID, r.CreatedAt.UTC().Format(time.RFC3339Nano), strconv.FormatInt(r.DurationMS, 10),
		optInt(r.UpstreamMS), optInt(r.TTFTMS), strconv.Itoa(r.Status), r.Error,
		r.Provider, r.Model, r.ServedModel, r.Route, r.KeyID, r.KeyName, r.Tenant, r.User,
		strconv.FormatInt(r.InputTokens, 10), strconv.FormatInt(r.OutputTokens, 10), strconv.FormatInt(r.CachedTokens, 10),
		strconv.FormatBool(r.Estimated), strconv.FormatFloat(r.CostUSD, 'f', -1, 64),
		r.CacheStatus, strconv.Itoa(r.Step), strconv.Itoa(r.Attempts), strconv.FormatBool(r.Stream),
		r.Kind, r.Ingress, r.Method, r.Path, r.ClientIP, r.EventID, md, fb, score, r.Comment,
	}
	if bodies {
		row = append(row, r.RequestBody, r.ResponseBody)
	}
	return row
}

func metadataJSON(md map[string]any) string {
	if len(md) == 0 {
		return ""
	}
	b, err := json.Marshal(md)
	if err != nil {
		return ""
	}
	return string(b)
}
