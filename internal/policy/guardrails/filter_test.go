package guardrails

import (
	"math/rand"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aigateway/aigateway/internal/policy/guardrails/detect"
)

func builtinRule(t testing.TB, kind string, action Action) Rule {
	t.Helper()
	d, label, ok := detect.Builtin(kind)
	if !ok {
		t.Fatalf("no builtin %s", kind)
	}
	return Rule{Name: "test/" + kind, Label: label, Detector: d, Action: action, Prompt: true, Response: true}
}

// outputRules are response rules of every kind, redacting.
func outputRules(t testing.TB, action Action) []*Rule {
	var rules []*Rule
	for _, k := range []string{detect.KindEmail, detect.KindPhone, detect.KindCard, detect.KindIBAN,
		detect.KindSSN, detect.KindIP, detect.KindCredential} {
		r := builtinRule(t, k, action)
		rules = append(rules, &r)
	}
	words, err := detect.NewWords([]string{"falcon", "project bluebird"})
	if err != nil {
		t.Fatal(err)
	}
	re, err := detect.NewRegex(`EMP-\d{6}`, 0)
	if err != nil {
		t.Fatal(err)
	}
	rules = append(rules,
		&Rule{Name: "test/words", Label: "CODENAME", Detector: words, Action: action, Response: true},
		&Rule{Name: "test/emp", Label: "EMPLOYEE", Detector: re, Action: action, Response: true})
	return rules
}

const pemKey = "-----BEGIN PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END PRIVATE KEY-----"

// answers are model outputs with sensitive values in every position.
var answers = []string{
	"Sure! Write to john.doe@example.com or call +44 20 7946 0958.",
	"john.doe@example.com",
	"Card 4111 1111 1111 1111 expires 12/25; IBAN DE89 3704 0044 0532 0130 00. Done",
	"Your SSN 123-45-6789 and server 192.168.1.1 / 2001:db8::1 are noted.",
	"Use key sk-proj-abcdefghijklmnopqrstuvwxyz0123456789 with AKIAIOSFODNN7EXAMPLE.",
	"Here: " + pemKey + " ok",
	"Project Bluebird and Falcon ship; ask EMP-123456 (not EMP-12). Café ☕ naïve — 日本語.",
	"No sensitive data here, just prose about 12:30 and version 1.2.3.4.5.",
	"(415) 555-2671, 415.555.2671 and fe80::1.",
}

// runeSplits returns the indexes of every rune boundary inside s.
func runeSplits(s string) []int {
	var out []int
	for i := range s {
		if i > 0 {
			out = append(out, i)
		}
	}
	return out
}

func streamFilter(rules []*Rule, pieces []string) (string, *Rule) {
	f := &filter{rules: rules}
	var b strings.Builder
	for _, p := range pieces {
		out, blocked := f.push(p, false)
		if blocked != nil {
			return b.String(), blocked
		}
		b.WriteString(out)
	}
	out, blocked := f.push("", true)
	if blocked != nil {
		return b.String(), blocked
	}
	b.WriteString(out)
	return b.String(), nil
}

func wholeFilter(rules []*Rule, s string) (string, *Rule) {
	return applyRules(rules, s, nil, nil, func(*Rule) {})
}

func TestFilterRedactsInStreamsSplitAtEveryPosition(t *testing.T) {
	rules := outputRules(t, ActionRedact)
	for _, s := range answers {
		want, blocked := wholeFilter(rules, s)
		if blocked != nil {
			t.Fatalf("redact rules blocked %q", s)
		}
		for _, k := range runeSplits(s) {
			got, _ := streamFilter(rules, []string{s[:k], s[k:]})
			if got != want {
				t.Fatalf("split at %d of %q:\n got %q\nwant %q", k, s, got, want)
			}
		}
		// every rune its own event
		var pieces []string
		for _, r := range s {
			pieces = append(pieces, string(r))
		}
		if got, _ := streamFilter(rules, pieces); got != want {
			t.Fatalf("rune by rune %q:\n got %q\nwant %q", s, got, want)
		}
	}
}

func TestFilterRedactionIsComplete(t *testing.T) {
	rules := outputRules(t, ActionRedact)
	got, _ := wholeFilter(rules, strings.Join(answers, "\n"))
	for _, secret := range []string{"john.doe@example.com", "7946 0958", "4111 1111 1111 1111", "DE89", "123-45-6789",
		"192.168.1.1", "2001:db8::1", "sk-proj-", "AKIAIOSFODNN7EXAMPLE", "MIIBOgIBAAJBAKj34Gkx", "Bluebird", "Falcon", "EMP-123456",
		"555-2671", "fe80::1"} {
		if strings.Contains(got, secret) {
			t.Errorf("redacted text still contains %q:\n%s", secret, got)
		}
	}
	for _, kept := range []string{"EMP-12)", "12:30", "1.2.3.4.5", "Café ☕ naïve — 日本語"} {
		if !strings.Contains(got, kept) {
			t.Errorf("redacted text lost %q:\n%s", kept, got)
		}
	}
	if !strings.Contains(got, "[EMAIL]") || !strings.Contains(got, "[CARD]") || !strings.Contains(got, "[CODENAME]") {
		t.Errorf("labels missing:\n%s", got)
	}
}

func TestFilterBlocksBeforeTheValueLeaves(t *testing.T) {
	card := builtinRule(t, detect.KindCard, ActionBlock)
	rules := []*Rule{&card}
	s := "Your card is 4111 1111 1111 1111, keep it safe."
	for _, k := range runeSplits(s) {
		sent, blocked := streamFilter(rules, []string{s[:k], s[k:]})
		if blocked == nil {
			t.Fatalf("split at %d: not blocked", k)
		}
		if strings.Contains(sent, "4111 1111 1111 1111") || strings.Contains(sent, "1111 1111") {
			t.Fatalf("split at %d: the card left before the block: %q", k, sent)
		}
	}
	if _, blocked := streamFilter(rules, []string{"no card, only 4111 1111 1111 1112"}); blocked != nil {
		t.Error("a non-Luhn number blocked the stream")
	}
}

func TestFilterHoldsBackLittle(t *testing.T) {
	rules := outputRules(t, ActionRedact)
	f := &filter{rules: rules}
	out, _ := f.push("The weather in Paris is sunny today and", false)
	// only the last word may still become something
	if want := "The weather in Paris is sunny today "; out != want {
		t.Errorf("passed on %q, want %q", out, want)
	}
	out, _ = f.push(" tomorrow. ", false)
	if !strings.HasPrefix(out, "and tomorrow.") {
		t.Errorf("then passed on %q", out)
	}
}

func TestFilterStreamsRandomSplits(t *testing.T) {
	rules := outputRules(t, ActionRedact)
	r := rand.New(rand.NewSource(3))
	for _, s := range answers {
		want, _ := wholeFilter(rules, s)
		for iter := 0; iter < 50; iter++ {
			pieces := randomPieces(r, s)
			if got, _ := streamFilter(rules, pieces); got != want {
				t.Fatalf("pieces %q:\n got %q\nwant %q", pieces, got, want)
			}
		}
	}
}

// randomPieces cuts s at random rune boundaries.
func randomPieces(r *rand.Rand, s string) []string {
	var out []string
	for len(s) > 0 {
		n := 1 + r.Intn(12)
		k := 0
		for i := 0; i < n && k < len(s); i++ {
			_, size := utf8.DecodeRuneInString(s[k:])
			k += size
		}
		out = append(out, s[:k])
		s = s[k:]
	}
	return out
}

func TestRestoreSplitAtEveryPosition(t *testing.T) {
	m := newMasker()
	email := m.placeholder("EMAIL", "john.doe@example.com")
	card := m.placeholder("CARD", "4111 1111 1111 1111")
	email2 := m.placeholder("EMAIL", `"quoted"@example.com`)
	if email != "[EMAIL_1]" || card != "[CARD_1]" || email2 != "[EMAIL_2]" {
		t.Fatalf("placeholders %s %s %s", email, card, email2)
	}
	if again := m.placeholder("EMAIL", "john.doe@example.com"); again != email {
		t.Fatalf("same value got %s", again)
	}
	for _, tc := range []struct {
		in, want string
		json     bool
	}{
		{"Mail [EMAIL_1] now", "Mail john.doe@example.com now", false},
		{"[EMAIL_1][CARD_1]", "john.doe@example.com4111 1111 1111 1111", false},
		{"[EMAIL_1", "[EMAIL_1", false},
		{"[EMAIL_3] [NOPE_1] [email_1] [[EMAIL_1]]", "[EMAIL_3] [NOPE_1] [email_1] [john.doe@example.com]", false},
		{`{"to":"[EMAIL_2]"}`, `{"to":"\"quoted\"@example.com"}`, true},
		{"end [", "end [", false},
	} {
		if got := m.restore(tc.in, tc.json); got != tc.want {
			t.Errorf("restore(%q) = %q, want %q", tc.in, got, tc.want)
		}
		for _, k := range runeSplits(tc.in) {
			r := &restorer{m: m, inJSON: tc.json}
			got := r.push(tc.in[:k], false) + r.push(tc.in[k:], false) + r.push("", true)
			if got != tc.want {
				t.Errorf("split at %d of %q: %q, want %q", k, tc.in, got, tc.want)
			}
		}
		r := &restorer{m: m, inJSON: tc.json}
		var b strings.Builder
		for i := 0; i < len(tc.in); i++ {
			b.WriteString(r.push(tc.in[i:i+1], false))
		}
		b.WriteString(r.push("", true))
		if b.String() != tc.want {
			t.Errorf("byte by byte %q: %q, want %q", tc.in, b.String(), tc.want)
		}
	}
	if got := m.remask("write john.doe@example.com, 4111 1111 1111 1111"); got != "write [EMAIL_1], [CARD_1]" {
		t.Errorf("remask = %q", got)
	}
	if got := m.remask(`{"to":"\"quoted\"@example.com"}`); got != `{"to":"[EMAIL_2]"}` {
		t.Errorf("remask of JSON text = %q", got)
	}
}

func FuzzStreamFilter(f *testing.F) {
	for _, s := range answers {
		f.Add(s, uint64(7))
	}
	f.Add("a@b.co 4111111111111111", uint64(1))
	rules := outputRules(f, ActionRedact)
	f.Fuzz(func(t *testing.T, s string, seed uint64) {
		if len(s) > 400 || !utf8.ValidString(s) {
			return
		}
		want, _ := wholeFilter(rules, s)
		r := rand.New(rand.NewSource(int64(seed)))
		pieces := randomPieces(r, s)
		if got, _ := streamFilter(rules, pieces); got != want {
			t.Fatalf("pieces %q:\n got %q\nwant %q", pieces, got, want)
		}
	})
}

func FuzzRestoreStream(f *testing.F) {
	f.Add("a [EMAIL_1] b [EMAIL_2][CARD_1] [EMAIL_ [x]", uint64(3))
	f.Add("[[[EMAIL_1]]]", uint64(9))
	m := newMasker()
	m.placeholder("EMAIL", "jane@example.com")
	m.placeholder("EMAIL", `"q"@example.com`)
	m.placeholder("CARD", "4111 1111 1111 1111")
	f.Fuzz(func(t *testing.T, s string, seed uint64) {
		if len(s) > 400 || !utf8.ValidString(s) {
			return
		}
		for _, inJSON := range []bool{false, true} {
			want := m.restore(s, inJSON)
			r := &restorer{m: m, inJSON: inJSON}
			var b strings.Builder
			for _, p := range randomPieces(rand.New(rand.NewSource(int64(seed))), s) {
				b.WriteString(r.push(p, false))
			}
			b.WriteString(r.push("", true))
			if b.String() != want {
				t.Fatalf("%q json=%v: streamed %q, whole %q", s, inJSON, b.String(), want)
			}
		}
	})
}
