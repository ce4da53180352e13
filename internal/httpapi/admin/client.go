package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aigateway/aigateway/internal/usage"
)

// Client calls a running gateway's admin API (the CLI's remote mode).
type Client struct {
	// BaseURL is the gateway's URL, e.g. http://127.0.0.1:8080.
	BaseURL string
	Token   string
	// HTTP is the client used (default: one with a 30s timeout).
	HTTP *http.Client
}

// Do calls method path?query and decodes a JSON answer into out. An error
// answer becomes an error carrying the API's message.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, out any) error {
	u := strings.TrimSuffix(c.BaseURL, "/") + "/admin/v1" + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return fmt.Errorf("building request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("calling the admin API: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("reading the admin API's answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
			return fmt.Errorf("admin API: %s (HTTP %d)", e.Error.Message, resp.StatusCode)
		}
		return fmt.Errorf("admin API: HTTP %d", resp.StatusCode)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("decoding the admin API's answer: %w", err)
		}
	}
	return nil
}

// ListLogs lists logs as GET /admin/v1/logs does.
func (c *Client) ListLogs(ctx context.Context, f usage.Filter, o usage.ListOptions) (usage.Page, error) {
	q := f.Values()
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if o.Cursor != "" {
		q.Set("cursor", o.Cursor)
	}
	if o.Payloads {
		q.Set("payloads", "true")
	}
	var p usage.Page
	err := c.Do(ctx, http.MethodGet, "/logs", q, &p)
	return p, err
}
