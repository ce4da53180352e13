package detect

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// found returns the matched substrings of d in s.
func found(d Detector, s string) []string {
	var out []string
	for _, m := range d.Find(s, 0, nil) {
		out = append(out, s[m.Start:m.End])
	}
	return out
}

type detectorCase struct {
	name string
	in   string
	want []string // nil: nothing found
}

func runCases(t *testing.T, d Detector, cases []detectorCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := found(d, tc.in)
			if !slices.Equal(got, tc.want) {
				t.Errorf("in %q found %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestEmail(t *testing.T) {
	runCases(t, Email{}, []detectorCase{
		{"plain", "write to john.doe@example.com today", []string{"john.doe@example.com"}},
		{"plus tag and subdomains", "a+tag@mail.sub.example.co.uk", []string{"a+tag@mail.sub.example.co.uk"}},
		{"sentence end", "mail me: jane@example.org.", []string{"jane@example.org"}},
		{"in brackets", "<x_y%z@ex-ample.io>", []string{"x_y%z@ex-ample.io"}},
		{"two", "a@b.de, c@d.fr", []string{"a@b.de", "c@d.fr"}},
		{"no tld", "john@localhost", nil},
		{"one letter tld", "john@example.c", nil},
		{"numeric tld", "root@10.0.0.1", nil},
		{"no local part", "@example.com", nil},
		{"handle", "ping @john on slack", nil},
		{"local part too long", strings.Repeat("a", 65) + "@example.com", nil},
		{"local part 64", strings.Repeat("a", 64) + "@example.com", []string{strings.Repeat("a", 64) + "@example.com"}},
		{"leading dot", ".john@example.com", nil},
		{"label starts with dash", "john@-example.com", nil},
		{"glued to more", "john@example.com_x", nil},
		{"double at", "john@@example.com", nil},
	})
}

func TestCard(t *testing.T) {
	runCases(t, Card{}, []detectorCase{
		{"visa grouped", "card 4111 1111 1111 1111 exp", []string{"4111 1111 1111 1111"}},
		{"mastercard dashes", "5555-5555-5555-4444", []string{"5555-5555-5555-4444"}},
		{"amex", "amex 378282246310005.", []string{"378282246310005"}},
		{"discover", "6011111111111117", []string{"6011111111111117"}},
		{"jcb", "3530111333300000", []string{"3530111333300000"}},
		{"followed by expiry", "4111 1111 1111 1111 12/25", []string{"4111 1111 1111 1111"}},
		{"followed by cvc group", "4012 8888 8888 1881 123", []string{"4012 8888 8888 1881"}},
		{"luhn fails", "4111 1111 1111 1112", nil},
		{"not a card network", "1234 5678 1234 5670", nil},
		{"zeros", "0000 0000 0000 0000", nil},
		{"twenty digits", "41111111111111111113", nil},
		{"glued to letters", "ID4111111111111111", nil},
		{"glued to letters after", "4111111111111111x", nil},
		{"decimal", "3.4111111111111111", nil},
		{"too short", "4111 1111 1111", nil},
		{"after digit group", "99 4111 1111 1111 1111", nil},
	})
}

func TestLuhn(t *testing.T) {
	digits := func(s string) []byte {
		b := []byte(s)
		for i := range b {
			b[i] -= '0'
		}
		return b
	}
	for s, want := range map[string]bool{
		"79927398713": true, "79927398710": false, "4111111111111111": true,
		"4111111111111121": false, "0": true, "18": true, "19": false,
	} {
		if got := luhn(digits(s)); got != want {
			t.Errorf("luhn(%s) = %v, want %v", s, got, want)
		}
	}
}

func TestIBAN(t *testing.T) {
	runCases(t, IBAN{}, []detectorCase{
		{"germany grouped", "IBAN: DE89 3704 0044 0532 0130 00, thanks", []string{"DE89 3704 0044 0532 0130 00"}},
		{"uk compact", "GB82WEST12345698765432", []string{"GB82WEST12345698765432"}},
		{"france letters in bban", "FR14 2004 1010 0505 0001 3M02 606", []string{"FR14 2004 1010 0505 0001 3M02 606"}},
		{"netherlands", "pay NL91ABNA0417164300.", []string{"NL91ABNA0417164300"}},
		{"followed by upper-case word", "DE89 3704 0044 0532 0130 00 OK", []string{"DE89 3704 0044 0532 0130 00"}},
		{"bad checksum", "DE89 3704 0044 0532 0130 01", nil},
		{"bad checksum compact", "GB82WEST12345698765433", nil},
		{"lower case", "de89370400440532013000", nil},
		{"too short", "DE89 3704", nil},
		{"inside a word", "xDE89370400440532013000", nil},
		{"no check digits", "DEAB370400440532013000", nil},
	})
}

func TestSSN(t *testing.T) {
	runCases(t, SSN{}, []detectorCase{
		{"dashes", "SSN 123-45-6789.", []string{"123-45-6789"}},
		{"spaces", "ssn 234 56 7890", []string{"234 56 7890"}},
		{"area 000", "000-12-3456", nil},
		{"area 666", "666-12-3456", nil},
		{"area 900+", "900-12-3456", nil},
		{"area 999", "999-12-3456", nil},
		{"group 00", "123-00-4567", nil},
		{"serial 0000", "123-45-0000", nil},
		{"mixed separators", "123-45 6789", nil},
		{"longer number", "123-45-67890", nil},
		{"phone shape", "123-456-7890", nil},
		{"date-like continuation", "123-45-6789-1", nil},
		{"no separators", "123456789", nil},
		{"preceded by digits", "1-123-45-6789", nil},
	})
}

func TestPhone(t *testing.T) {
	runCases(t, Phone{}, []detectorCase{
		{"uk international", "call +44 20 7946 0958 now", []string{"+44 20 7946 0958"}},
		{"us international", "+1 (555) 123-4567", []string{"+1 (555) 123-4567"}},
		{"germany dashes", "Tel. +49-30-1234567.", []string{"+49-30-1234567"}},
		{"trunk prefix", "+44 (0)20 7946 0958", []string{"+44 (0)20 7946 0958"}},
		{"compact e164", "+14155552671", []string{"+14155552671"}},
		{"nanp parentheses", "(415) 555-2671", []string{"(415) 555-2671"}},
		{"nanp dashes", "at 415-555-2671,", []string{"415-555-2671"}},
		{"nanp dots", "415.555.2671", []string{"415.555.2671"}},
		{"nanp with 1", "1-800-555-0199", []string{"1-800-555-0199"}},
		{"international too short", "+44 123", nil},
		{"international too long", "+1234567890123456", nil},
		{"plus zero", "+0 20 7946 0958", nil},
		{"date", "2023-10-05", nil},
		{"area starts with 1", "123-456-7890", nil},
		{"mixed nanp separators", "415-555.2671", nil},
		{"longer digit chain", "415-555-2671-99", nil},
		{"time", "12:30:45", nil},
		{"glued", "x415-555-2671", nil},
	})
}

func TestIP(t *testing.T) {
	ip := Union(IPv4{}, IPv6{})
	runCases(t, ip, []detectorCase{
		{"ipv4", "host 192.168.1.1 is up", []string{"192.168.1.1"}},
		{"ipv4 sentence end", "use 8.8.8.8.", []string{"8.8.8.8"}},
		{"ipv4 with port", "10.0.0.255:8080", []string{"10.0.0.255"}},
		{"ipv6 compressed", "addr 2001:db8::1 ok", []string{"2001:db8::1"}},
		{"ipv6 full", "fe80:0:0:0:1ff:fe23:4567:890a", []string{"fe80:0:0:0:1ff:fe23:4567:890a"}},
		{"ipv6 loopback", "[::1]:80", []string{"::1"}},
		{"ipv6 mapped", "::ffff:192.0.2.1", []string{"::ffff:192.0.2.1"}},
		{"ipv6 sentence end", "ping fe80::1.", []string{"fe80::1"}},
		{"octet too big", "256.1.1.1", nil},
		{"three parts", "1.2.3", nil},
		{"version number", "1.2.3.4.5", nil},
		{"v prefix", "v1.2.3.4", nil},
		{"leading zero", "01.2.3.4", nil},
		{"time", "12:30:45", nil},
		{"c++ scope", "std::vector", nil},
		{"bare colons", "a :: b", nil},
		{"hex words", "deadbeef:cafe", nil},
	})
}

const sampleJWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"

const samplePEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\nKUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQ==\n-----END RSA PRIVATE KEY-----"

func TestCredentials(t *testing.T) {
	gh := "ghp_" + strings.Repeat("aB3", 12)
	runCases(t, Union(APIKey{}, PrivateKey{}, JWT{}), []detectorCase{
		{"openai project key", "key=sk-proj-abcdefghijklmnopqrstuvwxyz0123456789 x", []string{"sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"}},
		{"anthropic key", `"sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz_0123-xyz"`, []string{"sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz_0123-xyz"}},
		{"aws access key id", "AKIAIOSFODNN7EXAMPLE", []string{"AKIAIOSFODNN7EXAMPLE"}},
		{"github token", "token " + gh + ".", []string{gh}},
		{"github fine-grained", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", []string{"github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz"}},
		{"slack", "xoxb-123456789012-abcdefABCDEF", []string{"xoxb-123456789012-abcdefABCDEF"}},
		{"google", "AIzaSyA-1234567890abcdefghijklmnopqrstu", []string{"AIzaSyA-1234567890abcdefghijklmnopqrstu"}},
		{"stripe", "sk_live_51Habcdefghijklmnop", []string{"sk_live_51Habcdefghijklmnop"}},
		{"gateway key", "key aig_" + strings.Repeat("Ab3", 14) + "x.", []string{"aig_" + strings.Repeat("Ab3", 14) + "x"}},
		{"gateway key too short", "aig_" + strings.Repeat("Ab3", 14), nil},
		{"jwt", "Authorization: Bearer " + sampleJWT, []string{sampleJWT}},
		{"pem", "here:\n" + samplePEM + "\nend", []string{samplePEM}},
		{"pem without end line", "-----BEGIN PRIVATE KEY-----\nMIIBOgIBAAJBAKj34Gkx\nFhD90vcN", []string{"-----BEGIN PRIVATE KEY-----\nMIIBOgIBAAJBAKj34Gkx\nFhD90vcN"}},
		{"word ending in sk", "task-abcdefghijklmnopqrstuvwxyz", nil},
		{"short sk", "sk-short", nil},
		{"aws id too long", "AKIAIOSFODNN7EXAMPLE1", nil},
		{"aws id glued", "AKIAIOSFODNN7EXAMPLEx", nil},
		{"short github", "ghp_abc", nil},
		{"jwt without alg", "eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiIxIn0.abc", nil},
		{"two segments", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0", nil},
		{"certificate", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", nil},
	})
}

func TestRegex(t *testing.T) {
	d, err := NewRegex(`EMP-\d{6}`, 0)
	if err != nil {
		t.Fatal(err)
	}
	if d.MaxLen() != 11 {
		t.Errorf("MaxLen = %d, want 11 (10 + 1)", d.MaxLen())
	}
	runCases(t, d, []detectorCase{
		{"found", "id EMP-123456 and EMP-654321", []string{"EMP-123456", "EMP-654321"}},
		{"short", "EMP-12345", nil},
	})
	for _, bad := range []string{`(`, `a*`, `x|`, `[z-a]`} {
		if _, err := NewRegex(bad, 0); err == nil {
			t.Errorf("NewRegex(%q) accepted", bad)
		}
	}
	unbounded, _ := NewRegex(`id-\w+`, 40)
	if unbounded.MaxLen() != 41 {
		t.Errorf("unbounded MaxLen = %d, want the given bound + 1", unbounded.MaxLen())
	}
}

func TestWords(t *testing.T) {
	d, err := NewWords([]string{"falcon", "Project Bluebird", "café"})
	if err != nil {
		t.Fatal(err)
	}
	runCases(t, d, []detectorCase{
		{"word", "the Falcon launch", []string{"Falcon"}},
		{"phrase", "about project bluebird.", []string{"project bluebird"}},
		{"non-ascii", "at the café!", []string{"café"}},
		{"inside a word", "falconry and peregrinefalcon", nil},
		{"non-ascii neighbour", "éfalcon", nil},
	})
	if _, err := NewWords([]string{" ", ""}); err == nil {
		t.Error("empty word list accepted")
	}
}

// corpus is text with every kind of value and many near misses, for the
// contract tests.
var corpus = []string{
	"Contact john.doe@example.com or +44 20 7946 0958; card 4111 1111 1111 1111 12/25.",
	"SSN 123-45-6789, IBAN DE89 3704 0044 0532 0130 00 OK, host 192.168.1.1 and fe80::1.",
	"keys: sk-proj-abcdefghijklmnopqrstuvwxyz0123456789 AKIAIOSFODNN7EXAMPLE " + sampleJWT + " done",
	samplePEM + "\n(415) 555-2671 and 1-800-555-0199 and 415.555.2671.",
	"near: 4111 1111 1111 1112, 000-12-3456, DE89 3704 0044 0532 0130 01, 256.1.1.1, 1.2.3.4.5, task-abcdefghijklmnopqrstu",
	"a@b.co@c.de x@y.z 12:30:45 std::vector ::1 2001:db8::ff00:42:8329 -----BEGIN CERTIFICATE----- ---",
	"Falcon, project bluebird and EMP-123456 EMP-12 — café über naïve 日本語 4012888888881881",
}

func detectorsUnderTest(t testing.TB) map[string]Detector {
	ds := map[string]Detector{}
	for _, k := range BuiltinKinds() {
		d, _, ok := Builtin(k)
		if !ok {
			t.Fatalf("builtin %s missing", k)
		}
		ds[k] = d
	}
	re, err := NewRegex(`EMP-\d{6}`, 0)
	if err != nil {
		t.Fatal(err)
	}
	ds["regex"] = re
	w, err := NewWords([]string{"falcon", "project bluebird", "café"})
	if err != nil {
		t.Fatal(err)
	}
	ds["words"] = w
	return ds
}

// probes are continuations tried after every prefix.
var probes = []string{"", "a", "Z", "0", "5", " ", ".", "-", "_", "@", ":", "/", ")", "\n", "-----END RSA PRIVATE KEY-----", "é"}

// checkPending verifies the streaming contract of d on s: for every
// prefix, the matches that start before Pending (or before the MaxLen
// bound) are final: the same for the whole text and for any of the probe
// continuations.
func checkPending(t testing.TB, name string, d Detector, s string) {
	final := func(ms []Match, p int) []Match {
		var out []Match
		for _, m := range ms {
			if m.Start < p {
				out = append(out, m)
			}
		}
		return out
	}
	whole := d.Find(s, 0, nil)
	for n := 0; n <= len(s); n++ {
		prefix := s[:n]
		p := max(d.Pending(prefix, 0), n-d.MaxLen()-1)
		if p > n {
			t.Fatalf("%s: Pending(%q) = %d > len", name, prefix, p)
		}
		got := final(d.Find(prefix, 0, nil), p)
		if want := final(whole, p); !slices.Equal(got, want) {
			t.Fatalf("%s: prefix %q (Pending %d) has final matches %v, the whole text %v", name, prefix, p, got, want)
		}
		for _, probe := range probes {
			if want := final(d.Find(prefix+probe, 0, nil), p); !slices.Equal(got, want) {
				t.Fatalf("%s: prefix %q (Pending %d) has final matches %v, followed by %q %v", name, prefix, p, got, probe, want)
			}
		}
	}
}

// checkFrom verifies that searching from an offset, with a few bytes of
// context, finds what searching the whole text finds after it.
func checkFrom(t testing.TB, name string, d Detector, s string) {
	whole := d.Find(s, 0, nil)
	for from := 0; from <= len(s); from++ {
		inside := false
		for _, m := range whole {
			if m.Start < from && m.End > from {
				inside = true
			}
		}
		if inside {
			continue // a stream filter never resumes inside a match
		}
		ctx := runeStart(s, max(0, from-8))
		got := d.Find(s[ctx:], from-ctx, nil)
		for i := range got {
			got[i].Start += ctx
			got[i].End += ctx
		}
		var want []Match
		for _, m := range whole {
			if m.Start >= from {
				want = append(want, m)
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%s: from %d in %q found %v, want %v", name, from, s, got, want)
		}
	}
}

func checkMatches(t testing.TB, name string, d Detector, s string) {
	prev := 0
	for _, m := range d.Find(s, 0, nil) {
		if m.Start < prev || m.End <= m.Start || m.End > len(s) {
			t.Fatalf("%s: bad match %v after %d in %q", name, m, prev, s)
		}
		if m.End-m.Start > d.MaxLen() {
			t.Fatalf("%s: match %q longer than MaxLen %d", name, s[m.Start:m.End], d.MaxLen())
		}
		prev = m.End
	}
}

func TestStreamingContract(t *testing.T) {
	for name, d := range detectorsUnderTest(t) {
		t.Run(name, func(t *testing.T) {
			for _, s := range corpus {
				checkMatches(t, name, d, s)
				checkPending(t, name, d, s)
				checkFrom(t, name, d, s)
			}
		})
	}
}

func TestCorpusFindsEveryKind(t *testing.T) {
	all := strings.Join(corpus, "\n")
	for name, d := range detectorsUnderTest(t) {
		if len(d.Find(all, 0, nil)) == 0 {
			t.Errorf("%s found nothing in the corpus: the contract tests would be vacuous", name)
		}
	}
}

// FuzzDetectors checks the contracts on arbitrary text. Every input checks
// every prefix with several continuations, so run it with a bounded
// minimization: go test -fuzz FuzzDetectors -fuzzminimizetime 20x.
func FuzzDetectors(f *testing.F) {
	for _, s := range corpus {
		f.Add(s)
	}
	f.Add("+1 (")
	f.Add("-----BEGIN PRIVATE KEY-----")
	f.Add("eyJ.eyJ.")
	ds := detectorsUnderTest(f)
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 160 {
			s = s[:160] // the checks are quadratic in the length
		}
		for name, d := range ds {
			checkMatches(t, name, d, s)
			checkPending(t, name, d, s)
			checkFrom(t, name, d, s)
		}
	})
}

func ExampleBuiltin() {
	d, label, _ := Builtin(KindCard)
	s := "pay with 4111 1111 1111 1111 please"
	for _, m := range d.Find(s, 0, nil) {
		fmt.Println(label, s[m.Start:m.End])
	}
	// Output: CARD 4111 1111 1111 1111
}
