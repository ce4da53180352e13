package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// benchEmail is the address guardrailCheck sends through the gateway.
const benchEmail = "bench.user@example.com"

// guardrailCheck proves that the scenario's PII guardrail is bound to the
// bench requests: the bench request, with an e-mail address in its prompt,
// must reach the request log masked ([EMAIL_1], the form the provider
// saw) and flagged pii/email. The gateway adds no response header for a
// guardrail, and the fake's answer does not echo the prompt, so the log is
// where the proof is; it is read through the admin API.
func guardrailCheck(t *target) error {
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(t.req)))
	if err != nil {
		return err
	}
	var body map[string]any
	if err := json.NewDecoder(req.Body).Decode(&body); err != nil {
		return fmt.Errorf("bench request body: %w", err)
	}
	msgs, _ := body["messages"].([]any)
	if len(msgs) == 0 {
		return fmt.Errorf("bench request has no messages")
	}
	last, _ := msgs[len(msgs)-1].(map[string]any)
	if last == nil {
		return fmt.Errorf("bench request's last message is not an object")
	}
	last["content"] = "Please write to " + benchEmail + " today."
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
	req.RequestURI, req.URL.Scheme, req.URL.Host = "", "http", t.addr
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("guardrail check: %w", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("guardrail check: request with an e-mail address answered %d", resp.StatusCode)
	}
	id := resp.Header.Get("X-Aig-Log-Id")
	if id == "" {
		return fmt.Errorf("guardrail check: no x-aig-log-id in the answer")
	}
	// the record is written within the log's flush interval (1 s)
	var rec struct {
		RequestBody string         `json:"request_body"`
		Metadata    map[string]any `json:"metadata"`
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		status, err := adminGet(client, t.addr, "/admin/v1/logs/"+id, &rec)
		if err != nil {
			return fmt.Errorf("guardrail check: %w", err)
		}
		if status == http.StatusOK {
			break
		}
		if status != http.StatusNotFound || time.Now().After(deadline) {
			return fmt.Errorf("guardrail check: GET /admin/v1/logs/%s answered %d", id, status)
		}
		time.Sleep(100 * time.Millisecond)
	}
	flags, _ := rec.Metadata["aig.guardrails"].(string)
	switch {
	case strings.Contains(rec.RequestBody, benchEmail):
		return fmt.Errorf("guardrail check: the logged prompt holds the e-mail address: the guardrail did not run")
	case !strings.Contains(rec.RequestBody, "[EMAIL_1]"):
		return fmt.Errorf("guardrail check: the logged prompt holds no [EMAIL_1] placeholder: %.200s", rec.RequestBody)
	case !strings.Contains(","+flags+",", ",pii/email,"):
		return fmt.Errorf("guardrail check: the record is not flagged pii/email (aig.guardrails=%q)", flags)
	}
	return nil
}

// adminGet GETs an admin API path and decodes a 200 answer into v.
func adminGet(client *http.Client, addr, path string, v any) (int, error) {
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil
	}
	return resp.StatusCode, json.NewDecoder(resp.Body).Decode(v)
}

// logCounters are the gateway's request-log writer counters and the
// requests it counted, from its Prometheus /metrics.
type logCounters struct {
	Requests    int64 `json:"requests"`
	Written     int64 `json:"written"`
	Queued      int64 `json:"queued"`
	Spilled     int64 `json:"spilled"`
	Replayed    int64 `json:"replayed"`
	Dropped     int64 `json:"dropped"`
	WriteErrors int64 `json:"write_errors"`
}

// Accounted is the records the writer has dealt with: stored, sent to the
// spill file (to be replayed) or dropped.
func (c *logCounters) Accounted() int64 { return c.Written + c.Spilled + c.Dropped }

// scrapeLogCounters reads the gateway's /metrics once every request it
// counted has its record accounted for, or after 3 s: a record waits up to
// the flush interval (1 s) in the writer's batch.
func scrapeLogCounters(addr string) (*logCounters, error) {
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(3 * time.Second)
	for {
		c, err := scrapeOnce(client, addr)
		if err != nil {
			return nil, err
		}
		if c.Accounted() >= c.Requests || time.Now().After(deadline) {
			return c, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func scrapeOnce(client *http.Client, addr string) (*logCounters, error) {
	resp, err := client.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("/metrics answered %d", resp.StatusCode)
	}
	c := &logCounters{}
	fields := map[string]*int64{
		"aigateway_requests_total":             &c.Requests,
		"aigateway_log_records_written_total":  &c.Written,
		"aigateway_log_queue_depth":            &c.Queued,
		"aigateway_log_records_spilled_total":  &c.Spilled,
		"aigateway_log_records_replayed_total": &c.Replayed,
		"aigateway_log_records_dropped_total":  &c.Dropped,
		"aigateway_log_write_errors_total":     &c.WriteErrors,
	}
	seen := false
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest := line, ""
		if i := strings.IndexAny(line, "{ "); i >= 0 {
			name, rest = line[:i], line[i:]
		}
		p := fields[name]
		if p == nil {
			continue
		}
		// the value follows the labels (which may hold spaces in quotes)
		if j := strings.LastIndexByte(rest, '}'); j >= 0 {
			rest = rest[j+1:]
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			continue
		}
		*p += int64(v)
		if name == "aigateway_log_records_written_total" {
			seen = true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !seen {
		return nil, fmt.Errorf("no aigateway_log_records_written_total in /metrics (request log off?)")
	}
	return c, nil
}

// joinErr appends an error text to another.
func joinErr(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
