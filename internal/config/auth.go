package config

import (
	"fmt"
	"net/url"
	"time"
)

// Auth configures who may call the gateway besides gateway keys: JWT
// issuers, and IP rules for every request.
type Auth struct {
	// TrustedProxies are addresses or CIDRs of proxies in front of the
	// gateway; X-Forwarded-For is believed only from them.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// AllowIPs, when set, admits only these client addresses or CIDRs;
	// DenyIPs refuses these (deny wins).
	AllowIPs []string `yaml:"allow_ips"`
	DenyIPs  []string `yaml:"deny_ips"`
	// JWT lists the issuers whose bearer JWTs are accepted.
	JWT []JWTIssuer `yaml:"jwt"`
}

// JWTIssuer is an OIDC/JWT issuer whose signed tokens authenticate callers.
type JWTIssuer struct {
	// Name labels the issuer in logs (default: the issuer URL).
	Name string `yaml:"name"`
	// Issuer must equal the tokens' iss claim.
	Issuer string `yaml:"issuer"`
	// JWKSURL is where the signing keys are (default: jwks_uri from the
	// issuer's /.well-known/openid-configuration).
	JWKSURL string `yaml:"jwks_url"`
	// Audience lists accepted aud values; a token must carry one of them.
	Audience []string `yaml:"audience"`
	// Algorithms accepted (default RS256, RS384, RS512, PS256, PS384,
	// PS512, ES256, ES384, ES512, EdDSA); symmetric algorithms are never
	// accepted.
	Algorithms []string `yaml:"algorithms"`
	// Leeway tolerates clock skew on exp and nbf (default 30s).
	Leeway Duration `yaml:"leeway"`
	// JWKSRefresh is how long fetched keys are used before they are
	// fetched again (default 1h); an unknown kid refetches sooner.
	JWKSRefresh Duration `yaml:"jwks_refresh"`
	// Claims name the claims that carry the user, tenant and tier
	// (defaults: user from sub; no tenant, no tier). Dotted names reach
	// into objects (realm.tier).
	Claims JWTClaims `yaml:"claims"`
	// Models and Providers restrict what callers of this issuer may use.
	Models    []string `yaml:"models"`
	Providers []string `yaml:"providers"`
}

// JWTClaims maps token claims to the caller's identity.
type JWTClaims struct {
	User   string `yaml:"user"`
	Tenant string `yaml:"tenant"`
	Tier   string `yaml:"tier"`
}

var asymmetricAlgs = map[string]bool{
	"RS256": true, "RS384": true, "RS512": true, "PS256": true, "PS384": true, "PS512": true,
	"ES256": true, "ES384": true, "ES512": true, "EdDSA": true,
}

func (a *Auth) defaults() {
	for i := range a.JWT {
		j := &a.JWT[i]
		if j.Name == "" {
			j.Name = j.Issuer
		}
		if len(j.Algorithms) == 0 {
			j.Algorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
		}
		if j.Leeway == 0 {
			j.Leeway = Duration(30 * time.Second)
		}
		if j.JWKSRefresh == 0 {
			j.JWKSRefresh = Duration(time.Hour)
		}
		if j.Claims.User == "" {
			j.Claims.User = "sub"
		}
	}
}

func (a *Auth) validate() Errors {
	var errs Errors
	add := func(path, format string, args ...any) {
		errs = append(errs, FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	errs = append(errs, validateCIDRs("auth.trusted_proxies", a.TrustedProxies)...)
	errs = append(errs, validateCIDRs("auth.allow_ips", a.AllowIPs)...)
	errs = append(errs, validateCIDRs("auth.deny_ips", a.DenyIPs)...)
	issuers := map[string]bool{}
	for i, j := range a.JWT {
		path := fmt.Sprintf("auth.jwt[%d]", i)
		switch {
		case j.Issuer == "":
			add(path+".issuer", "is required (the iss claim of accepted tokens)")
		case issuers[j.Issuer]:
			add(path+".issuer", "%q is configured twice", j.Issuer)
		}
		issuers[j.Issuer] = true
		if j.JWKSURL == "" {
			if u, err := url.Parse(j.Issuer); j.Issuer != "" && (err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "") {
				add(path+".jwks_url", "is required when the issuer is not an http(s) URL to discover it from")
			}
		} else if u, err := url.Parse(j.JWKSURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			add(path+".jwks_url", "must be an http:// or https:// URL")
		}
		if len(j.Audience) == 0 {
			add(path+".audience", "is required: without it a token minted for any other service of the issuer would be accepted")
		}
		for k, alg := range j.Algorithms {
			if !asymmetricAlgs[alg] {
				add(fmt.Sprintf("%s.algorithms[%d]", path, k), "%q is not supported (one of RS256/384/512, PS256/384/512, ES256/384/512, EdDSA)", alg)
			}
		}
		errs = append(errs, validateScope(path, j.Models, j.Providers, nil, nil)...)
	}
	return errs
}
