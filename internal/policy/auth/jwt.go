package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/pipeline"
)

// Issuer is a configured JWT issuer.
type Issuer struct {
	// Name labels callers of this issuer in logs (KeyName "jwt:Name").
	Name string
	// Issuer must equal the iss claim.
	Issuer string
	// Audience: the token's aud must contain one of these.
	Audience []string
	// Algorithms accepted; only asymmetric ones are ever used.
	Algorithms []string
	// Leeway tolerates clock skew on exp, nbf and iat.
	Leeway time.Duration
	// UserClaim, TenantClaim and TierClaim name the claims (dotted paths
	// reach into objects) mapped to the identity; empty: not mapped.
	UserClaim, TenantClaim, TierClaim string
	// Scope restricts what callers of this issuer may use.
	Scope pipeline.Scope
	// Keys are the issuer's signing keys.
	Keys *JWKS
}

// JWTVerifier validates tokens of several issuers.
type JWTVerifier struct {
	issuers map[string]*Issuer
	now     func() time.Time
}

// NewJWTVerifier returns a verifier for issuers; now is the clock (nil:
// time.Now).
func NewJWTVerifier(issuers []*Issuer, now func() time.Time) *JWTVerifier {
	if now == nil {
		now = time.Now
	}
	v := &JWTVerifier{issuers: map[string]*Issuer{}, now: now}
	for _, is := range issuers {
		v.issuers[is.Issuer] = is
	}
	return v
}

// UnverifiedIssuer reads the iss claim of a compact JWT without checking
// anything; "" when the token is not a JWT with a string iss.
func UnverifiedIssuer(token string) string {
	if !LooksLikeJWT(token) {
		return ""
	}
	first := strings.IndexByte(token, '.')
	rest := token[first+1:]
	payload := rest[:strings.IndexByte(rest, '.')]
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(payload, "="))
	if err != nil {
		return ""
	}
	var claims struct {
		Iss any `json:"iss"`
	}
	if json.Unmarshal(b, &claims) != nil {
		return ""
	}
	s, _ := claims.Iss.(string)
	return s
}

// Recognizes implements TokenVerifier.
func (v *JWTVerifier) Recognizes(token string) bool {
	_, ok := v.issuers[UnverifiedIssuer(token)]
	return ok
}

// Verify implements TokenVerifier.
func (v *JWTVerifier) Verify(ctx context.Context, token string) (pipeline.Identity, error) {
	is, ok := v.issuers[UnverifiedIssuer(token)]
	if !ok {
		return pipeline.Identity{}, tokenError("the token's issuer is not configured")
	}
	p := jwt.NewParser(
		jwt.WithValidMethods(is.Algorithms),
		jwt.WithIssuer(is.Issuer),
		jwt.WithAudience(is.Audience...),
		jwt.WithLeeway(is.Leeway),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(v.now),
		jwt.WithJSONNumber(),
	)
	var keyErr error
	claims := jwt.MapClaims{}
	_, err := p.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		k, err := is.Keys.Key(ctx, kid)
		if err != nil {
			keyErr = err
		}
		return k, err
	})
	if err != nil {
		return pipeline.Identity{}, explain(err, keyErr, is)
	}
	id := pipeline.Identity{KeyName: "jwt:" + is.Name, Scope: is.Scope}
	id.User = claimString(claims, is.UserClaim)
	id.Tenant = claimString(claims, is.TenantClaim)
	id.Tier = claimString(claims, is.TierClaim)
	return id, nil
}

// explain turns a validation failure into a 401 that says what is wrong.
func explain(err, keyErr error, is *Issuer) error {
	var msg string
	switch {
	case keyErr != nil:
		var fe *FetchError
		if errors.As(keyErr, &fe) {
			e := gwerr.New(gwerr.KindGateway, http.StatusServiceUnavailable, "the token issuer's keys could not be fetched; try again shortly")
			e.Code, e.Cause, e.RetryAfter = "jwks_unavailable", keyErr, 5*time.Second
			return e
		}
		msg = "the token's signing key could not be found: " + keyErr.Error()
	case errors.Is(err, jwt.ErrTokenExpired):
		msg = "the token has expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		msg = "the token is not valid yet (nbf)"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		msg = "the token was issued in the future (iat)"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		msg = fmt.Sprintf("the token's audience (aud) is not one of %s", strings.Join(is.Audience, ", "))
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		msg = "the token's issuer (iss) does not match"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		msg = "the token lacks a required claim (exp and aud are required)"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		msg = "the token's signature is invalid"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		msg = "the token cannot be verified (unsupported or disallowed algorithm)"
	case errors.Is(err, jwt.ErrTokenMalformed):
		msg = "the token is malformed"
	default:
		msg = "the token is invalid"
	}
	return tokenError(msg)
}

func tokenError(msg string) *gwerr.Error {
	e := gwerr.Unauthorized("invalid bearer token: %s", msg)
	e.Code = "invalid_token"
	return e
}

// claimString reads a claim by dotted path as a string (numbers and
// booleans in their JSON form); "" when absent or not a scalar.
func claimString(claims jwt.MapClaims, path string) string {
	if path == "" {
		return ""
	}
	var cur any = map[string]any(claims)
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		if cur, ok = m[part]; !ok {
			return ""
		}
	}
	switch x := cur.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

var _ TokenVerifier = (*JWTVerifier)(nil)
