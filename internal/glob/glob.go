// Package glob matches the simple patterns used for model and provider
// scopes and rule filters: '*' matches any run of characters ('/'
// included, so "openai/*" covers "openai/gpt-4o" and "openrouter/*" covers
// "openrouter/anthropic/claude-3"), '?' matches one character, everything
// else matches itself.
package glob

// Match reports whether s matches pattern. It runs in O(len(pattern) *
// len(s)) at worst, so hostile patterns or inputs cannot make it slow.
func Match(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// Any reports whether s matches one of patterns.
func Any(patterns []string, s string) bool {
	for _, p := range patterns {
		if Match(p, s) {
			return true
		}
	}
	return false
}
