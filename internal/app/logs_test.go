package app

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aigateway/aigateway/internal/usage"
)

// logsConfig is the default test config plus an admin token and fast log
// flushing; extra YAML is appended.
func logsConfig(extra string) string {
	return `
providers_from_env: false
providers:
  - id: openai
    base_url: ${FAKE_URL}
    api_key: sk-fake
admin: {token: ` + adminToken + `}
` + extra
}

// flushLogs waits until every record enqueued so far is in the store.
func (g *testGateway) flushLogs(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := g.gw.Observability().Writer.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// admin calls the admin API and decodes a JSON answer into out (if given).
func (g *testGateway) admin(t *testing.T, method, path, body string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, g.srv.URL+"/admin/v1"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

func (g *testGateway) logRecord(t *testing.T, id string) *usage.Record {
	t.Helper()
	var r usage.Record
	if code := g.admin(t, "GET", "/logs/"+id, "", &r); code != 200 {
		t.Fatalf("GET /logs/%s: %d", id, code)
	}
	return &r
}

func TestLogRecordOfAChatCompletion(t *testing.T) {
	g := newTestGateway(t, logsConfig(""))
	resp := g.do(t, "POST", "/v1/chat/completions", chatBody("openai/gpt-4o-mini", "hello logs"),
		"x-aig-metadata", `{"team":"search","n":3}`, "x-aig-event-id", "evt-42")
	body := readBody(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	var answer struct {
		Usage struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
		} `json:"usage"`
	}
	_ = json.Unmarshal(body, &answer)
	g.flushLogs(t)
	id := resp.Header.Get("x-aig-log-id")
	r := g.logRecord(t, id)

	if r.ID != id || r.EventID != "evt-42" || r.Provider != "openai" || r.Model != "openai/gpt-4o-mini" ||
		r.ServedModel != "gpt-4o-mini" || r.Status != 200 || r.Error != "" || r.Kind != "chat" ||
		r.Ingress != "openai" || r.Path != "/v1/chat/completions" || r.Method != "POST" || r.Attempts != 1 ||
		r.ClientIP != "127.0.0.1" || r.Stream || r.Estimated {
		t.Errorf("record: %+v", r)
	}
	if r.InputTokens != int64(answer.Usage.PromptTokens) || r.OutputTokens != int64(answer.Usage.CompletionTokens) || r.InputTokens == 0 {
		t.Errorf("tokens %d/%d, provider said %+v", r.InputTokens, r.OutputTokens, answer.Usage)
	}
	// gpt-4o-mini: $0.15 in, $0.60 out per million
	want := (float64(r.InputTokens)*0.15 + float64(r.OutputTokens)*0.6) / 1e6
	if math.Abs(r.CostUSD-want) > 1e-15 {
		t.Errorf("cost %v, want %v", r.CostUSD, want)
	}
	if r.Metadata["team"] != "search" || r.Metadata["n"] != 3.0 {
		t.Errorf("metadata %v", r.Metadata)
	}
	if r.TTFTMS == nil || r.UpstreamMS == nil || r.DurationMS < *r.TTFTMS || time.Since(r.CreatedAt) > time.Minute {
		t.Errorf("times: created %v duration %d ttft %v upstream %v", r.CreatedAt, r.DurationMS, r.TTFTMS, r.UpstreamMS)
	}
	if !strings.Contains(r.RequestBody, "hello logs") || !strings.Contains(r.ResponseBody, "Hello from fake: hello logs") {
		t.Errorf("bodies: %q / %q", r.RequestBody, r.ResponseBody)
	}
}

func TestLogRecordOfAStream(t *testing.T) {
	g := newTestGateway(t, logsConfig(""))
	resp := g.do(t, "POST", "/v1/chat/completions", chatBody("openai/gpt-4o-mini", "stream to the log", `"stream":true`))
	body := readBody(t, resp)
	g.flushLogs(t)
	r := g.logRecord(t, resp.Header.Get("x-aig-log-id"))
	if !r.Stream || r.Status != 200 || r.Estimated || r.InputTokens == 0 || r.OutputTokens != 7 {
		t.Errorf("record: %+v", r)
	}
	if strings.Contains(string(body), `"usage":{`) {
		t.Error("usage reached a client that did not ask for it")
	}
	var resp2 struct {
		Object  string `json:"object"`
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal([]byte(r.ResponseBody), &resp2); err != nil || resp2.Object != "chat.completion" ||
		resp2.Choices[0].Message.Content != "Hello from fake: stream to the log" {
		t.Errorf("a streamed answer is logged as the response it adds up to: %s (%v)", r.ResponseBody, err)
	}
}

func TestStreamWithoutProviderUsageIsEstimated(t *testing.T) {
	g := newTestGateway(t, `
providers_from_env: false
providers:
  - id: openai
    base_url: ${FAKE_URL}
    api_key: sk-fake
    stream_usage: false
admin: {token: `+adminToken+`}
`)
	resp := g.do(t, "POST", "/v1/chat/completions", chatBody("openai/gpt-4o", "count my tokens please", `"stream":true`))
	readBody(t, resp)
	g.flushLogs(t)
	r := g.logRecord(t, resp.Header.Get("x-aig-log-id"))
	if !r.Estimated {
		t.Fatalf("usage missing from the provider must be estimated: %+v", r)
	}
	e := usage.NewEstimator()
	wantOut := int64(e.Tokens("gpt-4o", "Hello from fake: count my tokens please"))
	if r.OutputTokens != wantOut || r.InputTokens < 8 {
		t.Errorf("estimated %d in / %d out, want out %d", r.InputTokens, r.OutputTokens, wantOut)
	}
	want := (float64(r.InputTokens)*2.5 + float64(r.OutputTokens)*10) / 1e6
	if math.Abs(r.CostUSD-want) > 1e-15 {
		t.Errorf("cost %v, want %v", r.CostUSD, want)
	}
}

func TestCostWithCachedTokensAndOverridesFollowsTheTable(t *testing.T) {
	g := newTestGateway(t, logsConfig(`
pricing:
  models:
    - {model: openai/gpt-4o-mini, input: 1, output: 4, cached_input: 0.25}
`))
	g.fake.Enqueue(func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"c","object":"chat.completion","created":1,"model":"gpt-4o-mini",
			"choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],
			"usage":{"prompt_tokens":3000,"completion_tokens":500,"total_tokens":3500,
			"prompt_tokens_details":{"cached_tokens":2000}}}`)
		return true
	})
	resp := g.do(t, "POST", "/v1/chat/completions", chatBody("openai/gpt-4o-mini", "x"))
	readBody(t, resp)
	g.flushLogs(t)
	r := g.logRecord(t, resp.Header.Get("x-aig-log-id"))
	want := (1000*1 + 2000*0.25 + 500*4) / 1e6
	if r.InputTokens != 3000 || r.CachedTokens != 2000 || math.Abs(r.CostUSD-want) > 1e-15 {
		t.Fatalf("tokens %d (cached %d), cost %v, want %v", r.InputTokens, r.CachedTokens, r.CostUSD, want)
	}
}

func TestCustomCostHeader(t *testing.T) {
	for _, allowed := range []bool{true, false} {
		t.Run(fmt.Sprint("allowed=", allowed), func(t *testing.T) {
			g := newTestGateway(t, logsConfig(fmt.Sprintf("pricing: {allow_custom_cost: %v}\n", allowed)))
			resp := g.do(t, "POST", "/v1/chat/completions", chatBody("openai/gpt-4o-mini", "x"),
				"cf-aig-custom-cost", `{"per_token_in":0.01,"per_token_out":0.02}`)
			readBody(t, resp)
			g.flushLogs(t)
			r := g.logRecord(t, resp.Header.Get("x-aig-log-id"))
			want := float64(r.InputTokens)*0.01 + float64(r.OutputTokens)*0.02
			if !allowed {
				want = (float64(r.InputTokens)*0.15 + float64(r.OutputTokens)*0.6) / 1e6
			}
			if math.Abs(r.CostUSD-want) > 1e-12 {
				t.Fatalf("cost %v, want %v", r.CostUSD, want)
			}
		})
	}
}

func TestLogCollectionHeadersAndRefusals(t *testing.T) {
	g := newTestGateway(t, logsConfig(""))
	noLog := g.do(t, "POST", "/v1/chat/completions", chatBody("openai/gpt-4o-mini", "secret"), "x-aig-collect-log", "false")
	readBody(t, noLog)
	noPayload := g.do(t, "POST", "/v1/chat/completions", chatBody("openai/gpt-4o-mini", "secret"), "cf-aig-collect-log-payload", "false")
	readBody(t, noPayload)
	unknown := g.do(t, "POST", "/v1/chat/completions", chatBody("nosuch/model", "x"))
	readBody(t, unknown)
	badHeader := g.do(t, "POST", "/v1/chat/completions", chatBody("openai/gpt-4o-mini", "x"), "x-aig-max-attempts", "zero")
	readBody(t, badHeader)
	upstreamErr := g.do(t, "POST", "/v1/chat/completions", chatBody("openai/error-503", "x"))
	readBody(t, upstreamErr)
	g.flushLogs(t)

	if code := g.admin(t, "GET", "/logs/"+noLog.Header.Get("x-aig-log-id"), "", nil); code != 404 {
		t.Errorf("x-aig-collect-log: false still logged (%d)", code)
	}
	r := g.logRecord(t, noPayload.Header.Get("x-aig-log-id"))
	if r.RequestBody != "" || r.ResponseBody != "" || r.InputTokens == 0 {
		t.Errorf("payload opt-out: %+v", r)
	}
	r = g.logRecord(t, unknown.Header.Get("x-aig-log-id"))
	if r.Status != 404 || !strings.Contains(r.Error, "nosuch") || r.Provider != "" {
		t.Errorf("unknown model: %+v", r)
	}
	r = g.logRecord(t, badHeader.Header.Get("x-aig-log-id"))
	if r.Status != 400 || !strings.Contains(r.Error, "max-attempts") {
		t.Errorf("bad header: %+v", r)
	}
	r = g.logRecord(t, upstreamErr.Header.Get("x-aig-log-id"))
	if r.Status != 503 || r.Provider != "openai" || r.CostUSD != 0 || !strings.Contains(r.Error, "503") {
		t.Errorf("upstream error: %+v", r)
	}
}

func TestPayloadsAreCappedAndCanBeTurnedOff(t *testing.T) {
	g := newTestGateway(t, logsConfig("logs: {max_payload_bytes: 100}\n"))
	long := strings.Repeat("é", 200)
	resp := g.do(t, "POST", "/v1/chat/completions", chatBody("openai/gpt-4o-mini", long))
	readBody(t, resp)
	g.flushLogs(t)
	r := g.logRecord(t, resp.Header.Get("x-aig-log-id"))
	if len(r.RequestBody) > 100 || len(r.ResponseBody) > 100 || !r.Truncated || !strings.HasPrefix(r.RequestBody, `{"model"`) {
		t.Fatalf("cap: %d/%d bytes, truncated %v", len(r.RequestBody), len(r.ResponseBody), r.Truncated)
	}

	off := newTestGateway(t, logsConfig("logs: {payloads: false}\n"))
	resp = off.do(t, "POST", "/v1/chat/completions", chatBody("openai/gpt-4o-mini", "x"))
	readBody(t, resp)
	off.flushLogs(t)
	if r := off.logRecord(t, resp.Header.Get("x-aig-log-id")); r.RequestBody != "" || r.ResponseBody != "" {
		t.Fatal("payloads: false still keeps bodies")
	}
}

func TestLogOfANativePassthrough(t *testing.T) {
	g := newTestGateway(t, logsConfig(""))
	resp := g.do(t, "POST", "/openai/chat/completions", chatBody("gpt-4o-mini", "native"))
	body := readBody(t, resp)
	g.flushLogs(t)
	r := g.logRecord(t, resp.Header.Get("x-aig-log-id"))
	if r.Kind != "native" || r.Ingress != "passthrough" || r.Status != 200 || r.Provider != "openai" || r.ResponseBody != string(body) {
		t.Fatalf("native record: %+v", r)
	}
}

func TestAdminLogsAPI(t *testing.T) {
	g := newTestGateway(t, logsConfig(""))
	var ids []string
	for i := 0; i < 7; i++ {
		model := "openai/gpt-4o-mini"
		if i%3 == 0 {
			model = "openai/error-429"
		}
		team := []string{"a", "b"}[i%2]
		resp := g.do(t, "POST", "/v1/chat/completions", chatBody(model, fmt.Sprint("n", i)), "x-aig-metadata", `{"team":"`+team+`"}`)
		readBody(t, resp)
		ids = append(ids, resp.Header.Get("x-aig-log-id"))
	}
	g.flushLogs(t)

	var page usage.Page
	if code := g.admin(t, "GET", "/logs?limit=3", "", &page); code != 200 || len(page.Records) != 3 || page.NextCursor == "" {
		t.Fatalf("first page: %d %+v", code, page)
	}
	if page.Records[0].ID != ids[6] || page.Records[0].RequestBody != "" {
		t.Errorf("listing is newest first without bodies: %+v", page.Records[0])
	}
	var all []string
	cursor := ""
	for {
		var p usage.Page
		g.admin(t, "GET", "/logs?limit=3&cursor="+cursor, "", &p)
		for _, r := range p.Records {
			all = append(all, r.ID)
		}
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	if len(all) != 7 || all[6] != ids[0] {
		t.Errorf("pages: %v", all)
	}
	var errs usage.Page
	g.admin(t, "GET", "/logs?status=429&metadata.team=a", "", &errs)
	if len(errs.Records) != 2 || errs.Records[0].ID != ids[6] || errs.Records[1].ID != ids[0] {
		t.Errorf("filtered: %+v", errs.Records)
	}
	for _, bad := range []string{"/logs?stauts=1", "/logs?limit=0", "/logs?cursor=xx", "/logs?since=soon"} {
		if code := g.admin(t, "GET", bad, "", nil); code != 400 {
			t.Errorf("GET %s: %d, want 400", bad, code)
		}
	}

	// feedback
	var fb usage.Record
	if code := g.admin(t, "POST", "/logs/"+ids[1]+"/feedback", `{"feedback":1,"score":90,"comment":"great"}`, &fb); code != 200 ||
		fb.Feedback == nil || *fb.Feedback != 1 || *fb.Score != 90 || fb.Comment != "great" {
		t.Errorf("feedback: %d %+v", code, fb)
	}
	for body, want := range map[string]int{`{"feedback":2}`: 400, `{"score":101}`: 400, `{}`: 400, `{"thumbs":1}`: 400} {
		if code := g.admin(t, "POST", "/logs/"+ids[1]+"/feedback", body, nil); code != want {
			t.Errorf("feedback %s: %d, want %d", body, code, want)
		}
	}
	if code := g.admin(t, "POST", "/logs/nope/feedback", `{"feedback":-1}`, nil); code != 404 {
		t.Errorf("feedback on a missing log: %d", code)
	}

	// export
	req, _ := http.NewRequest("GET", g.srv.URL+"/admin/v1/logs/export?format=csv&status=success&payloads=true", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(resp.Body).ReadAll()
	resp.Body.Close()
	if err != nil || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" || len(rows) != 1+4 ||
		rows[0][0] != "id" || rows[0][len(rows[0])-1] != "response_body" || !strings.Contains(rows[1][len(rows[1])-2], "n5") {
		t.Errorf("csv export (%v): %v", err, rows)
	}
	req, _ = http.NewRequest("GET", g.srv.URL+"/admin/v1/logs/export", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	var first usage.Record
	if len(lines) != 7 || json.Unmarshal(lines[0], &first) != nil || first.ID != ids[6] || first.RequestBody != "" {
		t.Errorf("jsonl export: %d lines, first %+v", len(lines), first)
	}

	// delete
	if code := g.admin(t, "DELETE", "/logs", "", nil); code != 400 {
		t.Errorf("an unfiltered delete must be explicit: %d", code)
	}
	var del map[string]int64
	if code := g.admin(t, "DELETE", "/logs?status=error", "", &del); code != 200 || del["deleted"] != 3 {
		t.Errorf("delete errors: %d %v", code, del)
	}
	if code := g.admin(t, "DELETE", "/logs?all=true", "", &del); code != 200 || del["deleted"] != 4 {
		t.Errorf("delete all: %d %v", code, del)
	}
	if code := g.admin(t, "GET", "/logs/"+ids[1], "", nil); code != 404 {
		t.Errorf("deleted log still there: %d", code)
	}

	// the admin token is required
	resp2, _ := http.Get(g.srv.URL + "/admin/v1/logs")
	resp2.Body.Close()
	if resp2.StatusCode != 401 {
		t.Errorf("logs without the admin token: %d", resp2.StatusCode)
	}
}

func TestAnalyticsAPIEqualsTheRecords(t *testing.T) {
	g := newTestGateway(t, logsConfig(""))
	for i := 0; i < 12; i++ {
		model := []string{"openai/gpt-4o-mini", "openai/gpt-4o", "openai/error-500"}[i%3]
		readBody(t, g.do(t, "POST", "/v1/chat/completions", chatBody(model, strings.Repeat("word ", i+1))))
	}
	g.flushLogs(t)
	var page usage.Page
	g.admin(t, "GET", "/logs?limit=100", "", &page)
	want := map[string]*usage.AnalyticsRow{}
	for _, r := range page.Records {
		k := usage.GroupOf(r, usage.GroupModel)
		if want[k] == nil {
			want[k] = &usage.AnalyticsRow{Group: k}
		}
		w := want[k]
		w.Requests++
		if r.IsError() {
			w.Errors++
		}
		w.InputTokens += r.InputTokens
		w.OutputTokens += r.OutputTokens
		w.CostUSD += r.CostUSD
	}
	var got struct {
		Data []usage.AnalyticsRow `json:"data"`
	}
	q := url.Values{"group_by": {"model"}, "since": {"1h"}, "interval": {"day"}}
	if code := g.admin(t, "GET", "/analytics?"+q.Encode(), "", &got); code != 200 {
		t.Fatalf("analytics: %d", code)
	}
	if len(got.Data) != 3 {
		t.Fatalf("rows: %+v", got.Data)
	}
	for _, row := range got.Data {
		w := want[row.Group]
		if w == nil || row.Requests != w.Requests || row.Errors != w.Errors || row.InputTokens != w.InputTokens ||
			row.OutputTokens != w.OutputTokens || math.Abs(row.CostUSD-w.CostUSD) > 1e-12 || row.Bucket.IsZero() {
			t.Errorf("row %+v, want %+v", row, w)
		}
		if row.LatencyP50 > row.LatencyP95 || row.LatencyP95 > row.LatencyP99 {
			t.Errorf("percentiles out of order: %+v", row)
		}
	}
	if code := g.admin(t, "GET", "/analytics?group_by=colour", "", nil); code != 400 {
		t.Errorf("bad group_by: %d", code)
	}
}

func TestRetentionRunsInTheBackground(t *testing.T) {
	g := newTestGateway(t, logsConfig("logs: {retention: {max_count: 3, interval: 1s}}\n"))
	var last string
	for i := 0; i < 6; i++ {
		resp := g.do(t, "POST", "/v1/chat/completions", chatBody("openai/gpt-4o-mini", "keep the newest"))
		readBody(t, resp)
		last = resp.Header.Get("x-aig-log-id")
	}
	g.flushLogs(t)
	deadline := time.Now().Add(15 * time.Second)
	for {
		var page usage.Page
		g.admin(t, "GET", "/logs?limit=100", "", &page)
		if len(page.Records) == 3 {
			if page.Records[0].ID != last {
				t.Fatalf("retention must keep the newest records: %s first", page.Records[0].ID)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d records kept, want 3", len(page.Records))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
