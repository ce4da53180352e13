package auth

import (
	"net/http"
	"strings"
	"testing"
)

func TestFind(t *testing.T) {
	for _, tc := range []struct {
		name     string
		headers  map[string]string
		want     Credential
		wantOK   bool
		wantNone bool
	}{
		{"bearer", map[string]string{"Authorization": "Bearer aig_x"}, Credential{Token: "aig_x", Header: "Authorization"}, true, false},
		{"bearer any case and spacing", map[string]string{"Authorization": "  bearer   aig_x "}, Credential{Token: "aig_x", Header: "Authorization"}, true, false},
		{"x-api-key", map[string]string{"X-Api-Key": "aig_y"}, Credential{Token: "aig_y", Header: "X-Api-Key"}, true, false},
		{"authorization wins over x-api-key", map[string]string{"Authorization": "Bearer a", "X-Api-Key": "b"}, Credential{Token: "a", Header: "Authorization"}, true, false},
		{"explicit header wins", map[string]string{"Authorization": "Bearer sk-provider", "X-Aig-Authorization": "Bearer aig_z"},
			Credential{Token: "aig_z", Header: "X-Aig-Authorization", Explicit: true}, true, false},
		{"cloudflare spelling", map[string]string{"Cf-Aig-Authorization": "Bearer aig_z"}, Credential{Token: "aig_z", Header: "Cf-Aig-Authorization", Explicit: true}, true, false},
		{"explicit bare token", map[string]string{"X-Aig-Authorization": "aig_z"}, Credential{Token: "aig_z", Header: "X-Aig-Authorization", Explicit: true}, true, false},
		{"basic auth is not a bearer", map[string]string{"Authorization": "Basic dXNlcjpwdw=="}, Credential{}, false, true},
		{"empty bearer", map[string]string{"Authorization": "Bearer "}, Credential{}, false, true},
		{"nothing", map[string]string{}, Credential{}, false, true},
		{"token with inner space", map[string]string{"X-Api-Key": "a b"}, Credential{}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.headers {
				h.Set(k, v)
			}
			got, ok := Find(h)
			if ok != tc.wantOK || (ok && got != tc.want) {
				t.Errorf("Find = %+v, %v; want %+v, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestLooksLikeJWT(t *testing.T) {
	for s, want := range map[string]bool{
		"eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln": true,
		"aig_abc":        false,
		"a.b":            false,
		"a..c":           false,
		"a.b.c.d":        false,
		"a.b!.c":         false,
		"sk-proj-abc.de": false,
	} {
		if got := LooksLikeJWT(s); got != want {
			t.Errorf("LooksLikeJWT(%q) = %v", s, got)
		}
	}
}

// FuzzFind parses arbitrary credential headers: no panic, and a found
// token never carries whitespace or exceeds the bound.
func FuzzFind(f *testing.F) {
	for _, s := range []string{"Bearer aig_x", "bearer\tx", "Basic abc", "", "Bearer  a b", strings.Repeat("x", 100)} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, authz, aig string) {
		h := http.Header{}
		h.Set("Authorization", authz)
		h.Set("X-Aig-Authorization", aig)
		h.Set("X-Api-Key", authz)
		c, ok := Find(h)
		if ok && (c.Token == "" || strings.ContainsAny(c.Token, " \t\r\n") || len(c.Token) > maxTokenLen) {
			t.Fatalf("bad token %q", c.Token)
		}
	})
}

// FuzzUnverifiedIssuer reads iss from arbitrary token strings without
// panicking.
func FuzzUnverifiedIssuer(f *testing.F) {
	f.Add("eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL2lkcCJ9.c2ln")
	f.Add("a.b.c")
	f.Add("..")
	f.Add("eyJ9.e30=.x")
	f.Fuzz(func(t *testing.T, s string) {
		iss := UnverifiedIssuer(s)
		if iss != "" && !LooksLikeJWT(s) {
			t.Fatalf("issuer %q from a non-JWT", iss)
		}
	})
}
