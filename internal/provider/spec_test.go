package provider

import (
	"net/http"
	"testing"
)

func TestSpecBase(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://api.example.com", "https://api.example.com"},
		{"https://api.example.com/v1//", "https://api.example.com/v1"},
		{"api.example.com", ""},
		{"/v1", ""},
		{"://x", ""},
	} {
		s := Spec{BaseURL: tc.in}
		got, err := s.Base()
		if got != tc.want || (err == nil) != (tc.want != "") {
			t.Errorf("Base(%q) = %q, %v", tc.in, got, err)
		}
	}
}

func TestSpecHTTPClient(t *testing.T) {
	if c := (&Spec{}).HTTPClient(); c != http.DefaultClient {
		t.Error("no client: want http.DefaultClient")
	}
	own := &http.Client{}
	if c := (&Spec{Client: own}).HTTPClient(); c != own {
		t.Error("the spec's client was not used")
	}
}
