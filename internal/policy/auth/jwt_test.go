package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/aigateway/aigateway/internal/gwerr"
)

// idp is a test issuer: a JWKS endpoint (and discovery document) whose
// key set can be rotated.
type idp struct {
	srv   *httptest.Server
	mu    sync.Mutex
	set   []map[string]string
	hits  atomic.Int64
	down  atomic.Bool
	clock *fakeClock
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newIDP(t *testing.T) *idp {
	p := &idp{clock: &fakeClock{t: time.Now()}}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": p.srv.URL, "jwks_uri": p.srv.URL + "/keys"})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		p.hits.Add(1)
		if p.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"keys": p.set})
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *idp) publish(keys ...map[string]string) {
	p.mu.Lock()
	p.set = keys
	p.mu.Unlock()
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func rsaJWK(kid string, k *rsa.PrivateKey) map[string]string {
	return map[string]string{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
		"n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
}

func ecJWK(kid string, k *ecdsa.PrivateKey) map[string]string {
	b, _ := k.PublicKey.Bytes() // 0x04 || X || Y
	size := (len(b) - 1) / 2
	return map[string]string{"kty": "EC", "kid": kid, "crv": "P-256", "x": b64(b[1 : 1+size]), "y": b64(b[1+size:])}
}

func edJWK(kid string, k ed25519.PrivateKey) map[string]string {
	return map[string]string{"kty": "OKP", "kid": kid, "crv": "Ed25519", "x": b64(k.Public().(ed25519.PublicKey))}
}

func sign(t *testing.T, method jwt.SigningMethod, kid string, key crypto.PrivateKey, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (p *idp) verifier(discover bool) *JWTVerifier {
	url := p.srv.URL + "/keys"
	if discover {
		url = ""
	}
	ks := NewJWKS(url, p.srv.URL, p.srv.Client(), time.Hour)
	ks.now = p.clock.Now
	is := &Issuer{
		Name: "test", Issuer: p.srv.URL, Audience: []string{"aigateway"},
		Algorithms: []string{"RS256", "ES256", "EdDSA"}, Leeway: 5 * time.Second,
		UserClaim: "sub", TenantClaim: "org", TierClaim: "plan.tier", Keys: ks,
	}
	return NewJWTVerifier([]*Issuer{is}, p.clock.Now)
}

func (p *idp) claims(extra map[string]any) jwt.MapClaims {
	now := p.clock.Now()
	c := jwt.MapClaims{"iss": p.srv.URL, "sub": "user-42", "aud": "aigateway", "org": "acme",
		"plan": map[string]any{"tier": "gold"}, "exp": now.Add(time.Hour).Unix(), "iat": now.Unix()}
	for k, v := range extra {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func wantTokenError(t *testing.T, err error, fragment string) {
	t.Helper()
	var ge *gwerr.Error
	if !errors.As(err, &ge) || ge.Status != http.StatusUnauthorized || !strings.Contains(ge.Message, fragment) {
		t.Fatalf("want a 401 saying %q, got %v", fragment, err)
	}
}

func TestJWT(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	otherRSA, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	ctx := context.Background()

	t.Run("valid token maps claims to the identity", func(t *testing.T) {
		p := newIDP(t)
		p.publish(rsaJWK("k1", rsaKey))
		v := p.verifier(false)
		tok := sign(t, jwt.SigningMethodRS256, "k1", rsaKey, p.claims(nil))
		if !v.Recognizes(tok) {
			t.Fatal("issuer not recognised")
		}
		id, err := v.Verify(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		if id.User != "user-42" || id.Tenant != "acme" || id.Tier != "gold" || id.KeyName != "jwt:test" || id.KeyID != "" {
			t.Errorf("identity %+v", id)
		}
	})

	t.Run("EC and Ed25519 keys, keys found by discovery", func(t *testing.T) {
		p := newIDP(t)
		p.publish(ecJWK("ec", ecKey), edJWK("ed", edKey))
		v := p.verifier(true)
		for _, tok := range []string{
			sign(t, jwt.SigningMethodES256, "ec", ecKey, p.claims(nil)),
			sign(t, jwt.SigningMethodEdDSA, "ed", edKey, p.claims(nil)),
		} {
			if _, err := v.Verify(ctx, tok); err != nil {
				t.Error(err)
			}
		}
	})

	for _, tc := range []struct {
		name     string
		claims   map[string]any
		fragment string
	}{
		{"expired", map[string]any{"exp": time.Now().Add(-time.Minute).Unix()}, "expired"},
		{"not yet valid", map[string]any{"nbf": time.Now().Add(time.Hour).Unix()}, "not valid yet"},
		{"wrong audience", map[string]any{"aud": "someone-else"}, "audience"},
		{"no audience", map[string]any{"aud": nil}, "required claim"},
		{"no expiry", map[string]any{"exp": nil}, "required claim"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newIDP(t)
			p.publish(rsaJWK("k1", rsaKey))
			_, err := p.verifier(false).Verify(ctx, sign(t, jwt.SigningMethodRS256, "k1", rsaKey, p.claims(tc.claims)))
			wantTokenError(t, err, tc.fragment)
		})
	}

	t.Run("wrong signature", func(t *testing.T) {
		p := newIDP(t)
		p.publish(rsaJWK("k1", rsaKey))
		_, err := p.verifier(false).Verify(ctx, sign(t, jwt.SigningMethodRS256, "k1", otherRSA, p.claims(nil)))
		wantTokenError(t, err, "signature is invalid")
	})

	t.Run("tampered payload", func(t *testing.T) {
		p := newIDP(t)
		p.publish(rsaJWK("k1", rsaKey))
		tok := sign(t, jwt.SigningMethodRS256, "k1", rsaKey, p.claims(nil))
		parts := strings.Split(tok, ".")
		forged, _ := json.Marshal(p.claims(map[string]any{"org": "someone-else"}))
		parts[1] = b64(forged)
		_, err := p.verifier(false).Verify(ctx, strings.Join(parts, "."))
		wantTokenError(t, err, "signature is invalid")
	})

	t.Run("symmetric and none algorithms are refused", func(t *testing.T) {
		p := newIDP(t)
		p.publish(rsaJWK("k1", rsaKey))
		v := p.verifier(false)
		// HS256 keyed with the public key: the classic algorithm confusion
		pub := x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey)
		_, err := v.Verify(ctx, sign(t, jwt.SigningMethodHS256, "k1", pub, p.claims(nil)))
		wantTokenError(t, err, "invalid bearer token")
		none := sign(t, jwt.SigningMethodNone, "k1", jwt.UnsafeAllowNoneSignatureType, p.claims(nil))
		_, err = v.Verify(ctx, none)
		wantTokenError(t, err, "invalid bearer token")
	})

	t.Run("rotated key is fetched on an unknown kid, at most once per interval", func(t *testing.T) {
		p := newIDP(t)
		p.publish(rsaJWK("old", rsaKey))
		v := p.verifier(false)
		if _, err := v.Verify(ctx, sign(t, jwt.SigningMethodRS256, "old", rsaKey, p.claims(nil))); err != nil {
			t.Fatal(err)
		}
		p.publish(rsaJWK("new", otherRSA)) // the issuer rotates
		p.clock.Add(minRefetch)
		newTok := sign(t, jwt.SigningMethodRS256, "new", otherRSA, p.claims(nil))
		if _, err := v.Verify(ctx, newTok); err != nil {
			t.Fatalf("token of the rotated key: %v", err)
		}
		_, err := v.Verify(ctx, sign(t, jwt.SigningMethodRS256, "old", rsaKey, p.claims(nil)))
		wantTokenError(t, err, "no key \"old\"")
		before := p.hits.Load()
		for i := 0; i < 20; i++ {
			v.Verify(ctx, sign(t, jwt.SigningMethodRS256, "made-up", rsaKey, p.claims(nil)))
		}
		if n := p.hits.Load() - before; n > 1 {
			t.Errorf("%d fetches for 20 tokens with unknown kids; want at most 1", n)
		}
	})

	t.Run("keys are refreshed after the refresh interval and kept when the issuer is down", func(t *testing.T) {
		p := newIDP(t)
		p.publish(rsaJWK("k1", rsaKey))
		v := p.verifier(false)
		tok := func() string { return sign(t, jwt.SigningMethodRS256, "k1", rsaKey, p.claims(nil)) }
		if _, err := v.Verify(ctx, tok()); err != nil {
			t.Fatal(err)
		}
		p.down.Store(true)
		p.clock.Add(2 * time.Hour)
		before := p.hits.Load()
		if _, err := v.Verify(ctx, tok()); err != nil {
			t.Fatalf("issuer down, cached key: %v", err)
		}
		if p.hits.Load() == before {
			t.Error("stale keys were not refetched")
		}
	})

	t.Run("issuer unreachable before any key is known is a 503", func(t *testing.T) {
		p := newIDP(t)
		p.down.Store(true)
		_, err := p.verifier(false).Verify(ctx, sign(t, jwt.SigningMethodRS256, "k1", rsaKey, p.claims(nil)))
		var ge *gwerr.Error
		if !errors.As(err, &ge) || ge.Status != http.StatusServiceUnavailable {
			t.Fatalf("got %v", err)
		}
	})

	t.Run("unknown issuer is not recognised", func(t *testing.T) {
		p := newIDP(t)
		v := p.verifier(false)
		tok := sign(t, jwt.SigningMethodRS256, "k1", rsaKey, p.claims(map[string]any{"iss": "https://evil.example"}))
		if v.Recognizes(tok) {
			t.Fatal("foreign issuer recognised")
		}
		_, err := v.Verify(ctx, tok)
		wantTokenError(t, err, "issuer is not configured")
	})
}

func TestParseJWKRejectsWeakAndForeignKeys(t *testing.T) {
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	bad := ecJWK("x", ecKey)
	bad["x"] = bad["y"] // not on the curve
	enc := rsaJWK("e", small)
	enc["use"] = "enc"
	for name, k := range map[string]map[string]string{
		"1024-bit RSA": rsaJWK("s", small), "point off the curve": bad, "encryption key": enc,
		"symmetric": {"kty": "oct", "k": "c2VjcmV0"},
	} {
		raw, _ := json.Marshal(k)
		if _, _, err := ParseJWK(raw); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

// FuzzVerify feeds arbitrary tokens to a verifier holding a real key: it
// never panics and never accepts anything it did not sign.
func FuzzVerify(f *testing.F) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	issuer := "https://idp.example"
	good := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": issuer, "aud": "a", "exp": time.Now().Add(time.Hour).Unix()})
	good.Header["kid"] = "k"
	tok, _ := good.SignedString(key)
	f.Add(tok)
	f.Add("eyJhbGciOiJub25lIn0.eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGxlIn0.")
	f.Add("a.b.c")
	f.Add(strings.Replace(tok, ".", "..", 1))
	ks := NewJWKS("http://127.0.0.1:1/unused", issuer, nil, 24*time.Hour)
	raw, _ := json.Marshal(rsaJWK("k", key))
	_, pub, _ := ParseJWK(raw)
	ks.keys, ks.all, ks.fetched, ks.lastAttempt = map[string]crypto.PublicKey{"k": pub}, []crypto.PublicKey{pub}, time.Now(), time.Now()
	v := NewJWTVerifier([]*Issuer{{Name: "f", Issuer: issuer, Audience: []string{"a"}, Algorithms: []string{"RS256"}, Keys: ks}}, nil)
	f.Fuzz(func(t *testing.T, s string) {
		_, err := v.Verify(context.Background(), s)
		if err == nil && s != tok {
			t.Fatalf("accepted a token it did not issue: %q", s)
		}
	})
}
