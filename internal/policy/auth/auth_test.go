package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/pipeline"
	"github.com/aigateway/aigateway/internal/store"
)

type fakeKeys struct {
	keys map[string]*store.Key
	err  error
}

func (f fakeKeys) LookupKey(_ context.Context, secret string) (*store.Key, error) {
	return f.keys[secret], f.err
}

var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func testKeys() fakeKeys {
	return fakeKeys{keys: map[string]*store.Key{
		"aig_good":     {ID: "key_1", Name: "good", Tenant: "acme", Enabled: true, Metadata: map[string]string{"tier": "gold", "user": "bob"}, RPM: 5},
		"aig_revoked":  {ID: "key_2", Name: "gone", Enabled: true, RevokedAt: now.Add(-time.Hour)},
		"aig_expired":  {ID: "key_3", Name: "old", Enabled: true, ExpiresAt: now.Add(-time.Minute)},
		"aig_disabled": {ID: "key_4", Name: "off", Enabled: false},
		"aig_office":   {ID: "key_5", Name: "office", Enabled: true, AllowIPs: []string{"192.0.2.0/24"}, DenyIPs: []string{"192.0.2.66"}},
	}}
}

type result struct {
	id      pipeline.Identity
	header  http.Header
	err     error
	reached bool
}

func run(o Options, kind pipeline.Kind, ip string, headers ...string) result {
	if o.Now == nil {
		o.Now = func() time.Time { return now }
	}
	var r result
	h := New(o)(pipeline.HandlerFunc(func(ctx context.Context, c *pipeline.Call) (*pipeline.Result, error) {
		r.reached, r.id = true, c.Identity
		return &pipeline.Result{}, nil
	}))
	req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	_, r.err = h.Serve(context.Background(), &pipeline.Call{HTTP: req, Kind: kind, ClientIP: ip})
	r.header = req.Header
	return r
}

func wantRefusal(t *testing.T, r result, status int, code, fragment string) {
	t.Helper()
	var ge *gwerr.Error
	if !errors.As(r.err, &ge) || ge.Status != status || ge.Code != code || !strings.Contains(ge.Message, fragment) {
		t.Fatalf("want %d %s saying %q, got %v", status, code, fragment, r.err)
	}
	if r.reached {
		t.Fatal("refused call reached the next stage")
	}
}

func TestAuthKeys(t *testing.T) {
	var touched []string
	o := Options{Keys: testKeys(), Touch: func(id string) { touched = append(touched, id) }}

	t.Run("valid key sets the identity and is removed from the headers", func(t *testing.T) {
		r := run(o, pipeline.KindChat, "10.0.0.1", "Authorization", "Bearer aig_good")
		if r.err != nil || !r.reached {
			t.Fatal(r.err)
		}
		want := pipeline.Identity{KeyID: "key_1", KeyName: "good", Tenant: "acme", User: "bob", Tier: "gold", Quota: pipeline.Quota{RPM: 5}}
		if r.id.KeyID != want.KeyID || r.id.Tenant != want.Tenant || r.id.User != want.User || r.id.Tier != want.Tier || r.id.Quota != want.Quota {
			t.Errorf("identity %+v", r.id)
		}
		if r.header.Get("Authorization") != "" {
			t.Error("gateway key left in the headers")
		}
		if len(touched) == 0 || touched[len(touched)-1] != "key_1" {
			t.Errorf("use not recorded: %v", touched)
		}
	})
	t.Run("x-api-key works like Authorization", func(t *testing.T) {
		if r := run(o, pipeline.KindChat, "", "X-Api-Key", "aig_good"); r.err != nil {
			t.Fatal(r.err)
		}
	})
	for _, tc := range []struct {
		name, secret, code, fragment string
	}{
		{"unknown", "aig_nope", "invalid_gateway_key", "invalid gateway key"},
		{"revoked", "aig_revoked", "gateway_key_revoked", "was revoked"},
		{"expired", "aig_expired", "gateway_key_expired", "expired at"},
		{"disabled", "aig_disabled", "gateway_key_disabled", "is disabled"},
	} {
		t.Run(tc.name+" key is a 401 saying so", func(t *testing.T) {
			wantRefusal(t, run(o, pipeline.KindChat, "", "Authorization", "Bearer "+tc.secret), 401, tc.code, tc.fragment)
		})
	}
	t.Run("missing key", func(t *testing.T) {
		wantRefusal(t, run(o, pipeline.KindChat, ""), 401, "missing_gateway_key", "Authorization: Bearer")
	})
	t.Run("key store down is a 503", func(t *testing.T) {
		down := Options{Keys: fakeKeys{err: errors.New("connection refused")}}
		r := run(down, pipeline.KindChat, "", "Authorization", "Bearer aig_good")
		wantRefusal(t, r, 503, "key_store_unavailable", "unavailable")
	})
	t.Run("per-key IP rules", func(t *testing.T) {
		if r := run(o, pipeline.KindChat, "192.0.2.10", "Authorization", "Bearer aig_office"); r.err != nil {
			t.Fatalf("allowed address: %v", r.err)
		}
		wantRefusal(t, run(o, pipeline.KindChat, "198.51.100.1", "Authorization", "Bearer aig_office"), 403, "ip_not_allowed", "198.51.100.1")
		wantRefusal(t, run(o, pipeline.KindChat, "192.0.2.66", "Authorization", "Bearer aig_office"), 403, "ip_not_allowed", "192.0.2.66")
	})
	t.Run("unauthenticated mode ignores client keys", func(t *testing.T) {
		open := o
		open.Required = func() bool { return false }
		r := run(open, pipeline.KindChat, "", "Authorization", "Bearer aig_revoked")
		if r.err != nil || r.id.KeyID != "" || r.header.Get("Authorization") == "" {
			t.Fatalf("unauthenticated mode: %+v", r)
		}
	})
}

func TestAuthPassthroughCredentials(t *testing.T) {
	o := Options{Keys: testKeys()}
	t.Run("gateway key in x-aig-authorization, provider key in Authorization kept", func(t *testing.T) {
		r := run(o, pipeline.KindNative, "", "X-Aig-Authorization", "Bearer aig_good", "Authorization", "Bearer sk-caller")
		if r.err != nil || r.id.KeyID != "key_1" {
			t.Fatal(r.err)
		}
		if r.header.Get("Authorization") != "Bearer sk-caller" {
			t.Error("the caller's provider credential was removed")
		}
	})
	t.Run("gateway key in Authorization is recognised and stripped", func(t *testing.T) {
		r := run(o, pipeline.KindNative, "", "Authorization", "Bearer aig_good")
		if r.err != nil || r.id.KeyID != "key_1" || r.header.Get("Authorization") != "" {
			t.Fatalf("%+v", r)
		}
		r = run(o, pipeline.KindNative, "", "X-Api-Key", "aig_good")
		if r.err != nil || r.header.Get("X-Api-Key") != "" {
			t.Fatalf("x-api-key: %+v", r)
		}
	})
	t.Run("only a provider credential: the gateway key is missing", func(t *testing.T) {
		r := run(o, pipeline.KindNative, "", "Authorization", "Bearer sk-caller")
		wantRefusal(t, r, 401, "missing_gateway_key", "x-aig-authorization")
	})
	t.Run("revoked gateway key in Authorization is refused, not forwarded", func(t *testing.T) {
		r := run(o, pipeline.KindNative, "", "Authorization", "Bearer aig_revoked")
		wantRefusal(t, r, 401, "gateway_key_revoked", "revoked")
		if r.header.Get("Authorization") != "" {
			t.Error("revoked gateway key left in the headers")
		}
	})
	t.Run("unknown key in the explicit header is invalid", func(t *testing.T) {
		wantRefusal(t, run(o, pipeline.KindNative, "", "X-Aig-Authorization", "Bearer aig_nope"), 401, "invalid_gateway_key", "X-Aig-Authorization")
	})
}

type fakeProvider struct{ id string }

func (p fakeProvider) ID() string { return p.id }
func (p fakeProvider) Chat(context.Context, *llm.ChatRequest) (*llm.ChatResponse, error) {
	return nil, nil
}
func (p fakeProvider) ChatStream(context.Context, *llm.ChatRequest) (llm.Stream, error) {
	return nil, nil
}

func TestScope(t *testing.T) {
	openai, anthropic := fakeProvider{"openai"}, fakeProvider{"anthropic"}
	stage := Scope(ScopeOptions{Routed: func(m string) bool { return m == "mixed" }})
	serve := func(scope pipeline.Scope, c *pipeline.Call) (*pipeline.Call, error) {
		c.Identity = pipeline.Identity{KeyName: "ci", Scope: scope}
		_, err := stage(pipeline.HandlerFunc(func(ctx context.Context, c *pipeline.Call) (*pipeline.Result, error) {
			return &pipeline.Result{}, nil
		})).Serve(context.Background(), c)
		return c, err
	}
	want403 := func(t *testing.T, err error, model string) {
		t.Helper()
		var ge *gwerr.Error
		if !errors.As(err, &ge) || ge.Status != 403 || ge.Code != "model_not_allowed" ||
			!strings.Contains(ge.Message, `gateway key "ci" may not use model `+model) {
			t.Fatalf("want 403 for %s, got %v", model, err)
		}
	}
	scope := pipeline.Scope{Models: []string{"openai/*", "anthropic/claude-haiku*"}}
	for _, tc := range []struct {
		name    string
		call    *pipeline.Call
		refused string
	}{
		{"model in scope", &pipeline.Call{Kind: pipeline.KindChat, Model: "openai/gpt-4o"}, ""},
		{"model outside scope", &pipeline.Call{Kind: pipeline.KindChat, Model: "anthropic/claude-opus"}, "anthropic/claude-opus"},
		{"alias: left to the router", &pipeline.Call{Kind: pipeline.KindChat, Model: "mixed"}, ""},
		{"native target in scope", &pipeline.Call{Kind: pipeline.KindNative, Model: "openai/gpt-4o",
			Targets: []pipeline.Target{{ProviderID: "openai", Model: "gpt-4o"}}}, ""},
		{"universal chain with one step outside", &pipeline.Call{Kind: pipeline.KindUniversal, Model: "openai/gpt-4o",
			Targets: []pipeline.Target{{ProviderID: "openai", Model: "gpt-4o"}, {ProviderID: "anthropic", Model: "claude-opus"}}}, "anthropic/claude-opus"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := serve(scope, tc.call)
			if tc.refused != "" {
				want403(t, err, tc.refused)
			} else if err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("router check per target", func(t *testing.T) {
		c := &pipeline.Call{Kind: pipeline.KindChat, Model: "mixed", Identity: pipeline.Identity{KeyName: "ci", Scope: scope}}
		if err := AllowTarget(c, &pipeline.Target{Provider: openai, Model: "gpt-4o"}); err != nil {
			t.Error(err)
		}
		want403(t, AllowTarget(c, &pipeline.Target{Provider: anthropic, Model: "claude-opus"}), "anthropic/claude-opus")
		named := &pipeline.Call{Kind: pipeline.KindChat, Model: "mixed", Identity: pipeline.Identity{Scope: pipeline.Scope{Models: []string{"mixed"}}}}
		if err := AllowTarget(named, &pipeline.Target{Provider: anthropic, Model: "claude-opus"}); err != nil {
			t.Errorf("an alias allowed by name allows its targets: %v", err)
		}
		if err := AllowTarget(&pipeline.Call{}, &pipeline.Target{Provider: anthropic}); err != nil {
			t.Errorf("no scope: %v", err)
		}
	})
	t.Run("provider scope", func(t *testing.T) {
		if _, err := serve(pipeline.Scope{Providers: []string{"anthropic"}}, &pipeline.Call{Kind: pipeline.KindChat, Model: "openai/gpt-4o"}); err == nil {
			t.Error("provider outside scope allowed")
		}
		if _, err := serve(pipeline.Scope{Providers: []string{"openai"}}, &pipeline.Call{Kind: pipeline.KindChat, Model: "openai/gpt-4o"}); err != nil {
			t.Error(err)
		}
	})
	t.Run("model list is filtered", func(t *testing.T) {
		h := stage(pipeline.HandlerFunc(func(ctx context.Context, c *pipeline.Call) (*pipeline.Result, error) {
			return &pipeline.Result{Models: []llm.Model{{ID: "openai/gpt-4o"}, {ID: "anthropic/claude-opus"}, {ID: "anthropic/claude-haiku-4"}}}, nil
		}))
		res, err := h.Serve(context.Background(), &pipeline.Call{Kind: pipeline.KindModels, Identity: pipeline.Identity{Scope: scope}})
		if err != nil || len(res.Models) != 2 {
			t.Fatalf("%v %+v", err, res)
		}
	})
}
