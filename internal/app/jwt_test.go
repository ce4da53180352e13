package app

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestJWTCallersOverHTTP(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	b64 := base64.RawURLEncoding.EncodeToString
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "kid": "k1", "n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes()),
		}}})
	}))
	defer idp.Close()
	e := newAccessEnv(t)
	g := e.start(t, `
auth:
  jwt:
    - issuer: https://login.example.com/
      jwks_url: `+idp.URL+`
      audience: [aigateway]
      claims: {tenant: org, tier: plan}
      models: ["openai/*"]
limits:
  rules:
    - {name: per-user, by: [user], requests: 1, window: 1m}
`, "")
	token := func(sub string, exp time.Time) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
			"iss": "https://login.example.com/", "aud": "aigateway", "sub": sub, "org": "acme", "plan": "pro", "exp": exp.Unix(),
		})
		tok.Header["kid"] = "k1"
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if !g.gw.Runtime().AuthRequired() {
		t.Fatal("a JWT issuer must require authentication")
	}
	if resp, b := g.chat(t, token("alice", time.Now().Add(time.Hour)), "openai/gpt-4o"); resp.StatusCode != 200 {
		t.Fatalf("valid token: %d %s", resp.StatusCode, b)
	}
	resp, b := g.chat(t, token("alice", time.Now().Add(time.Hour)), "openai/gpt-4o")
	if resp.StatusCode != 429 || !strings.Contains(errMessage(t, b), "user=alice") {
		t.Fatalf("the user's own limit: %d %s", resp.StatusCode, b)
	}
	if resp, _ := g.chat(t, token("bob", time.Now().Add(time.Hour)), "openai/gpt-4o"); resp.StatusCode != 200 {
		t.Fatalf("another user: %d", resp.StatusCode)
	}
	if resp, b := g.chat(t, token("carol", time.Now().Add(-time.Hour)), "openai/gpt-4o"); resp.StatusCode != 401 || !strings.Contains(errMessage(t, b), "expired") {
		t.Fatalf("expired token: %d %s", resp.StatusCode, b)
	}
	if resp, _ := g.chat(t, token("dave", time.Now().Add(time.Hour)), "azure/gpt-4o"); resp.StatusCode != 403 {
		t.Fatalf("issuer scope: %d", resp.StatusCode)
	}
}
