package auth

import (
	"net/http"
	"strings"
)

// Header names a gateway credential may arrive in.
const (
	headerAIG           = "X-Aig-Authorization"
	headerCF            = "Cf-Aig-Authorization"
	headerAuthorization = "Authorization"
	headerAPIKey        = "X-Api-Key"
)

// Credential is a token found in a request, with the header it came in.
type Credential struct {
	Token  string
	Header string
	// Explicit is true for x-aig-authorization / cf-aig-authorization,
	// which only ever carry a gateway credential.
	Explicit bool
}

// maxTokenLen bounds what is hashed or parsed; real keys and JWTs are far
// shorter.
const maxTokenLen = 16 << 10

// ParseBearer returns the token of an Authorization-style value: "Bearer
// X" (any case, any spacing) or, for headers that carry nothing else, a
// bare token. ok is false for an empty or oversized token, or another
// scheme ("Basic …").
func ParseBearer(v string, bareOK bool) (token string, ok bool) {
	v = strings.TrimSpace(v)
	if len(v) > maxTokenLen {
		return "", false
	}
	scheme, rest, found := strings.Cut(v, " ")
	switch {
	case found && strings.EqualFold(scheme, "Bearer"):
		token = strings.TrimSpace(rest)
	case bareOK && !found:
		token = v
	default:
		return "", false
	}
	if token == "" || strings.ContainsAny(token, " \t\r\n") {
		return "", false
	}
	return token, true
}

// Find returns the request's candidate gateway credential: the explicit
// x-aig-authorization (or cf-aig-authorization) when present, otherwise
// Authorization: Bearer, otherwise x-api-key. ok is false when none of
// them carries a token.
func Find(h http.Header) (c Credential, ok bool) {
	for _, name := range []string{headerAIG, headerCF} {
		if v := h.Get(name); v != "" {
			t, ok := ParseBearer(v, true)
			return Credential{Token: t, Header: name, Explicit: true}, ok
		}
	}
	if v := h.Get(headerAuthorization); v != "" {
		if t, ok := ParseBearer(v, false); ok {
			return Credential{Token: t, Header: headerAuthorization}, true
		}
	}
	if v := h.Get(headerAPIKey); v != "" {
		if t, ok := ParseBearer(v, true); ok {
			return Credential{Token: t, Header: headerAPIKey}, true
		}
	}
	return Credential{}, false
}

// LooksLikeJWT reports whether s has the shape of a compact JWS: three
// non-empty base64url segments.
func LooksLikeJWT(s string) bool {
	if len(s) > maxTokenLen || strings.Count(s, ".") != 2 {
		return false
	}
	for _, seg := range strings.Split(s, ".") {
		if seg == "" {
			return false
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '=') {
				return false
			}
		}
	}
	return true
}
