// Package auth is the authentication stage and its companion, the scope
// stage. Authentication runs before the body is read: it finds the
// caller's credential (a gateway key or a JWT from a configured issuer) in
// the headers of SPEC §3, refuses missing, unknown, expired, disabled and
// revoked ones with 401 saying which, applies the key's IP rules, records
// who is calling in Call.Identity, and removes the gateway credential from
// the headers so it is never forwarded to a provider. The scope stage runs
// after decoding, when the model is known, and refuses models outside the
// caller's scope with 403.
package auth

import (
	"context"
	"net/http"
	"time"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/pipeline"
	"github.com/aigateway/aigateway/internal/policy/ipfilter"
	"github.com/aigateway/aigateway/internal/store"
)

// KeyLookup finds gateway keys by secret.
type KeyLookup interface {
	// LookupKey returns the key for secret (revoked, expired and disabled
	// keys included), nil when there is none, or an error when the key
	// store cannot answer.
	LookupKey(ctx context.Context, secret string) (*store.Key, error)
}

// TokenVerifier validates bearer JWTs.
type TokenVerifier interface {
	// Recognizes reports, without verifying anything, whether token is a
	// JWT whose iss is a configured issuer.
	Recognizes(token string) bool
	// Verify checks the token and returns the caller's identity; the error
	// is a 401 that says what is wrong with it.
	Verify(ctx context.Context, token string) (pipeline.Identity, error)
}

// Options configure the auth stage.
type Options struct {
	// Keys looks up gateway keys (nil: no keys).
	Keys KeyLookup
	// JWT validates JWTs (nil: none are accepted).
	JWT TokenVerifier
	// Required reports whether callers must authenticate. While it is
	// false (no keys and no issuers configured) the gateway runs
	// unauthenticated and ignores whatever credential a client sends.
	// Nil means always required.
	Required func() bool
	// Touch records that a key was used (batched by the caller; nil: not
	// recorded).
	Touch func(id string)
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// New returns the auth stage.
func New(o Options) pipeline.Middleware {
	if o.Now == nil {
		o.Now = time.Now
	}
	return func(next pipeline.Handler) pipeline.Handler {
		return pipeline.HandlerFunc(func(ctx context.Context, c *pipeline.Call) (*pipeline.Result, error) {
			if o.Required != nil && !o.Required() {
				return next.Serve(ctx, c)
			}
			id, err := o.authenticate(ctx, c)
			if err != nil {
				return nil, err
			}
			c.Identity = id
			return next.Serve(ctx, c)
		})
	}
}

func (o *Options) authenticate(ctx context.Context, c *pipeline.Call) (pipeline.Identity, error) {
	cred, ok := Find(c.HTTP.Header)
	if !ok {
		if c.Kind == pipeline.KindNative {
			return pipeline.Identity{}, missing("missing gateway key: send it as x-aig-authorization: Bearer <key> " +
				"(or as Authorization / x-api-key when you send no provider credential of your own)")
		}
		return pipeline.Identity{}, missing("missing gateway key: send it as Authorization: Bearer <key> or x-api-key: <key>")
	}
	isJWT := o.JWT != nil && LooksLikeJWT(cred.Token) && o.JWT.Recognizes(cred.Token)
	var key *store.Key
	if !isJWT && o.Keys != nil {
		var err error
		if key, err = o.Keys.LookupKey(ctx, cred.Token); err != nil {
			e := gwerr.New(gwerr.KindGateway, http.StatusServiceUnavailable, "the key store is unavailable; try again shortly")
			e.Code, e.Cause, e.RetryAfter, e.Retryable = "key_store_unavailable", err, time.Second, true
			return pipeline.Identity{}, e
		}
	}
	if key == nil && !isJWT {
		if c.Kind == pipeline.KindNative && !cred.Explicit {
			// a credential the gateway does not know, on passthrough: it is
			// the caller's provider credential, and the gateway key is missing
			return pipeline.Identity{}, missing("missing gateway key: " + cred.Header + " carries no gateway key the gateway knows " +
				"(a provider credential is forwarded as is); send the gateway key as x-aig-authorization: Bearer <key>")
		}
		return pipeline.Identity{}, refused("invalid_gateway_key", "invalid gateway key in %s: no such key", cred.Header)
	}
	if !cred.Explicit {
		c.HTTP.Header.Del(cred.Header) // the gateway's own credential never goes upstream
	}
	if isJWT {
		return o.JWT.Verify(ctx, cred.Token)
	}
	now := o.Now()
	switch {
	case key.Revoked():
		return pipeline.Identity{}, refused("gateway_key_revoked", "gateway key %q was revoked at %s", key.Name, key.RevokedAt.Format(time.RFC3339))
	case key.Expired(now):
		return pipeline.Identity{}, refused("gateway_key_expired", "gateway key %q expired at %s", key.Name, key.ExpiresAt.Format(time.RFC3339))
	case !key.Enabled:
		return pipeline.Identity{}, refused("gateway_key_disabled", "gateway key %q is disabled", key.Name)
	}
	if len(key.AllowIPs)+len(key.DenyIPs) > 0 {
		rules := ipfilter.Rules{Allow: parseOrNone(key.AllowIPs), Deny: parseOrNone(key.DenyIPs)}
		if !rules.Permits(c.ClientIP) {
			e := gwerr.Forbidden("gateway key %q may not be used from %s", key.Name, c.ClientIP)
			e.Code = "ip_not_allowed"
			return pipeline.Identity{}, e
		}
	}
	if o.Touch != nil {
		o.Touch(key.ID)
	}
	return IdentityOf(key), nil
}

// IdentityOf is the identity a key gives its caller; metadata "user" and
// "tier" fill those fields.
func IdentityOf(k *store.Key) pipeline.Identity {
	return pipeline.Identity{
		KeyID: k.ID, KeyName: k.Name, Tenant: k.Tenant, User: k.Metadata["user"], Tier: k.Metadata["tier"],
		Scope: pipeline.Scope{Models: k.Models, Providers: k.Providers},
		Quota: pipeline.Quota{RPM: k.RPM, TPM: k.TPM, BudgetUSD: k.BudgetUSD, BudgetPeriod: k.BudgetPeriod},
	}
}

// parseOrNone parses a list validated when the key was written; an entry
// that no longer parses denies (allow lists) or is skipped.
func parseOrNone(ss []string) ipfilter.List {
	var out ipfilter.List
	for _, s := range ss {
		if l, err := ipfilter.ParseList([]string{s}); err == nil {
			out = append(out, l...)
		}
	}
	return out
}

func missing(msg string) *gwerr.Error {
	e := gwerr.Unauthorized("%s", msg)
	e.Code = "missing_gateway_key"
	return e
}

func refused(code, format string, args ...any) *gwerr.Error {
	e := gwerr.Unauthorized(format, args...)
	e.Code = code
	return e
}
