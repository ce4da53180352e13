package glob

import (
	"path"
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"openai/*", "openai/gpt-4o", true},
		{"openai/*", "openai/", true},
		{"openai/*", "openaix/gpt", false},
		{"anthropic/claude-*", "anthropic/claude-sonnet-4-5", true},
		{"anthropic/claude-*", "anthropic/haiku", false},
		{"openrouter/*", "openrouter/anthropic/claude-3", true},
		{"*", "", true},
		{"*", "anything/at/all", true},
		{"", "", true},
		{"", "x", false},
		{"gpt-4o", "gpt-4o", true},
		{"gpt-4o", "gpt-4o-mini", false},
		{"gpt-4o*", "gpt-4o-mini", true},
		{"*/gpt-4o", "azure/gpt-4o", true},
		{"?pen*", "openai/x", true},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		{"*a*a*a*a*a*b", strings.Repeat("a", 200), false},
	} {
		if got := Match(tc.pattern, tc.s); got != tc.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

// FuzzMatch checks Match against path.Match on inputs without '/' (where
// the two agree) and that it never panics.
func FuzzMatch(f *testing.F) {
	for _, s := range [][2]string{{"openai/*", "openai/gpt-4o"}, {"a*b?c", "aXbYc"}, {"***", ""}, {"?", "é"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		got := Match(pattern, s)
		if strings.ContainsAny(pattern+s, "/\\[]") || !isASCII(pattern+s) {
			return
		}
		want, err := path.Match(pattern, s)
		if err == nil && got != want {
			t.Fatalf("Match(%q, %q) = %v, path.Match says %v", pattern, s, got, want)
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
