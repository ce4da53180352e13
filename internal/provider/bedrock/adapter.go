// Package bedrock is the adapter for Amazon Bedrock (provider type
// aws-bedrock): chat through the Converse and ConverseStream APIs of
// bedrock-runtime, with requests signed by AWS Signature Version 4 (the
// aws-sdk-go-v2 signer; no hand-written crypto), streamed answers read
// from the AWS binary event-stream framing, and native passthrough
// re-signed with the gateway's credentials.
//
// Embeddings (Titan and Cohere through InvokeModel) are not offered: each
// model family has its own body format, and Converse, which unifies chat,
// has no embeddings counterpart.
package bedrock

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/provider"
	"github.com/aigateway/aigateway/internal/provider/upstream"
)

// signingName is the SigV4 service name of bedrock-runtime.
const signingName = "bedrock"

// Adapter is a Bedrock runtime endpoint in one region.
type Adapter struct {
	id      string
	base    string
	region  string
	creds   aws.Credentials
	signer  *v4.Signer
	headers map[string]string
	http    *http.Client
	// now is the signing clock (tests pin it).
	now func() time.Time
}

// New builds an Adapter. The base URL is the runtime endpoint,
// https://bedrock-runtime.{region}.amazonaws.com (or a proxy of it).
func New(s provider.Spec) (provider.Provider, error) {
	u, err := url.Parse(s.BaseURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("base_url %q is not an absolute URL", s.BaseURL)
	}
	if s.Region == "" {
		return nil, fmt.Errorf("region is required")
	}
	if s.AccessKeyID == "" || s.SecretAccessKey == "" {
		return nil, fmt.Errorf("access_key_id and secret_access_key are required")
	}
	c := s.Client
	if c == nil {
		c = http.DefaultClient
	}
	return &Adapter{
		id: s.ID, base: strings.TrimRight(s.BaseURL, "/"), region: s.Region,
		creds:  aws.Credentials{AccessKeyID: s.AccessKeyID, SecretAccessKey: s.SecretAccessKey, SessionToken: s.SessionToken, Source: "aigateway"},
		signer: v4.NewSigner(), headers: s.Headers, http: c, now: time.Now,
	}, nil
}

// ID implements provider.Provider.
func (a *Adapter) ID() string { return a.id }

// escapeLabel percent-encodes a model id as a URL path label the way the
// AWS SDKs do: everything but unreserved characters, so ":" in versioned
// ids and "/" in inference-profile ARNs stay inside one segment.
func escapeLabel(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// sign adds SigV4 headers (Authorization, X-Amz-Date, and
// X-Amz-Security-Token for temporary credentials) for body.
func (a *Adapter) sign(req *http.Request, body []byte) error {
	sum := sha256.Sum256(body)
	if err := a.signer.SignHTTP(req.Context(), a.creds, req, hex.EncodeToString(sum[:]), signingName, a.region, a.now()); err != nil {
		return fmt.Errorf("signing request: %w", err)
	}
	return nil
}

func (a *Adapter) converse(ctx context.Context, req *llm.ChatRequest, stream bool) (*http.Response, *converted, error) {
	conv, err := toConverse(req)
	if err != nil {
		return nil, nil, err
	}
	body, err := json.Marshal(conv.req)
	if err != nil {
		return nil, nil, gwerr.Internal(fmt.Errorf("encoding converse request: %w", err))
	}
	op := "converse"
	if stream {
		op = "converse-stream"
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+"/model/"+escapeLabel(req.Model)+"/"+op, bytes.NewReader(body))
	if err != nil {
		return nil, nil, gwerr.Internal(fmt.Errorf("building request to %s: %w", a.id, err))
	}
	for k, v := range a.headers {
		hr.Header.Set(k, v)
	}
	hr.Header.Set("Content-Type", "application/json")
	if stream {
		hr.Header.Set("Accept", "application/vnd.amazon.eventstream")
	} else {
		hr.Header.Set("Accept", "application/json")
	}
	if err := a.sign(hr, body); err != nil {
		return nil, nil, gwerr.Internal(err)
	}
	resp, err := upstream.Do(a.http, hr, a.id, func(status int, h http.Header, body []byte) *gwerr.Error {
		e := parseError(status, h.Get("x-amzn-errortype"), body)
		e.Message = provider.RedactSecret(e.Message, a.creds.SecretAccessKey)
		return e
	})
	return resp, conv, err
}

// meta names the response after Bedrock's request id when it gives one.
func (a *Adapter) meta(model string, h http.Header) upstream.Meta {
	id := upstream.NewID("chatcmpl-")
	if rid := h.Get("x-amzn-requestid"); rid != "" {
		id = "chatcmpl-" + rid
	}
	return upstream.Meta{ID: id, Created: time.Now().Unix(), Model: model}
}

// Chat implements provider.Provider with Converse.
func (a *Adapter) Chat(ctx context.Context, req *llm.ChatRequest) (*llm.ChatResponse, error) {
	resp, conv, err := a.converse(ctx, req, false)
	if err != nil {
		return nil, err
	}
	raw, err := upstream.ReadBody(resp, a.id)
	if err != nil {
		return nil, err
	}
	cr, err := decodeResponse(raw)
	if err != nil {
		return nil, upstream.InvalidResponse(a.id, err)
	}
	return fromConverse(cr, a.meta(req.Model, resp.Header), conv.jsonMode), nil
}

// ChatStream implements provider.Provider with ConverseStream.
func (a *Adapter) ChatStream(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error) {
	resp, conv, err := a.converse(ctx, req, true)
	if err != nil {
		return nil, err
	}
	dec := newStreamDecoder(resp.Body, a.id, a.meta(req.Model, resp.Header), conv.jsonMode)
	return upstream.NewStream(resp.Body, dec), nil
}

// amzHeaders are the signing headers of a caller's own signature; they are
// dropped when the gateway signs instead.
var amzHeaders = []string{"X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Content-Sha256"}

// Forward implements provider.Forwarder: base URL + path, with the caller's
// own Authorization (a SigV4 signature or a Bedrock API key) kept, or
// else signed anew with the gateway's credentials.
func (a *Adapter) Forward(ctx context.Context, nr *provider.NativeRequest) (*http.Response, error) {
	u := a.base + nr.Path
	if nr.RawQuery != "" {
		u += "?" + nr.RawQuery
	}
	req, err := http.NewRequestWithContext(ctx, nr.Method, u, nr.BodyReader())
	if err != nil {
		return nil, fmt.Errorf("building native request: %w", err)
	}
	for k, v := range nr.Header {
		req.Header[k] = v
	}
	if !provider.CallerCredential(nr.Header, nr.RawQuery) {
		for _, h := range amzHeaders {
			req.Header.Del(h)
		}
		for k, v := range a.headers {
			req.Header.Set(k, v)
		}
		if err := a.sign(req, nr.Body); err != nil {
			return nil, err
		}
	}
	return a.http.Do(req)
}

// NativeUsage implements provider.UsageReader: the usage of a Converse
// answer, of the metadata event of a ConverseStream, or the input_tokens /
// output_tokens of an InvokeModel answer in Anthropic's format; the model
// is read from the path (/model/{modelId}/…).
func (a *Adapter) NativeUsage(path string, body []byte, stream bool) (llm.Usage, string, bool) {
	model := modelFromPath(path)
	if !stream {
		var w struct {
			Usage *struct {
				tokenUsage
				InputTokens2  int `json:"input_tokens"`
				OutputTokens2 int `json:"output_tokens"`
			} `json:"usage"`
		}
		if json.Unmarshal(body, &w) != nil || w.Usage == nil {
			return llm.Usage{}, model, false
		}
		t := w.Usage.tokenUsage
		t.InputTokens += w.Usage.InputTokens2
		t.OutputTokens += w.Usage.OutputTokens2
		return usage(&t), model, true
	}
	fr := newFrameReader(bytes.NewReader(body))
	for {
		msg, err := fr.next()
		if err != nil {
			return llm.Usage{}, model, false
		}
		if header(msg, ":event-type") != "metadata" {
			continue
		}
		var p streamPayload
		if json.Unmarshal(msg.Payload, &p) == nil && p.Usage != nil {
			return usage(p.Usage), model, true
		}
	}
}

// modelFromPath returns the model id of a /model/{modelId}/… path, or "".
func modelFromPath(p string) string {
	rest, ok := strings.CutPrefix(p, "/model/")
	if !ok {
		return ""
	}
	seg, _, _ := strings.Cut(rest, "/")
	if m, err := url.PathUnescape(seg); err == nil {
		return m
	}
	return seg
}

var (
	_ provider.Provider    = (*Adapter)(nil)
	_ provider.Forwarder   = (*Adapter)(nil)
	_ provider.UsageReader = (*Adapter)(nil)
)
