// Package ratelimit is the rate-limit stage: requests and tokens per
// window, counted per key (its rpm/tpm) and per configured rule over any
// combination of key, tenant, user, IP, model and provider, in sliding or
// fixed windows; and, per upstream attempt, a cap on requests in flight
// per model or provider. Counters live in a store.Limiter (memory, or
// Redis shared by every replica).
//
// Token limits charge an estimate before the call (the prompt's size and
// the requested output limit) and reconcile it with the usage the
// provider reported once the answer is complete, at the end of a stream
// included. Rejections are 429 with Retry-After and OpenAI's
// x-ratelimit-* headers; allowed responses carry the headers too.
package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aigateway/aigateway/internal/glob"
	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/pipeline"
	"github.com/aigateway/aigateway/internal/store"
)

// Dimensions a rule counts by.
const (
	DimKey      = "key"
	DimTenant   = "tenant"
	DimUser     = "user"
	DimIP       = "ip"
	DimModel    = "model"
	DimProvider = "provider"
)

// Rule is a limit counted separately per combination of the values of By.
type Rule struct {
	Name string
	// By lists dimensions; a call lacking a value for one of them is not
	// counted by the rule. Empty: one counter for every matching call.
	By []string
	// Requests and Tokens per Window (0: not limited).
	Requests, Tokens int64
	Window           time.Duration
	// Fixed selects a fixed window instead of a sliding one.
	Fixed bool
	// Models (globs over the requested model), Tenants and Tiers restrict
	// the rule to matching calls; empty matches all.
	Models, Tenants, Tiers []string
}

// Options configure the stage. Zero values are documented per field.
type Options struct {
	Limiter store.Limiter
	Rules   []Rule
	// FailOpen allows calls when the limiter cannot answer (counting the
	// fault); false answers 503.
	FailOpen bool
	// Timeout bounds one limiter call (default 250ms).
	Timeout time.Duration
	// ProviderOf names the provider of a model name that is not
	// provider/model (an alias's first deployment); nil or "": the call
	// has no provider dimension.
	ProviderOf func(model string) string
	// Faults counts limiter failures (nil: counted internally only).
	Faults *atomic.Int64
	Log    *slog.Logger
}

// keyWindow is the period of a key's own rpm and tpm.
const keyWindow = time.Minute

// New returns the stage.
func New(o Options) pipeline.Middleware {
	if o.Timeout <= 0 {
		o.Timeout = 250 * time.Millisecond
	}
	if o.Faults == nil {
		o.Faults = new(atomic.Int64)
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	local := store.IsInProcess(o.Limiter)
	prefixes := make([][2]string, len(o.Rules))
	for i, r := range o.Rules {
		base := "r:" + r.Name + ":" + strconv.FormatInt(r.Window.Milliseconds(), 10)
		if r.Fixed {
			base += "f"
		}
		prefixes[i] = [2]string{base + ":n", base + ":t"}
	}
	return func(next pipeline.Handler) pipeline.Handler {
		return &stage{o: o, next: next, local: local, prefixes: prefixes}
	}
}

type stage struct {
	o    Options
	next pipeline.Handler
	// local: the limiter is in-process, called without a timeout and
	// adjusted inline
	local bool
	// prefixes are each rule's counter key prefixes, for requests and
	// for tokens, built once
	prefixes [][2]string
}

// window is a store window with what the stage needs to explain it.
type window struct {
	store.Window
	tokens bool
	// keyName or rule (with desc, its dimension values, filled in only
	// for a rejection) say whose limit it is.
	keyName string
	rule    *Rule
	desc    string
}

// what describes the limit for messages.
func (w *window) what() string {
	if w.rule == nil {
		return fmt.Sprintf("gateway key %q", w.keyName)
	}
	s := fmt.Sprintf("limit %q", w.rule.Name)
	if w.desc != "" {
		s += " for " + w.desc
	}
	return s
}

func (s *stage) Serve(ctx context.Context, c *pipeline.Call) (*pipeline.Result, error) {
	if c.Kind == pipeline.KindModels {
		return s.next.Serve(ctx, c)
	}
	ws := s.windows(c)
	if len(ws) == 0 {
		return s.next.Serve(ctx, c)
	}
	sw := make([]store.Window, len(ws))
	for i := range ws {
		sw[i] = ws[i].Window
	}
	res, err := s.take(ctx, sw)
	if err != nil {
		if ctx.Err() != nil {
			return nil, gwerr.As(ctx.Err())
		}
		return s.fault(ctx, c, err)
	}
	if !res.Allowed {
		for i := range ws {
			if ws[i].rule != nil {
				ws[i].desc = s.describe(ws[i].rule, c)
			}
		}
		return nil, rejection(ws, res.States)
	}
	if c.RespHeader == nil {
		c.RespHeader = make(http.Header, 8)
	}
	writeHeaders(c.RespHeader, ws, res.States)
	out, err := s.next.Serve(ctx, c)
	s.reconcile(c, ws, res.Charges, out, err)
	return out, err
}

// take bounds a remote limiter's Take by the timeout; an in-process one
// answers at once.
func (s *stage) take(ctx context.Context, sw []store.Window) (store.TakeResult, error) {
	if s.local {
		return s.o.Limiter.Take(ctx, sw)
	}
	tctx, cancel := context.WithTimeout(ctx, s.o.Timeout)
	defer cancel()
	return s.o.Limiter.Take(tctx, sw)
}

func (s *stage) fault(ctx context.Context, c *pipeline.Call, err error) (*pipeline.Result, error) {
	if n := s.o.Faults.Add(1); n%100 == 1 {
		s.o.Log.Warn("rate-limit store unavailable", "error", err, "fail_open", s.o.FailOpen, "faults", n)
	}
	if s.o.FailOpen {
		return s.next.Serve(ctx, c)
	}
	e := gwerr.New(gwerr.KindGateway, http.StatusServiceUnavailable, "rate limits cannot be checked right now; try again shortly")
	e.Code, e.Cause, e.RetryAfter = "rate_limit_store_unavailable", err, time.Second
	return nil, e
}

// windows lists the counters a call takes from.
func (s *stage) windows(c *pipeline.Call) []window {
	id := &c.Identity
	n := 2 * len(s.o.Rules)
	if id.KeyID != "" {
		n += 2
	}
	if n == 0 {
		return nil
	}
	ws := make([]window, 0, n)
	est := int64(-1)
	tokens := func() int64 {
		if est < 0 {
			est = EstimateTokens(c)
		}
		return est
	}
	if id.KeyID != "" {
		if id.Quota.RPM > 0 {
			ws = append(ws, window{Window: store.Window{Key: "k:" + id.KeyID + ":rpm", Limit: id.Quota.RPM, Period: keyWindow, Cost: 1}, keyName: id.KeyName})
		}
		if id.Quota.TPM > 0 {
			ws = append(ws, window{Window: store.Window{Key: "k:" + id.KeyID + ":tpm", Limit: id.Quota.TPM, Period: keyWindow,
				Cost: min(tokens(), id.Quota.TPM)}, tokens: true, keyName: id.KeyName})
		}
	}
	for i := range s.o.Rules {
		r := &s.o.Rules[i]
		if !s.matches(r, c) {
			continue
		}
		if r.Requests > 0 {
			key, ok := s.counterKey(s.prefixes[i][0], r, c)
			if !ok {
				continue
			}
			ws = append(ws, window{Window: store.Window{Key: key, Limit: r.Requests, Period: r.Window, Fixed: r.Fixed, Cost: 1}, rule: r})
		}
		if r.Tokens > 0 {
			key, ok := s.counterKey(s.prefixes[i][1], r, c)
			if !ok {
				continue
			}
			ws = append(ws, window{Window: store.Window{Key: key, Limit: r.Tokens, Period: r.Window, Fixed: r.Fixed,
				Cost: min(tokens(), r.Tokens)}, tokens: true, rule: r})
		}
	}
	return ws
}

func (s *stage) matches(r *Rule, c *pipeline.Call) bool {
	if len(r.Models) > 0 && !glob.Any(r.Models, c.Model) {
		return false
	}
	if len(r.Tenants) > 0 && !contains(r.Tenants, c.Identity.Tenant) {
		return false
	}
	if len(r.Tiers) > 0 && !contains(r.Tiers, c.Identity.Tier) {
		return false
	}
	return true
}

// counterKey is prefix followed by the rule's dimension values, built in
// one allocation; ok is false when a dimension has no value for this call
// (the rule then does not count it).
func (s *stage) counterKey(prefix string, r *Rule, c *pipeline.Call) (key string, ok bool) {
	var arr [128]byte
	buf := append(arr[:0], prefix...)
	for _, d := range r.By {
		v := s.value(d, c)
		if v == "" {
			return "", false
		}
		buf = append(buf, ':')
		buf = appendCounterPart(buf, v)
	}
	return string(buf), true
}

// describe names the rule's dimension values, for messages.
func (s *stage) describe(r *Rule, c *pipeline.Call) string {
	var db strings.Builder
	for _, d := range r.By {
		if db.Len() > 0 {
			db.WriteString(", ")
		}
		db.WriteString(d + "=" + s.value(d, c))
	}
	return db.String()
}

func (s *stage) value(d string, c *pipeline.Call) string {
	switch d {
	case DimKey:
		return c.Identity.KeyID
	case DimTenant:
		return c.Identity.Tenant
	case DimUser:
		if c.Identity.User != "" {
			return c.Identity.User
		}
		if u, ok := c.Options.Metadata["user"].(string); ok {
			return u
		}
	case DimIP:
		return c.ClientIP
	case DimModel:
		return c.Model
	case DimProvider:
		return s.provider(c)
	}
	return ""
}

func (s *stage) provider(c *pipeline.Call) string {
	if len(c.Targets) > 0 {
		if c.Targets[0].Provider != nil {
			return c.Targets[0].Provider.ID()
		}
		return c.Targets[0].ProviderID
	}
	if s.o.ProviderOf != nil {
		if pid := s.o.ProviderOf(c.Model); pid != "" {
			return pid
		}
	}
	if pid, _, ok := strings.Cut(c.Model, "/"); ok {
		return pid
	}
	return ""
}

// appendCounterPart appends a dimension value made safe and bounded as
// part of a key.
func appendCounterPart(b []byte, v string) []byte {
	if len(v) > 64 {
		sum := sha256.Sum256([]byte(v))
		return hex.AppendEncode(append(b, 'h'), sum[:12])
	}
	if !needsEscape(v) {
		return append(b, v...)
	}
	return append(b, url.QueryEscape(v)...)
}

// needsEscape reports whether url.QueryEscape would change v.
func needsEscape(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			continue
		}
		return true
	}
	return false
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// EstimateTokens guesses a call's tokens before it is made: about four
// bytes of request body per prompt token, plus the output limit the client
// asked for. The charge is corrected once the real usage is known.
func EstimateTokens(c *pipeline.Call) int64 {
	n := int64(len(c.Body))/4 + 1
	if c.Chat != nil {
		n += int64(max(c.Chat.MaxOutputTokens(), 0))
	}
	return n
}
