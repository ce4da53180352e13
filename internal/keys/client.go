package keys

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aigateway/aigateway/internal/gwerr"
)

// Client is the Service over a running gateway's admin API.
type Client struct {
	// URL is the gateway's base URL (http://host:port).
	URL string
	// Token is the admin token.
	Token string
	// HTTP is the client (default: one with a 30s timeout).
	HTTP *http.Client
}

// Create implements Service.
func (c *Client) Create(ctx context.Context, p Params) (*Created, error) {
	var out Created
	return &out, c.do(ctx, http.MethodPost, "/admin/v1/keys", p, &out)
}

// List implements Service.
func (c *Client) List(ctx context.Context, o ListOptions) ([]View, error) {
	q := url.Values{}
	if o.Tenant != "" {
		q.Set("tenant", o.Tenant)
	}
	if o.Name != "" {
		q.Set("name", o.Name)
	}
	if o.IncludeRevoked {
		q.Set("include_revoked", "true")
	}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if o.Offset > 0 {
		q.Set("offset", strconv.Itoa(o.Offset))
	}
	path := "/admin/v1/keys"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out struct {
		Data []View `json:"data"`
	}
	if err := c.do(ctx, http.MethodGet, path, nil, &out); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// Get implements Service.
func (c *Client) Get(ctx context.Context, ref string) (*View, error) {
	var out View
	return &out, c.do(ctx, http.MethodGet, "/admin/v1/keys/"+url.PathEscape(ref), nil, &out)
}

// Update implements Service.
func (c *Client) Update(ctx context.Context, ref string, p Patch) (*View, error) {
	var out View
	return &out, c.do(ctx, http.MethodPatch, "/admin/v1/keys/"+url.PathEscape(ref), p, &out)
}

// Revoke implements Service.
func (c *Client) Revoke(ctx context.Context, ref string) (*View, error) {
	var out View
	return &out, c.do(ctx, http.MethodDelete, "/admin/v1/keys/"+url.PathEscape(ref), nil, &out)
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.URL, "/")+path, body)
	if err != nil {
		return fmt.Errorf("building admin request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("calling the admin API at %s: %w", c.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("reading the admin API's answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		msg := strings.TrimSpace(string(b))
		if json.Unmarshal(b, &e) == nil && e.Error.Message != "" {
			msg = e.Error.Message
		}
		if len(msg) > 500 {
			msg = msg[:500]
		}
		return gwerr.New(gwerr.KindCaller, resp.StatusCode, "admin API answered %d: %s", resp.StatusCode, msg)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("decoding the admin API's answer: %w", err)
	}
	return nil
}

var _ Service = (*Client)(nil)
