package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"
)

// JWKS fetches and caches an issuer's signing keys. Keys are refetched
// when they are older than the refresh interval, and sooner when a token
// names a kid the cache does not hold (the issuer rotated its keys), but
// never more often than minRefetch, so tokens with made-up kids cannot
// make the gateway hammer the issuer.
type JWKS struct {
	url      string // JWKS URL; empty: discovered from issuer
	issuer   string
	client   *http.Client
	refresh  time.Duration
	now      func() time.Time
	retryGap time.Duration

	mu          sync.Mutex
	keys        map[string]crypto.PublicKey // by kid
	all         []crypto.PublicKey          // for tokens without kid
	fetched     time.Time
	lastAttempt time.Time
}

// minRefetch bounds refetches caused by unknown kids.
const minRefetch = 10 * time.Second

// maxJWKSBytes bounds a JWKS or discovery document.
const maxJWKSBytes = 1 << 20

// NewJWKS returns a cache for the keys at url, or (url empty) for those
// the issuer's OpenID discovery document names.
func NewJWKS(url, issuer string, client *http.Client, refresh time.Duration) *JWKS {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	if refresh <= 0 {
		refresh = time.Hour
	}
	return &JWKS{url: url, issuer: issuer, client: client, refresh: refresh, now: time.Now, retryGap: minRefetch}
}

// Key returns the public key for kid (any key when kid is empty and the
// set holds exactly one).
func (j *JWKS) Key(ctx context.Context, kid string) (crypto.PublicKey, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	now := j.now()
	stale := j.fetched.IsZero() || now.Sub(j.fetched) > j.refresh
	k, known := j.find(kid)
	if (stale || !known) && now.Sub(j.lastAttempt) >= j.retryGap {
		j.lastAttempt = now
		if err := j.fetch(ctx); err != nil && j.fetched.IsZero() {
			return nil, &FetchError{Err: err}
		} // on failure with keys at hand, keep using them
		k, known = j.find(kid)
	}
	if !known {
		if kid == "" {
			return nil, errors.New("the token names no key (kid) and the issuer has several")
		}
		return nil, fmt.Errorf("the issuer has no key %q", kid)
	}
	return k, nil
}

func (j *JWKS) find(kid string) (crypto.PublicKey, bool) {
	if kid == "" {
		if len(j.all) == 1 {
			return j.all[0], true
		}
		return nil, false
	}
	k, ok := j.keys[kid]
	return k, ok
}

func (j *JWKS) fetch(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	url := j.url
	if url == "" {
		var doc struct {
			JWKSURI string `json:"jwks_uri"`
		}
		if err := j.getJSON(ctx, strings.TrimRight(j.issuer, "/")+"/.well-known/openid-configuration", &doc); err != nil {
			return fmt.Errorf("discovering the issuer's keys: %w", err)
		}
		if doc.JWKSURI == "" {
			return errors.New("discovering the issuer's keys: no jwks_uri in its openid-configuration")
		}
		url = doc.JWKSURI
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := j.getJSON(ctx, url, &set); err != nil {
		return fmt.Errorf("fetching the issuer's keys: %w", err)
	}
	keys := map[string]crypto.PublicKey{}
	var all []crypto.PublicKey
	for _, raw := range set.Keys {
		kid, k, err := ParseJWK(raw)
		if err != nil {
			continue // a key type we do not use must not hide the others
		}
		all = append(all, k)
		if kid != "" {
			keys[kid] = k
		}
	}
	if len(all) == 0 {
		return errors.New("fetching the issuer's keys: the set holds no usable signing key")
	}
	j.keys, j.all, j.fetched = keys, all, j.now()
	return nil
}

func (j *JWKS) getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := j.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %d", url, resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes))
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// FetchError is returned when an issuer's keys could not be fetched at
// all: the gateway's problem (503), not the token's.
type FetchError struct{ Err error }

func (e *FetchError) Error() string { return e.Err.Error() }
func (e *FetchError) Unwrap() error { return e.Err }

// jwk is one JSON Web Key (RFC 7517) of the kinds JWTs are signed with.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Crv string `json:"crv"`
	N   string `json:"n"`
	E   string `json:"e"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// ParseJWK parses a public signing key: RSA, EC (P-256, P-384, P-521) or
// OKP (Ed25519). Private members, if any, are ignored.
func ParseJWK(raw []byte) (kid string, key crypto.PublicKey, err error) {
	var k jwk
	if err := json.Unmarshal(raw, &k); err != nil {
		return "", nil, fmt.Errorf("parsing JWK: %w", err)
	}
	if k.Use != "" && k.Use != "sig" {
		return "", nil, fmt.Errorf("JWK %q is not a signing key", k.Kid)
	}
	b64 := base64.RawURLEncoding
	switch k.Kty {
	case "RSA":
		n, err1 := b64.DecodeString(k.N)
		e, err2 := b64.DecodeString(k.E)
		if err1 != nil || err2 != nil || len(n) < 256 || len(e) == 0 || len(e) > 4 {
			return "", nil, errors.New("JWK: bad RSA key (need a modulus of at least 2048 bits)")
		}
		exp := 0
		for _, b := range e {
			exp = exp<<8 | int(b)
		}
		if exp < 3 {
			return "", nil, errors.New("JWK: bad RSA exponent")
		}
		return k.Kid, &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp}, nil
	case "EC":
		var curve elliptic.Curve
		switch k.Crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		case "P-521":
			curve = elliptic.P521()
		default:
			return "", nil, fmt.Errorf("JWK: unsupported curve %q", k.Crv)
		}
		x, err1 := b64.DecodeString(k.X)
		y, err2 := b64.DecodeString(k.Y)
		size := (curve.Params().BitSize + 7) / 8
		if err1 != nil || err2 != nil || len(x) != size || len(y) != size {
			return "", nil, errors.New("JWK: bad EC coordinates")
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, append(append([]byte{4}, x...), y...))
		if err != nil {
			return "", nil, fmt.Errorf("JWK: %w", err)
		}
		return k.Kid, pub, nil
	case "OKP":
		x, err := b64.DecodeString(k.X)
		if k.Crv != "Ed25519" || err != nil || len(x) != ed25519.PublicKeySize {
			return "", nil, errors.New("JWK: only Ed25519 OKP keys are supported")
		}
		return k.Kid, ed25519.PublicKey(x), nil
	}
	return "", nil, fmt.Errorf("JWK: unsupported key type %q", k.Kty)
}
